"""User errors of the benchmark runners: one ``error:`` line naming the file and the fix, exit code 2,
the traceback only with ``--verbose`` (``lib/test/evaluation/cli.py``, run in-process)."""
from pathlib import Path

import pytest

from lib.test.evaluation.cli import main
from lib.test.evaluation.errors import BenchmarkFailed

from tests.test_evaluation import benchmark_data as syn
from tests.tiny_models import save_tiny_checkpoint


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "CSTRACK_S1_ep0002.pth.tar", "cstrack_s1", seed=0)


@pytest.fixture
def data(tmp_path):
    return syn.make_rgbt(tmp_path / "lasher", {"a": 3, "b": 4})


def _run(capsys, data, checkpoint, *extra):
    code = main(["LasHeR", "RGBT234"], "test", ["--script_name", "cstrack_s1", "--yaml_name", "cstrack_s1_tiny",
                                                "--dataset_name", "LasHeR", "--checkpoint", str(checkpoint),
                                                "--device", "cpu", "--dataset_dir", str(data), *extra])
    return code, capsys.readouterr().err


def _one_error_line(err: str) -> str:
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in err, err
    return errors[0]


def test_unreadable_checkpoint(tmp_path, capsys, data, checkpoint, one_torch_thread):
    broken = tmp_path / "CSTRACK_S1_ep0009.pth.tar"
    broken.write_bytes(checkpoint.read_bytes()[:5000])
    code, err = _run(capsys, data, broken, "--results_dir", str(tmp_path / "res"))
    line = _one_error_line(err)
    assert code == 2 and str(broken) in line and "copy it again" in line
    assert not (tmp_path / "res" / "run_manifest.json").exists()  # nothing blocks the corrected rerun
    code, err = _run(capsys, data, broken, "--results_dir", str(tmp_path / "res"), "--verbose")
    assert code == 2 and "Traceback" in err and str(broken) in err.splitlines()[-1]
    code, err = _run(capsys, data, tmp_path / "nowhere.pth.tar", "--results_dir", str(tmp_path / "res"))
    assert code == 2 and "nowhere.pth.tar" in _one_error_line(err)
    code, _ = _run(capsys, data, checkpoint, "--results_dir", str(tmp_path / "res"))
    assert code == 0


def test_corrupt_and_missing_frames(tmp_path, capsys, data, checkpoint, one_torch_thread):
    frame = data / "b" / "visible" / "v002.jpg"
    frame.write_bytes(frame.read_bytes()[:-150])
    code, err = _run(capsys, data, checkpoint, "--results_dir", str(tmp_path / "res"))
    assert code == 2 and "Traceback" not in err
    assert f"b: cannot read image {frame}: the file is truncated" in err and "run the same command again" in err
    assert (tmp_path / "res" / "a.txt").is_file() and not (tmp_path / "res" / "b.txt").exists()
    (data / "a" / "infrared" / "i001.jpg").unlink()
    code, err = _run(capsys, data, checkpoint, "--results_dir", str(tmp_path / "res"))
    line = _one_error_line(err)
    assert code == 2 and "v001.jpg has no X frame with number 1" in line


@pytest.mark.skipif(not Path("/sys/kernel").is_dir(), reason="uses /sys, where nobody (not even root) may create folders")
def test_results_folder_without_permission(tmp_path, capsys, data, checkpoint):
    code, err = _run(capsys, data, checkpoint, "--results_dir", "/sys/cstrack_results/LasHeR")
    line = _one_error_line(err)
    assert code == 2 and "/sys/cstrack_results" in line and "choose another path" in line


def test_bad_dataset_root_and_settings(tmp_path, capsys, monkeypatch, checkpoint):
    code, err = _run(capsys, tmp_path / "nowhere", checkpoint)
    line = _one_error_line(err)
    assert code == 2 and "nowhere" in line and "visible/*.jpg" in line
    monkeypatch.setenv("CSTRACK_LASHER_TEST_DIR", str(tmp_path / "unset_root"))
    code = main(["LasHeR"], "test", ["--script_name", "cstrack_s1", "--checkpoint", str(checkpoint)])
    line = _one_error_line(capsys.readouterr().err)
    assert code == 2 and "lasher_test_dir" in line and "unset_root" in line


def test_a_bug_keeps_its_traceback(tmp_path, capsys, caplog, monkeypatch, data, checkpoint):
    def crash(self, image):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr("lib.test.tracker.cstrack.CSTrackTracker.track", crash)
    with pytest.raises(BenchmarkFailed, match="ZeroDivisionError|a bug"):
        _run(capsys, data, checkpoint, "--results_dir", str(tmp_path / "res"))
    assert "Traceback" in caplog.text and "ZeroDivisionError: a bug" in caplog.text
