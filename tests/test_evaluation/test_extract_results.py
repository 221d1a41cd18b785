"""Folder layouts, completeness checks and end-to-end scores of ``evaluate_tracker`` on tiny hand-made data.

Expected values are derived by hand in the comments (rules: docs/evaluation.md).
"""
import logging

import cv2
import numpy as np
import pytest

from lib.test.analysis import IncompleteResultsError, compute_curves, evaluate_tracker, load_ground_truth
from lib.test.analysis.extract_results import canonical_dataset, default_tracker_name

BOX = "10,10,10,10\n"


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------- completeness


@pytest.fixture
def lasher_case(tmp_path):
    """GT for s1..s4 (3 frames each); results: s1 complete, s2 missing, s3 short, s4 empty."""
    gt = tmp_path / "annos"
    for seq in ("s1", "s2", "s3", "s4"):
        write(gt / f"{seq}.txt", BOX * 3)
    res = tmp_path / "results" / "trk_tracking_result"
    write(res / "s1.txt", "10 10 10 10\n" * 3)
    write(res / "s3.txt", BOX * 2)
    write(res / "s4.txt", "")
    return gt, res


def test_incomplete_results_are_reported_by_name(lasher_case):
    gt, res = lasher_case
    with pytest.raises(IncompleteResultsError) as info:
        evaluate_tracker("LasHeR", res, gt)
    err = info.value
    assert err.sequences == ["s2", "s3", "s4"]
    text = str(err)
    assert "3 of 4 sequences" in text
    assert "missing (1): s2" in text
    assert "short (1): s3 (2 rows, 3 needed)" in text
    assert "empty (1): s4" in text


def test_allow_missing_scores_the_complete_subset(lasher_case, caplog):
    gt, res = lasher_case
    with caplog.at_level(logging.WARNING):
        result = compute_curves("LasHeR", res, gt, allow_missing=True)
    assert "s2" in caplog.text and "s3" in caplog.text
    assert result.sequences == ["s1"] and sorted(result.skipped) == ["s2", "s3", "s4"]
    assert result.tracker == "trk"
    # s1 is perfect with integer boxes: IoU exactly 1 -> success 1 for t < 1, 0 at t = 1 -> SR = 20/21.
    assert result.scores() == pytest.approx({"PR": 1.0, "NPR": 1.0, "SR": 20 / 21})


def test_unreadable_rows_are_reported(tmp_path):
    write(tmp_path / "gt" / "a.txt", BOX * 2)
    write(tmp_path / "res" / "a.txt", "10,10,10,10\n10,10,10\n")
    with pytest.raises(IncompleteResultsError, match=r"unreadable \(1\): a \(.*a.txt:2: 3 values, expected 4"):
        evaluate_tracker("LasHeR", tmp_path / "res", tmp_path / "gt")


def test_dataset_names():
    assert canonical_dataset("lasher") == "LasHeR" and canonical_dataset("DEPTHTRACK") == "DepthTrack"
    with pytest.raises(KeyError, match="did you mean 'LasHeR'"):
        canonical_dataset("LasHer2")


# --------------------------------------------------------------------------------------- layouts


def test_lasher_dataset_root_equals_flat_folder(tmp_path):
    gt_boxes = {"a": "5,5,10,10\n6,5,10,10\n", "b": "20,20,8,8\n22,21,8,8\n"}
    for seq, text in gt_boxes.items():
        write(tmp_path / "flat" / f"{seq}.txt", text)
        write(tmp_path / "root" / seq / "visible.txt", text)
        write(tmp_path / "root" / seq / "infrared.txt", text)
    write(tmp_path / "res" / "a.txt", "5 5 10 10\n6 5 10 10\n")
    write(tmp_path / "res" / "b.txt", "20\t20\t8\t8\n100\t100\t8\t8\n")
    flat = evaluate_tracker("LasHeR", tmp_path / "res", tmp_path / "flat")
    root = evaluate_tracker("LasHeR", tmp_path / "res", tmp_path / "root")
    assert flat == root
    # a: 2/2 frames; b: frame 1 (:= GT) only -> success (1 + 1/2)/2 = 3/4 for t < 1 -> SR = 20/21 * 3/4.
    assert root == pytest.approx({"PR": 0.75, "NPR": 0.75, "SR": 20 / 21 * 0.75})


def test_visevent_dataset_root_trims_leading_invisible_frames(tmp_path):
    # Dataset convention: absent_label.txt 1 = visible. Leading invisible frame dropped (as our runners do),
    # leaving GT [5,5,10,10], [0,0,0,0] (absent), [7,5,10,10] and absent flags [0, 1, 0].
    seq = tmp_path / "root" / "v1"
    write(seq / "groundtruth.txt", "0,0,0,0\n5,5,10,10\n0,0,0,0\n7,5,10,10\n")
    write(seq / "absent_label.txt", "0\n1\n0\n1\n")
    # The toolkit layout of the same annotations.
    write(tmp_path / "toolkit" / "gt_rect" / "v1.txt", "5,5,10,10\n0,0,0,0\n7,5,10,10\n")
    write(tmp_path / "toolkit" / "absent" / "v1.txt", "0\n1\n0\n")
    # Results under the toolkit's fallback name <seq>_001.txt, perfect on the 3 trimmed frames.
    write(tmp_path / "res" / "v1_001.txt", "5,5,10,10\n0,0,0,0\n7,5,10,10\n")
    root = evaluate_tracker("VisEvent", tmp_path / "res", tmp_path / "root")
    toolkit = evaluate_tracker("VisEvent", tmp_path / "res", tmp_path / "toolkit")
    assert root == toolkit
    # 2 present frames with IoU exactly 1 out of 3 -> PR = NPR = 2/3, SR = 20/21 * 2/3 = 40/63.
    assert toolkit == pytest.approx({"PR": 2 / 3, "NPR": 2 / 3, "SR": 40 / 63})


def test_rgbt234_corner_rows_and_both_modalities(tmp_path):
    for seq in ("c1", "c2"):
        write(tmp_path / "gt" / seq / "visible.txt", "10,10,10,10\r\n10,10,10,10\r\n")
        write(tmp_path / "gt" / seq / "infrared.txt", "10,10,10,10\r\n20,10,10,10\r\n")
    # c1: corner rows x1 y1 x2 y1 x2 y2 x1 y2 -> [10,10,10,10] and [20,10,10,10] (infrared match on frame 2).
    write(tmp_path / "res" / "c1.txt", "10 10 20 10 20 20 10 20\n20 10 30 10 30 20 20 20\n")
    # c2: x y w h with tabs; frame 2 is a miss in both modalities (IoU 0, error > 50 px).
    write(tmp_path / "res" / "c2.txt", "10\t10\t10\t10\n90\t90\t10\t10\n")
    scores = evaluate_tracker("RGBT234", tmp_path / "res", tmp_path / "gt")
    # Per sequence: c1 P(20) = 1, S = 1 for t < 1, 0 at t = 1 (AUC 20/21); c2 P(20) = 1/2, AUC 20/21 * 1/2.
    # Plain means: MPR = 3/4, MSR = 20/21 * 3/4.
    assert scores == pytest.approx({"MPR": 0.75, "MSR": 20 / 21 * 0.75})


# --------------------------------------------------------------------------------------- DepthTrack


def depthtrack_case(tmp_path):
    """Two sequences (see the comments of test_depthtrack_*): dataset root, VOT results, flat results."""
    gt = {"A": BOX * 5, "B": BOX * 2 + "nan,nan,nan,nan\n"}
    image = np.zeros((100, 100, 3), np.uint8)  # frames are 100 x 100
    for seq, text in gt.items():
        write(tmp_path / "sequences" / seq / "groundtruth.txt", text)
        (tmp_path / "sequences" / seq / "color").mkdir()
        cv2.imwrite(str(tmp_path / "sequences" / seq / "color" / "00000001.jpg"), image)
        write(tmp_path / "flat_gt" / f"{seq}.txt", text)
    write(tmp_path / "sequences" / "list.txt", "A\nB\n")
    traj = {"A": "10,10,10,10\n10,10,10,10\n15,10,10,10\n50,50,10,10\n", "B": "10,10,10,10\n10,10,10,10\n"}
    conf = {"A": "0.9\n0.8\n0.7\n0.2\n", "B": "0.5\n0.95\n"}
    vot = tmp_path / "results" / "trk" / "longterm"
    for seq in gt:
        write(vot / seq / f"{seq}_001.txt", "1\n" + traj[seq])
        write(vot / seq / f"{seq}_001_confidence.value", "\n" + conf[seq])
        # flat layout as a runner writing the GT box on row 1 would produce it
        write(tmp_path / "flat" / f"{seq}.txt", BOX + traj[seq])
        write(tmp_path / "flat" / f"{seq}_confidence.value", "\n" + conf[seq])
    return vot


def test_depthtrack_f_score_over_pooled_thresholds(tmp_path):
    vot = depthtrack_case(tmp_path)
    result = compute_curves("DepthTrack", vot, tmp_path / "sequences")
    assert result.tracker == "trk" and result.n_visible == {"A": 5, "B": 2}
    # A: overlaps [0 (init), 1, 1, 1/3, 0], confidences [0, .9, .8, .7, .2], 5 visible frames.
    # B: overlaps [0 (init), 1, 0 (GT absent)], confidences [0, .5, .95], 2 visible frames.
    # Pooled thresholds: inf, .95, .9, .8, .7, .5, .2, 0, 0, -inf.  At t = .5:
    #   A: frames 1-3 -> Pr (7/3)/3 = 7/9, Re (7/3)/5 = 7/15;  B: frames 1, 2 -> Pr 1/2, Re 1/2.
    #   Mean Pr = (7/9 + 1/2)/2 = 23/36, mean Re = (7/15 + 1/2)/2 = 29/60, F = 667/1212 = 0.5503.
    # Other thresholds: .8 -> Pr 1/2, Re 1/5, F 2/7; .7 -> F 7/24; .2 -> F 754/1476 = 0.511; 0 -> F 116/265.
    assert result.scores() == pytest.approx({"Pr": 23 / 36, "Re": 29 / 60, "F": 667 / 1212})
    # Sequence A alone: its own thresholds inf, .9, .8, .7, .2, 0, -inf -> max F 7/12 at t = .7.
    assert result.sequence_scores()["A"] == pytest.approx({"Pr": 7 / 9, "Re": 7 / 15, "F": 7 / 12})


def test_depthtrack_flat_layouts_match_the_vot_layout(tmp_path):
    vot = depthtrack_case(tmp_path)
    expected = evaluate_tracker("DepthTrack", vot, tmp_path / "sequences")
    # Row 1 of a flat file is the initialisation frame whatever it holds (overlap 0 as in the toolkit).
    flat = compute_curves("DepthTrack", tmp_path / "flat", tmp_path / "sequences")
    assert flat.scores() == expected
    with pytest.raises(ValueError, match="image_size"):
        load_ground_truth("DepthTrack", tmp_path / "flat_gt")
    gt = load_ground_truth("DepthTrack", tmp_path / "flat_gt", image_size=(100, 100))
    assert evaluate_tracker("DepthTrack", vot, gt) == expected


def test_depthtrack_incomplete_trajectories(tmp_path):
    vot = depthtrack_case(tmp_path)
    write(vot / "B" / "B_001.txt", "1\n10,10,10,10\n")  # 2 rows for 3 GT frames
    (vot / "A" / "A_001.txt").unlink()
    with pytest.raises(IncompleteResultsError) as info:
        evaluate_tracker("DepthTrack", vot, tmp_path / "sequences")
    assert info.value.sequences == ["A", "B"]
    assert "short (1): B (B_001.txt has 2 rows, ground truth 3)" in str(info.value)
    assert "missing (1): A" in str(info.value)


def test_default_tracker_names(tmp_path):
    assert default_tracker_name(tmp_path / "results" / "cstrack" / "longterm") == "cstrack"
    assert default_tracker_name(tmp_path / "APFNet_tracking_result") == "APFNet"
    assert default_tracker_name(tmp_path / "LasHeR_ep0030") == "LasHeR_ep0030"
