"""Hand-computed cases for each toolkit rule (docs/evaluation.md).

Every expected value is derived in the comment next to it from the rule, not from the implementation.
Boxes are ``[x, y, w, h]``; MATLAB IoU uses ``right = x + w - 1`` and intersection ``+ 1``.
"""
import numpy as np
import pytest

from lib.test.analysis import longterm, metrics
from lib.test.analysis.readers import ResultFormatError, read_boxes, read_values, read_vot_trajectory


def lasher_scores(results, gt, absent=None):
    """PR@20, NPR@0.2 and SR of one sequence through the per-sequence functions."""
    results, gt = np.asarray(results, float), np.asarray(gt, float)
    iou, err = metrics.lasot_style_errors(results, gt, absent)
    _, err_n = metrics.lasot_style_errors(results, gt, absent, normalized=True)
    n = len(gt) + metrics.MATLAB_EPS
    success = metrics.success_counts(iou) / n
    pr = metrics.precision_counts(err) / n
    npr = metrics.precision_counts(err_n, metrics.NORM_THRESHOLDS) / n
    return pr[20], npr[20], success.mean()


# --------------------------------------------------------------------------------------- thresholds, IoU


def test_matlab_colon_thresholds():
    t = metrics.OVERLAP_THRESHOLDS
    assert len(t) == 21 and t[0] == 0.0 and t[-1] == 1.0
    # MATLAB builds the second half from the end: element 13 (0-based) is 1 - 7*0.05, not 13*0.05.
    assert t[13] == 1 - 7 * 0.05 and t[13] != 13 * 0.05
    assert t[4] == 4 * 0.05
    assert metrics.PIXEL_THRESHOLDS[20] == 20 and metrics.NORM_THRESHOLDS[20] == 0.2


def test_rect_iou_pixel_convention():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], float)
    b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 0, 10, 10]], float)
    # identical -> 1; shifted by 5: inter (min(9,14) - max(0,5) + 1) * 10 = 50, union 200 - 50 -> 1/3;
    # disjoint: min(9, 29) - max(0, 20) + 1 = -10 -> 0.
    np.testing.assert_allclose(metrics.rect_iou(a, b), [1.0, 1 / 3, 0.0])


# --------------------------------------------------------------------------------------- LasHeR rules


def test_first_frame_is_replaced_by_ground_truth():
    gt = [[10, 10, 10, 10]] * 3
    results = [[100, 100, 5, 5], [10, 10, 10, 10], [30, 30, 10, 10]]
    pr, npr, sr = lasher_scores(results, gt)
    # Frame 1 := GT (IoU exactly 1), frame 2 exact, frame 3 disjoint (IoU 0, error sqrt(20^2+20^2)=28.3).
    # Success: 2/3 for t = 0 .. 0.95 (20 thresholds), 0 at t = 1 (IoU > 1 never) -> SR = 20*(2/3)/21 = 40/63.
    assert sr == pytest.approx(40 / 63)
    # Precision @20 px: frames 1, 2 -> 2/3. Normalised: error (2, 2) -> 2.83 > 0.2 on frame 3 -> 2/3.
    assert pr == pytest.approx(2 / 3) and npr == pytest.approx(2 / 3)


def test_invalid_rows_inherit_the_trackers_own_previous_row():
    gt = [[10, 10, 10, 10], [12, 10, 10, 10], [12, 10, 10, 10]]
    # Row 2 (NaN) and row 3 (w = 0) are invalid. The repair runs before frame 1 := GT, so row 2 takes the
    # tracker's row 1 [12,10,10,10] (IoU 1 with GT row 2), and row 3 takes repaired row 2 (IoU 1).
    # Had the repair used GT row 1 [10,10,..], frame 2 would score inter 8*10=80 / union 120 = 2/3.
    results = [[12, 10, 10, 10], [np.nan] * 4, [50, 50, 0, 10]]
    iou, err = metrics.lasot_style_errors(np.array(results, float), np.array(gt, float))
    np.testing.assert_allclose(iou, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(err, [0.0, 0.0, 0.0])


def test_invalid_row_not_repaired_where_ground_truth_is_nan():
    gt = [[12, 10, 10, 10], [np.nan] * 4, [12, 10, 10, 10]]
    # Row 2 is bad but GT row 2 has a NaN -> kept as [0,0,0,0]; row 3 is bad -> copies row 2 = [0,0,0,0].
    results = [[12, 10, 10, 10], [0, 0, 0, 0], [0, 0, -1, -1]]
    iou, err = metrics.lasot_style_errors(np.array(results, float), np.array(gt, float))
    # Frame 2: GT invalid -> IoU -1, error -1. Frame 3: [0,0,0,0] vs GT: inter max(0, min(-1,21) - 12 + 1) = 0
    # -> IoU 0; centre (0 + (0-1)/2, ...) = (-0.5, -0.5) vs (16.5, 14.5) -> sqrt(17^2 + 15^2).
    np.testing.assert_allclose(iou, [1.0, -1.0, 0.0])
    np.testing.assert_allclose(err, [0.0, -1.0, np.hypot(17, 15)])


def test_non_positive_ground_truth_is_invalid():
    gt = [[5, 5, 10, 10], [0, 5, 10, 10], [5, 5, 0, 10]]
    pr, npr, sr = lasher_scores(gt, gt)  # a perfect tracker
    # Frames 2 (x = 0) and 3 (w = 0) are invalid: IoU -1 (never a success), error -1 (always a success).
    # Success: 1/3 for t < 1, 0 at t = 1 -> SR = 20*(1/3)/21 = 20/63; PR = NPR = 3/3.
    assert sr == pytest.approx(20 / 63)
    assert pr == pytest.approx(1.0) and npr == pytest.approx(1.0)


def test_short_result_raises():
    with pytest.raises(ValueError, match="2 result rows for 3"):
        metrics.lasot_style_errors(np.zeros((2, 4)), np.ones((3, 4)))


def test_aggregation_rules():
    curves = np.array([[0.0, 0.0], [0.5, 1.0]])
    # LasHeR / VisEvent drop the all-zero sequence: mean of [0.5, 1] alone; RGBT234 averages both rows.
    np.testing.assert_allclose(metrics.lasot_aggregate(curves), [0.5, 1.0])
    np.testing.assert_allclose(metrics.mean_aggregate(curves), [0.25, 0.5])


# --------------------------------------------------------------------------------------- VisEvent absent frames


def test_absent_frames_are_removed_but_stay_in_the_denominator():
    gt = [[5, 5, 10, 10], [6, 5, 10, 10], [0, 0, 0, 0], [7, 5, 10, 10]]
    absent = np.array([0, 0, 1, 0])
    pr, npr, sr = lasher_scores(gt, gt, absent)
    # Three present frames, each IoU exactly 1 (integer boxes); denominator is all 4 frames.
    # Success: 3/4 for t < 1, 0 at t = 1 -> SR = 20*(3/4)/21 = 5/7; PR = NPR = 3/4.
    assert sr == pytest.approx(5 / 7)
    assert pr == pytest.approx(0.75) and npr == pytest.approx(0.75)
    # Without the absent rule (LasHeR) frame 3 has invalid GT: error -1 counts as a precision success.
    pr_lasher, _, sr_lasher = lasher_scores(gt, gt)
    assert pr_lasher == pytest.approx(1.0) and sr_lasher == pytest.approx(5 / 7)


# --------------------------------------------------------------------------------------- RGBT234


def test_rgbt234_uses_the_better_modality_per_frame():
    gt_v = np.array([[10, 10, 10, 10]] * 2, float)
    gt_i = np.array([[20, 10, 10, 10]] * 2, float)
    results = np.array([[10, 10, 10, 10], [20, 10, 10, 10]], float)
    iou, err = metrics.rgbt234_errors(results, gt_v, gt_i)
    # Frame 1 equals the visible box, frame 2 the infrared one: max IoU 1 and min centre error 0 on both.
    np.testing.assert_allclose(iou, [1.0, 1.0])
    np.testing.assert_allclose(err, [0.0, 0.0])
    # Visible GT only: frame 2 has IoU 0 (min(29,19) - max(20,10) + 1 = 0) and error 10.
    iou_v, err_v = metrics.rgbt234_errors(results, gt_v, gt_v)
    np.testing.assert_allclose(iou_v, [1.0, 0.0])
    np.testing.assert_allclose(err_v, [0.0, 10.0])


def test_rgbt234_keeps_the_first_frame_and_ignores_extra_rows():
    gt = np.array([[10, 10, 10, 10]] * 2, float)
    results = np.array([[100, 100, 10, 10], [10, 10, 10, 10], [0, 0, 1, 1]], float)
    iou, _ = metrics.rgbt234_errors(results, gt, gt)
    # No first-frame replacement: frame 1 is a miss; the third row (beyond N = 2) is ignored.
    np.testing.assert_allclose(iou, [0.0, 1.0])


def test_corner_rows_use_matlab_rounding():
    corners = np.array([[10.5, 10, 20, 10, 20, 20.5, 10.5, 20.5],
                        [-2.5, 3, 1.5, 3, 1.5, 8, -2.5, 8]])
    # round([x1, y1, x2 - x1, y3 - y1]) with halves away from zero:
    # row 1: [10.5, 10, 9.5, 10.5] -> [11, 10, 10, 11]  (NumPy's half-to-even would give 10, 10, 10, 10)
    # row 2: [-2.5, 3, 4, 5] -> [-3, 3, 4, 5]
    np.testing.assert_array_equal(metrics.corners_to_rect(corners), [[11, 10, 10, 11], [-3, 3, 4, 5]])


# --------------------------------------------------------------------------------------- VOT long-term


def test_vot_overlap_is_bounded_and_rasterised():
    gt = np.array([[10, 10, 10, 10], [10, 10, 10, 10], [10, 10, 10, 10]], float)
    traj = np.array([[5, 5, 10, 10], [10.4, 10.6, 9.6, 10.4], [10.5, 10, 10, 10]], float)
    overlaps = longterm.vot_overlaps(traj, gt, image_size=(15, 15))
    # Row 1, image 15x15: GT pixels 10..14 x 10..14 = 25; traj 5..14 x 5..14 = 100; inter 25 -> 25/100.
    # (The unclipped IoU would be 25/175.)
    assert overlaps[0] == pytest.approx(0.25)
    big = longterm.vot_overlaps(traj[1:], gt[1:], image_size=(100, 100))
    # Row 2: rounded to [10, 11, 10, 10]: rows 11..20 vs 10..19 -> inter 10*9 = 90, union 110 -> 9/11.
    # Row 3: 10.5 rounds half to even -> 10: identical -> 1 (MATLAB-style rounding would give 11).
    np.testing.assert_allclose(big, [9 / 11, 1.0])


def test_vot_overlap_special_regions():
    nan = [np.nan] * 4
    gt = np.array([nan, [10, 10, 10, 10], nan, [10, 10, 1, 10]], float)
    traj = np.array([nan, nan, [10, 10, 10, 10], [10, 10, 1, 10]], float)
    # 0.5.3: a special region never overlaps; a 1-pixel-wide union is degenerate -> 0.
    np.testing.assert_allclose(longterm.vot_overlaps(traj, gt, (100, 100), legacy=True), [0, 0, 0, 0])
    # 0.9.0: two empty regions (and any degenerate union) overlap 1; box vs empty stays 0.
    np.testing.assert_allclose(longterm.vot_overlaps(traj, gt, (100, 100), legacy=False), [1, 0, 0, 1])


def test_vot_thresholds():
    conf = np.array([0.0, 0.9, 0.8, np.nan, 0.7, 0.2])
    # NaN dropped, descending, +inf first and -inf last (5 values <= 98: all kept).
    np.testing.assert_array_equal(longterm.vot_thresholds(conf), [np.inf, 0.9, 0.8, 0.7, 0.2, 0.0, -np.inf])
    many = longterm.vot_thresholds(np.arange(200.0))
    # 200 > 98: delta = floor(200/98) = 2, indices round(linspace(2, 198, 98)) into [199, 198, ..., 0]:
    # first 199 - 2 = 197, last 199 - 198 = 1; 98 + 2 values in all.
    assert len(many) == 100 and many[1] == 197 and many[-2] == 1


def test_f_score_is_the_maximum_over_thresholds():
    # One sequence of 5 visible frames; frame 0 is the initialisation (overlap 0, confidence 0).
    overlaps = np.array([0.0, 1.0, 1.0, 1 / 3, 0.0])
    conf = np.array([0.0, 0.9, 0.8, 0.7, 0.2])
    thresholds = longterm.vot_thresholds(conf)  # inf, .9, .8, .7, .2, 0, -inf
    precision, recall = longterm.tpr_curves(overlaps, conf, n_visible=5, thresholds=thresholds)
    # inf: no frame -> Pr 1, Re 0.  0.9: Pr 1, Re 1/5.  0.8: Pr 1, Re 2/5.  0.7: sum 7/3 -> Pr 7/9, Re 7/15.
    # 0.2: Pr (7/3)/4 = 7/12, Re 7/15.  0 and -inf: Pr (7/3)/5 = 7/15, Re 7/15.
    np.testing.assert_allclose(precision, [1, 1, 1, 7 / 9, 7 / 12, 7 / 15, 7 / 15])
    np.testing.assert_allclose(recall, [0, 1 / 5, 2 / 5, 7 / 15, 7 / 15, 7 / 15, 7 / 15])
    # F: 0, 1/3, 4/7 = 0.571, 2(7/9)(7/15)/(7/9 + 7/15) = 7/12 = 0.583, 14/27 = 0.519, 7/15, 7/15.
    # The maximum is at t = 0.7, not at the lowest threshold.
    assert longterm.f_score(precision, recall) == pytest.approx({"Pr": 7 / 9, "Re": 7 / 15, "F": 7 / 12})


# --------------------------------------------------------------------------------------- readers


def test_read_boxes_accepts_any_delimiter(tmp_path):
    path = tmp_path / "seq.txt"
    path.write_text("1,2,3,4\n5 6 7 8\n9\t10\t11\t12\r\n13, 14,\t15 16\n\n")
    np.testing.assert_array_equal(read_boxes(path), np.arange(1, 17, dtype=float).reshape(4, 4))
    path.write_text("1 2 3 4 5 6 7 8\n")
    assert read_boxes(path, (4, 8)).shape == (1, 8)
    path.write_text("1,2,3,4\n1,2,3\n")
    with pytest.raises(ResultFormatError, match=r"seq.txt:2: 3 values, expected 4"):
        read_boxes(path)
    path.write_text("")
    assert read_boxes(path).shape == (0, 4)


def test_read_vot_files(tmp_path):
    traj = tmp_path / "seq_001.txt"
    traj.write_text("1\n1.5,2,3,4\n0\nnan,nan,nan,nan\n")
    boxes = read_vot_trajectory(traj)
    assert np.isnan(boxes[[0, 2, 3]]).all() and boxes[1].tolist() == [1.5, 2, 3, 4]
    conf = tmp_path / "seq_001_confidence.value"
    conf.write_text("\n0.5\n0.25\nnan\n")
    values = read_values(conf)  # the empty first line is the initialisation frame -> 0
    assert values[:3].tolist() == [0.0, 0.5, 0.25] and np.isnan(values[3])


def _raster_overlap(a, b, size, legacy):
    """Pixel-mask oracle of the toolkit's bounded rectangle overlap (vot/region/raster.py), frame by frame."""
    def bounds(r):
        return (0, 0, 0, 0) if r is None else (r[0], r[1], r[0] + r[2] - 1, r[1] + r[3] - 1)

    ra = None if np.isnan(a).any() else np.round(a)
    rb = None if np.isnan(b).any() else np.round(b)
    if legacy and (ra is None or rb is None):
        return 0.0
    ba, bb = bounds(ra), bounds(rb)
    union = (min(ba[0], bb[0]), min(ba[1], bb[1]), max(ba[2], bb[2]), max(ba[3], bb[3]))
    if not legacy and (union[0] >= union[2] or union[1] >= union[3]):
        return 1.0
    left, top = max(0, union[0]), max(0, union[1])
    right, bottom = min(size[0] - 1, union[2]), min(size[1] - 1, union[3])
    if left >= right or top >= bottom:
        return 0.0
    masks = []
    for r in (ra, rb):
        mask = np.zeros((int(bottom - top + 1), int(right - left + 1)), bool)
        if r is not None:
            for y in range(int(top), int(bottom) + 1):  # a pixel (x, y) is inside if x <= px <= x + w - 1
                for x in range(int(left), int(right) + 1):
                    mask[y - int(top), x - int(left)] = r[0] <= x <= r[0] + r[2] - 1 and r[1] <= y <= r[1] + r[3] - 1
        masks.append(mask)
    union_px = (masks[0] | masks[1]).sum()
    return float((masks[0] & masks[1]).sum() / union_px) if union_px else 0.0


@pytest.mark.parametrize("legacy", [True, False])
def test_vot_overlap_matches_pixel_masks(legacy):
    rng = np.random.default_rng(0)
    n = 300
    gt = np.column_stack([rng.uniform(-10, 40, n), rng.uniform(-10, 30, n), rng.uniform(-2, 25, n),
                          rng.uniform(-2, 25, n)])
    traj = gt + rng.normal(0, 6, (n, 4))
    traj[::17] = np.nan
    gt[::23] = np.nan
    size = (40, 30)
    expected = [_raster_overlap(a, b, size, legacy) for a, b in zip(traj, gt)]
    np.testing.assert_allclose(longterm.vot_overlaps(traj, gt, size, legacy=legacy), expected)
