"""Results folders: where they go, the reference result formats, and the files that mark what is done.

Layouts and formats are those of the reference's runners (``docs/evaluation.md``); the manifest and
the lock are this framework's (``docs/formats.md``):

* ``<save_dir>/output/test/tracking_results/<yaml>/<Dataset>_<epoch>/<seq>.txt`` (+ ``<seq>_time.txt``) for the flat layout,
  ``<dir>/<seq>/<seq>_001.txt`` (+ ``_time.value``, ``_confidence.value``) for the VOT long-term one.
* ``run_manifest.json`` names the run identity of the folder and, per finished sequence, the identity
  digest it was tracked with, a digest of its input (frame names, first box) and the SHA-256 of its
  result file. A sequence counts as finished only when all three still match, so a retrained
  checkpoint at the same path, another dataset copy or a replaced file is tracked again.
* ``.cstrack_run.lock`` is held with ``fcntl.flock`` while a runner uses the folder; it names the
  holder (pid, host, start time) for the message a second runner prints.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
import socket
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from lib.test.evaluation.data import ResultFormat, Sequence
from lib.test.tracker.identity import RunIdentity, json_digest
from lib.utils.files import atomic_write_text, default_file_mode

logger = logging.getLogger(__name__)

MANIFEST_NAME = "run_manifest.json"
LOCK_NAME = ".cstrack_run.lock"
TEMP_PREFIX = ".tmp_"  # lib.utils.files.atomic_write's temporary files


class ResultsConflictError(RuntimeError):
    """The results folder holds results of a run with another identity."""


class ResultsLockedError(RuntimeError):
    """Another runner holds the results folder."""


# ------------------------------------------------------------------------------------------- paths
def default_results_dir(yaml_name: str, benchmark: str, epoch: str, save_dir: Optional[str] = None) -> str:
    """``<save_dir>/output/test/tracking_results/<yaml>/<Dataset>_<epoch>``, the reference's tree.

    ``save_dir`` defaults to the ``save_dir`` setting. The tree has one ``output`` level: when
    ``save_dir`` is itself a folder named ``output`` (the authors' test ``local.py`` sets
    ``save_dir = '<prj>/output'``), results go to ``<save_dir>/test/tracking_results/...``, not to
    ``output/output/...``.
    """
    if save_dir is None:
        from lib.config.environment import env_settings

        save_dir = str(env_settings().require_dir("save_dir"))
    root = save_dir if os.path.basename(os.path.normpath(save_dir)) == "output" else os.path.join(save_dir, "output")
    return os.path.join(root, "test", "tracking_results", yaml_name, f"{benchmark}_{epoch}")


def check_layout(result_format: ResultFormat) -> None:
    """Raise ValueError for a layout the local runner cannot write (VOT multistart needs the toolkit)."""
    if result_format.layout not in ("flat", "vot_longterm"):
        raise ValueError(f"result layout '{result_format.layout}' cannot be produced by the local runner; "
                         f"use the VOT toolkit workspace (VOT22RGBD_workspace) for multistart experiments")


def result_files(results_dir: str, name: str, result_format: ResultFormat) -> Dict[str, str]:
    """Paths of one sequence's files; ``result`` is written last."""
    check_layout(result_format)
    if result_format.layout == "flat":
        return {"result": os.path.join(results_dir, f"{name}.txt"),
                "time": os.path.join(results_dir, f"{name}_time.txt")}
    base = os.path.join(results_dir, name, f"{name}_001")
    return {"result": base + ".txt", "time": base + "_time.value", "confidence": base + "_confidence.value"}


# ------------------------------------------------------------------------------------------ formats
def format_rows(boxes: np.ndarray, result_format: ResultFormat) -> str:
    """Rows as ``np.savetxt(fmt, delimiter)`` writes them (``docs/evaluation.md``)."""
    line = result_format.delimiter.join([result_format.fmt] * boxes.shape[1])
    return "".join(line % tuple(row) + "\n" for row in boxes)


def vot_trajectory_text(boxes: np.ndarray) -> str:
    """VOT text trajectory: ``1`` (initialisation) on frame 0, then ``x,y,w,h`` per frame."""
    return "1\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in boxes[1:])


def write_sequence_results(results_dir: str, name: str, result_format: ResultFormat, boxes: np.ndarray,
                           scores: np.ndarray, times: np.ndarray) -> str:
    """Write one sequence's files atomically, the result file last; returns the result file's path."""
    files = result_files(results_dir, name, result_format)
    atomic_write_text(files["time"], "".join(f"{t:.6f}\n" for t in times), fsync=True)
    if result_format.layout == "vot_longterm":
        # VOT toolkit layout (docs/evaluation.md): frame 0 has no confidence (an empty line).
        atomic_write_text(files["confidence"], "\n" + "".join(f"{s!r}\n" for s in scores[1:].tolist()), fsync=True)
        atomic_write_text(files["result"], vot_trajectory_text(boxes), fsync=True)
    else:
        atomic_write_text(files["result"], format_rows(boxes, result_format), fsync=True)
    return files["result"]


# ------------------------------------------------------------------------------------- the manifest
def sequence_input_digest(seq: Sequence) -> str:
    """Digest of what a sequence feeds the tracker: its frame names and its initial box."""
    return json_digest({"rgb": [os.path.basename(p) for p in seq.rgb_frames],
                        "x": [os.path.basename(p) for p in seq.x_frames], "init": seq.init_bbox})


def file_sha256(path: str) -> Optional[str]:
    """SHA-256 of a file's bytes, None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return None


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


class FolderLock:
    """An exclusive ``fcntl.flock`` on ``<folder>/.cstrack_run.lock``, released when the holder exits
    (also by ``kill -9``); the file names the holder for the message a second runner prints."""

    def __init__(self, folder: str, how_to_proceed: str = "wait for it to finish, pass --wait to start when it "
                                                          "does, or choose another --results_dir"):
        self.folder = folder
        self.how_to_proceed = how_to_proceed
        self._fd: Optional[int] = None

    def acquire(self, wait: bool = False) -> None:
        """Create the folder and lock it; :class:`ResultsLockedError` names the holder unless ``wait``."""
        os.makedirs(self.folder, exist_ok=True)
        fd = os.open(os.path.join(self.folder, LOCK_NAME), os.O_RDWR | os.O_CREAT, default_file_mode())
        try:
            import fcntl
        except ImportError:  # not POSIX: concurrent runners are not detected
            logger.warning("file locking is not available on this system; do not run two runners on %s",
                           self.folder)
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = self._holder(fd)
                if not wait:
                    os.close(fd)
                    raise ResultsLockedError(f"{self.folder} is in use by another runner ({holder}); "
                                             f"{self.how_to_proceed}") from None
                logger.info("%s is in use by another runner (%s); waiting for it", self.folder, holder)
                fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": _now()}).encode(), 0)
        self._fd = fd

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode() or "{}")
        except (OSError, ValueError):
            info = {}
        return f"pid {info.get('pid', '?')} on {info.get('host', '?')}, started {info.get('started', '?')}"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None


class ResultsFolder:
    """One results folder used by one runner: lock, manifest, and which sequences are finished.

    ``open`` takes the lock (waiting for it if asked); ``adopt`` checks the folder against the run's
    identity and writes the manifest, which therefore only exists once a tracker was built; ``record``
    marks a sequence finished after its files were written; ``close`` releases the lock.
    """

    def __init__(self, results_dir: str, result_format: ResultFormat):
        check_layout(result_format)
        self.path = results_dir
        self.result_format = result_format
        self.manifest_path = os.path.join(results_dir, MANIFEST_NAME)
        self.manifest: Dict[str, Any] = {}
        self._lock = FolderLock(results_dir)

    # ----------------------------------------------------------------- lock
    def open(self, wait: bool = False) -> "ResultsFolder":
        """Create the folder and hold its lock; :class:`ResultsLockedError` names the holder."""
        self._lock.acquire(wait)
        self._remove_stale_temporaries()
        return self

    def _remove_stale_temporaries(self) -> None:
        """Temporary files of a runner that was killed mid-write (nobody else writes here while we hold the lock)."""
        for path in Path(self.path).rglob(f"{TEMP_PREFIX}*"):
            if path.is_file():
                path.unlink()

    def close(self) -> None:
        self._lock.release()

    def __enter__(self) -> "ResultsFolder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------- manifest
    def _read_manifest(self) -> Dict[str, Any]:
        if not os.path.isfile(self.manifest_path):
            return {}
        try:
            with open(self.manifest_path, "r", encoding="utf-8") as handle:
                data = json.load(handle)
        except ValueError:
            logger.warning("%s is not valid JSON; its sequences will be tracked again", self.manifest_path)
            return {}
        return data if isinstance(data, dict) else {}

    def recorded_identity(self) -> Optional[Dict[str, Any]]:
        """The identity the manifest names, or None (no manifest yet)."""
        identity = self._read_manifest().get("identity")
        return identity if isinstance(identity, dict) else None

    def adopt(self, identity: RunIdentity, overwrite: bool = False) -> None:
        """Make ``identity`` the folder's; a folder holding another run's results needs ``overwrite``."""
        manifest = self._read_manifest()
        recorded = manifest.get("identity")
        same = isinstance(recorded, dict) and recorded.get("digest") == identity.digest
        if recorded and not same and not overwrite:
            raise ResultsConflictError(
                f"{self.path} holds results of another run ({identity.differences(recorded)}). Use --overwrite to "
                f"redo every sequence or choose another --results_dir")
        keep = same and not overwrite
        self.manifest = {"identity": identity.to_dict(), "sequences": manifest.get("sequences", {}) if keep else {},
                         "started": manifest.get("started") if keep and manifest.get("started") else _now()}
        self._write_manifest()

    def _write_manifest(self) -> None:
        atomic_write_text(self.manifest_path, json.dumps(self.manifest, indent=2, sort_keys=True) + "\n", fsync=True)

    def is_finished(self, seq: Sequence) -> bool:
        """True when the manifest records ``seq`` for this identity and input, and its result file is unchanged."""
        return self._finished(self.manifest, seq, warn=True)

    def _finished(self, manifest: Dict[str, Any], seq: Sequence, warn: bool = False) -> bool:
        entry = manifest.get("sequences", {}).get(seq.name)
        identity = manifest.get("identity")
        if not isinstance(entry, dict) or not isinstance(identity, dict) or entry.get("identity") != identity.get("digest"):
            return False
        result = result_files(self.path, seq.name, self.result_format)["result"]
        if entry.get("input") != sequence_input_digest(seq):
            if warn:
                logger.warning("%s: its frames or first box changed since it was tracked; tracking it again", seq.name)
            return False
        if entry.get("result_sha256") != file_sha256(result):
            if warn:
                logger.warning("%s is missing or was changed after it was written; tracking the sequence again", result)
            return False
        return True

    def pending(self, sequences: List[Sequence], overwrite: bool = False) -> List[int]:
        """Indices of the sequences still to track for the adopted identity."""
        return [i for i, seq in enumerate(sequences) if overwrite or not self.is_finished(seq)]

    def unfinished_for_recorded_identity(self, sequences: List[Sequence]) -> int:
        """How many sequences are not finished for the identity the manifest names (all without a
        manifest): sizes the worker pool before this run's identity is known."""
        manifest = self._read_manifest()
        return sum(not self._finished(manifest, seq) for seq in sequences)

    def record(self, seq: Sequence) -> None:
        """Mark ``seq`` finished: its result file was written by this run's tracker."""
        result = result_files(self.path, seq.name, self.result_format)["result"]
        self.manifest["sequences"][seq.name] = {
            "identity": self.manifest["identity"]["digest"], "input": sequence_input_digest(seq),
            "result_sha256": file_sha256(result), "frames": len(seq), "finished": _now()}
        self._write_manifest()

