"""TraX entry point for the VOT toolkit (vot-trax 4): ``python -m lib.test.vot.run_vot --script cstrack_s2``.

The toolkit starts this module from a ``traxpython`` tracker entry (``Depthtrack_workspace/trackers.ini``,
``VOT22RGBD_workspace/trackers.ini``), which can pass no arguments, so every option also has an
environment variable the ``.ini`` sets with ``env_<NAME> = value``:

* ``--script`` / ``CSTRACK_SCRIPT``: ``cstrack_s1`` or ``cstrack_s2`` (the reference's stage-1 entry ran
  stage 2, PAIN_POINTS A12; here the script is what runs);
* ``--checkpoint`` / ``CSTRACK_S1_CHECKPOINT`` or ``CSTRACK_S2_CHECKPOINT`` (per script) /
  ``CSTRACK_CHECKPOINT``: the weights; else the ``checkpoints_path`` setting (a file, or a folder
  searched for the latest ``<SCRIPT>_ep*.pth.tar``, also under ``train/<script>/<config>/``);
* ``--config`` / ``CSTRACK_CONFIG``: experiment yaml name or path (default: the script's yaml);
* ``--dataset`` / ``CSTRACK_VOT_DATASET``: tracker dataset name, ``depthtrack`` (update threshold 0.7,
  as the reference's VOT wrapper, EVALUATION.md §3.4);
* ``--device`` / ``CSTRACK_DEVICE``: ``cpu``, ``cuda``, ``cuda:N`` (default: CUDA when available).

Channels ``color`` + ``depth`` arrive as file paths and become the 6-channel ``rgbcolormap`` frame
(depth clipped, EVALUATION.md §2.3); each reply carries the box and ``confidence`` = the tracker's
``best_score`` for the long-term analysis. The network is loaded once per process, before the TraX
handshake; the process serves every initialisation the toolkit sends (all anchors of a multistart
sequence), since it does not announce the ``vot`` wrapper that makes the toolkit restart it.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Optional, Sequence

from lib.utils.checkpoint_layout import resolve_vot_checkpoint
from lib.utils.rgbx import get_x_frame

logger = logging.getLogger(__name__)

SCRIPTS = ("cstrack_s1", "cstrack_s2")


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="CSTrack RGB-D tracker for the VOT toolkit (TraX server)")
    parser.add_argument("--script", default=os.environ.get("CSTRACK_SCRIPT"),
                        help=f"tracker family, one of {SCRIPTS} (env CSTRACK_SCRIPT)")
    parser.add_argument("--checkpoint", default=None, help="weights file (env CSTRACK_CHECKPOINT)")
    parser.add_argument("--config", default=os.environ.get("CSTRACK_CONFIG"),
                        help="experiment yaml name or path (env CSTRACK_CONFIG; default: the script's yaml)")
    parser.add_argument("--dataset", default=os.environ.get("CSTRACK_VOT_DATASET", "depthtrack"),
                        help="tracker dataset name (env CSTRACK_VOT_DATASET), default depthtrack")
    parser.add_argument("--device", default=os.environ.get("CSTRACK_DEVICE"),
                        help="cpu | cuda | cuda:N (env CSTRACK_DEVICE)")
    return parser


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
        # EVALUATION.md §2.3 / §3.4: RGB + JET colour map of the clipped depth, as the reference's VOT wrapper.
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
    """Build the tracker, then run the TraX server loop on stdin/stdout."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="run_vot: %(message)s")
    args = build_arg_parser().parse_args(argv)
    if args.script not in SCRIPTS:
        raise SystemExit(f"run_vot: tracker script '{args.script}' (--script or CSTRACK_SCRIPT) must be one of "
                         f"{SCRIPTS}")
    config = args.config or args.script
    try:
        checkpoint = resolve_vot_checkpoint(args.script, os.path.splitext(os.path.basename(config))[0],
                                            args.checkpoint)
    except FileNotFoundError as e:
        raise SystemExit(f"run_vot: {e}") from e
    logger.info("%s, config %s, checkpoint %s, dataset %s", args.script, config, checkpoint, args.dataset)

    import trax
    from trax.image import Image
    from trax.region import Region

    from lib.test.tracker import build_tracker

    tracker = build_tracker(args.script, checkpoint=checkpoint, dataset_name=args.dataset, device=args.device,
                            config=config)
    with trax.Server([Region.RECTANGLE], [Image.PATH], ["color", "depth"],
                     tracker_name=f"CSTrack {args.script}") as server:
        count = serve(tracker, server)
    logger.info("served %d initialisation(s)", count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
