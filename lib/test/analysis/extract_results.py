"""Load ground truth and result folders, check completeness, and score trackers per benchmark protocol.

Entry points (re-exported by :mod:`lib.test.analysis`):

* :func:`evaluate_tracker` - one tracker, one benchmark -> ``{"PR": ..., "NPR": ..., "SR": ...}`` etc.
* :func:`compute_curves` - the same, but returns an :class:`OPEResult` / :class:`LongTermResult`
  holding the per-sequence curves (per-sequence scores, attribute subsets, plots).
* :func:`compare_trackers` - several trackers against one ground truth loaded once.
* :func:`load_ground_truth` - the ground truth of a benchmark in one of its usual layouts.

Every sequence of the ground truth must have a usable result file; otherwise
:class:`IncompleteResultsError` lists the missing, empty, short and unreadable files by sequence name.
``allow_missing=True`` scores the complete sequences only, logs the others and records them in
``result.skipped``; the official toolkits would stop with an error instead (EVALUATION.md §1).
"""
from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence, Union

import numpy as np

from lib.test.analysis import longterm, metrics
from lib.test.analysis.readers import (ResultFormatError, read_boxes, read_flags, read_sequence_list,
                                       read_values, read_vot_trajectory)

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]

#: Benchmarks and the score keys :func:`evaluate_tracker` returns for them (fractions in [0, 1]).
METRICS: dict[str, tuple[str, ...]] = {
    "LasHeR": ("PR", "NPR", "SR"),
    "RGBT234": ("MPR", "MSR"),
    "VisEvent": ("PR", "NPR", "SR"),
    "DepthTrack": ("Pr", "Re", "F"),
}

#: Which toolkit's rules each benchmark follows (EVALUATION.md section).
PROTOCOLS: dict[str, str] = {
    "LasHeR": "LasHeR MATLAB toolkit (EVALUATION.md §1.1)",
    "RGBT234": "RGBT234 MPR/MSR MATLAB code (EVALUATION.md §1.2)",
    "VisEvent": "VisEvent MATLAB toolkit (EVALUATION.md §1.3)",
    "DepthTrack": "VOT toolkit long-term analysis, bounded overlaps (EVALUATION.md §3.3)",
}

#: Attribute names, in file order, of the per-sequence attribute files each benchmark ships
#: (LasHeR ``AttriSeqsTxt/<seq>.txt``, VisEvent ``att/<seq>.txt``, RGBT234 ``attr_txt/<ATTR>.txt``).
ATTRIBUTE_NAMES: dict[str, tuple[str, ...]] = {
    "LasHeR": ("NO", "PO", "TO", "HO", "MB", "LI", "HI", "AIV", "LR", "DEF", "BC", "SA", "CM", "TC",
               "FL", "OV", "FM", "SV", "ARC"),
    "VisEvent": ("CM", "ROT", "DEF", "FOC", "LI", "OV", "POC", "VC", "SV", "BC", "MB", "ARC", "FM",
                 "NMO", "IV", "OE", "BOM"),
    "RGBT234": ("BC", "CM", "DEF", "FM", "HO", "LI", "LR", "MB", "NO", "TC", "PO", "SC"),
}

#: Curves stored per OPE benchmark, with their thresholds (x axis of the plots).
OPE_THRESHOLDS: dict[str, np.ndarray] = {
    "success": metrics.OVERLAP_THRESHOLDS,
    "precision": metrics.PIXEL_THRESHOLDS,
    "norm_precision": metrics.NORM_THRESHOLDS,
}

# score key -> (curve, threshold index or None for the mean over thresholds = AUC)
_OPE_SCORES: dict[str, dict[str, tuple[str, int | None]]] = {
    "LasHeR": {"PR": ("precision", metrics.RANK_INDEX), "NPR": ("norm_precision", metrics.RANK_INDEX),
               "SR": ("success", None)},
    "VisEvent": {"PR": ("precision", metrics.RANK_INDEX), "NPR": ("norm_precision", metrics.RANK_INDEX),
                 "SR": ("success", None)},
    "RGBT234": {"MPR": ("precision", metrics.RANK_INDEX), "MSR": ("success", None)},
}

_VOT_TRAJECTORY = re.compile(r"^(?P<seq>.+)_(?P<rep>\d{3})\.txt$")


def canonical_dataset(name: str) -> str:
    """Benchmark name in its canonical spelling (``lasher`` -> ``LasHeR``); unknown names raise."""
    for known in METRICS:
        if name.lower() == known.lower():
            return known
    close = difflib.get_close_matches(name, list(METRICS), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise KeyError(f"unknown benchmark '{name}'{hint}; known: {', '.join(METRICS)}")


class IncompleteResultsError(ValueError):
    """Some sequences have no usable result file; ``problems`` maps each such sequence to the reason."""

    def __init__(self, results_dir: PathLike, problems: Mapping[str, str], n_sequences: int):
        self.results_dir = Path(results_dir)
        self.problems = dict(problems)
        lines = [f"{self.results_dir}: {len(problems)} of {n_sequences} sequences have no usable result "
                 f"(nothing is averaged over fewer sequences; pass allow_missing=True / --allow_missing "
                 f"to score only the complete ones):"]
        by_reason: dict[str, list[str]] = {}
        for seq, reason in sorted(self.problems.items()):
            kind, _, detail = reason.partition(": ")
            by_reason.setdefault(kind, []).append(f"{seq} ({detail})" if detail else seq)
        for kind, items in by_reason.items():
            lines.append(f"  {kind} ({len(items)}): {', '.join(items)}")
        super().__init__("\n".join(lines))

    @property
    def sequences(self) -> list[str]:
        """Names of the sequences without a usable result, sorted."""
        return sorted(self.problems)


# ---------------------------------------------------------------------------------------------------
# Ground truth


@dataclass
class GroundTruth:
    """Ground truth of one benchmark: boxes per sequence plus what the protocol needs besides them.

    ``boxes`` are ``(N, 4)`` ``x y w h`` arrays (RGBT234: the visible ones, DepthTrack: NaN rows for
    frames without a box); ``infrared`` (RGBT234), ``absent`` (VisEvent, 1 = absent) and
    ``image_sizes`` (DepthTrack, ``(width, height)``) are filled where the benchmark uses them.
    ``attributes`` maps attribute names to the sequences that have them.
    """

    dataset: str
    root: Path
    sequences: list[str]
    boxes: dict[str, np.ndarray]
    infrared: dict[str, np.ndarray] = field(default_factory=dict)
    absent: dict[str, np.ndarray] = field(default_factory=dict)
    image_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)


def _subdirs_with(root: Path, filename: str) -> list[str]:
    """Names of the sub-folders of ``root`` that contain ``filename``."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / filename).is_file())


def _flat_txt(root: Path) -> list[str]:
    """Sequence names of a folder of ``<seq>.txt`` files (``list.txt`` excluded)."""
    return sorted(p.stem for p in root.glob("*.txt") if p.name != "list.txt")


def _resolve_sequences(found: list[str], root: Path, sequences: Sequence[str] | PathLike | None) -> list[str]:
    """The sequence list: explicit list or list file, else ``list.txt`` in the root, else all found."""
    if sequences is not None:
        names = read_sequence_list(sequences) if isinstance(sequences, (str, Path)) else list(sequences)
    elif (root / "list.txt").is_file():
        names = read_sequence_list(root / "list.txt")
    else:
        names = found
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise FileNotFoundError(f"{root}: no ground truth for {len(unknown)} sequences: {', '.join(unknown)}")
    if not names:
        raise FileNotFoundError(f"{root}: no ground-truth files found")
    return names


def _first_frame_size(seq_dir: Path) -> tuple[int, int]:
    """``(width, height)`` of the first colour frame of a DepthTrack / VOT sequence folder."""
    import cv2  # noqa: PLC0415  (only DepthTrack needs image sizes)

    frames = sorted(p for p in (seq_dir / "color").glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not frames:
        raise FileNotFoundError(f"{seq_dir / 'color'}: no frames to take the image size from")
    image = cv2.imread(str(frames[0]), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise OSError(f"{frames[0]}: cannot be read as an image")
    return int(image.shape[1]), int(image.shape[0])


def _first_existing(*paths: Path) -> Path | None:
    """The first of ``paths`` that is a file or folder, else None."""
    return next((p for p in paths if p.exists()), None)


def load_attributes(dataset: str, path: PathLike, sequences: Sequence[str]) -> dict[str, list[str]]:
    """Attribute -> sequences, from a benchmark's attribute folder.

    Two layouts: per-sequence flag files ``<seq>.txt`` / ``<seq>_attribute.txt`` holding one 0/1 flag
    per attribute in the order of :data:`ATTRIBUTE_NAMES` (LasHeR ``AttriSeqsTxt``, VisEvent ``att``),
    or, when the folder has a ``SequencesName.txt``, per-attribute flag files ``<ATTR>.txt`` with one
    flag per line in that sequence order (RGBT234 ``attr_txt``). Attributes with no sequence are left out.
    """
    dataset = canonical_dataset(dataset)
    path = Path(path)
    selected: dict[str, list[str]] = {}
    if (path / "SequencesName.txt").is_file():
        order = read_sequence_list(path / "SequencesName.txt")
        wanted = set(sequences)
        for attr_file in sorted(path.glob("*.txt")):
            if attr_file.name == "SequencesName.txt":
                continue
            flags = read_flags(attr_file)
            if len(flags) != len(order):
                raise ValueError(f"{attr_file}: {len(flags)} flags for {len(order)} sequences in SequencesName.txt")
            selected[attr_file.stem] = [s for s, f in zip(order, flags) if f > 0 and s in wanted]
    else:
        names = ATTRIBUTE_NAMES.get(dataset)
        if names is None:
            raise ValueError(f"{dataset} has no per-sequence attribute files")
        missing = [s for s in sequences if _first_existing(path / f"{s}_attribute.txt", path / f"{s}.txt") is None]
        if missing:
            raise FileNotFoundError(f"{path}: no attribute file for {', '.join(missing)}")
        selected = {name: [] for name in names}
        for seq in sequences:
            attr_file = _first_existing(path / f"{seq}_attribute.txt", path / f"{seq}.txt")
            flags = read_flags(attr_file)
            if len(flags) != len(names):
                raise ValueError(f"{attr_file}: {len(flags)} flags, {dataset} has {len(names)} attributes")
            for name, flag in zip(names, flags):
                if flag > 0:
                    selected[name].append(seq)
    return {name: seqs for name, seqs in selected.items() if seqs}


def _auto_attribute_dir(dataset: str, root: Path) -> Path | None:
    """Attribute folder shipped beside the ground truth, if any (VisEvent ``att``, LasHeR, RGBT234)."""
    names = {"VisEvent": ("att",), "LasHeR": ("AttriSeqsTxt",), "RGBT234": ("attr_txt",)}.get(dataset, ())
    for name in names:
        for candidate in (root / name, root.parent / name):
            if candidate.is_dir():
                return candidate
    return None


def load_ground_truth(dataset: str, gt: PathLike, sequences: Sequence[str] | PathLike | None = None,
                      attributes: PathLike | None = None,
                      image_size: tuple[int, int] | Mapping[str, tuple[int, int]] | None = None) -> GroundTruth:
    """Load a benchmark's ground truth from its dataset root or a folder of ``<seq>.txt`` files.

    Accepted layouts of ``gt``:

    * LasHeR: ``<seq>.txt`` (toolkit ``annos``), or the dataset root ``<seq>/visible.txt``
      (``init.txt`` when there is no ``visible.txt``).
    * RGBT234: the dataset root ``<seq>/visible.txt`` + ``<seq>/infrared.txt``; a folder of
      ``<seq>.txt`` is used for both modalities (with a warning: MPR/MSR then lose their "better of
      the two" rule).
    * VisEvent: the toolkit annotations ``gt_rect/<seq>.txt`` + ``absent/<seq>.txt`` (1 = absent);
      the dataset root ``<seq>/groundtruth.txt`` + ``absent_label.txt`` (1 = visible, leading invisible
      frames dropped as our runners and CSTrack's do, EVALUATION.md §2.2); or ``<seq>.txt`` without
      absent information (with a warning).
    * DepthTrack: a sequences folder ``<seq>/groundtruth.txt`` with ``<seq>/color/`` frames (DeT or VOT
      workspace layout, ``list.txt`` honoured); or ``<seq>.txt`` plus ``image_size``.

    Args:
        dataset: benchmark name (case-insensitive).
        gt: ground-truth folder.
        sequences: names or a list file; default ``list.txt`` in ``gt`` if present, else all found.
        attributes: attribute folder (see :func:`load_attributes`); default: the one shipped beside
            the ground truth, if any.
        image_size: DepthTrack frame size ``(width, height)``, or a per-sequence mapping; read from
            the first colour frame when not given.
    """
    dataset = canonical_dataset(dataset)
    root = Path(gt)
    if not root.is_dir():
        raise FileNotFoundError(f"ground-truth folder {root} does not exist")
    result = GroundTruth(dataset=dataset, root=root, sequences=[], boxes={})

    if dataset in ("LasHeR", "RGBT234"):
        gt_name = "visible.txt" if dataset == "RGBT234" or _subdirs_with(root, "visible.txt") else "init.txt"
        found = _subdirs_with(root, gt_name)
        flat = not found
        if flat:
            found = _flat_txt(root)
            if dataset == "RGBT234":
                logger.warning("%s: no <seq>/visible.txt + infrared.txt; using <seq>.txt for both modalities",
                               root)
        names = _resolve_sequences(found, root, sequences)
        for seq in names:
            path = root / f"{seq}.txt" if flat else root / seq / gt_name
            result.boxes[seq] = read_boxes(path)
            if dataset == "RGBT234":
                result.infrared[seq] = result.boxes[seq] if flat else read_boxes(root / seq / "infrared.txt")
    elif dataset == "VisEvent":
        if (root / "gt_rect").is_dir():
            names = _resolve_sequences(_flat_txt(root / "gt_rect"), root, sequences)
            for seq in names:
                result.boxes[seq] = read_boxes(root / "gt_rect" / f"{seq}.txt")
                result.absent[seq] = read_flags(root / "absent" / f"{seq}.txt")
        elif _subdirs_with(root, "groundtruth.txt"):
            names = _resolve_sequences(_subdirs_with(root, "groundtruth.txt"), root, sequences)
            for seq in names:
                boxes = read_boxes(root / seq / "groundtruth.txt")
                visible = read_flags(root / seq / "absent_label.txt")
                start = int(np.argmax(visible > 0)) if len(visible) and visible[0] == 0 else 0
                result.boxes[seq], result.absent[seq] = boxes[start:], (visible[start:] == 0).astype(float)
        else:
            names = _resolve_sequences(_flat_txt(root), root, sequences)
            logger.warning("%s: no absent-frame annotations; every frame counts as present", root)
            for seq in names:
                result.boxes[seq] = read_boxes(root / f"{seq}.txt")
                result.absent[seq] = np.zeros(len(result.boxes[seq]))
        for seq in names:
            if len(result.absent[seq]) != len(result.boxes[seq]):
                raise ValueError(f"{root}: {seq} has {len(result.boxes[seq])} boxes but "
                                 f"{len(result.absent[seq])} absent flags")
    else:  # DepthTrack
        found = _subdirs_with(root, "groundtruth.txt")
        flat = not found
        names = _resolve_sequences(found or _flat_txt(root), root, sequences)
        for seq in names:
            result.boxes[seq] = read_vot_trajectory(root / f"{seq}.txt" if flat else root / seq / "groundtruth.txt")
            if isinstance(image_size, Mapping):
                result.image_sizes[seq] = tuple(image_size[seq])
            elif image_size is not None:
                result.image_sizes[seq] = tuple(image_size)
            elif flat:
                raise ValueError(f"{root}: DepthTrack overlaps are clipped to the image; a folder of "
                                 f"<seq>.txt files needs image_size=(width, height)")
            else:
                result.image_sizes[seq] = _first_frame_size(root / seq)
    result.sequences = names
    if attributes is not None:
        result.attributes = load_attributes(dataset, attributes, names)
    elif (attr_dir := _auto_attribute_dir(dataset, root)) is not None:
        try:
            result.attributes = load_attributes(dataset, attr_dir, names)
        except (OSError, ValueError) as e:  # an optional extra found by name: report, do not fail
            logger.warning("ignoring attribute folder %s: %s", attr_dir, e)
    return result


# ---------------------------------------------------------------------------------------------------
# Results


@dataclass
class OPEResult:
    """Per-sequence curves of one tracker on LasHeR, RGBT234 or VisEvent.

    ``curves[name]`` is an ``(S, T)`` array, one row per sequence of ``sequences``, at the thresholds
    :data:`OPE_THRESHOLDS` ``[name]``: fraction of frames with ``IoU > t`` (``success``), with centre
    error ``<= t`` px (``precision``) or normalised error ``<= t`` (``norm_precision``, not RGBT234).
    """

    dataset: str
    tracker: str
    sequences: list[str]
    curves: dict[str, np.ndarray]
    skipped: dict[str, str] = field(default_factory=dict)

    def _rows(self, sequences: Sequence[str] | None) -> np.ndarray:
        """Row indices of ``sequences`` (all when None); unknown names raise."""
        if sequences is None:
            return np.arange(len(self.sequences))
        index = {s: i for i, s in enumerate(self.sequences)}
        unknown = [s for s in sequences if s not in index]
        if unknown:
            raise KeyError(f"{self.tracker}: no scores for {', '.join(unknown)}")
        return np.array([index[s] for s in sequences], dtype=int)

    def curve(self, name: str, sequences: Sequence[str] | None = None) -> np.ndarray:
        """Aggregated curve over ``sequences`` with the benchmark's rule (LasHeR/VisEvent drop all-zero rows)."""
        rows = self.curves[name][self._rows(sequences)]
        return metrics.mean_aggregate(rows) if self.dataset == "RGBT234" else metrics.lasot_aggregate(rows)

    def scores(self, sequences: Sequence[str] | None = None) -> dict[str, float]:
        """Benchmark scores over ``sequences`` (default all), fractions in [0, 1]."""
        out = {}
        for key, (name, index) in _OPE_SCORES[self.dataset].items():
            agg = self.curve(name, sequences)
            out[key] = float(agg.mean() if index is None else agg[index])
        return out

    def sequence_scores(self) -> dict[str, dict[str, float]]:
        """Scores of every sequence on its own (its curve at 20 px / 0.2, its success-curve mean)."""
        out: dict[str, dict[str, float]] = {seq: {} for seq in self.sequences}
        for key, (name, index) in _OPE_SCORES[self.dataset].items():
            values = self.curves[name].mean(axis=1) if index is None else self.curves[name][:, index]
            for seq, v in zip(self.sequences, values):
                out[seq][key] = float(v)
        return out

    def thresholds(self, name: str) -> np.ndarray:
        """Thresholds (x axis) of curve ``name``."""
        return OPE_THRESHOLDS[name]


@dataclass
class LongTermResult:
    """Per-sequence overlaps and confidences of one tracker on DepthTrack (VOT long-term protocol).

    ``overlaps[seq]`` and ``confidences[seq]`` hold one array per trajectory (repetition);
    ``n_visible[seq]`` is the number of ground-truth frames with a box.
    """

    dataset: str
    tracker: str
    sequences: list[str]
    overlaps: dict[str, list[np.ndarray]]
    confidences: dict[str, list[np.ndarray]]
    n_visible: dict[str, int]
    skipped: dict[str, str] = field(default_factory=dict)

    def pr_curve(self, sequences: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(thresholds, precision, recall)`` averaged over ``sequences`` (default all).

        Thresholds come from the confidences of exactly these sequences, as the toolkit does for the
        sequences of its stack.
        """
        names = self.sequences if sequences is None else list(sequences)
        unknown = [s for s in names if s not in self.overlaps]
        if unknown:
            raise KeyError(f"{self.tracker}: no scores for {', '.join(unknown)}")
        thresholds = longterm.vot_thresholds(np.concatenate([c for s in names for c in self.confidences[s]]))
        precision = np.zeros(len(thresholds))
        recall = np.zeros(len(thresholds))
        for seq in names:
            pairs = [longterm.tpr_curves(o, c, self.n_visible[seq], thresholds)
                     for o, c in zip(self.overlaps[seq], self.confidences[seq])]
            precision += np.mean([p for p, _ in pairs], axis=0)
            recall += np.mean([r for _, r in pairs], axis=0)
        return thresholds, precision / len(names), recall / len(names)

    def scores(self, sequences: Sequence[str] | None = None) -> dict[str, float]:
        """``{"Pr", "Re", "F"}`` at the F-maximising threshold, fractions in [0, 1]."""
        _, precision, recall = self.pr_curve(sequences)
        return longterm.f_score(precision, recall)

    def sequence_scores(self) -> dict[str, dict[str, float]]:
        """Pr / Re / F of every sequence on its own (thresholds from that sequence's confidences)."""
        return {seq: self.scores([seq]) for seq in self.sequences}


TrackerResult = Union[OPEResult, LongTermResult]


def _load_ope_result(dataset: str, results_dir: Path, seq: str, n_rows: int) -> np.ndarray:
    """Read and validate the result file of one sequence; raises with the reason when unusable."""
    names = [f"{seq}.txt"]
    if dataset == "VisEvent":  # eval_tracker.m falls back to these names
        names += [f"results{seq}.txt", f"{seq}_001.txt"]
    path = _first_existing(*(results_dir / n for n in names))
    if path is None:
        raise FileNotFoundError("missing")
    columns = (4, 8) if dataset == "RGBT234" else (4,)
    try:
        boxes = read_boxes(path, columns)
    except ResultFormatError as e:
        raise ResultFormatError(f"unreadable: {e}") from e
    if len(boxes) == 0:
        raise ValueError("empty")
    if len(boxes) < n_rows:
        raise ValueError(f"short: {len(boxes)} rows, {n_rows} needed")
    return boxes


def _vot_trajectories(results_dir: Path, seq: str) -> list[tuple[Path, Path | None]]:
    """``(trajectory, confidence file or None)`` pairs of a sequence in the VOT or the flat layout."""
    seq_dir = results_dir / seq
    pairs = []
    if seq_dir.is_dir():
        for path in sorted(seq_dir.glob(f"{seq}_[0-9][0-9][0-9].txt")):
            conf = path.with_name(f"{path.stem}_confidence.value")
            pairs.append((path, conf if conf.is_file() else None))
    elif (results_dir / f"{seq}.txt").is_file():
        conf = _first_existing(results_dir / f"{seq}_confidence.value", results_dir / f"{seq}_confidence.txt")
        pairs.append((results_dir / f"{seq}.txt", conf))
    return pairs


def _load_longterm_result(results_dir: Path, seq: str, gt: GroundTruth,
                          legacy: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Overlaps and confidences of every trajectory of one DepthTrack sequence."""
    pairs = _vot_trajectories(results_dir, seq)
    if not pairs:
        if any((results_dir / seq).glob(f"{seq}_*.bin")):
            raise ResultFormatError("unreadable: binary VOT trajectories (.bin) are not supported; run the "
                                    "toolkit with VOT_RESULTS_BINARY=0 to get .txt files")
        raise FileNotFoundError("missing")
    boxes_gt = gt.boxes[seq]
    overlaps, confidences = [], []
    for path, conf_path in pairs:
        try:
            traj = read_vot_trajectory(path)
            conf = read_values(conf_path) if conf_path is not None else np.zeros(len(traj))
        except ResultFormatError as e:
            raise ResultFormatError(f"unreadable: {e}") from e
        if len(traj) == 0:
            raise ValueError("empty")
        if len(traj) != len(boxes_gt):
            raise ValueError(f"{'short' if len(traj) < len(boxes_gt) else 'long'}: "
                             f"{path.name} has {len(traj)} rows, ground truth {len(boxes_gt)}")
        if len(conf) != len(traj):
            raise ValueError(f"unreadable: {conf_path.name} has {len(conf)} values for {len(traj)} frames")
        if conf_path is None:
            logger.warning("%s: no confidence file; all confidences are 0 as in the VOT toolkit", path)
        traj = traj.copy()
        traj[0] = np.nan  # frame 0 is the initialisation (a special region for the toolkit)
        overlaps.append(longterm.vot_overlaps(traj, boxes_gt, gt.image_sizes[seq], legacy=legacy))
        confidences.append(conf)
    return overlaps, confidences


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

    Returns an :class:`OPEResult` (LasHeR, RGBT234, VisEvent) or a :class:`LongTermResult` (DepthTrack)
    whose ``scores()`` gives the benchmark numbers and ``sequence_scores()`` the per-sequence ones.
    """
    dataset = canonical_dataset(dataset)
    truth = gt if isinstance(gt, GroundTruth) else load_ground_truth(dataset, gt, sequences)
    if truth.dataset != dataset:
        raise ValueError(f"ground truth is for {truth.dataset}, not {dataset}")
    names = truth.sequences
    if isinstance(gt, GroundTruth) and sequences is not None:
        names = _resolve_sequences(truth.sequences, truth.root, sequences)
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise FileNotFoundError(f"results folder {results_dir} does not exist")
    tracker = tracker or default_tracker_name(results_dir)

    problems: dict[str, str] = {}
    loaded: dict[str, object] = {}
    for seq in names:
        try:
            if dataset == "DepthTrack":
                loaded[seq] = _load_longterm_result(results_dir, seq, truth, vot_legacy)
            else:
                loaded[seq] = _load_ope_result(dataset, results_dir, seq, len(truth.boxes[seq]))
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

    if dataset == "DepthTrack":
        return LongTermResult(dataset=dataset, tracker=tracker, sequences=kept,
                              overlaps={s: loaded[s][0] for s in kept},
                              confidences={s: loaded[s][1] for s in kept},
                              n_visible={s: int((~np.isnan(truth.boxes[s]).any(axis=1)).sum()) for s in kept},
                              skipped=problems)

    curve_names = ("success", "precision") if dataset == "RGBT234" else ("success", "precision", "norm_precision")
    curves = {name: np.zeros((len(kept), len(OPE_THRESHOLDS[name]))) for name in curve_names}
    for i, seq in enumerate(kept):
        boxes, anno = loaded[seq], truth.boxes[seq]
        n = len(anno)
        if dataset == "RGBT234":
            iou, err = metrics.rgbt234_errors(boxes, anno, truth.infrared[seq])
            curves["success"][i] = metrics.success_counts(iou) / n
            curves["precision"][i] = metrics.precision_counts(err) / n
            continue
        absent = truth.absent.get(seq)
        iou, err = metrics.lasot_style_errors(boxes, anno, absent)
        _, err_norm = metrics.lasot_style_errors(boxes, anno, absent, normalized=True)
        denominator = n + metrics.MATLAB_EPS  # all frames, absent ones included (eval_tracker.m)
        curves["success"][i] = metrics.success_counts(iou) / denominator
        curves["precision"][i] = metrics.precision_counts(err) / denominator
        curves["norm_precision"][i] = metrics.precision_counts(err_norm, metrics.NORM_THRESHOLDS) / denominator
    return OPEResult(dataset=dataset, tracker=tracker, sequences=kept, curves=curves, skipped=problems)


def evaluate_tracker(dataset: str, results_dir: PathLike, gt: PathLike | GroundTruth, *,
                     sequences: Sequence[str] | PathLike | None = None, allow_missing: bool = False,
                     vot_legacy: bool = True) -> dict[str, float]:
    """Benchmark scores of one tracker's result folder, as the official toolkit computes them.

    Args:
        dataset: ``"LasHeR"``, ``"RGBT234"``, ``"VisEvent"`` or ``"DepthTrack"`` (case-insensitive).
        results_dir: folder of ``<seq>.txt`` result files (one row per frame, ``x y w h`` separated by
            commas, spaces or tabs; RGBT234 also 8-value corner rows). DepthTrack: the VOT layout
            ``<seq>/<seq>_001.txt`` + ``<seq>/<seq>_001_confidence.value`` (e.g.
            ``results/<tracker>/longterm``), or ``<seq>.txt`` + ``<seq>_confidence.value``.
        gt: dataset root or folder of ``<seq>.txt`` ground-truth files (see :func:`load_ground_truth`),
            or an already loaded :class:`GroundTruth`.
        sequences: restrict to these names (list or list file); default: every ground-truth sequence.
        allow_missing: score only the sequences with a usable result instead of raising
            :class:`IncompleteResultsError` (the others are logged).
        vot_legacy: DepthTrack only; vot-toolkit 0.5.3 overlap semantics (default) or 0.9.0 (False),
            see :func:`lib.test.analysis.longterm.vot_overlaps`.

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
    dataset = canonical_dataset(dataset)
    truth = gt if isinstance(gt, GroundTruth) else load_ground_truth(dataset, gt, sequences)
    return {name: compute_curves(dataset, path, truth, tracker=name, sequences=sequences,
                                 allow_missing=allow_missing, vot_legacy=vot_legacy)
            for name, path in trackers.items()}
