"""Per-sequence error measures and curve aggregation of the official MATLAB toolkits, in NumPy.

Each function reproduces one toolkit rule set written out in docs/evaluation.md (MATLAB file names there):

* :func:`lasot_style_errors` - ``calc_seq_err_robust.m`` of the LasHeR toolkit and, with an
  ``absent`` vector, of the VisEvent toolkit: truncate, repair invalid result rows, frame 1 :=
  ground truth, drop absent frames (VisEvent), invalid ground truth -> IoU -1 / centre error -1.
* :func:`rgbt234_errors` - ``calcPlotErr_TPR.m`` (RGBT234): best of the visible and infrared ground truth.
* :func:`success_counts` / :func:`precision_counts` and the aggregations :func:`lasot_aggregate`
  (all-zero sequences dropped, ``plot_draw_save.m``) and :func:`mean_aggregate` (RGBT234).

Arithmetic follows the MATLAB expressions operation by operation in float64 (e.g. IoU with ``+1``
pixel widths, MATLAB's ``max``/``min`` that skip NaN), because float noise decides some threshold
comparisons (an IoU of two identical fractional boxes can come out above 1.0).
"""
from __future__ import annotations

import numpy as np

#: MATLAB ``eps`` (added to the frame count in ``eval_tracker.m``).
MATLAB_EPS = float(np.finfo(np.float64).eps)


def matlab_colon(start: float, step: float, stop: float) -> np.ndarray:
    """Values of MATLAB's ``start:step:stop``, built from both ends as MATLAB does.

    The first half is ``start + k*step``, the second half ``stop - (n-k)*step``, so ``0:0.05:1`` holds
    0.6499999999999999 where NumPy's ``k*0.05`` holds 0.65000000000000002 (docs/evaluation.md, RGBT234).
    """
    n = int(round((stop - start) / step))
    k = np.arange(n + 1)
    return np.where(k <= n / 2, start + k * step, stop - (n - k) * step)


#: Success-plot thresholds ``0:0.05:1`` (21 values); success means ``IoU > t`` (strict).
OVERLAP_THRESHOLDS = matlab_colon(0.0, 0.05, 1.0)
#: Precision-plot thresholds ``0:50`` pixels; success means ``error <= t``.
PIXEL_THRESHOLDS = np.arange(51, dtype=np.float64)
#: Normalised-precision thresholds ``(0:50)/100``.
NORM_THRESHOLDS = np.arange(51, dtype=np.float64) / 100
#: Index of 20 px in :data:`PIXEL_THRESHOLDS` and of 0.20 in :data:`NORM_THRESHOLDS` (MATLAB's 21).
RANK_INDEX = 20


def rect_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise IoU of ``x y w h`` boxes exactly as ``calc_rect_int.m`` / ``calcRectInt.m`` compute it.

    Pixel-inclusive edges (``right = x + w - 1``, intersection ``+ 1``) with areas ``w * h``, which is
    algebraically the continuous IoU but rounds differently. MATLAB's ``max``/``min`` ignore NaN, so
    ``np.fmax``/``np.fmin`` are used. Shapes ``(N, 4)`` -> ``(N,)``.
    """
    left_a, top_a = a[:, 0], a[:, 1]
    right_a = left_a + a[:, 2] - 1
    bottom_a = top_a + a[:, 3] - 1
    left_b, top_b = b[:, 0], b[:, 1]
    right_b = left_b + b[:, 2] - 1
    bottom_b = top_b + b[:, 3] - 1
    inter = (np.fmax(0, np.fmin(right_a, right_b) - np.fmax(left_a, left_b) + 1)
             * np.fmax(0, np.fmin(bottom_a, bottom_b) - np.fmax(top_a, top_b) + 1))
    area_a = a[:, 2] * a[:, 3]
    area_b = b[:, 2] * b[:, 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area_a + area_b - inter)


def repair_invalid_rows(results: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Replace invalid result rows by the previous (already repaired) row, frames 2..N.

    A row is invalid if it has a NaN or ``w <= 0`` or ``h <= 0``; it is replaced only where the ground
    truth row has no NaN (``calc_seq_err_robust.m``). Runs before the frame-1 replacement, so a bad
    row 2 inherits the tracker's own row 1.
    """
    bad = (np.isnan(results).any(axis=1) | (results[:, 2] <= 0) | (results[:, 3] <= 0)) \
        & ~np.isnan(gt).any(axis=1)
    bad[0] = False
    source = np.where(bad, 0, np.arange(len(results)))
    return results[np.maximum.accumulate(source)]


def lasot_style_errors(results: np.ndarray, gt: np.ndarray, absent: np.ndarray | None = None,
                       normalized: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """IoU and centre error per scored frame, following ``calc_seq_err_robust.m`` (LasHeR, VisEvent).

    Args:
        results: ``(M, 4)`` tracker boxes ``x y w h``, ``M >= N`` (extra rows are ignored).
        gt: ``(N, 4)`` ground-truth boxes.
        absent: ``(N,)`` VisEvent absent flags (1 = target absent; those frames are removed), or None.
        normalized: divide both centres by the ground-truth ``(w, h)`` first (NPR).

    Returns:
        ``(iou, err)`` over the present frames. Frames whose ground truth is not strictly positive in
        all four values get ``iou = -1`` (never a success) and ``err = -1`` (a success at every
        precision threshold).
    """
    n = len(gt)
    if len(results) < n:
        raise ValueError(f"{len(results)} result rows for {n} ground-truth rows")
    rect = repair_invalid_rows(results[:n].astype(np.float64, copy=True), gt)
    rect[0] = gt[0]  # the toolkit ignores the result in the first frame
    anno = gt
    if absent is not None:
        present = np.asarray(absent) != 1
        rect, anno = rect[present], anno[present]
    center_gt = np.stack([anno[:, 0] + (anno[:, 2] - 1) / 2, anno[:, 1] + (anno[:, 3] - 1) / 2], axis=1)
    center = np.stack([rect[:, 0] + (rect[:, 2] - 1) / 2, rect[:, 1] + (rect[:, 3] - 1) / 2], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if normalized:
            center = center / anno[:, 2:4]
            center_gt = center_gt / anno[:, 2:4]
        diff = center - center_gt
        err = np.sqrt(diff[:, 0] ** 2 + diff[:, 1] ** 2)
        valid = (anno > 0).all(axis=1)
    iou = np.full(len(anno), -1.0)
    iou[valid] = rect_iou(rect[valid], anno[valid])
    err[~valid] = -1.0
    return iou, err


def matlab_round(x: np.ndarray) -> np.ndarray:
    """MATLAB ``round``: halves away from zero (NumPy's ``round`` goes to even)."""
    mag = np.abs(x)
    rounded = np.floor(mag)
    rounded += (mag - rounded) >= 0.5
    return np.copysign(rounded, x)


def corners_to_rect(corners: np.ndarray) -> np.ndarray:
    """``corner2rect.m``: rows ``x1 y1 x2 y2 x3 y3 x4 y4`` (TL, TR, BR, BL) -> ``round([x1, y1, x2-x1, y3-y1])``.

    Width ``x2 - x1`` has no ``+1`` and the rounding is MATLAB's (docs/evaluation.md, RGBT234).
    """
    return matlab_round(np.stack([corners[:, 0], corners[:, 1], corners[:, 2] - corners[:, 0],
                                  corners[:, 5] - corners[:, 1]], axis=1))


def rgbt234_errors(results: np.ndarray, gt_visible: np.ndarray,
                   gt_infrared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IoU and centre error per frame for RGBT234 (``calcPlotErr_TPR.m``, docs/evaluation.md, RGBT234).

    ``results`` has 4 columns (``x y w h``, used as is) or 8 (corners, see :func:`corners_to_rect`);
    rows beyond the ``N`` visible ground-truth rows are ignored. Per frame the better of the two
    ground truths counts: ``max`` IoU and ``min`` centre error (NaN skipped as in MATLAB). No
    first-frame replacement, no repair of invalid rows, no ground-truth validity mask.
    """
    n = len(gt_visible)
    if len(gt_infrared) != n:
        raise ValueError(f"visible ground truth has {n} rows, infrared {len(gt_infrared)}")
    if len(results) < n:
        raise ValueError(f"{len(results)} result rows for {n} ground-truth rows")
    rect = corners_to_rect(results[:n]) if results.shape[1] == 8 else results[:n, :4].astype(np.float64)
    center = np.stack([rect[:, 0] + rect[:, 2] / 2, rect[:, 1] + rect[:, 3] / 2], axis=1)
    ious, errs = [], []
    for gt in (gt_visible, gt_infrared):
        # load_groundtruth_txt_info.m stores x2 = x + w; calcPlotErr_TPR.m takes w back as x2 - x.
        x2 = gt[:, 0] + gt[:, 2]
        y2 = gt[:, 1] + gt[:, 3]
        gt_wh = np.stack([gt[:, 0], gt[:, 1], x2 - gt[:, 0], y2 - gt[:, 1]], axis=1)
        center_gt = np.stack([(gt[:, 0] + x2) / 2, (gt[:, 1] + y2) / 2], axis=1)
        ious.append(rect_iou(rect, gt_wh))
        diff = center - center_gt
        errs.append(np.sqrt(diff[:, 0] ** 2 + diff[:, 1] ** 2))
    return np.fmax(ious[0], ious[1]), np.fmin(errs[0], errs[1])


def success_counts(iou: np.ndarray, thresholds: np.ndarray = OVERLAP_THRESHOLDS) -> np.ndarray:
    """Number of frames with ``IoU > t`` for every threshold (strict, NaN never succeeds)."""
    return (iou[None, :] > thresholds[:, None]).sum(axis=1).astype(np.float64)


def precision_counts(err: np.ndarray, thresholds: np.ndarray = PIXEL_THRESHOLDS) -> np.ndarray:
    """Number of frames with ``error <= t`` for every threshold (NaN never succeeds)."""
    return (err[None, :] <= thresholds[:, None]).sum(axis=1).astype(np.float64)


def lasot_aggregate(curves: np.ndarray) -> np.ndarray:
    """Mean curve over sequences after dropping all-zero curves (``plot_draw_save.m``), ``(S, T) -> (T,)``.

    Returns a NaN curve when every sequence is dropped.
    """
    kept = curves[curves.sum(axis=1) > MATLAB_EPS]
    if len(kept) == 0:
        return np.full(curves.shape[1], np.nan)
    return kept.mean(axis=0)


def mean_aggregate(curves: np.ndarray) -> np.ndarray:
    """Plain mean curve over sequences (RGBT234 ``main_attrDrawCurve_RGBT234.m``), ``(S, T) -> (T,)``."""
    if len(curves) == 0:
        return np.full(curves.shape[1], np.nan)
    return curves.mean(axis=0)
