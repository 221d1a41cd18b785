"""The resumable runner: reference result formats, atomic writes, skip / resume, workers, manifest."""
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from lib.test.evaluation import load_benchmark, run_benchmark, run_sequence
from lib.test.evaluation.running import ResultsConflictError, default_results_dir, result_files
from lib.utils.checkpoint_layout import epoch_label, resolve_test_checkpoint

from tests.test_evaluation import benchmark_data as syn


class ShiftTracker:
    """Moves its box by (+1, +0.5) px per frame from the initial box; fails on ``fail_on`` frames."""

    def __init__(self, fail_on=None, marker_dir=None):
        self.fail_on = fail_on
        self.calls = 0
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
            and not p.name.endswith("_time.txt") and not p.name.endswith("_time.value")}


def test_lasher_result_is_reference_format(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 5})))
    out = tmp_path / "res"
    result = run_sequence(ShiftTracker(), bench["a"], str(out), bench.result_format)
    assert not result.skipped and result.num_frames == 5 and result.fps > 0
    lines = (out / "a.txt").read_text().splitlines()
    assert len(lines) == 5
    # np.savetxt default: '%.18e' separated by single spaces (EVALUATION.md §2.1)
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
    pytest.importorskip("vot.region.io", reason="VOT toolkit not installed (install.sh)")
    from vot.region.io import read_trajectory
    from vot.region import Special

    trajectory = read_trajectory(str(out / "d" / "d_001.txt"))
    assert len(trajectory) == 4 and isinstance(trajectory[0], Special) and trajectory[0].code == 1
    assert (trajectory[1].x, trajectory[1].y, trajectory[1].width) == (11.0, 8.5, 16.0)
    confidence = (out / "d" / "d_001_confidence.value").read_text().split("\n")
    assert confidence[0] == "" and float(confidence[1]) == pytest.approx(0.5)


def test_vot22rgbd_is_left_to_the_toolkit(tmp_path):
    bench = load_benchmark("VOT22RGBD", str(syn.make_rgbd(tmp_path / "data", {"d": 3})))
    with pytest.raises(ValueError, match="VOT22RGBD_workspace"):
        run_benchmark(bench, Factory(), str(tmp_path / "res"), device="cpu")


def test_skip_finished_and_redo_stale(tmp_path, caplog):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 4, "b": 6})))
    out = tmp_path / "res"
    with caplog.at_level(logging.INFO, logger="lib.test.evaluation.running"):
        summary = run_benchmark(bench, Factory(), str(out), device="cpu")
    assert [r.name for r in summary.tracked] == ["a", "b"] and summary.mean_fps > 0
    text = caplog.text
    assert "[1/2] a: 4 frames" in text and "[2/2] b: 6 frames" in text and "ETA" in text and "mean FPS" in text
    before = snapshot(out)
    factory = Factory()
    summary = run_benchmark(bench, factory, str(out), device="cpu")
    assert summary.skipped == ["a", "b"] and not summary.tracked and factory.devices == []
    assert snapshot(out) == before
    # a stale (short) file, e.g. from another dataset version, is redone
    (out / "b.txt").write_text("1 2 3 4\n")
    summary = run_benchmark(bench, Factory(), str(out), device="cpu")
    assert [r.name for r in summary.tracked] == ["b"] and snapshot(out) == before
    # run_sequence alone skips too, unless overwrite
    tracker = ShiftTracker()
    assert run_sequence(tracker, bench["a"], str(out), bench.result_format).skipped and tracker.calls == 0
    assert not run_sequence(tracker, bench["a"], str(out), bench.result_format, overwrite=True).skipped


def test_failure_leaves_no_partial_file_and_resume_matches_uninterrupted(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 4, "b": 6, "c": 3})))
    reference = tmp_path / "uninterrupted"
    run_benchmark(bench, Factory(), str(reference), device="cpu")

    out = tmp_path / "res"
    # only "b" (6 frames) reaches frame 5 and crashes there: "a" and "c" are finished, "b" has neither a
    # result nor a temp file, and the run fails after the other sequences
    failing = Factory(fail_on=lambda i: i == 5)
    with pytest.raises(RuntimeError, match=r"1 sequence\(s\) failed: \['b'\]"):
        run_benchmark(bench, failing, str(out), device="cpu")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "a_time.txt", "c.txt", "c_time.txt"]
    assert failing.devices == ["cpu"]  # one tracker for the whole run
    summary = run_benchmark(bench, Factory(), str(out), device="cpu")
    assert [r.name for r in summary.tracked] == ["b"]
    assert snapshot(out) == snapshot(reference)


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


def test_worker_build_failure_stops_the_run(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 3, "b": 3})))

    def broken(device):
        raise FileNotFoundError("no such checkpoint")

    with pytest.raises(RuntimeError, match="could not build the tracker(.|\n)*no such checkpoint"):
        run_benchmark(bench, broken, str(tmp_path / "res"), threads=2, device="cpu", start_method="fork")


def test_manifest_refuses_mixing_runs(tmp_path):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "data", {"a": 3})))
    out = tmp_path / "res"
    run_benchmark(bench, Factory(), str(out), device="cpu", run_info={"checkpoint": "A.pth.tar"})
    run_benchmark(bench, Factory(), str(out), device="cpu", run_info={"checkpoint": "A.pth.tar"})
    with pytest.raises(ResultsConflictError, match="--overwrite"):
        run_benchmark(bench, Factory(), str(out), device="cpu", run_info={"checkpoint": "B.pth.tar"})
    summary = run_benchmark(bench, Factory(), str(out), device="cpu", run_info={"checkpoint": "B.pth.tar"},
                            overwrite=True)
    assert [r.name for r in summary.tracked] == ["a"]


def test_names_and_paths(tmp_path, monkeypatch):
    assert epoch_label("/x/CSTRACK_S2_ep0050.pth.tar") == "ep0050"
    assert default_results_dir("cstrack_s2", "LasHeR", "ep0050", save_dir="/s") == \
        os.path.join("/s", "output", "test", "tracking_results", "cstrack_s2", "LasHeR_ep0050")
    monkeypatch.setenv("CSTRACK_SAVE_DIR", str(tmp_path))
    assert default_results_dir("y", "VisEvent", "ep0001").startswith(str(tmp_path))
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
