"""TraX entry point for the VOT toolkit (vot-trax 4): ``python -m lib.test.vot.run_vot --script cstrack_s2``.

The toolkit starts this module from a ``traxpython`` tracker entry (``Depthtrack_workspace/trackers.ini``,
``VOT22RGBD_workspace/trackers.ini``), which can pass no arguments, so every option also has an
environment variable the ``.ini`` sets with ``env_<NAME> = value``:

* ``--script`` / ``CSTRACK_SCRIPT``: a tracker registered in ``lib.registry.TRACKERS`` (``cstrack_s1``,
  ``cstrack_s2``); the script is what runs (the reference's stage-1 entry ran stage 2);
* ``--checkpoint`` / ``CSTRACK_S1_CHECKPOINT`` or ``CSTRACK_S2_CHECKPOINT`` (per script) /
  ``CSTRACK_CHECKPOINT``: the weights, any layout incl. the authors' trainer files; else the
  ``checkpoints_path`` setting (a file, or a folder searched for the latest ``<SCRIPT>_ep*.pth.tar``,
  also under ``train/<script>/<config>/``);
* ``--config`` / ``CSTRACK_CONFIG``: experiment yaml name or path (default: the config stored in the
  checkpoint, else the script's yaml);
* ``--dataset`` / ``CSTRACK_VOT_DATASET``: tracker dataset name, ``depthtrack`` (update threshold 0.7,
  as the reference's VOT wrapper, ``docs/evaluation.md``);
* ``--device`` / ``CSTRACK_DEVICE``: ``cpu``, ``cuda``, ``cuda:N`` (default: CUDA when available);
* ``CSTRACK_RUN_IDENTITY``: set by ``python -m lib.test.vot.evaluate``; the digest of the run identity
  recorded for the toolkit's results folder. A tracker built from other weights, config or code stops
  instead of adding its trajectories to that folder.

Channels ``color`` + ``depth`` arrive as file paths and become the 6-channel ``rgbcolormap`` frame
(depth clipped); each reply carries the box and ``confidence`` = the tracker's ``best_score`` for the
long-term analysis. The network is loaded once per process, before the TraX handshake; the process
serves every initialisation the toolkit sends (all anchors of a multistart sequence). A user error
(checkpoint, config, damaged frame) is one ``run_vot: error: ...`` line on stderr, which the toolkit
keeps in its log, and exit code 2; ``--verbose`` adds the traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Optional, Sequence

from lib.registry import TRACKERS
from lib.test.evaluation.errors import run_reporting_user_errors
from lib.test.tracker import build_tracker
from lib.utils.checkpoint_layout import resolve_vot_checkpoint
from lib.utils.rgbx import get_x_frame

logger = logging.getLogger(__name__)

IDENTITY_VARIABLE = "CSTRACK_RUN_IDENTITY"


class StartError(RuntimeError):
    """How the tracker was started does not work: an unknown script, or weights, config or code other than
    those whose run identity the toolkit's results folder records."""


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="CSTrack RGB-D tracker for the VOT toolkit (TraX server)")
    parser.add_argument("--script", default=os.environ.get("CSTRACK_SCRIPT"),
                        help=f"tracker, one of {TRACKERS.names()} (env CSTRACK_SCRIPT)")
    parser.add_argument("--checkpoint", default=None, help="weights file (env CSTRACK_<SCRIPT>_CHECKPOINT or "
                                                           "CSTRACK_CHECKPOINT)")
    parser.add_argument("--config", default=os.environ.get("CSTRACK_CONFIG"),
                        help="experiment yaml name or path (env CSTRACK_CONFIG; default: the checkpoint's stored "
                             "config, else the script's yaml)")
    parser.add_argument("--dataset", default=os.environ.get("CSTRACK_VOT_DATASET", "depthtrack"),
                        help="tracker dataset name (env CSTRACK_VOT_DATASET), default depthtrack")
    parser.add_argument("--device", default=os.environ.get("CSTRACK_DEVICE"),
                        help="cpu | cuda | cuda:N (env CSTRACK_DEVICE)")
    parser.add_argument("--verbose", action="store_true", help="tracebacks of user errors")
    return parser


def load_tracker(args: argparse.Namespace, environ: Optional[dict] = None) -> Any:
    """Resolve the checkpoint and build the tracker ``args`` name; check the expected run identity."""
    environ = os.environ if environ is None else environ
    if args.script not in TRACKERS:
        raise StartError(f"tracker script '{args.script}' (--script or CSTRACK_SCRIPT) must be one of "
                         f"{TRACKERS.names()}")
    config_name = os.path.splitext(os.path.basename(args.config or args.script))[0]
    checkpoint = resolve_vot_checkpoint(args.script, config_name, args.checkpoint, environ)
    logger.info("%s, config %s, checkpoint %s, dataset %s", args.script, args.config or "(default)", checkpoint,
                args.dataset)
    tracker = build_tracker(args.script, checkpoint=checkpoint, dataset_name=args.dataset, device=args.device,
                            config=args.config)
    expected = environ.get(IDENTITY_VARIABLE)
    if expected and tracker.identity.digest != expected:
        raise StartError(
            f"{checkpoint} (with config {args.config or 'default'}) is not the run the toolkit's results folder "
            f"was started with ({IDENTITY_VARIABLE}={expected[:12]}..., this tracker {tracker.identity.digest[:12]}"
            f"...): was the checkpoint replaced during the evaluation? Run `python -m lib.test.vot.evaluate` again")
    logger.info("run identity %s", tracker.identity.digest)
    return tracker


def serve(tracker: Any, server: Any) -> int:
    """Answer TraX requests until the client quits; returns the number of initialisations served."""
    import trax
    from trax.region import Rectangle

    initializations = 0
    while True:
        request = server.wait()
        if request.type == trax.TraxStatus.QUIT:
            return initializations
        color, depth = request.image["color"].path(), request.image["depth"].path()
        # RGB + JET colour map of the clipped depth, as the reference's VOT wrapper (docs/evaluation.md).
        frame = get_x_frame(color, depth, "rgbcolormap", depth_clip=True)
        if request.type == trax.TraxStatus.INITIALIZE:
            region = request.objects[0][0]
            tracker.initialize(frame, {"init_bbox": list(region.bounds())})
            initializations += 1
            server.status([(region, {})])
        else:
            out = tracker.track(frame)
            box = [float(v) for v in out["target_bbox"]]
            server.status([(Rectangle.create(*box), {"confidence": float(out["best_score"])})])


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Build the tracker, then run the TraX server loop on stdin/stdout; a user error is one line, exit 2."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="run_vot: %(message)s")
    args = build_arg_parser().parse_args(argv)

    def run() -> None:
        tracker = load_tracker(args)
        import trax
        from trax.image import Image
        from trax.region import Region

        with trax.Server([Region.RECTANGLE], [Image.PATH], ["color", "depth"],
                         tracker_name=f"CSTrack {args.script}") as server:
            logger.info("served %d initialisation(s)", serve(tracker, server))

    return run_reporting_user_errors(run, args.verbose, prefix="run_vot: error", user_errors=(StartError,))


if __name__ == "__main__":
    sys.exit(main())
