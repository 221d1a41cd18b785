"""Real benchmark files (``golden_dir`` fixture, ../shared/eval_golden): our scores equal the toolkits'.

Reference numbers are those of ``eval_golden/README.md`` (LasHeR published numbers reproduced by the
toolkit rules, RGBT234 6-decimal values and ``expected_per_sequence.csv``) and the VisEvent sanity values
of docs/evaluation.md, VisEvent (ground truth copied as the result).
"""
import csv
import zipfile

import numpy as np
import pytest

from lib.test.analysis import compute_curves, evaluate_tracker, load_ground_truth


@pytest.fixture(scope="module")
def lasher(golden_dir):
    return golden_dir / "lasher"


@pytest.mark.parametrize("tracker, expected", [
    ("APFNet", {"PR": 0.5001, "NPR": 0.4393, "SR": 0.3624}),
    ("mfDiMP", {"PR": 0.4470, "NPR": 0.3946, "SR": 0.3434}),
])
def test_lasher_published_numbers(lasher, tracker, expected):
    # how long this takes is measured by tracking/benchmark_evaluation.py, not asserted here
    scores = evaluate_tracker("LasHeR", lasher / "results" / tracker, lasher / "annos")
    assert {k: round(v, 4) for k, v in scores.items()} == expected


def test_lasher_sequence_list_and_extra_result_files(lasher):
    # mfDiMP's folder holds results for the whole dataset; only the 245 test sequences are scored.
    names = (lasher / "test_sequences.txt").read_text().split()
    result = compute_curves("LasHeR", lasher / "results" / "mfDiMP", lasher / "annos",
                            sequences=lasher / "test_sequences.txt")
    assert result.sequences == names and len(names) == 245
    assert result.curves["success"].shape == (245, 21)


@pytest.fixture(scope="module")
def rgbt234(golden_dir):
    return golden_dir / "rgbt234"


@pytest.mark.parametrize("tracker, mpr, msr", [("MTNet", 0.850209, 0.619067), ("DFAT", 0.760824, 0.554560)])
def test_rgbt234_totals_and_per_sequence(rgbt234, tracker, mpr, msr):
    result = compute_curves("RGBT234", rgbt234 / "results" / tracker, rgbt234 / "gt")
    scores = result.scores()
    assert scores["MPR"] == pytest.approx(mpr, abs=5e-5)
    assert scores["MSR"] == pytest.approx(msr, abs=5e-5)
    per_seq = result.sequence_scores()
    with open(rgbt234 / "expected_per_sequence.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(per_seq) == 234
    for row in rows:
        got = per_seq[row["sequence"]]
        assert got["MPR"] == pytest.approx(float(row[f"{tracker}_P20"]), abs=1e-6), row["sequence"]
        assert got["MSR"] == pytest.approx(float(row[f"{tracker}_SR_AUC"]), abs=1e-6), row["sequence"]


@pytest.fixture(scope="module")
def visevent(golden_dir, tmp_path_factory):
    """The VisEvent toolkit annotations (annos.zip) unpacked to a temporary folder."""
    root = tmp_path_factory.mktemp("visevent")
    with zipfile.ZipFile(golden_dir / "visevent" / "annos.zip") as archive:
        archive.extractall(root)
    return root


def test_visevent_ground_truth_as_result(visevent):
    # VisEvent sanity values (docs/evaluation.md) for the 320 sequences: PR = NPR = the mean present fraction
    # (absent frames are failures, invalid present frames precision successes), SR = 0.852684.
    result = compute_curves("VisEvent", visevent / "gt_rect", visevent)
    scores = result.scores()
    assert scores["PR"] == pytest.approx(0.901698, abs=5e-7)
    assert scores["NPR"] == pytest.approx(0.901698, abs=5e-7)
    assert scores["SR"] == pytest.approx(0.852684, abs=5e-7)
    # Per sequence, PR is exactly the fraction of frames not marked absent in absent/<seq>.txt.
    per_seq = result.sequence_scores()
    for seq in result.sequences[:40]:
        absent = np.loadtxt(visevent / "absent" / f"{seq}.txt")
        assert per_seq[seq]["PR"] == pytest.approx(np.mean(absent != 1), abs=1e-12), seq


def test_visevent_hand_made_results_on_real_annotations(visevent, tmp_path):
    gt = load_ground_truth("VisEvent", visevent)
    assert len(gt.sequences) == 320 and len(gt.attributes) == 17
    # Pick a real sequence with absent frames; the tracker reports a far-away box on every frame after the
    # first. Scored frames: frame 1 (:= GT, present in every sequence) and the present frames whose GT is
    # invalid (error -1 = precision success). So PR = (1 + #present-invalid frames 2..N) / N.
    seq = next(s for s in gt.sequences if gt.absent[s].sum() > 0 and len(gt.boxes[s]) > 50)
    boxes, absent = gt.boxes[seq], gt.absent[seq]
    results = np.tile([5000.0, 5000.0, 10.0, 10.0], (len(boxes), 1))
    np.savetxt(tmp_path / f"{seq}.txt", results, delimiter=",")
    invalid_present = int(((boxes[1:] <= 0).any(axis=1) & (absent[1:] != 1)).sum())
    scores = evaluate_tracker("VisEvent", tmp_path, visevent, sequences=[seq])
    assert scores["PR"] == pytest.approx((1 + invalid_present) / len(boxes))
