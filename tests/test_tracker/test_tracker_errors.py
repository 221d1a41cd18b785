"""Clear errors for bad checkpoints and bad inputs; trackers on tiny configs (fast)."""
import numpy as np
import pytest
import torch

from lib.config import load_config
from lib.config.loader import EXPERIMENTS_DIR
from lib.models import build_model
from lib.test.tracker import build_tracker
from lib.utils.checkpoint import CheckpointError


def _save(tmp_path, config, name, wrap=True):
    net = build_model(load_config(config))
    path = tmp_path / name
    torch.save({"net": net.state_dict()} if wrap else net.state_dict(), path)
    return str(path)


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(120, 160, 6), dtype=np.uint8)


@pytest.mark.parametrize("stage", ["s1", "s2"])
def test_tiny_tracker_runs_and_accepts_bare_state_dict_and_3_channels(tmp_path, frame, stage):
    ckpt = _save(tmp_path, f"cstrack_{stage}_tiny", "bare.pth", wrap=False)
    tracker = build_tracker(f"cstrack_{stage}", ckpt, "lasher", "cpu", config=f"cstrack_{stage}_tiny")
    tracker.initialize(frame[..., :3], {"init_bbox": [60, 40, 30, 20]})
    for _ in range(3):
        out = tracker.track(frame[..., :3])
        x, y, w, h = out["target_bbox"]
        assert 0 <= x <= 150 and 0 <= y <= 110 and w >= 10 and h >= 10
        assert 0.0 < out["best_score"] < 1.0


def test_checkpoint_of_other_stage_is_rejected(tmp_path):
    ckpt = _save(tmp_path, "cstrack_s1_tiny", "CSTRACK_S1_ep0001.pth.tar")
    with pytest.raises(CheckpointError, match="missing keys.*temporal_fusion|dy_template_pos_embed"):
        build_tracker("cstrack_s2", ckpt, "lasher", "cpu", config="cstrack_s2_tiny")


def test_checkpoint_of_other_size_names_key_and_shapes(tmp_path):
    ckpt = _save(tmp_path, "cstrack_s1_tiny", "tiny.pth.tar")
    wide = tmp_path / "cstrack_s1_tiny_wide.yaml"
    wide.write_text(f"_base_: {EXPERIMENTS_DIR / 'cstrack_s1' / 'cstrack_s1_tiny.yaml'}\n"
                    "MODEL:\n  BACKBONE:\n    EMBED_DIM: 96\n")
    with pytest.raises(CheckpointError, match=r"shape mismatch at 'backbone.cls_token'.*\(1, 1, 64\).*\(1, 1, 96\)"):
        build_tracker("cstrack_s1", ckpt, "lasher", "cpu", config=str(wide))


def test_missing_checkpoint_names_path(tmp_path):
    missing = tmp_path / "nope" / "CSTRACK_S2_ep0050.pth.tar"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        build_tracker("cstrack_s2", str(missing), "lasher", "cpu", config="cstrack_s2_tiny")


def test_bad_init_box_and_bad_frames(tmp_path, frame):
    ckpt = _save(tmp_path, "cstrack_s1_tiny", "t.pth.tar")
    tracker = build_tracker("cstrack_s1", ckpt, "lasher", "cpu", config="cstrack_s1_tiny")
    for box in ([10, 10, 0, 20], [10, 10, 20, -5], [10, 10, float("nan"), 5]):
        with pytest.raises(ValueError, match="positive width and height"):
            tracker.initialize(frame, {"init_bbox": box})
    with pytest.raises(ValueError, match="H x W x 6"):
        tracker.initialize(frame[..., :4], {"init_bbox": [10, 10, 20, 20]})
    with pytest.raises(RuntimeError, match="initialize"):
        tracker.track(frame)
    tracker.initialize(frame, {"init_bbox": [10, 10, 20, 20]})
    with pytest.raises(ValueError, match="H x W x 6"):
        tracker.track(frame[..., 0])
    with pytest.raises(ValueError, match="uint8"):
        tracker.track(frame.astype(np.float32))
