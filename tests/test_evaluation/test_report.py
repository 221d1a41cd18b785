"""Comparison tables, attribute tables, plots and the ``tracking/analysis_results.py`` command line."""
import csv
import shutil
from pathlib import Path

import matplotlib.image
import pytest

from lib.test.analysis import compare_trackers, get_protocol, load_ground_truth
from lib.test.analysis.report import (attribute_scores, format_attribute_table, format_table,
                                      plot_attribute_curves, plot_curves, write_sequence_scores)

REPO_ROOT = Path(__file__).resolve().parents[2]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def lasher_two_trackers(tmp_path):
    """LasHeR-style data: sequences a, b (4 frames), trackers Good (perfect) and Bad (lost after frame 1),
    attribute files where only ``a`` has LI and both have NO."""
    gt = "5,5,10,10\n6,5,10,10\n7,5,10,10\n8,5,10,10\n"
    names = get_protocol("LasHeR").attribute_names
    for seq in ("a", "b"):
        write(tmp_path / "annos" / f"{seq}.txt", gt)
        write(tmp_path / "Good" / f"{seq}.txt", gt)
        write(tmp_path / "Bad" / f"{seq}.txt", "5,5,10,10\n" + "90,90,10,10\n" * 3)
        flags = [1 if n == "NO" or (n == "LI" and seq == "a") else 0 for n in names]
        write(tmp_path / "AttriSeqsTxt" / f"{seq}.txt", ",".join(map(str, flags)))
    return tmp_path


def test_tables_name_every_tracker(lasher_two_trackers):
    root = lasher_two_trackers
    gt = load_ground_truth("LasHeR", root / "annos")
    assert gt.attributes == {"NO": ["a", "b"], "LI": ["a"]}  # found beside annos/, empty attributes dropped
    results = compare_trackers("LasHeR", {"Good": root / "Good", "Bad": root / "Bad"}, gt)
    text = format_table(results)
    assert "Good" in text and "Bad" in text and "PR" in text
    # Good: IoU exactly 1 on 4/4 frames -> SR 20/21 = 0.9524; Bad: frame 1 only -> PR 1/4, SR 20/21 * 1/4.
    assert "0.9524" in text and "0.2500" in text and "0.2381" in text
    md = format_table(results, markdown=True, percent=True)
    assert "| Good | 100.0 | 100.0 | 95.2 | 2 |" in md and "| Bad | 25.0 | 25.0 | 23.8 | 2 |" in md
    assert attribute_scores(results["Bad"], gt.attributes)["LI"]["PR"] == pytest.approx(0.25)
    attr_md = format_attribute_table(results, gt.attributes, "SR", markdown=True)
    assert "| Attribute | Sequences | Good | Bad |" in attr_md and "| LI | 1 | 0.9524 | 0.2381 |" in attr_md


def test_plots_are_png_files(lasher_two_trackers, tmp_path):
    root = lasher_two_trackers
    gt = load_ground_truth("LasHeR", root / "annos")
    results = compare_trackers("LasHeR", {"Good": root / "Good", "Bad": root / "Bad"}, gt)
    paths = plot_curves(results, tmp_path / "plots")
    paths += plot_attribute_curves(results, gt.attributes, tmp_path / "plots")
    names = sorted(p.name for p in paths)
    assert names == sorted(f"LasHeR{tag}_{c}.png" for tag in ("", "_NO", "_LI")
                           for c in ("success", "precision", "norm_precision"))
    for path in paths:
        image = matplotlib.image.imread(path)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_depthtrack_plot_and_sequence_csv(tmp_path):
    write(tmp_path / "gt" / "A.txt", "10,10,10,10\n" * 3)
    for name, conf in (("T1", "\n0.9\n0.1\n"), ("T2", "\n0.2\n0.8\n")):
        write(tmp_path / name / "A.txt", "1\n10,10,10,10\n50,50,10,10\n")
        write(tmp_path / name / "A_confidence.value", conf)
    gt = load_ground_truth("DepthTrack", tmp_path / "gt", image_size=(100, 100))
    results = compare_trackers("DepthTrack", {"T1": tmp_path / "T1", "T2": tmp_path / "T2"}, gt)
    # T1 is confident on its good frame: at t = .9 Pr 1, Re 1/3 -> F 1/2 (t = .1 adds a miss: Pr 1/2, F 2/5).
    # T2 is confident on its miss: at t = .8 Pr 0; at t = .2 Pr 1/2, Re 1/3, F 2/5.
    assert results["T1"].scores()["F"] == pytest.approx(0.5)
    assert results["T2"].scores()["F"] == pytest.approx(0.4)
    [path] = plot_curves(results, tmp_path / "plots")
    assert path.name == "DepthTrack_precision_recall.png" and matplotlib.image.imread(path).ndim == 3
    csv_path = write_sequence_scores(results, tmp_path / "per_seq.csv")
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["tracker"] for r in rows] == ["T1", "T2"] and float(rows[0]["F"]) == pytest.approx(0.5)


def load_cli():
    """tracking/analysis_results.py as a module (it bootstraps the repository root itself)."""
    from tests.script_loading import load_script

    return load_script("analysis_results", REPO_ROOT / "tracking" / "analysis_results.py")


def test_cli(lasher_two_trackers, tmp_path, capsys):
    root = lasher_two_trackers
    cli = load_cli()
    rc = cli.main(["--dataset", "lasher", "--gt", str(root / "annos"), "--results_dir", str(root / "Good"),
                   "--tracker", f"Lost={root / 'Bad'}", "--plot_dir", str(tmp_path / "plots"), "--markdown",
                   "--per_sequence", str(tmp_path / "seq.csv")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "| Good |" in out and "| Lost |" in out and "LasHeR per attribute: SR" in out
    assert (tmp_path / "plots" / "LasHeR_success.png").is_file() and (tmp_path / "seq.csv").is_file()
    (root / "Bad" / "b.txt").unlink()
    rc = cli.main(["--dataset", "LasHeR", "--gt", str(root / "annos"), "--results_dir", str(root / "Bad")])
    err = capsys.readouterr().err
    assert rc == 1 and "missing (1): b" in err


def test_cli_fps_column_and_attribute_note(lasher_two_trackers, tmp_path, capsys):
    root = lasher_two_trackers
    for seq in ("a", "b"):  # the runner's time files: 0.5 s initialisation, then 3 frames of 0.02 s
        (root / "Good" / f"{seq}_time.txt").write_text("0.5\n0.02\n0.02\n0.02\n")
    cli = load_cli()
    assert cli.main(["--dataset", "LasHeR", "--gt", str(root / "annos"), "--tracker", f"Good={root / 'Good'}",
                     f"Bad={root / 'Bad'}", "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "| Tracker | PR | NPR | SR | FPS | Sequences |" in out
    assert "| Good | 1.0000 | 1.0000 | 0.9524 | 50.0 | 2 |" in out  # 3 frames in 0.06 s
    assert "| Bad | 0.2500 | 0.2500 | 0.2381 | - | 2 |" in out  # no time files
    shutil.rmtree(root / "AttriSeqsTxt")
    assert cli.main(["--dataset", "LasHeR", "--gt", str(root / "annos"), "--results_dir", str(root / "Good"),
                     "--plot_dir", str(tmp_path / "plots"), "--plot_attributes"]) == 0
    out = capsys.readouterr().out
    assert f"--plot_attributes: no attribute files found (looked in {root / 'annos' / 'AttriSeqsTxt'}, " \
           f"{root / 'AttriSeqsTxt'}; pass --attributes DIR)" in out
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "LasHeR_norm_precision.png", "LasHeR_precision.png", "LasHeR_success.png"]


def test_cli_vot_overlap_rule(tmp_path, capsys):
    # Frame 3 has no ground-truth box and the tracker reports none (VOT code 0): vot-toolkit 0.5.3 scores
    # the frame 0, 0.6 and later score it 1. Frames: 0 init (overlap 0), 1-2 exact boxes, 3 both empty.
    write(tmp_path / "gt" / "A.txt", "10,10,10,10\n" * 3 + "nan,nan,nan,nan\n")
    write(tmp_path / "T" / "A.txt", "1\n10,10,10,10\n10,10,10,10\n0\n")
    write(tmp_path / "T" / "A_confidence.value", "\n0.9\n0.9\n0.9\n")
    # One threshold (0.9) selects frames 1-3 (3 visible GT frames):
    #   0.5.3: overlaps 1, 1, 0 -> Pr 2/3, Re 2/3, F 2/3;  0.6+: overlaps 1, 1, 1 -> Pr 1, Re 1, F 1.
    cli = load_cli()
    base = ["--dataset", "depthtrack", "--gt", str(tmp_path / "gt"), "--image_size", "100", "100",
            "--results_dir", str(tmp_path / "T")]

    def row(out):
        return next(line.split() for line in out.splitlines() if line.startswith("T "))

    assert cli.main(base) == 0
    assert row(capsys.readouterr().out) == ["T", "0.6667", "0.6667", "0.6667", "1"]
    assert cli.main(base + ["--vot_overlap_rule", "0.6+"]) == 0
    assert row(capsys.readouterr().out) == ["T", "1.0000", "1.0000", "1.0000", "1"]


def test_cli_html_report(lasher_two_trackers, tmp_path, capsys):
    root = lasher_two_trackers
    cli = load_cli()
    out_file = tmp_path / "out" / "report.html"
    assert cli.main(["--dataset", "LasHeR", "--gt", str(root / "annos"), "--results_dir", str(root / "Good"),
                     str(root / "Bad"), "--html", str(out_file), "--title", "Two trackers"]) == 0
    assert f"HTML report: {out_file.resolve()}" in capsys.readouterr().out
    text = out_file.read_text()
    assert "<title>Two trackers</title>" in text and 'id="seq-a"' in text and 'id="seq-b"' in text
    assert "No thumbnails:" in text  # annos/ holds <seq>.txt files, no frames
    (tmp_path / "clip.avi").write_bytes(b"")
    assert cli.main(["--dataset", "LasHeR", "--gt", str(root / "annos"), "--results_dir", str(root / "Good"),
                     "--html", str(tmp_path / "other.html"), "--video", str(tmp_path / "clip.avi")]) == 1
    assert "cannot write the HTML report" in capsys.readouterr().err and not (tmp_path / "other.html").exists()
