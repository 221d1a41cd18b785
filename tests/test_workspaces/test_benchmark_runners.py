"""End to end: ``RGBT_workspace/test_rgbt_mgpus.py`` and ``RGBE_workspace/test_rgbe_mgpus.py`` on
synthetic LasHeR / RGBT234 / VisEvent folders with a tiny-config checkpoint (``docs/evaluation.md``).

Checks one row per frame, the reference delimiter / number format and first row, the default results
tree, worker processes, that a run killed part-way (serial, or the parent of two workers by ``kill -9``,
whose workers must die with it) and restarted ends with the same files as an uninterrupted run, and that
a second runner on the same folder stops with a message naming the first.
"""
import os
import runpy
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.authors_format import write_authors_checkpoint
from tests.test_evaluation import benchmark_data as syn
from tests.tiny_models import save_tiny_checkpoint

REPO_ROOT = Path(__file__).resolve().parents[2]
RGBT_SCRIPT = REPO_ROOT / "RGBT_workspace" / "test_rgbt_mgpus.py"
RGBE_SCRIPT = REPO_ROOT / "RGBE_workspace" / "test_rgbe_mgpus.py"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "CSTRACK_S1_ep0002.pth.tar", "cstrack_s1", seed=0)


def _args(dataset: str, data: Path, checkpoint: Path, *extra: str) -> list:
    return ["--script_name", "cstrack_s1", "--yaml_name", "cstrack_s1_tiny", "--dataset_name", dataset,
            "--checkpoint", str(checkpoint), "--device", "cpu", "--dataset_dir", str(data), *extra]


def _run_in_process(script: Path, args: list, monkeypatch) -> None:
    """Run a workspace script as ``__main__`` in this process (no interpreter start-up cost)."""
    monkeypatch.setattr(sys, "argv", [str(script), *args])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(script), run_name="__main__")
    assert exit_info.value.code == 0


def _results(folder: Path) -> dict:
    """Result files by name (timing files, the manifest and the lock differ from run to run and are left out)."""
    return {p.name: p.read_text() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.endswith("_time.txt") and p.name.endswith(".txt")}


@pytest.mark.slow
def test_rgbt_script_lasher_two_workers_default_tree(tmp_path, checkpoint, monkeypatch):
    data = syn.make_rgbt(tmp_path / "lasher", {"boy": 6, "car": 9, "dog": 5})
    save = tmp_path / "save"
    save.mkdir()
    env = dict(os.environ, CSTRACK_SAVE_DIR=str(save))
    proc = subprocess.run([sys.executable, str(RGBT_SCRIPT), *_args("LasHeR", data, checkpoint, "--threads", "2")],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout
    out = save / "output" / "test" / "tracking_results" / "cstrack_s1_tiny" / "LasHeR_ep0002"
    for name, frames in (("boy", 6), ("car", 9), ("dog", 5)):
        lines = (out / f"{name}.txt").read_text().splitlines()
        assert len(lines) == frames
        gt0 = np.loadtxt(data / name / "visible.txt", delimiter=",")[0]
        assert lines[0] == " ".join("%.18e" % v for v in gt0)  # row 0 = visible GT, np.savetxt format
        rows = np.loadtxt(out / f"{name}.txt")
        assert rows.shape == (frames, 4) and (rows[1:, 2:] >= 10).all()  # clip_box margin 10 (quirk Q20)
        assert len((out / f"{name}_time.txt").read_text().split()) == frames
    assert "[3/3]" in proc.stdout and "FPS" in proc.stdout and "ETA" in proc.stdout and "mean FPS" in proc.stdout
    # the two workers give the same files as one process
    serial = tmp_path / "serial"
    _run_in_process(RGBT_SCRIPT, _args("LasHeR", data, checkpoint, "--results_dir", str(serial)), monkeypatch)
    ours, theirs = _results(out), _results(serial)
    assert ours.keys() == theirs.keys()
    for name in ours:
        if name.endswith(".txt"):
            np.testing.assert_allclose(np.loadtxt(out / name), np.loadtxt(serial / name), rtol=0, atol=1e-3)


def test_the_authors_checkpoint_format_runs_without_a_flag(tmp_path, checkpoint, monkeypatch, one_torch_thread):
    """A file in the authors' trainer format (pickled trainer objects, storages on cuda:0) gives the same
    result files as the same weights saved as ``{"net": ...}``."""
    from lib.utils.checkpoint import extract_state_dict, read_checkpoint

    data = syn.make_visevent(tmp_path / "visevent", {"v1": 5})
    authors = tmp_path / "CSTRACK_S1_ep0002.pth.tar"
    write_authors_checkpoint(authors, extract_state_dict(read_checkpoint(str(checkpoint))), epoch=2,
                             net_type="CSTRACK_S1", script="cstrack_s1")
    for name, path in (("authors", authors), ("net", checkpoint)):
        _run_in_process(RGBE_SCRIPT, _args("VisEvent", data, path, "--results_dir", str(tmp_path / name)), monkeypatch)
    assert _results(tmp_path / "authors") == _results(tmp_path / "net")


@pytest.mark.slow
def test_rgbt234_and_visevent_formats(tmp_path, checkpoint, monkeypatch):
    data = syn.make_rgbt(tmp_path / "rgbt234", {"orangeman1": 6, "kite": 4}, extra_frames={"orangeman1": 1})
    out = tmp_path / "rgbt234_res"
    _run_in_process(RGBT_SCRIPT, _args("RGBT234", data, checkpoint, "--results_dir", str(out)), monkeypatch)
    assert len((out / "orangeman1.txt").read_text().splitlines()) == 7  # every frame, as the reference
    assert len((out / "kite.txt").read_text().splitlines()) == 4

    data = syn.make_visevent(tmp_path / "visevent", {"v1": 7, "v2": 5}, leading_absent={"v1": 2})
    out = tmp_path / "visevent_res"
    _run_in_process(RGBE_SCRIPT, _args("VisEvent", data, checkpoint, "--results_dir", str(out), "--video", "v1",
                                       "--debug", "0"), monkeypatch)  # the authors' --debug is accepted
    assert sorted(p.name for p in out.glob("*.txt")) == ["v1.txt", "v1_time.txt"]
    lines = (out / "v1.txt").read_text().splitlines()
    assert len(lines) == 5  # the 2 leading absent frames are dropped (docs/evaluation.md)
    gt = np.loadtxt(data / "v1" / "groundtruth.txt", delimiter=",")
    assert lines[0] == ",".join("%.14f" % v for v in gt[2])
    assert all(len(line.split(",")) == 4 and len(line.split(",")[0].split(".")[1]) == 14 for line in lines)


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_files(tmp_path, checkpoint, monkeypatch):
    names = {"s1": 15, "s2": 40, "s3": 40}  # the later ones long enough to be killed in
    data = syn.make_rgbt(tmp_path / "lasher", names)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(RGBT_SCRIPT),
                             *_args("LasHeR", data, checkpoint, "--results_dir", str(out))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not (out / "s1.txt").exists():
            assert proc.poll() is None and time.time() < deadline, "the run ended before its first result"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    finished = sorted(p.name for p in out.glob("s?.txt"))
    assert "s1.txt" in finished and len(finished) < 3  # killed part-way
    assert len((out / "s1.txt").read_text().splitlines()) == 15

    _run_in_process(RGBT_SCRIPT, _args("LasHeR", data, checkpoint, "--results_dir", str(out)), monkeypatch)
    reference = tmp_path / "uninterrupted"
    _run_in_process(RGBT_SCRIPT, _args("LasHeR", data, checkpoint, "--results_dir", str(reference)), monkeypatch)
    assert _results(out) == _results(reference)


def _children(pid: int) -> list:
    """Pids of the direct children of ``pid`` (Linux /proc)."""
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for a reaper counts as dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to find the worker processes")
def test_kill_9_of_the_parent_takes_its_workers_along_and_a_rerun_completes(tmp_path, checkpoint):
    data = syn.make_rgbt(tmp_path / "lasher", {f"s{i}": 40 for i in range(4)})
    out = tmp_path / "res"
    command = [sys.executable, str(RGBT_SCRIPT), *_args("LasHeR", data, checkpoint, "--results_dir", str(out),
                                                        "--threads", "2")]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not (out / "run_manifest.json").exists():  # written once both workers built their trackers
            assert proc.poll() is None and time.time() < deadline, "the run ended before it started tracking"
            time.sleep(0.02)
        workers = [p for p in _children(proc.pid)
                   if "spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    deadline = time.time() + 60
    while any(_alive(p) for p in workers):
        assert time.time() < deadline, f"workers {[p for p in workers if _alive(p)]} outlived their parent"
        time.sleep(0.05)
    assert len(list(out.glob("s?.txt"))) < 4  # killed part-way
    rerun = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout
    assert sorted(p.name for p in out.glob("s?.txt")) == ["s0.txt", "s1.txt", "s2.txt", "s3.txt"]
    assert not list(out.glob(".tmp_*"))
    for name in ("s0", "s1", "s2", "s3"):
        assert np.loadtxt(out / f"{name}.txt").shape == (40, 4)


@pytest.mark.slow
def test_a_second_runner_on_the_same_folder_stops_naming_the_first(tmp_path, checkpoint):
    data = syn.make_rgbt(tmp_path / "lasher", {"a": 60, "b": 60})
    out = tmp_path / "res"
    other = tmp_path / "CSTRACK_S1_ep0003.pth.tar"
    other.write_bytes(checkpoint.read_bytes())
    first = subprocess.Popen([sys.executable, str(RGBT_SCRIPT),
                              *_args("LasHeR", data, checkpoint, "--results_dir", str(out))],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while not (out / "run_manifest.json").exists():  # written only once the lock is held
            assert first.poll() is None and time.time() < deadline, "the first run ended before it started tracking"
            time.sleep(0.01)
        # Freeze the first run while it holds the lock, so the test does not race its tracking speed.
        os.kill(first.pid, signal.SIGSTOP)
        assert first.poll() is None, "the first run finished before it could be paused"
        second = subprocess.run([sys.executable, str(RGBT_SCRIPT),
                                 *_args("LasHeR", data, other, "--results_dir", str(out))],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    finally:
        first.kill()
        first.wait(timeout=60)
    assert second.returncode == 2
    error = second.stderr.strip().splitlines()[-1]
    assert error.startswith("error: ") and f"in use by another runner (pid {first.pid} on " in error
    assert "Traceback" not in second.stderr
