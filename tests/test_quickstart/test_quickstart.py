"""The quickstart end to end: ``tracking/quickstart.py --quick`` on CPU, every artefact checked.

One real run (module fixture, about 1-2 minutes on 2 cores): synthetic LasHeR-layout data, both training
stages through lib/train/run_training.py, the RGBT runner, the Python metrics, plots and the video.
A second run must reuse every step; a run of another profile in the same folder is refused. The
synthetic data generator is also checked on its own (layout, determinism, a thermal-looking X).
"""
import json
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from lib.quickstart.pipeline import STATIC_NAME, STEPS, TRACKER_NAME
from lib.quickstart.synthetic_rgbt import SyntheticRGBTConfig, generate_dataset
from lib.test.analysis import evaluate_tracker
from lib.test.analysis.readers import read_boxes
from lib.test.evaluation.datasets import load_benchmark
from lib.train.dataset.lasher import LasHeR
from lib.utils.checkpoint import read_checkpoint

from tests.script_loading import load_script

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "tracking" / "quickstart.py"
TIMEOUT = 900
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_quickstart(workdir, *extra):
    command = [sys.executable, str(QUICKSTART), "--workdir", str(workdir), "--device", "cpu", *extra]
    start = time.perf_counter()
    result = subprocess.run(command, cwd=str(REPO), capture_output=True, text=True, timeout=TIMEOUT)
    return result, time.perf_counter() - start


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """``tracking/quickstart.py --quick`` once; (workdir, summary, completed process, seconds)."""
    workdir = tmp_path_factory.mktemp("quickstart") / "run"
    result, seconds = run_quickstart(workdir, "--quick")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    summary = json.loads((workdir / "report" / "summary.json").read_text(encoding="utf-8"))
    return workdir, summary, result, seconds


# ------------------------------------------------------------------------------------------ the run
def test_progress_lines_and_summary_are_printed(quick_run):
    _, summary, result, _ = quick_run
    out = result.stdout
    for i in range(1, len(STEPS) + 1):
        assert f"[{i}/{len(STEPS)}]" in out
    assert "[train: 1, " in out and "epoch 1 done" in out  # the trainer's own progress lines
    assert "[1/3] " in out  # the runner's per-sequence lines
    assert "Quickstart finished (quick profile)" in out and "beats the static box" in out
    for path in summary["files"].values():
        assert Path(path).name in out  # the summary says where every file is


def test_dataset_is_in_the_lasher_layout(quick_run):
    workdir, summary, _, _ = quick_run
    train_dir, test_dir = Path(summary["files"]["train split"]), Path(summary["files"]["test split"])
    assert train_dir == workdir / "data" / "lasher" / "trainingset"
    for split in (train_dir, test_dir):
        for seq in sorted(p for p in split.iterdir() if p.is_dir()):
            visible = sorted((seq / "visible").glob("v*.jpg"))
            infrared = sorted((seq / "infrared").glob("i*.jpg"))
            boxes = np.loadtxt(seq / "visible.txt", delimiter=",", ndmin=2)
            assert len(visible) == len(infrared) == len(boxes) > 20
            assert (seq / "infrared.txt").read_text() == (seq / "visible.txt").read_text()
    assert LasHeR(str(train_dir), split=None).get_num_sequences() == 12  # the training reader takes it
    assert len(load_benchmark("LasHeR", str(test_dir))) == 3  # and the benchmark reader


def test_checkpoints_of_both_stages(quick_run):
    _, summary, _, _ = quick_run
    s1 = read_checkpoint(summary["files"]["stage-1 checkpoint"])
    s2 = read_checkpoint(summary["files"]["stage-2 checkpoint"])
    assert (s1["net_type"], s1["epoch"]) == ("CSTRACK_S1", 3)
    assert (s2["net_type"], s2["epoch"]) == ("CSTRACK_S2", 1)
    assert s2["config"]["MODEL"]["PRETRAINED_PATH"] == summary["files"]["stage-1 checkpoint"]


def test_result_files_are_complete(quick_run):
    _, summary, _, _ = quick_run
    bench = load_benchmark("LasHeR", summary["files"]["test split"])
    for seq in bench.sequences:
        for key in ("tracker results", "static-box results"):
            boxes = read_boxes(Path(summary["files"][key]) / f"{seq.name}.txt")
            assert boxes.shape == (len(seq), 4) and np.isfinite(boxes).all()
            np.testing.assert_allclose(boxes[0], seq.ground_truth[0])  # row 0 = ground truth (reference format)
        static = read_boxes(Path(summary["files"]["static-box results"]) / f"{seq.name}.txt")
        np.testing.assert_allclose(static, np.repeat(seq.ground_truth[:1], len(seq), axis=0))


def test_metrics_table_and_trained_tracker_beats_static_box(quick_run):
    _, summary, _, _ = quick_run
    table = Path(summary["files"]["score table"]).read_text()
    assert TRACKER_NAME in table and STATIC_NAME in table and "SR" in table
    scores = json.loads(Path(summary["files"]["scores (json)"]).read_text())
    assert scores == summary["scores"]
    for name in (TRACKER_NAME, STATIC_NAME):
        assert set(scores[name]) == {"PR", "NPR", "SR"} and all(0 <= v <= 1 for v in scores[name].values())
    recomputed = evaluate_tracker("LasHeR", summary["files"]["tracker results"], summary["files"]["test split"])
    assert recomputed == pytest.approx(scores[TRACKER_NAME])
    assert scores[TRACKER_NAME]["SR"] > scores[STATIC_NAME]["SR"], scores
    rows = Path(summary["files"]["per-sequence scores"]).read_text().strip().splitlines()
    assert rows[0] == "tracker,sequence,PR,NPR,SR" and len(rows) == 1 + 2 * 3


def test_plots_are_valid_pngs(quick_run):
    _, summary, _, _ = quick_run
    plots = [v for k, v in summary["files"].items() if k.endswith("plot")]
    assert {Path(p).name for p in plots} >= {"LasHeR_success.png", "LasHeR_precision.png"}
    for path in plots + [summary["files"]["video frame"]]:
        assert Path(path).read_bytes()[:8] == PNG_SIGNATURE
        image = cv2.imread(path)
        assert image is not None and image.shape[0] > 100 and image.shape[1] > 100


def test_video_reads_back_with_every_frame(quick_run):
    _, summary, _, _ = quick_run
    seq = load_benchmark("LasHeR", summary["files"]["test split"])[summary["video_sequence"]]
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


def test_demo_runs_on_the_trained_checkpoint(quick_run, tmp_path):
    """tracking/video_demo.py takes the quickstart's stage-2 checkpoint (config read from the checkpoint)."""
    _, summary, _, _ = quick_run
    demo = load_script("video_demo_cli", REPO / "tracking" / "video_demo.py")
    seq = load_benchmark("LasHeR", summary["files"]["test split"]).sequences[1]
    init = ",".join(f"{v:g}" for v in seq.ground_truth[0])
    out = tmp_path / "demo.avi"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the quickstart's own processes: fast, and robust on a busy machine
    try:
        code = demo.main(["--rgb", str(Path(seq.rgb_frames[0]).parent), "--x", str(Path(seq.x_frames[0]).parent),
                          "--checkpoint", summary["files"]["stage-2 checkpoint"], "--init", init,
                          "--out", str(out), "--device", "cpu"])
    finally:
        torch.set_num_threads(threads)
    assert code == 0
    boxes = np.loadtxt(tmp_path / "demo.txt", delimiter=",", ndmin=2)
    assert boxes.shape == (len(seq), 4)


def test_second_run_reuses_every_step(quick_run):
    workdir, summary, _, _ = quick_run
    state_before = (workdir / "quickstart_state.json").read_text()
    result, seconds = run_quickstart(workdir, "--quick")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count(": reused (finished in an earlier run") == len(STEPS)
    assert seconds < 30, f"a run with nothing to do took {seconds:.1f}s"
    assert (workdir / "quickstart_state.json").read_text() == state_before
    again = json.loads((workdir / "report" / "summary.json").read_text())
    assert again["scores"] == summary["scores"]


def test_a_deleted_output_reruns_only_its_step(quick_run):
    workdir, summary, _, _ = quick_run
    Path(summary["files"]["video"]).unlink()
    result, _ = run_quickstart(workdir, "--quick")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count(": reused (finished in an earlier run") == len(STEPS) - 1
    assert Path(summary["files"]["video"]).is_file()


def test_another_profile_in_the_same_workdir_is_refused(quick_run):
    workdir, _, _, _ = quick_run
    result, _ = run_quickstart(workdir)  # default profile
    assert result.returncode == 1
    assert "--fresh" in result.stderr and "'profile': 'quick'" in result.stderr


def test_quick_run_time(quick_run):
    """About 2 minutes on a 2-core CPU (a loaded machine is slower; the bound leaves room for that)."""
    _, _, _, seconds = quick_run
    assert seconds < 600, f"--quick took {seconds:.0f}s"


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
