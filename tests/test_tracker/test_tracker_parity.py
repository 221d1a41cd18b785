"""Whole tracking runs through the public ``build_tracker`` API reproduce the reference's boxes.

The checkpoints hold the fixture weights as ``{"net": ...}`` files. The fourth fixture run, stage 2 on
LasHeR, is reproduced end to end by the RGBT runner from a file in the authors' trainer format
(tests/test_workspaces/test_runner_parity.py), so it is not tracked a second time here: each full-size
run costs about a minute and a half of the suite on 2 CPU cores.
"""
import numpy as np
import pytest
import torch

from lib.test.tracker import build_tracker

from tests.parity_fixtures import fixture_sequence, fixture_state_dict, load_recipe


@pytest.fixture(scope="module")
def sequence(parity_dir):
    return fixture_sequence(parity_dir)


def test_recipe_regenerates_the_stored_sequence(parity_dir, sequence):
    rgb, x, gt = load_recipe(parity_dir).synthetic_sequence(60)
    frames, boxes = sequence
    np.testing.assert_array_equal(np.concatenate([rgb, x], axis=3), frames)
    np.testing.assert_array_equal(gt, boxes)


@pytest.mark.slow
@pytest.mark.parametrize("stage,dataset", [("s1", "lasher"), ("s1", "depthtrack"), ("s2", "depthtrack")])
def test_tracking_run_matches_reference(parity_dir, tmp_path, sequence, stage, dataset):
    frames, gt = sequence
    checkpoint = tmp_path / f"CSTRACK_{stage.upper()}_ep0050.pth.tar"
    torch.save({"net": fixture_state_dict(parity_dir, stage), "epoch": 50}, checkpoint)
    ref = np.load(parity_dir / f"tracker_{stage}_{dataset}.npz")
    tracker = build_tracker(f"cstrack_{stage}", checkpoint=str(checkpoint), dataset_name=dataset, device="cpu")
    assert tracker.update_interval == int(ref["update_interval"])
    assert tracker.update_threshold == pytest.approx(float(ref["update_threshold"]))
    tracker.initialize(frames[0], {"init_bbox": gt[0].tolist()})
    boxes, scores = [gt[0].tolist()], [1.0]
    for frame in frames[1:]:
        out = tracker.track(frame)
        boxes.append(out["target_bbox"])
        scores.append(out["best_score"])
    np.testing.assert_allclose(np.array(boxes), ref["boxes"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(np.array(scores), ref["scores"], rtol=0, atol=1e-5)
