"""Load ground truth and result folders, check completeness, and score trackers with their benchmark's protocol.

Entry points (re-exported by :mod:`lib.test.analysis`):

* :func:`evaluate_tracker` - one tracker, one benchmark -> ``{"PR": ..., "NPR": ..., "SR": ...}`` etc.
* :func:`compute_curves` - the same, but returns an :class:`~lib.test.analysis.ope.OPEResult` /
  :class:`~lib.test.analysis.depthtrack.LongTermResult` holding the per-sequence curves (per-sequence
  scores, attribute subsets, plots) and the runner's frame times (FPS).
* :func:`compare_trackers` - several trackers against one ground truth loaded once.
* :func:`load_ground_truth` - the ground truth of a benchmark in one of its usual layouts.

What differs between benchmarks lives in their :class:`~lib.test.analysis.protocol.Protocol`
(:func:`~lib.test.analysis.protocol.get_protocol`). Every sequence of the ground truth must have a
usable result file; otherwise :class:`IncompleteResultsError` lists the missing, empty, short and
unreadable files by sequence name. ``allow_missing=True`` scores the complete sequences only, logs the
others and records them in ``result.skipped``; the official toolkits would stop with an error instead.
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Mapping, Sequence

from lib.test.analysis import depthtrack, ope  # noqa: F401  (registers the protocols)
from lib.test.analysis.protocol import (GroundTruth, IncompleteResultsError, PathLike, TrackerResult, get_protocol,
                                        resolve_sequences)

logger = logging.getLogger(__name__)


def canonical_dataset(name: str) -> str:
    """Benchmark name in its canonical spelling (``lasher`` -> ``LasHeR``); unknown names raise KeyError."""
    return get_protocol(name).name


def load_attributes(dataset: str, path: PathLike, sequences: Sequence[str]) -> dict[str, list[str]]:
    """Attribute -> sequences from a benchmark's attribute folder (see ``Protocol.load_attributes``)."""
    return get_protocol(dataset).load_attributes(path, sequences)


def load_ground_truth(dataset: str, gt: PathLike, sequences: Sequence[str] | PathLike | None = None,
                      attributes: PathLike | None = None,
                      image_size: tuple[int, int] | Mapping[str, tuple[int, int]] | None = None) -> GroundTruth:
    """Load a benchmark's ground truth from its dataset root or a folder of ``<seq>.txt`` files.

    The accepted layouts are the protocol's ``ground_truth_layouts``: LasHeR ``<seq>.txt`` or the
    dataset root; RGBT234 the dataset root (``visible.txt`` + ``infrared.txt``); VisEvent the toolkit's
    ``gt_rect/`` + ``absent/`` or the dataset root (leading invisible frames dropped as the runners do);
    DepthTrack a VOT / DeT ``sequences`` folder, or ``<seq>.txt`` plus ``image_size``.

    Args:
        dataset: benchmark name (case-insensitive).
        gt: ground-truth folder.
        sequences: names or a list file; default ``list.txt`` in ``gt`` if present, else all found.
        attributes: attribute folder (see ``Protocol.load_attributes``); default: the one shipped beside
            the ground truth, if any (``GroundTruth.attribute_note()`` says which, or where it looked).
        image_size: DepthTrack frame size ``(width, height)``, or a per-sequence mapping; read from
            the first colour frame when not given.
    """
    protocol = get_protocol(dataset)
    root = Path(gt)
    if not root.is_dir():
        raise FileNotFoundError(f"ground-truth folder {root} does not exist; {protocol.name} accepts: "
                                + "; ".join(protocol.ground_truth_layouts))
    truth = protocol.load_ground_truth(root, sequences, image_size)
    protocol.add_attributes(truth, attributes)
    return truth


def default_tracker_name(results_dir: PathLike) -> str:
    """Tracker name from its results folder: the folder name without ``_tracking_result``; for a VOT
    experiment folder (``results/<tracker>/longterm``) the tracker folder's name."""
    path = Path(results_dir).resolve()
    if path.name in ("longterm", "unsupervised", "rgbd-unsupervised", "baseline"):
        return path.parent.name
    return re.sub(r"_tracking_results?$", "", path.name)


def compute_curves(dataset: str, results_dir: PathLike, gt: PathLike | GroundTruth, *,
                   tracker: str | None = None, sequences: Sequence[str] | PathLike | None = None,
                   allow_missing: bool = False, vot_legacy: bool = True) -> TrackerResult:
    """Score one tracker's result folder per sequence; see :func:`evaluate_tracker` for the arguments.

    Returns the protocol's result object (``OPEResult`` for LasHeR, RGBT234, VisEvent; ``LongTermResult``
    for DepthTrack) whose ``scores()`` gives the benchmark numbers, ``sequence_scores()`` the
    per-sequence ones and ``fps()`` the tracking speed from the runner's time files.
    """
    protocol = get_protocol(dataset)
    truth = gt if isinstance(gt, GroundTruth) else load_ground_truth(protocol.name, gt, sequences)
    if truth.dataset != protocol.name:
        raise ValueError(f"ground truth is for {truth.dataset}, not {protocol.name}")
    names = truth.sequences
    if isinstance(gt, GroundTruth) and sequences is not None:
        names = resolve_sequences(truth.sequences, truth.root, sequences)
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} does not exist")
    tracker = tracker or default_tracker_name(results_dir)

    problems: dict[str, str] = {}
    loaded: dict[str, object] = {}
    for seq in names:
        try:
            loaded[seq] = protocol.read_result(results_dir, seq, truth)
        except (OSError, ValueError) as e:
            problems[seq] = str(e)
    if problems:
        error = IncompleteResultsError(results_dir, problems, len(names))
        if not allow_missing:
            raise error
        logger.warning("%s\nScoring the %d complete sequences only.", error, len(loaded))
        if not loaded:
            raise error
    kept = [s for s in names if s in loaded]
    result = protocol.collect(tracker, kept, loaded, truth, vot_legacy)
    result.skipped = problems
    result.results_dir = results_dir
    result.times = {seq: t for seq in kept if (t := protocol.read_times(results_dir, seq)) is not None}
    return result


def evaluate_tracker(dataset: str, results_dir: PathLike, gt: PathLike | GroundTruth, *,
                     sequences: Sequence[str] | PathLike | None = None, allow_missing: bool = False,
                     vot_legacy: bool = True) -> dict[str, float]:
    """Benchmark scores of one tracker's result folder, as the official toolkit computes them.

    Args:
        dataset: ``"LasHeR"``, ``"RGBT234"``, ``"VisEvent"`` or ``"DepthTrack"`` (case-insensitive).
        results_dir: folder of ``<seq>.txt`` result files (one row per frame, ``x y w h`` separated by
            commas, spaces or tabs; RGBT234 also 8-value corner rows). DepthTrack: the VOT layout
            ``<seq>/<seq>_001.txt`` + ``<seq>/<seq>_001_confidence.value`` (e.g.
            ``results/<tracker>/rgbd-unsupervised``), or ``<seq>.txt`` + ``<seq>_confidence.value``.
        gt: dataset root or folder of ``<seq>.txt`` ground-truth files (see :func:`load_ground_truth`),
            or an already loaded :class:`GroundTruth`.
        sequences: restrict to these names (list or list file); default: every ground-truth sequence.
        allow_missing: score only the sequences with a usable result instead of raising
            :class:`IncompleteResultsError` (the others are logged).
        vot_legacy: DepthTrack only: how a frame where the tracker or the ground truth has no box is
            scored. True (default): vot-toolkit 0.5.3, behind the published DepthTrack numbers (overlap
            0); False: vot-toolkit 0.6 and later (both empty: overlap 1). See
            :func:`lib.test.analysis.longterm.vot_overlaps`.

    Returns:
        Fractions in [0, 1]: ``PR``, ``NPR``, ``SR`` (LasHeR, VisEvent), ``MPR``, ``MSR`` (RGBT234),
        ``Pr``, ``Re``, ``F`` (DepthTrack).
    """
    return compute_curves(dataset, results_dir, gt, sequences=sequences, allow_missing=allow_missing,
                          vot_legacy=vot_legacy).scores()


def compare_trackers(dataset: str, trackers: Mapping[str, PathLike], gt: PathLike | GroundTruth, *,
                     sequences: Sequence[str] | PathLike | None = None, allow_missing: bool = False,
                     vot_legacy: bool = True) -> dict[str, TrackerResult]:
    """Per-sequence results of several trackers (name -> results folder), ground truth loaded once."""
    truth = gt if isinstance(gt, GroundTruth) else load_ground_truth(dataset, gt, sequences)
    return {name: compute_curves(dataset, path, truth, tracker=name, sequences=sequences,
                                 allow_missing=allow_missing, vot_legacy=vot_legacy)
            for name, path in trackers.items()}
