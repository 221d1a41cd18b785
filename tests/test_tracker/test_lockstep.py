"""Lockstep batches give every sequence the boxes it gets on its own (both stages, fp32)."""
import numpy as np
import pytest
import torch

from lib.config import load_config
from lib.models import build_model
from lib.registry import TRACKERS
from lib.test.evaluation.datasets import load_benchmark
from lib.test.evaluation.lockstep import track_in_lockstep
from lib.test.evaluation.runner import track_sequence

import lib.test.tracker  # noqa: F401 (registers the trackers)
from tests.test_evaluation import benchmark_data as syn


def _tracker(stage):
    cfg = load_config(f"cstrack_{stage}_tiny")
    torch.manual_seed(3)
    tracker = TRACKERS.get(f"cstrack_{stage}")(build_model(cfg, arch=f"cstrack_{stage}"), cfg, "lasher")
    # Frequent, unconditional template updates so that per-sequence update schedules are exercised.
    tracker.update_interval, tracker.update_threshold = 3, -1.0
    return tracker


@pytest.mark.parametrize("stage", ["s1", "s2"])
def test_three_sequences_of_different_lengths_in_lockstep_equal_one_at_a_time(tmp_path, stage, one_torch_thread):
    bench = load_benchmark("LasHeR", str(syn.make_rgbt(tmp_path / "d", {"a": 9, "b": 14, "c": 5, "d": 7})))
    tracker = _tracker(stage)
    alone = {seq.name: track_sequence(tracker, seq) for seq in bench}
    together = {}
    for seq, outputs, error in track_in_lockstep(tracker, bench.sequences, batch_size=3):
        assert error is None
        together[seq.name] = outputs
    assert sorted(together) == sorted(alone)
    for name in alone:
        np.testing.assert_array_equal(together[name]["boxes"], alone[name]["boxes"])
        np.testing.assert_array_equal(together[name]["scores"][1:], alone[name]["scores"][1:])


def test_a_sequence_with_an_unreadable_frame_fails_alone(tmp_path, one_torch_thread):
    root = syn.make_rgbt(tmp_path / "d", {"a": 6, "b": 6})
    bench = load_benchmark("LasHeR", str(root))
    broken = bench["a"].rgb_frames[3]
    with open(broken, "r+b") as handle:
        handle.truncate(100)
    outcome = {seq.name: (outputs, error) for seq, outputs, error in
               track_in_lockstep(_tracker("s1"), bench.sequences, batch_size=2)}
    assert outcome["a"][0] is None and broken in str(outcome["a"][1])
    assert outcome["b"][1] is None and outcome["b"][0]["boxes"].shape == (6, 4)
