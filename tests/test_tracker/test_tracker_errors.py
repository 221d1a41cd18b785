"""Trackers on tiny configs: what a frame step computes, where the config comes from, and clear errors."""
import numpy as np
import pytest
import torch

from lib.config import load_config, to_plain
from lib.config.loader import EXPERIMENTS_DIR
from lib.models import build_model
from lib.test.tracker import build_tracker, checkpoint_identity
from lib.utils.checkpoint import CheckpointError
from lib.utils.crop import sample_target

from tests.authors_format import write_authors_checkpoint


def _save(tmp_path, config, name, wrap=True, seed=0):
    torch.manual_seed(seed)
    net = build_model(load_config(config))
    path = tmp_path / name
    torch.save({"net": net.state_dict()} if wrap else net.state_dict(), path)
    return str(path)


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(120, 160, 6), dtype=np.uint8)


def _expected_box(tracker, out, state, resize_factor, height, width):
    """The tracker's box computed independently (NumPy) from the network's maps: Hann-windowed peak,
    offset and size there, mapped around the previous centre, clipped with a 10 px margin."""
    fs = tracker.feat_sz
    k = np.arange(1, fs + 1)
    hann = 0.5 * (1 - np.cos(2 * np.pi * k / (fs + 1)))
    response = np.outer(hann, hann) * out["score_map"][0, 0].numpy()
    iy, ix = np.unravel_index(np.argmax(response), response.shape)
    off = out["offset_map"][0, :, iy, ix].numpy()
    w, h = out["size_map"][0, :, iy, ix].numpy() * tracker.search_size / resize_factor
    cx = (ix + off[0]) / fs * tracker.search_size / resize_factor
    cy = (iy + off[1]) / fs * tracker.search_size / resize_factor
    half = 0.5 * tracker.search_size / resize_factor
    cx += state[0] + 0.5 * state[2] - half
    cy += state[1] + 0.5 * state[3] - half
    x1, y1, x2, y2 = cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h
    x1, y1 = min(max(0, x1), width - 10), min(max(0, y1), height - 10)
    x2, y2 = min(max(10, x2), width), min(max(10, y2), height)
    return [x1, y1, max(10, x2 - x1), max(10, y2 - y1)], float(response.max())


@pytest.mark.parametrize("stage", ["s1", "s2"])
def test_a_frame_step_is_the_windowed_peak_of_the_network_mapped_back(tmp_path, frame, stage, one_torch_thread):
    ckpt = _save(tmp_path, f"cstrack_{stage}_tiny", "bare.pth", wrap=False)
    tracker = build_tracker(f"cstrack_{stage}", ckpt, "lasher", "cpu", config=f"cstrack_{stage}_tiny")
    outputs = []
    run_network = tracker._run_network
    tracker._run_network = lambda states, search: outputs.append(run_network(states, search)) or outputs[-1]
    tracker.initialize(frame, {"init_bbox": [60, 40, 30, 20]})
    for _ in range(3):
        state = list(tracker.state)
        _, resize_factor = sample_target(frame, state, tracker.search_factor, tracker.search_size)
        out = tracker.track(frame)
        box, score = _expected_box(tracker, outputs[-1], state, resize_factor, 120, 160)
        np.testing.assert_allclose(out["target_bbox"], box, rtol=0, atol=1e-3)
        assert out["best_score"] == pytest.approx(score, abs=1e-6)


def test_a_3_channel_frame_is_rgb_with_x_a_copy_of_it(tmp_path, frame, one_torch_thread):
    ckpt = _save(tmp_path, "cstrack_s2_tiny", "t.pth.tar")
    results = []
    for image in (frame[..., :3], np.concatenate([frame[..., :3], frame[..., :3]], axis=2)):
        tracker = build_tracker("cstrack_s2", ckpt, "lasher", "cpu", config="cstrack_s2_tiny")
        tracker.initialize(image, {"init_bbox": [60, 40, 30, 20]})
        results.append([tracker.track(image) for _ in range(3)])
    assert results[0] == results[1]


def test_the_config_stored_in_a_checkpoint_is_used_without_config(tmp_path, frame, one_torch_thread):
    cfg = load_config("cstrack_s1_tiny", script="cstrack_s1")
    torch.manual_seed(0)
    net = build_model(cfg, arch="cstrack_s1")
    framework = tmp_path / "CSTRACK_S1_ep0006.pth.tar"
    torch.save({"net": net.state_dict(), "config": to_plain(cfg), "epoch": 6}, framework)
    tracker = build_tracker("cstrack_s1", str(framework), "lasher", "cpu")
    assert tracker.cfg.MODEL.BACKBONE.EMBED_DIM == cfg.MODEL.BACKBONE.EMBED_DIM
    assert tracker.identity.info["config"] == f"{framework} (stored config)"
    # the authors' files store no config: the named experiment is used; an explicit config wins
    authors = tmp_path / "CSTRACK_S1_ep0050.pth.tar"
    write_authors_checkpoint(authors, net.state_dict(), net_type="CSTRACK_S1", script="cstrack_s1")
    assert checkpoint_identity("cstrack_s1", str(authors)).info["config"] == "experiments/cstrack_s1/cstrack_s1.yaml"
    from_authors = build_tracker("cstrack_s1", str(authors), "lasher", "cpu", config="cstrack_s1_tiny")
    tracker.initialize(frame, {"init_bbox": [60, 40, 30, 20]})
    from_authors.initialize(frame, {"init_bbox": [60, 40, 30, 20]})
    assert tracker.track(frame) == from_authors.track(frame)


def test_identity_follows_the_weights_not_the_file(tmp_path, one_torch_thread):
    bare = _save(tmp_path, "cstrack_s1_tiny", "bare.pth", wrap=False)
    wrapped = _save(tmp_path, "cstrack_s1_tiny", "wrapped.pth")
    retrained = _save(tmp_path, "cstrack_s1_tiny", "retrained.pth", seed=1)
    ids = {name: checkpoint_identity("cstrack_s1", path, "lasher", "cstrack_s1_tiny")
           for name, path in (("bare", bare), ("wrapped", wrapped), ("retrained", retrained))}
    assert ids["bare"].digest == ids["wrapped"].digest != ids["retrained"].digest
    assert checkpoint_identity("cstrack_s1", bare, "depthtrack", "cstrack_s1_tiny").digest != ids["bare"].digest
    tracker = build_tracker("cstrack_s1", wrapped, "lasher", "cpu", config="cstrack_s1_tiny")
    assert tracker.identity.digest == ids["wrapped"].digest


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
