"""DepthTrack: the VOT toolkit's long-term analysis (tracking precision, recall, F-score) as a protocol.

Results are VOT trajectories (``<seq>/<seq>_001.txt`` + ``_confidence.value``, as ``vot evaluate``
and our runner write them, or flat ``<seq>.txt`` + ``<seq>_confidence.value``); overlaps and the
precision-recall curve follow :mod:`lib.test.analysis.longterm` (docs/evaluation.md, DepthTrack).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from lib.test.analysis import longterm
from lib.test.analysis.protocol import (GroundTruth, PlotCurve, Protocol, TrackerResult, first_existing, flat_txt,
                                        register_protocol, resolve_sequences, subdirs_with)
from lib.test.analysis.readers import ResultFormatError, read_values, read_vot_trajectory

logger = logging.getLogger(__name__)

#: Toolkit version whose rule for empty regions ``vot_legacy=True`` follows, and the rule of the others.
VOT_OVERLAP_RULES = {"0.5.3": True, "0.6+": False}


@dataclass(kw_only=True)
class LongTermResult(TrackerResult):
    """Per-sequence overlaps and confidences of one tracker on DepthTrack (VOT long-term protocol).

    ``overlaps[seq]`` and ``confidences[seq]`` hold one array per trajectory (repetition);
    ``n_visible[seq]`` is the number of ground-truth frames with a box.
    """

    overlaps: dict[str, list[np.ndarray]]
    confidences: dict[str, list[np.ndarray]]
    n_visible: dict[str, int]

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

    curve_names = ("precision_recall",)

    def plot_curve(self, name: str, sequences: Sequence[str] | None = None) -> PlotCurve:
        """The precision-recall curve (precision over recall) with the F-maximising point marked."""
        if name != "precision_recall":
            raise KeyError(f"DepthTrack has no '{name}' curve; it has {self.curve_names}")
        _, precision, recall = self.pr_curve(sequences)
        best = longterm.f_score(precision, recall)
        return PlotCurve(recall, precision, best["F"], point=(best["Re"], best["Pr"]))


def _trajectories(results_dir: Path, seq: str) -> list[tuple[Path, Path | None]]:
    """``(trajectory, confidence file or None)`` pairs of a sequence in the VOT or the flat layout."""
    seq_dir = results_dir / seq
    pairs = []
    if seq_dir.is_dir():
        for path in sorted(seq_dir.glob(f"{seq}_[0-9][0-9][0-9].txt")):
            conf = path.with_name(f"{path.stem}_confidence.value")
            pairs.append((path, conf if conf.is_file() else None))
    elif (results_dir / f"{seq}.txt").is_file():
        conf = first_existing(results_dir / f"{seq}_confidence.value", results_dir / f"{seq}_confidence.txt")
        pairs.append((results_dir / f"{seq}.txt", conf))
    return pairs


@register_protocol
class DepthTrackProtocol(Protocol):
    """DepthTrack: F-score of the VOT long-term analysis with bounded (image-clipped) overlaps."""

    name = "DepthTrack"
    score_keys = ("Pr", "Re", "F")
    toolkit = "VOT toolkit long-term analysis, bounded overlaps (docs/evaluation.md, DepthTrack)"
    ground_truth_layouts = ("<root>/<seq>/groundtruth.txt with <root>/<seq>/color/ frames (DeT or VOT "
                            "sequences/ folder, list.txt honoured)",
                            "<root>/<seq>.txt plus image_size=(width, height)")
    result_layout = ("<results_dir>/<seq>/<seq>_001.txt + <seq>_001_confidence.value (VOT layout, e.g. "
                     "results/<tracker>/rgbd-unsupervised), or <results_dir>/<seq>.txt + <seq>_confidence.value")

    def rule_note(self, vot_legacy: bool) -> str:
        return f"empty-region overlap rule of vot-toolkit {'0.5.3' if vot_legacy else '0.6 and later'}"

    def load_ground_truth(self, root, sequences, image_size=None) -> GroundTruth:
        found = subdirs_with(root, "groundtruth.txt")
        flat = not found
        names = resolve_sequences(found or flat_txt(root), root, sequences)
        truth = GroundTruth(dataset=self.name, root=root, sequences=names, boxes={})
        for seq in names:
            truth.boxes[seq] = read_vot_trajectory(root / f"{seq}.txt" if flat else root / seq / "groundtruth.txt")
            if isinstance(image_size, Mapping):
                truth.image_sizes[seq] = tuple(image_size[seq])
            elif image_size is not None:
                truth.image_sizes[seq] = tuple(image_size)
            elif flat:
                raise ValueError(f"{root}: DepthTrack overlaps are clipped to the image; a folder of "
                                 f"<seq>.txt files needs image_size=(width, height) (--image_size W H)")
            else:
                truth.image_sizes[seq] = _first_frame_size(root / seq)
        return truth

    def read_result(self, results_dir: Path, seq: str, truth: GroundTruth) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(trajectory, confidences)`` of every repetition; the initialisation row is a NaN row."""
        pairs = _trajectories(results_dir, seq)
        if not pairs:
            if any((results_dir / seq).glob(f"{seq}_*.bin")):
                raise ResultFormatError("unreadable: binary VOT trajectories (.bin) are not supported; run the "
                                        "toolkit with VOT_RESULTS_BINARY=0 to get .txt files")
            raise FileNotFoundError("missing")
        n_gt = len(truth.boxes[seq])
        out = []
        for path, conf_path in pairs:
            try:
                traj = read_vot_trajectory(path)
                conf = read_values(conf_path) if conf_path is not None else np.zeros(len(traj))
            except ResultFormatError as e:
                raise ResultFormatError(f"unreadable: {e}") from e
            if len(traj) == 0:
                raise ValueError("empty")
            if len(traj) != n_gt:
                raise ValueError(f"{'short' if len(traj) < n_gt else 'long'}: "
                                 f"{path.name} has {len(traj)} rows, ground truth {n_gt}")
            if len(conf) != len(traj):
                raise ValueError(f"unreadable: {conf_path.name} has {len(conf)} values for {len(traj)} frames")
            if conf_path is None:
                logger.warning("%s: no confidence file; all confidences are 0 as in the VOT toolkit", path)
            traj = traj.copy()
            traj[0] = np.nan  # frame 0 is the initialisation (a special region for the toolkit)
            out.append((traj, conf))
        return out

    def collect(self, tracker: str, sequences: list[str], loaded: Mapping[str, Any], truth: GroundTruth,
                vot_legacy: bool) -> LongTermResult:
        overlaps = {seq: [longterm.vot_overlaps(traj, truth.boxes[seq], truth.image_sizes[seq], legacy=vot_legacy)
                          for traj, _ in loaded[seq]] for seq in sequences}
        return LongTermResult(dataset=self.name, tracker=tracker, sequences=sequences, overlaps=overlaps,
                              confidences={s: [conf for _, conf in loaded[s]] for s in sequences},
                              n_visible={s: int((~np.isnan(truth.boxes[s]).any(axis=1)).sum()) for s in sequences})

    def result_boxes(self, results_dir: Path, seq: str, truth: GroundTruth) -> np.ndarray:
        """The first repetition's trajectory (frame 0, the initialisation, has no box)."""
        return self.read_result(results_dir, seq, truth)[0][0]

    def time_file_candidates(self, results_dir: Path, seq: str) -> tuple[Path, ...]:
        """VOT ``<seq>/<seq>_001_time.value`` (toolkit and our runner), or flat ``<seq>_time.value|txt``."""
        return (results_dir / seq / f"{seq}_001_time.value", results_dir / f"{seq}_time.value",
                results_dir / f"{seq}_time.txt")


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
