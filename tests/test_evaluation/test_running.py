"""The resumable runner: reference result formats, atomic writes, run identity per sequence, lock, workers."""
import json
import logging
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from lib.test.evaluation import TrackerFactory, default_results_dir, load_benchmark, run_benchmark, run_sequence
from lib.test.evaluation.errors import BenchmarkFailed, WorkerStartError
from lib.test.evaluation.results import (LOCK_NAME, MANIFEST_NAME, ResultsConflictError, ResultsFolder,
                                         ResultsLockedError, result_files)
from lib.test.tracker.identity import RunIdentity
from lib.utils.checkpoint_layout import epoch_label, resolve_test_checkpoint

from tests.test_evaluation import benchmark_data as syn
from tests.test_workspaces.vot_workspace import require_toolkit


class ShiftTracker:
    """Moves its box by (+1, +0.5) px per frame from the initial box; fails on ``fail_on`` frames.

    ``weights`` stands for the checkpoint: it is the tracker's run identity.
    """

    def __init__(self, fail_on=None, marker_dir=None, weights="A"):
        self.fail_on = fail_on
        self.calls = 0
        self.identity = RunIdentity({"weights": weights})
        if marker_dir is not None:  # one file per tracker built, to count builds per worker
            Path(marker_dir, f"built_{os.getpid()}_{id(self)}").write_text("")

    def initialize(self, frame, info):
        assert frame.shape[2] == 6 and frame.dtype == np.uint8
        self.box = np.asarray(info["init_bbox"], dtype=float)
        self.frame_id = 0

    def track(self, frame):
        self.calls += 1
        self.frame_id += 1
        if self.fail_on is not None and self.fail_on(self.frame_id):
            raise RuntimeError(f"tracker failure at frame {self.frame_id}")
        self.box = self.box + [1.0, 0.5, 0.0, 0.0]
        return {"target_bbox": self.box.tolist(), "best_score": 1.0 / (1 + self.frame_id)}


class Factory:
    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.devices = []

    def __call__(self, device):
        self.devices.append(device)
        return ShiftTracker(**self.kwargs)


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
            and not p.name.endswith(("_time.txt", "_time.value")) and p.name not in (MANIFEST_NAME, LOCK_NAME)}


def test_lasher_result_is_reference_format(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 5})))
    out = tmp_path / "res"
    result = run_sequence(ShiftTracker(), bench["a"], str(out), bench.result_format)
    assert result.num_frames == 5 and result.fps > 0
    lines = (out / "a.txt").read_text().splitlines()
    assert len(lines) == 5
    # np.savetxt default: '%.18e' separated by single spaces (docs/evaluation.md)
    assert lines[0] == " ".join("%.18e" % v for v in bench["a"].ground_truth[0])
    assert lines[1] == " ".join("%.18e" % v for v in [11.0, 8.5, 16.0, 12.0])
    rows = np.loadtxt(out / "a.txt")
    np.testing.assert_array_equal(rows[0], bench["a"].ground_truth[0])
    assert len((out / "a_time.txt").read_text().split()) == 5
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp_")]


def test_visevent_result_is_comma_14f_from_first_present_frame(tmp_path):
    bench = load_benchmark("VisEvent", str(syn.make_visevent(tmp_path / "data", {"s": 7}, leading_absent={"s": 2})))
    out = tmp_path / "res"
    run_sequence(ShiftTracker(), bench["s"], str(out), bench.result_format)
    lines = (out / "s.txt").read_text().splitlines()
    assert len(lines) == 5
    assert lines[0] == ",".join("%.14f" % v for v in bench["s"].ground_truth[0])
    assert lines[0].startswith("12.25000000000000,9.25000000000000,")  # frame 2 of the dataset


def test_depthtrack_local_run_writes_vot_longterm_layout(tmp_path):
    bench = load_benchmark("DepthTrack", str(syn.make_rgbd(tmp_path / "data", {"d": 4})))
    out = tmp_path / "res" / "rgbd-unsupervised"
    run_sequence(ShiftTracker(), bench["d"], str(out), bench.result_format)
    require_toolkit()
    from vot.region.io import read_trajectory
    from vot.region import Special

    trajectory = read_trajectory(str(out / "d" / "d_001.txt"))
    assert len(trajectory) == 4 and isinstance(trajectory[0], Special) and trajectory[0].code == 1
    assert (trajectory[1].x, trajectory[1].y, trajectory[1].width) == (11.0, 8.5, 16.0)
    confidence = (out / "d" / "d_001_confidence.value").read_text().split("\n")
    assert confidence[0] == "" and float(confidence[1]) == pytest.approx(0.5)


def test_vot22rgbd_is_left_to_the_toolkit(tmp_path):
    bench = load_benchmark("VOT22RGBD", str(syn.make_rgbd(tmp_path / "data", {"d": 3})))
    factory = Factory()
    with pytest.raises(ValueError, match="VOT22RGBD_workspace"):
        run_benchmark(bench, factory, str(tmp_path / "res"), device="cpu")
    assert factory.devices == []  # refused before any tracker is built


def test_skip_finished_and_redo_changed_files(tmp_path, caplog):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 4, "b": 6})))
    out = tmp_path / "res"
    with caplog.at_level(logging.INFO, logger="lib.test.evaluation.scheduler"):
        summary = run_benchmark(bench, Factory(), str(out), device="cpu")
    assert [r.name for r in summary.tracked] == ["a", "b"] and summary.mean_fps > 0
    text = caplog.text
    assert "[1/2] a: 4 frames" in text and "[2/2] b: 6 frames" in text and "ETA" in text and "mean FPS" in text
    before = snapshot(out)
    summary = run_benchmark(bench, Factory(), str(out), device="cpu")
    assert summary.skipped == ["a", "b"] and not summary.tracked
    assert snapshot(out) == before
    # a result file changed after it was written (e.g. copied from another run) is tracked again
    (out / "b.txt").write_text("1 2 3 4\n")
    summary = run_benchmark(bench, Factory(), str(out), device="cpu")
    assert [r.name for r in summary.tracked] == ["b"] and snapshot(out) == before
    # so is a sequence whose first box changed (another version of the annotations)
    gt_file = tmp_path / "data" / "a" / "visible.txt"
    gt_file.write_text(gt_file.read_text().replace("10,8,", "11,8,", 1))
    bench = load_benchmark("LasHeR", str(tmp_path / "data"))
    assert [r.name for r in run_benchmark(bench, Factory(), str(out), device="cpu").tracked] == ["a"]


def test_other_weights_are_a_conflict_and_never_count_as_finished(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 3, "b": 4})))
    out = tmp_path / "res"
    run_benchmark(bench, Factory(weights="A"), str(out), device="cpu")
    with pytest.raises(ResultsConflictError, match=r"weights: 'A' -> 'B'.*--overwrite"):
        run_benchmark(bench, Factory(weights="B"), str(out), device="cpu")
    # an --overwrite run with new weights that stops part-way: 'a' is B's, 'b' still holds A's boxes
    with pytest.raises(BenchmarkFailed):
        run_benchmark(bench, Factory(weights="B", fail_on=lambda i: i == 3), str(out), device="cpu", overwrite=True)
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["identity"]["fields"] == {"weights": "B", "benchmark": "LasHeR",
                                              "result_format": {"delimiter": " ", "fmt": "%.18e", "layout": "flat"}}
    assert sorted(manifest["sequences"]) == ["a"]
    # the rerun with B keeps 'a' and tracks 'b' again although b.txt exists with the right number of rows
    assert len((out / "b.txt").read_text().splitlines()) == 4
    summary = run_benchmark(bench, Factory(weights="B"), str(out), device="cpu")
    assert summary.skipped == ["a"] and [r.name for r in summary.tracked] == ["b"]


@pytest.fixture
def tiny_checkpoint(tmp_path):
    """Write a tiny stage-1 network with weights from ``seed`` to one path (a retrain overwrites it)."""
    from lib.config import load_config
    from lib.models import build_model

    path = tmp_path / "CSTRACK_S1_ep0002.pth.tar"

    def write(seed):
        torch.manual_seed(seed)
        net = build_model(load_config("cstrack_s1_tiny", script="cstrack_s1"), arch="cstrack_s1")
        torch.save({"net": net.state_dict()}, path)
        return path

    return write


def test_retrained_checkpoint_at_the_same_path_is_not_reused(tmp_path, tiny_checkpoint, one_torch_thread):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 3})))
    out = tmp_path / "res"
    path = tiny_checkpoint(0)
    factory = TrackerFactory("cstrack_s1", str(path), "lasher", "cstrack_s1_tiny")
    run_benchmark(bench, factory, str(out), device="cpu")
    first = (out / "a.txt").read_text()
    size = path.stat().st_size
    tiny_checkpoint(1)  # same path, same size, other weights
    assert path.stat().st_size == size
    with pytest.raises(ResultsConflictError, match="weights_sha256"):
        run_benchmark(bench, factory, str(out), device="cpu")
    run_benchmark(bench, factory, str(out), device="cpu", overwrite=True)
    assert (out / "a.txt").read_text() != first
    identity = json.loads((out / MANIFEST_NAME).read_text())["identity"]
    assert identity["info"]["checkpoint"] == str(path) and identity["fields"]["tracker_dataset"] == "lasher"
    assert identity["fields"]["code"]["package"]


def test_failure_leaves_no_partial_file_and_resume_matches_uninterrupted(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 4, "b": 6, "c": 3})))
    reference = tmp_path / "uninterrupted"
    run_benchmark(bench, Factory(), str(reference), device="cpu")

    out = tmp_path / "res"
    # only "b" (6 frames) reaches frame 5 and crashes there: "a" and "c" are finished, "b" has neither a
    # result nor a temp file, and the run fails after the other sequences
    failing = Factory(fail_on=lambda i: i == 5)
    with pytest.raises(BenchmarkFailed, match=r"1 sequence\(s\) failed(.|\n)*b: tracker failure at frame 5") as err:
        run_benchmark(bench, failing, str(out), device="cpu")
    assert not err.value.user_errors_only  # a tracker crash is a bug, not a user error
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "a.txt", "a_time.txt", "c.txt", "c_time.txt",
                                                     MANIFEST_NAME]
    assert failing.devices == ["cpu"]  # one tracker for the whole run
    summary = run_benchmark(bench, Factory(), str(out), device="cpu")
    assert [r.name for r in summary.tracked] == ["b"]
    assert snapshot(out) == snapshot(reference)


def test_a_damaged_frame_stops_its_sequence_naming_the_file(tmp_path):
    bench_dir = syn.make_rgbt(tmp_path / "data", {"a": 4, "b": 5})
    frame = bench_dir / "b" / "infrared" / "i003.jpg"
    frame.write_bytes(frame.read_bytes()[:-200])
    bench = load_benchmark("LasHeR", str(bench_dir))
    with pytest.raises(BenchmarkFailed) as err:
        run_benchmark(bench, Factory(), str(tmp_path / "res"), device="cpu")
    assert err.value.user_errors_only and list(err.value.failures) == ["b"]
    assert str(frame) in err.value.failures["b"] and "truncated" in err.value.failures["b"]
    assert (tmp_path / "res" / "a.txt").is_file() and not (tmp_path / "res" / "b.txt").exists()


def test_workers_build_one_tracker_each(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {f"s{i}": 3 + i for i in range(5)})))
    markers = tmp_path / "markers"
    markers.mkdir()
    out = tmp_path / "res"
    summary = run_benchmark(bench, Factory(marker_dir=str(markers)), str(out), threads=2, device="cpu",
                            start_method="fork")
    assert sorted(r.name for r in summary.tracked) == bench.names()
    assert len(list(markers.iterdir())) == 2
    reference = tmp_path / "serial"
    run_benchmark(bench, Factory(), str(reference), device="cpu")
    assert snapshot(out) == snapshot(reference)


def test_worker_build_failure_stops_the_run_and_writes_no_manifest(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 3, "b": 3})))
    out = tmp_path / "res"

    def broken(device):
        raise FileNotFoundError("checkpoint file not found: /x/nope.pth.tar")

    with pytest.raises(WorkerStartError, match="nope.pth.tar") as err:
        run_benchmark(bench, broken, str(out), threads=2, device="cpu", start_method="fork")
    assert err.value.user_error
    with pytest.raises(FileNotFoundError):
        run_benchmark(bench, broken, str(out), device="cpu")
    assert not (out / MANIFEST_NAME).exists()
    # the corrected run is not blocked by the failed one (no --overwrite needed)
    assert len(run_benchmark(bench, Factory(weights="fixed"), str(out), device="cpu").tracked) == 2


def test_a_held_folder_stops_a_second_runner_naming_the_holder(tmp_path, caplog):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 3})))
    out = tmp_path / "res"
    holder = ResultsFolder(str(out), bench.result_format).open()
    try:
        with pytest.raises(ResultsLockedError, match=rf"in use by another runner \(pid {os.getpid()} on .*--wait"):
            run_benchmark(bench, Factory(), str(out), device="cpu")
        # --wait: the second runner starts once the first releases the folder
        result = {}
        thread = threading.Thread(target=lambda: result.update(
            summary=run_benchmark(bench, Factory(), str(out), device="cpu", wait=True)))
        with caplog.at_level(logging.INFO, logger="lib.test.evaluation.results"):
            thread.start()
            deadline = time.time() + 60
            while "waiting for it" not in caplog.text:
                assert thread.is_alive() and time.time() < deadline
                time.sleep(0.05)
            assert not (out / "a.txt").exists()
    finally:
        holder.close()
    thread.join(timeout=120)
    assert [r.name for r in result["summary"].tracked] == ["a"]


def test_temporary_files_of_a_killed_writer_are_removed(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 3})))
    out = tmp_path / "res"
    out.mkdir()
    (out / ".tmp_a.txt.k2j3").write_text("half")
    run_benchmark(bench, Factory(), str(out), device="cpu")
    assert not list(out.glob(".tmp_*"))


def test_names_and_paths(tmp_path, monkeypatch):
    assert epoch_label("/x/CSTRACK_S2_ep0050.pth.tar") == "ep0050"
    assert default_results_dir("cstrack_s2", "LasHeR", "ep0050", save_dir="/s") == \
        os.path.join("/s", "output", "test", "tracking_results", "cstrack_s2", "LasHeR_ep0050")
    monkeypatch.setenv("CSTRACK_SAVE_DIR", str(tmp_path))
    assert default_results_dir("y", "VisEvent", "ep0001").startswith(str(tmp_path / "output" / "test"))
    folder = tmp_path / "checkpoints" / "train" / "cstrack_s2" / "cstrack_s2"
    folder.mkdir(parents=True)
    (folder / "CSTRACK_S2_ep0050.pth.tar").write_bytes(b"")
    monkeypatch.setenv("CSTRACK_CHECKPOINTS_PATH", str(tmp_path / "checkpoints"))
    assert resolve_test_checkpoint("cstrack_s2", "cstrack_s2", epoch=50) == str(folder / "CSTRACK_S2_ep0050.pth.tar")
    with pytest.raises(FileNotFoundError, match="no file for epoch 49"):
        resolve_test_checkpoint("cstrack_s2", "cstrack_s2", epoch=49)
    monkeypatch.setenv("CSTRACK_NETWORK_PATH", str(folder))
    assert resolve_test_checkpoint("cstrack_s2", "x", checkpoint="CSTRACK_S2_ep0050.pth.tar").endswith("ep0050.pth.tar")
    with pytest.raises(FileNotFoundError, match="network_path"):
        resolve_test_checkpoint("cstrack_s2", "x", checkpoint="nope.pth.tar")
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "d", {"a": 2})))
    files = result_files("/r", "seq", bench.result_format)
    assert files == {"result": os.path.join("/r", "seq.txt"), "time": os.path.join("/r", "seq_time.txt")}


def test_authors_style_local_file_gives_one_output_level(tmp_path):
    """The authors' test local.py sets ``save_dir = '<prj>/output'``: results land in ``<prj>/output/test/...``."""
    from lib.config.environment import env_settings

    prj = tmp_path / "CSTrack"
    (prj / "output").mkdir(parents=True)
    local = tmp_path / "local.py"
    local.write_text("from lib.test.evaluation.environment import EnvSettings\n\ndef local_env_settings():\n"
                     "    settings = EnvSettings()\n"
                     f"    settings.prj_dir = '{prj.as_posix()}'\n"
                     f"    settings.results_path = '{prj.as_posix()}/output/test/tracking_results'\n"
                     f"    settings.save_dir = '{prj.as_posix()}/output'\n"
                     "    return settings\n")
    settings = env_settings(train_local=tmp_path / "none.py", test_local=local, environ={})
    assert default_results_dir("cstrack_s2", "LasHeR", "ep0050", save_dir=settings.save_dir) == \
        str(prj / "output" / "test" / "tracking_results" / "cstrack_s2" / "LasHeR_ep0050")
