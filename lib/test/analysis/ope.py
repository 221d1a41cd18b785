"""One-pass evaluation (OPE) protocols: LasHeR, RGBT234 and VisEvent, each its own registered object.

All three score a result file of one ``x y w h`` row per frame against the ground truth with success
(``IoU > t``), precision (centre error ``<= t`` px) and, except RGBT234, normalised-precision curves;
they differ in how errors are computed (:mod:`lib.test.analysis.metrics`), which frames count and how
sequence curves are averaged. The rules are those of each benchmark's MATLAB toolkit
(docs/evaluation.md, one section per benchmark).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from lib.test.analysis import metrics
from lib.test.analysis.protocol import (GroundTruth, PathLike, PlotCurve, Protocol, TrackerResult, first_existing,
                                        flat_txt, register_protocol, resolve_sequences, subdirs_with)
from lib.test.analysis.readers import ResultFormatError, read_boxes, read_flags
from lib.test.evaluation.data import first_visible_frame

logger = logging.getLogger(__name__)

#: Curves of the OPE benchmarks with their thresholds (x axis of the plots).
OPE_THRESHOLDS: dict[str, np.ndarray] = {
    "success": metrics.OVERLAP_THRESHOLDS,
    "precision": metrics.PIXEL_THRESHOLDS,
    "norm_precision": metrics.NORM_THRESHOLDS,
}


@dataclass(kw_only=True)
class OPEResult(TrackerResult):
    """Per-sequence curves of one tracker on an OPE benchmark.

    ``curves[name]`` is an ``(S, T)`` array, one row per sequence of ``sequences``, at the thresholds
    :data:`OPE_THRESHOLDS` ``[name]``: fraction of frames with ``IoU > t`` (``success``), with centre
    error ``<= t`` px (``precision``) or normalised error ``<= t`` (``norm_precision``, not RGBT234).
    """

    curves: dict[str, np.ndarray]

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
        """Curve ``name`` aggregated over ``sequences`` (default all) with the benchmark's rule."""
        return self.protocol.aggregate(self.curves[name][self._rows(sequences)])

    def scores(self, sequences: Sequence[str] | None = None) -> dict[str, float]:
        """Benchmark scores over ``sequences`` (default all), fractions in [0, 1]."""
        return {key: score_of(self.curve(name, sequences), name)
                for key, name in self.protocol.score_curves.items()}

    def sequence_scores(self) -> dict[str, dict[str, float]]:
        """Scores of every sequence on its own (its curve at 20 px / 0.2, its success-curve mean)."""
        out: dict[str, dict[str, float]] = {seq: {} for seq in self.sequences}
        for key, name in self.protocol.score_curves.items():
            rows = self.curves[name]
            values = rows.mean(axis=1) if name == "success" else rows[:, metrics.RANK_INDEX]
            for seq, value in zip(self.sequences, values):
                out[seq][key] = float(value)
        return out

    @property
    def curve_names(self) -> tuple[str, ...]:
        """The plots of this result: ``success``, ``precision`` and (LasHeR, VisEvent) ``norm_precision``."""
        return tuple(self.curves)

    def plot_curve(self, name: str, sequences: Sequence[str] | None = None) -> PlotCurve:
        """Curve ``name`` over ``sequences`` with its legend score (AUC, or the value at 20 px / 0.2)."""
        curve = self.curve(name, sequences)
        return PlotCurve(OPE_THRESHOLDS[name], curve, score_of(curve, name))


def score_of(curve: np.ndarray, name: str) -> float:
    """The score a curve gives: mean over thresholds (AUC) for success, the value at 20 px / 0.2 otherwise."""
    return float(curve.mean() if name == "success" else curve[metrics.RANK_INDEX])


class OPEProtocol(Protocol):
    """What LasHeR, RGBT234 and VisEvent share: flat ``<seq>.txt`` result files and OPE curves."""

    result_layout = "<results_dir>/<seq>.txt, one x y w h row per frame (commas, spaces or tabs)"
    #: score key -> curve it is read from
    score_curves: dict[str, str] = {"PR": "precision", "NPR": "norm_precision", "SR": "success"}
    #: result file names tried in order
    result_names: tuple[str, ...] = ("{seq}.txt",)
    #: accepted row widths of a result file
    result_columns: tuple[int, ...] = (4,)

    @property
    def score_keys(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.score_curves)

    @property
    def curve_names(self) -> tuple[str, ...]:
        """The curves this benchmark draws and scores, in :data:`OPE_THRESHOLDS` order."""
        return tuple(n for n in OPE_THRESHOLDS if n in self.score_curves.values())

    def aggregate(self, rows: np.ndarray) -> np.ndarray:
        """Mean curve over sequences with all-zero sequences dropped (LaSOT-style toolkits)."""
        return metrics.lasot_aggregate(rows)

    def read_result(self, results_dir: Path, seq: str, truth: GroundTruth) -> np.ndarray:
        path = first_existing(*(results_dir / n.format(seq=seq) for n in self.result_names))
        if path is None:
            raise FileNotFoundError("missing")
        try:
            boxes = read_boxes(path, self.result_columns)
        except ResultFormatError as e:
            raise ResultFormatError(f"unreadable: {e}") from e
        n_rows = len(truth.boxes[seq])
        if len(boxes) == 0:
            raise ValueError("empty")
        if len(boxes) < n_rows:
            raise ValueError(f"short: {len(boxes)} rows, {n_rows} needed")
        return boxes

    def result_boxes(self, results_dir: Path, seq: str, truth: GroundTruth) -> np.ndarray:
        return self.read_result(results_dir, seq, truth)[:, :4]

    def sequence_curves(self, boxes: np.ndarray, truth: GroundTruth, seq: str) -> dict[str, np.ndarray]:
        """One sequence's curves with the LaSOT-style rules of ``calc_seq_err_robust.m`` / ``eval_tracker.m``."""
        anno = truth.boxes[seq]
        absent = truth.absent.get(seq)
        iou, err = metrics.lasot_style_errors(boxes, anno, absent)
        _, err_norm = metrics.lasot_style_errors(boxes, anno, absent, normalized=True)
        denominator = len(anno) + metrics.MATLAB_EPS  # all frames, absent ones included (eval_tracker.m)
        return {"success": metrics.success_counts(iou) / denominator,
                "precision": metrics.precision_counts(err) / denominator,
                "norm_precision": metrics.precision_counts(err_norm, metrics.NORM_THRESHOLDS) / denominator}

    def collect(self, tracker: str, sequences: list[str], loaded: Mapping[str, Any], truth: GroundTruth,
                vot_legacy: bool) -> OPEResult:
        names = self.curve_names
        curves = {name: np.zeros((len(sequences), len(OPE_THRESHOLDS[name]))) for name in names}
        for i, seq in enumerate(sequences):
            per_seq = self.sequence_curves(loaded[seq], truth, seq)
            for name in names:
                curves[name][i] = per_seq[name]
        return OPEResult(dataset=self.name, tracker=tracker, sequences=sequences, curves=curves)

    def _rgbt_layout(self, root: Path, sequences: Sequence[str] | PathLike | None,
                     gt_name: str) -> tuple[GroundTruth, bool]:
        """Boxes from ``<seq>/<gt_name>`` sub-folders, else from ``<seq>.txt`` files; returns (truth, flat)."""
        found = subdirs_with(root, gt_name)
        flat = not found
        names = resolve_sequences(flat_txt(root) if flat else found, root, sequences)
        truth = GroundTruth(dataset=self.name, root=root, sequences=names, boxes={})
        for seq in names:
            truth.boxes[seq] = read_boxes(root / f"{seq}.txt" if flat else root / seq / gt_name)
        return truth, flat


@register_protocol
class LasHeRProtocol(OPEProtocol):
    """LasHeR: PR at 20 px, NPR at 0.2, SR = success AUC, LaSOT-style rules."""

    name = "LasHeR"
    toolkit = "LasHeR MATLAB toolkit (docs/evaluation.md, LasHeR)"
    ground_truth_layouts = ("<root>/<seq>.txt (toolkit annos)",
                            "<root>/<seq>/visible.txt (dataset root; init.txt when there is no visible.txt)")
    attribute_names = ("NO", "PO", "TO", "HO", "MB", "LI", "HI", "AIV", "LR", "DEF", "BC", "SA", "CM", "TC",
                       "FL", "OV", "FM", "SV", "ARC")
    attribute_dirs = ("AttriSeqsTxt",)

    def load_ground_truth(self, root, sequences, image_size=None) -> GroundTruth:
        gt_name = "visible.txt" if subdirs_with(root, "visible.txt") else "init.txt"
        return self._rgbt_layout(root, sequences, gt_name)[0]


@register_protocol
class RGBT234Protocol(OPEProtocol):
    """RGBT234: MPR / MSR with the better of the visible and infrared ground truth per frame."""

    name = "RGBT234"
    toolkit = "RGBT234 MPR/MSR MATLAB code (docs/evaluation.md, RGBT234)"
    ground_truth_layouts = ("<root>/<seq>/visible.txt + <root>/<seq>/infrared.txt (dataset root)",
                            "<root>/<seq>.txt (used for both modalities)")
    result_layout = "<results_dir>/<seq>.txt, x y w h rows or 8-value corner rows x1 y1 x2 y1 x2 y2 x1 y2"
    score_curves = {"MPR": "precision", "MSR": "success"}
    result_columns = (4, 8)
    attribute_names = ("BC", "CM", "DEF", "FM", "HO", "LI", "LR", "MB", "NO", "TC", "PO", "SC")
    attribute_dirs = ("attr_txt",)

    def load_ground_truth(self, root, sequences, image_size=None) -> GroundTruth:
        truth, flat = self._rgbt_layout(root, sequences, "visible.txt")
        if flat:
            logger.warning("%s: no <seq>/visible.txt + infrared.txt; using <seq>.txt for both modalities", root)
        for seq in truth.sequences:
            truth.infrared[seq] = truth.boxes[seq] if flat else read_boxes(root / seq / "infrared.txt")
        return truth

    def aggregate(self, rows: np.ndarray) -> np.ndarray:
        """Plain mean over sequences (``main_attrDrawCurve_RGBT234.m``)."""
        return metrics.mean_aggregate(rows)

    def sequence_curves(self, boxes, truth, seq) -> dict[str, np.ndarray]:
        """Better-of-two-modalities errors of ``calcPlotErr_TPR.m`` over all ground-truth rows."""
        anno = truth.boxes[seq]
        iou, err = metrics.rgbt234_errors(boxes, anno, truth.infrared[seq])
        return {"success": metrics.success_counts(iou) / len(anno),
                "precision": metrics.precision_counts(err) / len(anno)}

    def result_boxes(self, results_dir, seq, truth) -> np.ndarray:
        boxes = self.read_result(results_dir, seq, truth)
        return metrics.corners_to_rect(boxes) if boxes.shape[1] == 8 else boxes


@register_protocol
class VisEventProtocol(OPEProtocol):
    """VisEvent: LasHeR's curves with absent frames removed from the errors but kept in the denominator."""

    name = "VisEvent"
    toolkit = "VisEvent MATLAB toolkit (docs/evaluation.md, VisEvent)"
    ground_truth_layouts = ("<root>/gt_rect/<seq>.txt + <root>/absent/<seq>.txt (toolkit annos, 1 = absent)",
                            "<root>/<seq>/groundtruth.txt + absent_label.txt (dataset root, 1 = visible; "
                            "leading invisible frames dropped as the runners do)",
                            "<root>/<seq>.txt (no absent information)")
    result_names = ("{seq}.txt", "results{seq}.txt", "{seq}_001.txt")  # eval_tracker.m falls back to these
    attribute_names = ("CM", "ROT", "DEF", "FOC", "LI", "OV", "POC", "VC", "SV", "BC", "MB", "ARC", "FM",
                       "NMO", "IV", "OE", "BOM")
    attribute_dirs = ("att",)

    def load_ground_truth(self, root, sequences, image_size=None) -> GroundTruth:
        if (root / "gt_rect").is_dir():
            names = resolve_sequences(flat_txt(root / "gt_rect"), root, sequences)
            truth = GroundTruth(dataset=self.name, root=root, sequences=names, boxes={})
            for seq in names:
                truth.boxes[seq] = read_boxes(root / "gt_rect" / f"{seq}.txt")
                truth.absent[seq] = read_flags(root / "absent" / f"{seq}.txt")
        elif subdirs_with(root, "groundtruth.txt"):
            names = resolve_sequences(subdirs_with(root, "groundtruth.txt"), root, sequences)
            truth = GroundTruth(dataset=self.name, root=root, sequences=names, boxes={})
            for seq in names:
                boxes = read_boxes(root / seq / "groundtruth.txt")
                visible = read_flags(root / seq / "absent_label.txt")
                start = first_visible_frame(visible)
                truth.boxes[seq], truth.absent[seq] = boxes[start:], (visible[start:] == 0).astype(float)
        else:
            names = resolve_sequences(flat_txt(root), root, sequences)
            logger.warning("%s: no absent-frame annotations; every frame counts as present", root)
            truth = GroundTruth(dataset=self.name, root=root, sequences=names, boxes={})
            for seq in names:
                truth.boxes[seq] = read_boxes(root / f"{seq}.txt")
                truth.absent[seq] = np.zeros(len(truth.boxes[seq]))
        for seq in names:
            if len(truth.absent[seq]) != len(truth.boxes[seq]):
                raise ValueError(f"{root}: {seq} has {len(truth.boxes[seq])} boxes but "
                                 f"{len(truth.absent[seq])} absent flags")
        return truth
