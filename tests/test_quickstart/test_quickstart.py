"""The quickstart end to end: ``tracking/quickstart.py --quick`` on CPU, every artefact checked.

One real run (module fixture, about 2 minutes on 2 idle cores, slow): synthetic LasHeR-layout data,
both training stages through lib/train/run_training.py, the RGBT runner, the Python metrics, plots,
the video and the HTML report. The trained tracker must beat the static box, scored here by a small
independent implementation of the success curve; the printed demo command must run as printed. A
second run must reuse every step; a run of another profile in the same folder is refused. The
synthetic data generator is also checked on its own (layout, determinism, a thermal-looking X).
"""
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lib.quickstart.pipeline import PROFILES, STATIC_NAME, STEPS, TRACKER_NAME
from lib.quickstart.synthetic_rgbt import SyntheticRGBTConfig, generate_dataset
from lib.test.evaluation.datasets import load_benchmark
from lib.train.dataset.lasher import LasHeR
from lib.utils.checkpoint import read_checkpoint

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "tracking" / "quickstart.py"
TIMEOUT = 900
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_quickstart(workdir, *extra):
    command = [sys.executable, str(QUICKSTART), "--workdir", str(workdir), "--device", "cpu", *extra]
    return subprocess.run(command, cwd=str(REPO), capture_output=True, text=True, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """``tracking/quickstart.py --quick`` once; (workdir, summary, completed process)."""
    workdir = tmp_path_factory.mktemp("quickstart") / "run"
    result = run_quickstart(workdir, "--quick")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    summary = json.loads((workdir / "report" / "summary.json").read_text(encoding="utf-8"))
    return workdir, summary, result


def read_rows(path):
    """x y w h rows of a result or ground-truth file (spaces or commas)."""
    return np.array([[float(v) for v in line.replace(",", " ").split()]
                     for line in Path(path).read_text().splitlines() if line.strip()])


def success_auc(pred, gt):
    """Independent of lib.test.analysis: mean over thresholds 0, 0.05, .., 1 of the fraction of frames
    (the first excluded, it is given) whose IoU exceeds the threshold."""
    x1, y1 = np.maximum(pred[:, 0], gt[:, 0]), np.maximum(pred[:, 1], gt[:, 1])
    x2 = np.minimum(pred[:, 0] + pred[:, 2], gt[:, 0] + gt[:, 2])
    y2 = np.minimum(pred[:, 1] + pred[:, 3], gt[:, 1] + gt[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    iou = inter / (pred[:, 2] * pred[:, 3] + gt[:, 2] * gt[:, 3] - inter)
    return float(np.mean([(iou[1:] > t).mean() for t in np.linspace(0, 1, 21)]))


# ------------------------------------------------------------------------------------------ the run
@pytest.mark.slow
def test_progress_lines_and_summary_are_printed(quick_run):
    workdir, summary, result = quick_run
    out = result.stdout
    for i in range(1, len(STEPS) + 1):
        assert f"[{i}/{len(STEPS)}]" in out
    assert "[train: 1, " in out and "epoch 1 done" in out  # the trainer's own progress lines, echoed
    assert "config:" not in out  # its config dump goes to the trainer's log file only
    num_test = PROFILES["quick"].data.num_test
    assert f"[1/{num_test}] " in out  # the runner's per-sequence lines
    assert "Quickstart finished (quick profile)" in out and "beats the static box" in out
    for path in summary["files"].values():
        assert Path(path).name in out  # the summary says where every file is
    logs = {step: (workdir / "logs" / f"{step}.log").read_text() for step in ("stage1", "stage2", "track")}
    assert "[train: 1, " in logs["stage1"] and f"[1/{num_test}] " in logs["track"]  # what each entry point printed
    trainer_log = Path(summary["files"]["training logs"]) / "cstrack_s1-cstrack_s1_quickstart.log"
    assert "config:" in trainer_log.read_text()  # the trainer's own log keeps its config dump
    assert "Traceback" not in out + result.stderr


@pytest.mark.slow
def test_dataset_is_in_the_lasher_layout(quick_run):
    workdir, summary, _ = quick_run
    train_dir, test_dir = Path(summary["files"]["train split"]), Path(summary["files"]["test split"])
    assert train_dir == workdir / "data" / "lasher" / "trainingset"
    for split in (train_dir, test_dir):
        for seq in sorted(p for p in split.iterdir() if p.is_dir()):
            visible = sorted((seq / "visible").glob("v*.jpg"))
            infrared = sorted((seq / "infrared").glob("i*.jpg"))
            boxes = np.loadtxt(seq / "visible.txt", delimiter=",", ndmin=2)
            assert len(visible) == len(infrared) == len(boxes) > 20
            assert (seq / "infrared.txt").read_text() == (seq / "visible.txt").read_text()
    num_train = len([p for p in train_dir.iterdir() if p.is_dir()])
    assert LasHeR(str(train_dir), split=None).get_num_sequences() == num_train  # the training reader takes it
    assert len(load_benchmark("LasHeR", str(test_dir))) == len([p for p in test_dir.iterdir() if p.is_dir()])


@pytest.mark.slow
def test_checkpoints_of_both_stages_and_the_readme_names_the_same_file(quick_run):
    _, summary, _ = quick_run
    s1 = read_checkpoint(summary["files"]["stage-1 checkpoint"])
    s2 = read_checkpoint(summary["files"]["stage-2 checkpoint"])
    assert s1["net_type"] == "CSTRACK_S1" and s2["net_type"] == "CSTRACK_S2"
    for ckpt, path in ((s1, summary["files"]["stage-1 checkpoint"]), (s2, summary["files"]["stage-2 checkpoint"])):
        assert Path(path).name == f"{ckpt['net_type']}_ep{ckpt['epoch']:04d}.pth.tar"
    assert s2["config"]["MODEL"]["PRETRAINED_PATH"] == summary["files"]["stage-1 checkpoint"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## See it work first"):readme.index("## Using the model")]
    named = set(re.findall(r"CSTRACK_S2_ep\d{4}\.pth\.tar", section))
    assert named == {Path(summary["files"]["stage-2 checkpoint"]).name}


@pytest.mark.slow
def test_result_files_are_complete(quick_run):
    _, summary, _ = quick_run
    bench = load_benchmark("LasHeR", summary["files"]["test split"])
    for seq in bench.sequences:
        for key in ("tracker results", "static-box results"):
            boxes = read_rows(Path(summary["files"][key]) / f"{seq.name}.txt")
            assert boxes.shape == (len(seq), 4) and np.isfinite(boxes).all()
            np.testing.assert_allclose(boxes[0], seq.ground_truth[0])  # row 0 = ground truth (reference format)
        static = read_rows(Path(summary["files"]["static-box results"]) / f"{seq.name}.txt")
        np.testing.assert_allclose(static, np.repeat(seq.ground_truth[:1], len(seq), axis=0))


@pytest.mark.slow
def test_trained_tracker_beats_the_static_box_by_an_independent_score(quick_run):
    _, summary, _ = quick_run
    test_dir = Path(summary["files"]["test split"])
    independent = {}
    for name, key in ((TRACKER_NAME, "tracker results"), (STATIC_NAME, "static-box results")):
        aucs = [success_auc(read_rows(Path(summary["files"][key]) / f"{seq.name}.txt"),
                            read_rows(seq / "visible.txt")) for seq in sorted(test_dir.iterdir()) if seq.is_dir()]
        independent[name] = float(np.mean(aucs))
    assert independent[TRACKER_NAME] > independent[STATIC_NAME] + 0.2, independent
    scores = json.loads(Path(summary["files"]["scores (json)"]).read_text())
    assert scores == summary["scores"]
    for name in (TRACKER_NAME, STATIC_NAME):  # the toolkit's SR: same curve, LasHeR's frame rules
        assert set(scores[name]) >= {"PR", "NPR", "SR"}
        assert scores[name]["SR"] == pytest.approx(independent[name], abs=0.02)
    table = Path(summary["files"]["score table"]).read_text()
    assert TRACKER_NAME in table and STATIC_NAME in table and "SR" in table
    rows = Path(summary["files"]["per-sequence scores"]).read_text().strip().splitlines()
    assert rows[0].startswith("tracker,sequence,") and len(rows) == 1 + 2 * len(load_benchmark("LasHeR", str(test_dir)))


@pytest.mark.slow
def test_plots_are_valid_pngs(quick_run):
    _, summary, _ = quick_run
    plots = [v for k, v in summary["files"].items() if k.endswith("plot")]
    assert {Path(p).name for p in plots} >= {"LasHeR_success.png", "LasHeR_precision.png"}
    for path in plots + [summary["files"]["video frame"]]:
        assert Path(path).read_bytes()[:8] == PNG_SIGNATURE
        image = cv2.imread(path)
        assert image is not None and image.shape[0] > 100 and image.shape[1] > 100


@pytest.mark.slow
def test_video_is_webm_and_reads_back_with_every_frame(quick_run):
    _, summary, _ = quick_run
    seq = load_benchmark("LasHeR", summary["files"]["test split"])[summary["video_sequence"]]
    assert summary["files"]["video"].endswith(".webm")
    cap = cv2.VideoCapture(summary["files"]["video"])
    assert cap.isOpened()
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame.shape)
    cap.release()
    assert len(frames) == len(seq) == summary["video_frames"]
    assert len(set(frames)) == 1 and frames[0][1] > 2 * frames[0][0]  # RGB and X side by side


@pytest.mark.slow
def test_html_report_embeds_the_video(quick_run):
    _, summary, result = quick_run
    page = Path(summary["files"]["html report"]).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and TRACKER_NAME in page and STATIC_NAME in page
    assert 'src="data:video/webm;base64,' in page
    assert Path(summary["files"]["html report"]).resolve().as_uri() in result.stdout


@pytest.mark.slow
def test_the_printed_demo_command_runs_as_printed(quick_run):
    """The "Next:" command names the stage-2 checkpoint, a test sequence and its first box: run it verbatim."""
    workdir, summary, result = quick_run
    command = summary["demo_command"]
    assert command in result.stdout
    args = shlex.split(command)
    assert args[:2] == ["python", "tracking/video_demo.py"]
    done = subprocess.run([sys.executable, *args[1:], "--device", "cpu"], cwd=str(REPO), capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = Path(args[args.index("--out") + 1])
    out = out if out.is_absolute() else REPO / out
    seq = load_benchmark("LasHeR", summary["files"]["test split"])[summary["video_sequence"]]
    assert out.suffix == ".webm" and out.is_file() and out.is_relative_to(workdir)
    assert read_rows(out.with_suffix(".txt")).shape == (len(seq), 4)


@pytest.mark.slow
def test_the_readme_shows_the_demo_command_the_quickstart_prints(quick_run):
    """The README's command is the printed one for the default --workdir output/quickstart."""
    workdir, summary, _ = quick_run
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## See it work first"):readme.index("## Using the model")]
    block = section[section.index("```bash\npython tracking/video_demo.py"):]
    command = " ".join(block[len("```bash\n"):block.index("\n```")].replace("\\\n", " ").split())
    assert command.replace("output/quickstart", str(workdir)) == summary["demo_command"]


@pytest.mark.slow
def test_second_run_reuses_every_step(quick_run):
    workdir, summary, _ = quick_run
    state_before = (workdir / "quickstart_state.json").read_text()
    result = run_quickstart(workdir, "--quick")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count(": reused (finished in an earlier run") == len(STEPS)
    assert (workdir / "quickstart_state.json").read_text() == state_before
    again = json.loads((workdir / "report" / "summary.json").read_text())
    assert again["scores"] == summary["scores"]


@pytest.mark.slow
def test_a_deleted_output_reruns_only_its_step_and_what_depends_on_it(quick_run):
    workdir, summary, _ = quick_run
    Path(summary["files"]["video"]).unlink()
    result = run_quickstart(workdir, "--quick")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count(": reused (finished in an earlier run") == len(STEPS) - 2  # video, then the report
    assert "[6/7] write the annotated RGB | X video ..." in result.stdout
    assert "[7/7] write the HTML report" in result.stdout
    assert Path(summary["files"]["video"]).is_file()


@pytest.mark.slow
def test_another_profile_in_the_same_workdir_is_refused(quick_run):
    workdir, _, _ = quick_run
    result = run_quickstart(workdir)  # default profile
    assert result.returncode == 1
    assert "--fresh" in result.stderr and "'profile': 'quick'" in result.stderr


# ------------------------------------------------------------------------------------------ the generator
SMALL = SyntheticRGBTConfig(num_train=2, num_test=1, train_frames=24, test_frames=24, width=128, height=96, seed=5)


def _tree_bytes(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name != "dataset.json"}


def test_generator_is_deterministic_for_a_seed(tmp_path):
    generate_dataset(tmp_path / "a", SMALL)
    generate_dataset(tmp_path / "b", SMALL)
    generate_dataset(tmp_path / "c", SyntheticRGBTConfig(**{**SMALL.__dict__, "seed": 6}))
    a, b, c = (_tree_bytes(tmp_path / k) for k in "abc")
    assert a == b
    assert a.keys() == c.keys() and a != c


def test_generator_reuses_a_finished_copy_and_replaces_a_different_one(tmp_path):
    first = generate_dataset(tmp_path, SMALL)
    stamp = (tmp_path / "dataset.json").stat().st_mtime_ns
    assert generate_dataset(tmp_path, SMALL) == first
    assert (tmp_path / "dataset.json").stat().st_mtime_ns == stamp
    other = generate_dataset(tmp_path, SyntheticRGBTConfig(**{**SMALL.__dict__, "num_train": 1}))
    assert other["train_sequences"] == first["train_sequences"][:1]
    assert sorted(p.name for p in (tmp_path / "trainingset").iterdir()) == other["train_sequences"]


def test_x_looks_thermal_target_warm_background_cool(tmp_path):
    """The X image is much brighter inside the box than away from it, except while the target is occluded."""
    manifest = generate_dataset(tmp_path, SMALL)
    contrasts = []
    for seq in manifest["train_sequences"]:
        seq_dir = Path(manifest["train_dir"]) / seq
        boxes = np.loadtxt(seq_dir / "visible.txt", delimiter=",", ndmin=2).astype(int)
        for t, (bx, by, bw, bh) in enumerate(boxes):
            x = cv2.imread(str(seq_dir / "infrared" / f"i{t + 1:06d}.jpg"), cv2.IMREAD_GRAYSCALE).astype(float)
            inner = x[by + bh // 4:by + 3 * bh // 4, bx + bw // 4:bx + 3 * bw // 4]
            mask = np.ones_like(x, bool)
            mask[max(by - bh, 0):by + 2 * bh, max(bx - bw, 0):bx + 2 * bw] = False
            contrasts.append(inner.mean() - x[mask].mean())
    contrasts = np.array(contrasts)
    assert np.median(contrasts) > 80 and (contrasts > 40).mean() > 0.8, contrasts.round()


def test_test_sequences_do_not_depend_on_the_training_split(tmp_path):
    """Both profiles then share their first test sequences (the README's demo command fits both)."""
    generate_dataset(tmp_path / "a", SMALL)
    generate_dataset(tmp_path / "b", SyntheticRGBTConfig(**{**SMALL.__dict__, "num_train": 1}))
    a, b = _tree_bytes(tmp_path / "a" / "testingset"), _tree_bytes(tmp_path / "b" / "testingset")
    assert a == b and a
