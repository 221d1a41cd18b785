"""Training targets and losses: unit-level labels and end-to-end actor parity with the reference."""

import numpy as np
import pytest
import torch
from torchvision.ops import generalized_box_iou

from lib.config import load_config
from lib.models import build_model
from lib.train.actors import build_actor, task_targets
from lib.train.actors.losses import FocalLoss
from lib.utils.box_ops import box_xywh_to_xyxy, giou_loss, paired_giou
from lib.utils.heatmap import box_token_mask, gaussian_radius, generate_heatmap, soft_template_mask
from tests.parity_fixtures import fixture_batch, fixture_state_dict

LOSS_RTOL = 1e-5


def _rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def test_heatmaps_equal_reference_exactly(parity_dir):
    labels = np.load(parity_dir / "labels.npz")
    boxes = torch.from_numpy(labels["boxes"]).reshape(-1, 4)
    ours = generate_heatmap(boxes, 16).numpy().reshape(labels["heatmaps"].shape)
    np.testing.assert_array_equal(ours, labels["heatmaps"])


def test_focal_and_giou_losses_equal_reference(parity_dir):
    labels = np.load(parity_dir / "labels.npz")
    pred = torch.from_numpy(labels["focal_pred"])
    heatmaps = torch.from_numpy(labels["heatmaps"]).reshape(-1, 1, 16, 16)
    focal = FocalLoss()
    assert _rel(focal(pred, heatmaps).item(), float(labels["focal_loss_all"])) <= 1e-6
    per_map = np.array([focal(pred[i:i + 1], heatmaps[i:i + 1]).item() for i in range(pred.shape[0])])
    np.testing.assert_allclose(per_map, labels["focal_loss_per_map"], rtol=1e-6)
    a = box_xywh_to_xyxy(torch.from_numpy(labels["giou_boxes_a"]))
    b = box_xywh_to_xyxy(torch.from_numpy(labels["giou_boxes_b"]))
    loss, iou = giou_loss(a, b)
    assert _rel(loss.item(), float(labels["giou_loss"])) <= 1e-6
    np.testing.assert_allclose(iou.numpy(), labels["iou"], rtol=1e-6, atol=1e-7)


def test_paired_giou_equals_torchvision_diagonal():
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(50, 2, generator=g)
    a = torch.cat([xy, xy + torch.rand(50, 2, generator=g)], 1)
    xy = torch.rand(50, 2, generator=g)
    b = torch.cat([xy, xy + torch.rand(50, 2, generator=g)], 1)
    giou, _ = paired_giou(a, b)
    torch.testing.assert_close(giou, generalized_box_iou(a, b).diagonal())


@pytest.mark.parametrize("side,radius", [(1, 0), (3, 0), (4, 1), (8, 2), (16, 4)])
def test_gaussian_radius_check_values(side, radius):
    # check values computed by the reference's gaussian_radius (docs/training.md)
    s = torch.tensor(float(side))
    assert int(gaussian_radius(s, s)) == radius
    assert int(gaussian_radius(torch.tensor(3.0), torch.tensor(6.0))) == 1


def test_heatmap_orientation_rows_are_y():
    # a box centred at column 12, row 3 of the 16x16 grid
    box = torch.tensor([[12.25 / 16 - 0.05, 3.25 / 16 - 0.05, 0.1, 0.1]])
    hm = generate_heatmap(box, 16)[0, 0]
    assert hm[3, 12] == 1.0 and hm[12, 3] == 0.0


def test_template_mask_slicing_quirks():
    # box x=0.25..: 128 * 0.25 = 32 -> columns 32 .. int(32 + 32 - 1) = 63 exclusive: 31 columns
    masks = soft_template_mask(torch.tensor([[0.25, 0.25, 0.25, 0.25]]), 128, 16)
    assert masks.shape == (1, 64, 1)
    # patch (row 2, col 2) spans pixels 32..47: fully covered; patch (3, 3) covers 48..63 minus the last
    assert masks[0, 2 * 8 + 2, 0] == 1.0
    assert masks[0, 3 * 8 + 3, 0] == pytest.approx(15 * 15 / 256)
    # a negative start selects only the last pixels (Python slicing, quirk Q16)
    m = box_token_mask(0, 16, -1, 130, 128, 16)
    assert m.view(8, 8)[0, 7] == pytest.approx(16 / 256) and m.view(8, 8)[0, :7].sum() == 0


def test_task_targets_tiled_frame_major():
    t = task_targets(["lasher", "got10k", "depthtrack"], 2, torch.device("cpu"))
    assert t.tolist() == [1, 0, 3, 1, 0, 3]
    with pytest.raises(KeyError, match="no task class"):
        task_targets(["unknown_ds"], 1, torch.device("cpu"))


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["s1", "s2"])
def test_actor_reproduces_reference_training_step(parity_dir, stage):
    ref = np.load(parity_dir / f"train_{stage}.npz")
    cfg = load_config(f"cstrack_{stage}")
    net = build_model(cfg).eval()
    net.load_state_dict(fixture_state_dict(parity_dir, stage))
    actor = build_actor(f"cstrack_{stage}", net, cfg)
    batch = fixture_batch(ref)
    with torch.no_grad():
        out = actor.forward_pass(batch)
        loss, stats = actor.compute_losses(out, batch)
    for key in ref.files:
        if key.startswith("out."):
            np.testing.assert_allclose(out[key[4:]].numpy(), ref[key], rtol=0, atol=1e-4, err_msg=key)
    assert _rel(loss.item(), float(ref["loss.total"])) <= LOSS_RTOL
    # Every statistic the reference reported (fixture keys status.Loss_giou, ...) exists here and agrees.
    reference_stats = [key for key in ref.files if key.startswith("status.")]
    assert len(reference_stats) == 6
    ours = {"status." + key.replace("/", "_"): value for key, value in stats.items()}
    for key in reference_stats:
        assert key in ours, f"{key} of the reference is not reported"
        expected = float(ref[key])
        assert abs(ours[key] - expected) <= LOSS_RTOL * max(abs(expected), 1e-6), key
