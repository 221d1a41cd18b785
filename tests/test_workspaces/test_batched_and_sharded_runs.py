"""The runner's lockstep batches and a torchrun job over two processes write the files a single run writes.

A stage-2 tiny checkpoint (its memory makes the batch bookkeeping matter) on a synthetic LasHeR folder
with sequences of different lengths; result files are compared byte for byte.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_evaluation import benchmark_data as syn
from tests.test_workspaces.test_benchmark_runners import RGBT_SCRIPT, _results, _run_in_process
from tests.tiny_models import save_tiny_checkpoint

SEQUENCES = {"boy": 7, "car": 11, "dog": 4, "elk": 9, "fox": 6}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return save_tiny_checkpoint(tmp_path_factory.mktemp("ckpt") / "CSTRACK_S2_ep0001.pth.tar", "cstrack_s2", seed=2)


def _args(data: Path, checkpoint: Path, results: Path, *extra: str) -> list:
    return ["--script_name", "cstrack_s2", "--yaml_name", "cstrack_s2_tiny", "--dataset_name", "LasHeR",
            "--checkpoint", str(checkpoint), "--device", "cpu", "--dataset_dir", str(data),
            "--results_dir", str(results), *extra]


@pytest.fixture(scope="module")
def single_run(tmp_path_factory, checkpoint):
    root = tmp_path_factory.mktemp("single")
    data = syn.make_rgbt(root / "lasher", SEQUENCES)
    results = root / "results"
    monkeypatch = pytest.MonkeyPatch()
    try:
        _run_in_process(RGBT_SCRIPT, _args(data, checkpoint, results), monkeypatch)
    finally:
        monkeypatch.undo()
    return data, _results(results)


def test_lockstep_batches_write_the_same_files(tmp_path, checkpoint, single_run, monkeypatch, one_torch_thread):
    data, expected = single_run
    results = tmp_path / "batched"
    _run_in_process(RGBT_SCRIPT, _args(data, checkpoint, results, "--batch", "3"), monkeypatch)
    assert _results(results) == expected
    manifest = json.loads((results / "run_manifest.json").read_text())
    assert sorted(manifest["sequences"]) == sorted(SEQUENCES)


@pytest.mark.slow
def test_a_torchrun_job_of_two_processes_writes_the_same_files(tmp_path, checkpoint, single_run):
    data, expected = single_run
    results = tmp_path / "sharded"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(RGBT_SCRIPT), *_args(data, checkpoint, results, "--batch", "2")]
    proc = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout
    assert _results(results) == expected
    manifest = json.loads((results / "run_manifest.json").read_text())
    assert sorted(manifest["sequences"]) == sorted(SEQUENCES)
    assert "(2 processes)" in proc.stdout and "process 1 of 2" in proc.stdout
    # The same job again: every sequence is recorded for this identity, nothing is tracked.
    again = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=600)
    assert again.returncode == 0, again.stdout
    assert "0 tracked, 5 already done" in again.stdout
