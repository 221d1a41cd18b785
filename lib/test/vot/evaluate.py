"""``vot evaluate`` with a run identity: ``python -m lib.test.vot.evaluate --workspace . cstrack_s2``.

The VOT toolkit counts a sequence as finished when its trajectory exists under
``results/<tracker>/`` and then never starts the tracker for it, so nothing inside ``run_vot`` can
notice that the weights behind a tracker name changed. This command gives the toolkit's results folder
what it lacks: ``results/<tracker>/cstrack_run.json``, the run identity (weights and config digests,
dataset name, code version: :mod:`lib.test.tracker.identity`) the trajectories come from. It

* computes the identity the tracker entry of the workspace's registry would load (its ``env_`` values
  and this shell's ``CSTRACK_*`` variables, as ``run_vot`` resolves them);
* refuses a results folder recorded for another identity, or holding trajectories of unknown origin,
  unless ``--force`` (the toolkit then runs every sequence again);
* holds the folder's lock while ``vot evaluate`` runs, and passes the identity to every tracker process
  (``CSTRACK_RUN_IDENTITY``), which stops if it loads anything else (a checkpoint replaced meanwhile).

Plain ``vot evaluate`` still works; it just cannot tell old trajectories from new ones.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from lib.registry import TRACKERS
from lib.test.evaluation.errors import run_reporting_user_errors
from lib.test.evaluation.results import FolderLock
from lib.test.tracker import checkpoint_identity
from lib.test.tracker.identity import RunIdentity
from lib.test.vot.run_vot import IDENTITY_VARIABLE, StartError
from lib.utils.checkpoint_layout import resolve_vot_checkpoint
from lib.utils.files import atomic_write_text

logger = logging.getLogger(__name__)

IDENTITY_FILE = "cstrack_run.json"


def tracker_environment(workspace: str, reference: str) -> Dict[str, str]:
    """The environment the toolkit gives tracker ``reference`` of ``workspace``: this one plus its ``env_`` values."""
    import yaml
    from vot.tracker import Registry

    config_file = Path(workspace) / "config.yaml"
    if not config_file.is_file():
        raise StartError(f"{config_file} does not exist: --workspace must be a VOT workspace (Depthtrack_workspace, "
                         f"VOT22RGBD_workspace)")
    config = yaml.safe_load(config_file.read_text()) or {}
    registry = Registry([str(p) for p in config.get("registry", [])], root=str(workspace))
    if reference not in registry:
        raise StartError(f"tracker '{reference}' is not in the registry of {workspace} (known: "
                         f"{registry.identifiers()})")
    return {**os.environ, **registry[reference].describe()["env"]}


def identity_for(environ: Dict[str, str]) -> RunIdentity:
    """The run identity ``run_vot`` started with ``environ`` would have (reads the checkpoint once)."""
    script = environ.get("CSTRACK_SCRIPT")
    if script not in TRACKERS:
        raise StartError(f"the tracker entry sets CSTRACK_SCRIPT={script!r}; expected one of {TRACKERS.names()}")
    config = environ.get("CSTRACK_CONFIG") or None
    config_name = os.path.splitext(os.path.basename(config or script or ""))[0]
    checkpoint = resolve_vot_checkpoint(script, config_name, None, environ)
    return checkpoint_identity(script, checkpoint, environ.get("CSTRACK_VOT_DATASET", "depthtrack"), config)


def check_results_folder(folder: Path, identity: RunIdentity, force: bool) -> None:
    """Refuse to add trajectories of ``identity`` to a folder of another (or unknown) run unless ``force``."""
    record = folder / IDENTITY_FILE
    trajectories = any(p.is_dir() for p in folder.iterdir()) if folder.is_dir() else False
    if force or not trajectories:
        return
    if not record.is_file():
        raise StartError(f"{folder} holds trajectories of unknown origin (no {IDENTITY_FILE}); pass --force to run "
                         f"every sequence again, or move the folder aside")
    recorded = json.loads(record.read_text())
    if recorded.get("digest") != identity.digest:
        raise StartError(f"{folder} holds trajectories of another run ({identity.differences(recorded)}); pass "
                         f"--force to run every sequence again, or move the folder aside")


def evaluate(workspace: str, reference: str, force: bool = False, extra: Sequence[str] = ()) -> int:
    """Check and record the identity of ``reference``'s results, then run ``vot evaluate``; its exit code."""
    environ = tracker_environment(workspace, reference)
    identity = identity_for(environ)
    folder = Path(workspace) / "results" / reference
    lock = FolderLock(str(folder), "wait for it to finish")
    lock.acquire()
    try:
        check_results_folder(folder, identity, force)
        atomic_write_text(folder / IDENTITY_FILE, json.dumps(identity.to_dict(), indent=2, sort_keys=True) + "\n")
        logger.info("%s: run identity %s (%s)", reference, identity.digest, identity.info.get("checkpoint"))
        command = [sys.executable, "-m", "vot", "evaluate", "--workspace", str(workspace), *(["--force"] if force
                                                                                             else []), *extra, reference]
        return subprocess.run(command, env={**os.environ, IDENTITY_VARIABLE: identity.digest}).returncode
    finally:
        lock.release()


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trackers", nargs="+", help="tracker names of the workspace registry (cstrack_s2, ...)")
    parser.add_argument("--workspace", default=os.getcwd(), help="VOT workspace (default: this folder)")
    parser.add_argument("--force", action="store_true", help="run every sequence again (also passed to the toolkit)")
    parser.add_argument("--persist", action="store_true", help="passed to `vot evaluate`")
    args = parser.parse_args(argv)

    def run() -> int:
        for reference in args.trackers:
            code = evaluate(args.workspace, reference, args.force, ["--persist"] if args.persist else [])
            if code:
                return code
        return 0

    return run_reporting_user_errors(run, user_errors=(StartError,))


if __name__ == "__main__":
    sys.exit(main())
