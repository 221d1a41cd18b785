"""VOT long-term measures (tracking precision, recall, F-score) for DepthTrack, in NumPy.

Follows docs/evaluation.md (DepthTrack) and the VOT toolkit's definitions (``vot/analysis/tpr.py`` in 0.5.3,
``vot/analysis/longterm.py`` from 0.6 on; the formulas are the same):

* overlaps are IoUs of *rasterised* rectangles (values rounded, pixels ``x .. x+w-1``) clipped to the
  image (``bounded=True``), see :func:`vot_overlaps`;
* thresholds are all confidences of the tracker over all sequences, NaN removed, sorted descending,
  thinned to 98 values when there are more, then ``+inf`` first and ``-inf`` last
  (:func:`vot_thresholds`);
* per sequence and threshold: frames with ``confidence >= t``; ``Pr`` = their mean overlap (1 if there
  are none), ``Re`` = their overlap sum / number of frames with a (non-special) ground-truth region
  (:func:`tpr_curves`);
* curves are averaged over sequences, ``F = 2 Pr Re / (Pr + Re)``, and the reported F is its maximum,
  with Pr and Re at that threshold (:func:`f_score`).

Special (empty) regions are NaN rows: the initialisation row of a trajectory, lost/absent reports
and ground-truth frames without a box. The initialisation frame has no confidence and counts as 0.
"""
from __future__ import annotations

import math

import numpy as np

#: Number of thresholds of the toolkit's precision/recall curve (``resolution`` of ``_Thresholds``).
RESOLUTION = 100


def _rect_bounds(boxes: np.ndarray, special: np.ndarray) -> tuple[np.ndarray, ...]:
    """Inclusive pixel bounds ``(left, top, right, bottom)`` of rounded rectangles (``_bounds_rectangle``).

    The toolkit rounds x, y, w, h separately with ``np.round`` (halves to even). Special rows get
    ``(0, 0, 0, 0)``, the bounds 0.9.0 gives an empty region.
    """
    r = np.round(np.where(special[:, None], 0.0, boxes))
    bounds = (r[:, 0], r[:, 1], r[:, 0] + r[:, 2] - 1, r[:, 1] + r[:, 3] - 1)
    return tuple(np.where(special, 0.0, b) for b in bounds)


def vot_overlaps(trajectory: np.ndarray, groundtruth: np.ndarray, image_size: tuple[int, int],
                 legacy: bool = True) -> np.ndarray:
    """Per-frame overlap of two rectangle sequences as the VOT toolkit's ``calculate_overlaps`` computes it.

    Both regions are rounded and rasterised inside the union of their bounds clipped to the image
    (``image_size = (width, height)``); the overlap is ``|A & B| / |A | B|`` in pixels, 0 when the
    clipped union is degenerate (one pixel wide or tall) or empty.

    Args:
        trajectory: ``(N, 4)`` ``x y w h``; a NaN row is a special (empty) region.
        groundtruth: ``(N, 4)`` ``x y w h``; a NaN row is a frame without annotation.
        image_size: ``(width, height)`` of the sequence's frames.
        legacy: True (default) reproduces vot-toolkit 0.5.3, the version behind the published
            DepthTrack numbers (docs/evaluation.md, VOT toolkit versions): a special region never overlaps anything.
            False reproduces 0.9.0, where special regions are empty shapes at the origin and two
            regions whose union is degenerate (e.g. both empty) overlap 1.

    Returns:
        ``(N,)`` overlaps in [0, 1].
    """
    if trajectory.shape != groundtruth.shape:
        raise ValueError(f"trajectory has {len(trajectory)} frames, ground truth {len(groundtruth)}")
    special_a = np.isnan(trajectory).any(axis=1)
    special_b = np.isnan(groundtruth).any(axis=1)
    la, ta, ra, ba = _rect_bounds(trajectory, special_a)
    lb, tb, rb, bb = _rect_bounds(groundtruth, special_b)
    u_left, u_top = np.minimum(la, lb), np.minimum(ta, tb)
    u_right, u_bottom = np.maximum(ra, rb), np.maximum(ba, bb)
    width, height = image_size
    c_left, c_top = np.maximum(0, u_left), np.maximum(0, u_top)
    c_right, c_bottom = np.minimum(width - 1, u_right), np.minimum(height - 1, u_bottom)
    # x and y pixel intervals of both regions inside the raster window (`rasterize_rectangle`);
    # an empty interval has hi < lo.
    ax0, ax1 = np.maximum(la, c_left), np.minimum(ra, c_right)
    ay0, ay1 = np.maximum(ta, c_top), np.minimum(ba, c_bottom)
    bx0, bx1 = np.maximum(lb, c_left), np.minimum(rb, c_right)
    by0, by1 = np.maximum(tb, c_top), np.minimum(bb, c_bottom)
    area_a = np.maximum(0, ax1 - ax0 + 1) * np.maximum(0, ay1 - ay0 + 1)
    area_b = np.maximum(0, bx1 - bx0 + 1) * np.maximum(0, by1 - by0 + 1)
    area_a[special_a] = 0  # a special region has no pixels (0.9.0 `_region_raster`)
    area_b[special_b] = 0
    inter = (np.maximum(0, np.minimum(ax1, bx1) - np.maximum(ax0, bx0) + 1)
             * np.maximum(0, np.minimum(ay1, by1) - np.maximum(ay0, by0) + 1))
    inter[special_a | special_b] = 0
    union = area_a + area_b - inter
    overlap = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    overlap[(c_left >= c_right) | (c_top >= c_bottom)] = 0.0
    if legacy:
        overlap[special_a | special_b] = 0.0
    else:
        overlap[(u_left >= u_right) | (u_top >= u_bottom)] = 1.0
    return overlap


def vot_thresholds(confidences: np.ndarray, resolution: int = RESOLUTION) -> np.ndarray:
    """Confidence thresholds of the toolkit's ``determine_thresholds``: descending, ``+inf`` ... ``-inf``."""
    scores = np.sort(confidences[~np.isnan(confidences)])[::-1]
    if len(scores) > resolution - 2:
        delta = math.floor(len(scores) / (resolution - 2))
        idxs = np.round(np.linspace(delta, len(scores) - delta, num=resolution - 2)).astype(int)
        scores = scores[idxs]
    return np.concatenate([[np.inf], scores, [-np.inf]])


def tpr_curves(overlaps: np.ndarray, confidences: np.ndarray, n_visible: int,
               thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Tracking precision and recall of one trajectory at every threshold (``compute_tpr_curves``).

    ``n_visible`` is the number of ground-truth frames that are not special. A sequence without any
    visible frame gives an infinite or NaN recall, as the toolkit's division would.
    """
    selected = confidences[None, :] >= thresholds[:, None]
    count = selected.sum(axis=1)
    total = (selected * overlaps[None, :]).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(count > 0, total / np.maximum(count, 1), 1.0)
        recall = np.where(count > 0, total / np.float64(n_visible), 0.0)
    return precision, recall


def f_score(precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
    """Maximum F-score over the thresholds, with Pr and Re at the (first) maximising threshold.

    Where ``Pr + Re = 0`` the F-score is taken as 0 (the toolkit would divide by zero there).
    """
    denom = precision + recall
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1), 0.0)
    best = int(np.nanargmax(f))
    return {"Pr": float(precision[best]), "Re": float(recall[best]), "F": float(f[best])}
