"""Sampler + processing + loader end to end on synthetic datasets (docs/training.md)."""
import logging

import numpy as np
import pytest
import torch

from lib.config import load_config
from lib.train.data import build_dataloaders
from lib.train.data.loader import build_datasets
from lib.train.data.sampler import TrackingSampler
from lib.train.dataset.base_video_dataset import MODALITY_TASK_CLASS, BaseVideoDataset, DatasetError
from lib.train.dataset.lasher import LasHeR
from lib.train.dataset.lasot import Lasot
from lib.train.dataset.vasttrack import VastTrack
from tests.synthetic_data import env_from_overrides, write_all_training_datasets, write_dataset

MEAN, STD = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
TASK_OF_NAME = {"lasot_lang": 0, "got10k": 0, "trackingnet": 0, "vasttrack_test": 0, "tnl2k": 0, "coco": 0,
                "lasher": 1, "visevent": 2, "depthtrack": 3}


def small_cfg(stage="cstrack_s1", num_search=None, template=32, search=64, samples=12):
    # The synthetic sequences are in no official split list: every sequence of the listed datasets.
    data = {"TEMPLATE": {"SIZE": template}, "SEARCH": {"SIZE": search}, "TRAIN": {"SAMPLE_PER_EPOCH": samples},
            "ALL_SEQUENCES": ["LASOT", "GOT10K_vottrain", "LasHeR_train", "DepthTrack_train"]}
    if num_search is not None:
        data["SEARCH"]["NUMBER"] = num_search
    return load_config(stage, overrides={"DATA": data, "TRAIN": {"NUM_WORKER": 0, "BATCH_SIZE": 3}})


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return env_from_overrides(write_all_training_datasets(root, num_seqs=2, num_frames=25, lmdb=False))


def check_batch(batch, nt, ns, batch_size, template, search):
    assert batch["template_images"].shape == (nt, batch_size, 6, template, template)
    assert batch["search_images"].shape == (ns, batch_size, 6, search, search)
    assert batch["template_anno"].shape == (nt, batch_size, 4) and batch["search_anno"].shape == (ns, batch_size, 4)
    assert batch["template_masks"].shape == (nt, batch_size, template, template)
    assert batch["search_masks"].shape == (ns, batch_size, search, search)
    assert batch["template_soft_mask"].shape == (nt, batch_size, (template // 16) ** 2, 1)
    assert batch["task_class"].shape == (batch_size,) and batch["task_class"].dtype == torch.int64
    assert batch["valid"].tolist() == [1] * batch_size
    assert len(batch["dataset"]) == batch_size and len(batch["test_class"]) == batch_size
    assert batch["task_class"].tolist() == [TASK_OF_NAME[n] for n in batch["dataset"]]
    for key in ("template_images", "search_images"):
        images = batch[key]
        assert torch.isfinite(images).all()
        assert images.min() >= (0 - MEAN / STD).min() - 1e-4 and images.max() <= ((1 - MEAN) / STD).max() + 1e-4
    # the ground-truth centre lies inside every crop; templates are centred exactly (no jitter)
    centres = batch["search_anno"][..., :2] + batch["search_anno"][..., 2:] / 2
    assert ((centres > 0) & (centres < 1)).all()
    assert (batch["search_anno"][..., 2:] > 0).all()
    t_centres = batch["template_anno"][..., :2] + batch["template_anno"][..., 2:] / 2
    torch.testing.assert_close(t_centres, torch.full_like(t_centres, 0.5))
    assert (batch["template_soft_mask"] >= 0).all() and (batch["template_soft_mask"] <= 1).all()
    assert batch["template_soft_mask"].sum() > 0


@pytest.mark.parametrize("stage, ns", [("cstrack_s1", 1), ("cstrack_s2", 6)])
def test_batches_small_config(env, stage, ns):
    cfg = small_cfg(stage)
    assert cfg.DATA.SEARCH.NUMBER == ns
    loader = build_dataloaders(cfg, env, num_workers=0, seed=0)
    assert len(loader) == 12 // 3
    batches = list(loader)
    assert len(batches) == 4
    for batch in batches:
        check_batch(batch, 2, ns, 3, 32, 64)
    assert sum(loader.dataset.failure_counts().values()) == 0


def test_batch_reference_sizes(env):
    loader = build_dataloaders(small_cfg("cstrack_s1", template=128, search=256), env, batch_size=2, num_workers=0,
                               seed=1)
    check_batch(next(iter(loader)), 2, 1, 2, 128, 256)


def test_same_seed_same_batches_with_workers(env):
    cfg = small_cfg("cstrack_s2", num_search=3, samples=4)
    first = list(build_dataloaders(cfg, env, batch_size=2, num_workers=2, seed=7))
    second = list(build_dataloaders(cfg, env, batch_size=2, num_workers=2, seed=7))
    assert len(first) == 2
    for a, b in zip(first, second):
        assert a["dataset"] == b["dataset"]
        assert torch.equal(a["search_images"], b["search_images"])
    other = list(build_dataloaders(cfg, env, batch_size=2, num_workers=2, seed=8))
    assert not torch.equal(first[0]["search_anno"], other[0]["search_anno"])
    # two workers never repeat each other's stream
    assert not torch.equal(first[0]["search_anno"], first[1]["search_anno"])


class MemoryDataset(BaseVideoDataset):
    """In-memory sequences of given lengths (all frames visible unless listed), 8x8 black frames."""

    def __init__(self, lengths, invisible=(), name="memory", modality="rgb"):
        super().__init__(name, "memory")
        self.modality = modality
        self.sequence_list = list(range(len(lengths)))
        self.lengths = lengths
        self.invisible = set(invisible)

    def _read_sequence_info(self, seq_id):
        n = self.lengths[seq_id]
        visible = torch.tensor([i not in self.invisible for i in range(n)])
        return {"bbox": torch.tensor([[1.0, 1.0, 4.0, 4.0]] * n), "valid": visible.clone(), "visible": visible}

    def get_frames(self, seq_id, frame_ids, seq_info=None):
        info = self.get_sequence_info(seq_id)
        frames = [np.full((8, 8, 6), f, np.uint16) for f in frame_ids]  # the frame id as pixel value
        return frames, self._frames_from_info(info, frame_ids), {"object_class_name": None}


def test_order_mode_frame_ids():
    """Nt + Ns visible ids within +-max_gap of a base frame, sorted ascending or descending (docs/training.md)."""
    ds = MemoryDataset([300], invisible=range(0, 300, 7))
    sampler = TrackingSampler([ds], None, 10, max_gap=20, num_search_frames=6, num_template_frames=2, seed=0)
    orders = set()
    for _ in range(200):
        data = sampler[0]
        ids = [int(f[0, 0, 0]) for f in data["template_images"] + data["search_images"]]
        assert len(ids) == 8 and all(i % 7 != 0 for i in ids)  # only visible frames
        assert max(ids) - min(ids) < 2 * 20
        assert ids == sorted(ids) or ids == sorted(ids, reverse=True)
        if ids[0] != ids[-1]:
            orders.add(ids[0] < ids[-1])
        assert data["task_class"] == 0 and data["dataset"] == "memory"
    assert orders == {True, False}  # reversed clips about half of the time


def test_short_or_mostly_invisible_sequences_are_never_used():
    # sequence 0: 19 frames (< 20); 1: 30 frames with only 6 visible (not > 2 (Nt + Ns) = 6); 2: fine
    ds = MemoryDataset([19, 30, 40], invisible=range(6, 30))
    ds.lengths = [19, 30, 40]
    sampler = TrackingSampler([ds], None, 10, max_gap=400, num_search_frames=1, num_template_frames=2, seed=0)
    for _ in range(50):
        data = sampler[0]
        assert max(int(f[0, 0, 0]) for f in data["search_images"]) < 40
    seen = set()
    original = ds.get_frames

    def spy(seq_id, frame_ids, seq_info=None):
        seen.add(seq_id)
        return original(seq_id, frame_ids, seq_info)

    ds.get_frames = spy
    for _ in range(50):
        sampler[0]
    assert seen == {2}


def test_dataset_ratios():
    a, b = MemoryDataset([30], name="a"), MemoryDataset([30], name="b", modality="rgbt")
    sampler = TrackingSampler([a, b], [2, 1], 10, max_gap=400, num_search_frames=1, seed=3)
    names = [sampler[0]["dataset"] for _ in range(600)]
    assert abs(names.count("a") / 600 - 2 / 3) < 0.06
    assert {sampler[0]["task_class"] for _ in range(50)} == {0, MODALITY_TASK_CLASS["rgbt"]}


def _messages(caplog, text):
    return [r for r in caplog.records if r.levelno == logging.WARNING and text in r.getMessage()]


def test_deleted_frame_is_logged_once_resampled_and_counted(tmp_path, caplog):
    root = write_dataset("LASOT", tmp_path, num_seqs=1, num_frames=21)
    (root / "airplane" / "airplane-1" / "img" / "00000007.jpg").unlink()
    sampler = TrackingSampler([Lasot(str(root), split=None)], None, 10, max_gap=400, num_search_frames=1, seed=0)
    with caplog.at_level(logging.WARNING):
        samples = [sampler[0] for _ in range(60)]
    assert all(len(s["search_images"]) == 1 for s in samples)
    failures = sampler.failure_counts()["lasot_lang"]
    assert failures >= 2
    assert len(_messages(caplog, "00000007.jpg")) == 1


def test_nan_box_is_logged_once_resampled_and_counted(tmp_path, caplog):
    """VastTrack's visibility is "row != 0", so a NaN row is drawn: the sampler must reject it."""
    root = write_dataset("VastTrack", tmp_path, num_seqs=1, num_frames=21)
    gt = root / "Aardvark" / "Aardvark-1" / "Groundtruth.txt"
    rows = gt.read_text().splitlines()
    rows[10] = "nan,nan,nan,nan"
    gt.write_text("\n".join(rows) + "\n")
    sampler = TrackingSampler([VastTrack(str(root))], None, 10, max_gap=400, num_search_frames=3, seed=0)
    with caplog.at_level(logging.WARNING):
        samples = [sampler[0] for _ in range(40)]
    assert all(torch.isfinite(torch.stack(s["search_anno"])).all() for s in samples)
    assert sampler.failure_counts()["vasttrack_test"] >= 2
    assert len(_messages(caplog, "frame 10 has box [nan")) == 1


def test_rgb_x_count_mismatch_is_skipped_and_counted(tmp_path, caplog):
    root = write_dataset("LasHeR_train", tmp_path, num_seqs=2, num_frames=21)
    (root / "2whitegirl" / "infrared" / "i000021.jpg").unlink()
    sampler = TrackingSampler([LasHeR(str(root), split=None)], None, 10, max_gap=400, num_search_frames=1, seed=0)
    with caplog.at_level(logging.WARNING):
        for _ in range(30):
            assert sampler[0]["dataset"] == "lasher"
    assert sampler.failure_counts()["lasher"] >= 2
    assert len(_messages(caplog, "has no X frame with number 21")) == 1


def test_failures_inside_workers_reach_the_main_process(tmp_path, env):
    root = write_dataset("LasHeR_train", tmp_path, num_seqs=2, num_frames=21)
    (root / "2whitegirl" / "infrared" / "i000021.jpg").unlink()
    cfg = small_cfg("cstrack_s1", samples=8)
    good = build_datasets(["LASOT"], env, cfg)[0]
    sampler = TrackingSampler([good, LasHeR(str(root), split=None)], [1, 3], 8, max_gap=400, num_search_frames=1,
                              seed=0)
    loader = torch.utils.data.DataLoader(sampler, batch_size=4, num_workers=2, collate_fn=list)
    list(loader)
    assert sampler.failure_counts()["lasher"] > 0


def test_unusable_dataset_raises_naming_it(tmp_path):
    root = write_dataset("LasHeR_train", tmp_path, num_seqs=2, num_frames=21)
    for seq in ("2whitegirl", "3bike2"):
        (root / seq / "infrared" / "i000001.jpg").unlink()
    sampler = TrackingSampler([LasHeR(str(root), split=None)], None, 10, max_gap=400, num_search_frames=1, seed=0,
                              max_failures=20)
    with pytest.raises(DatasetError, match="lasher"):
        sampler[0]
    short = MemoryDataset([10, 12], name="too_short")
    sampler = TrackingSampler([short], None, 10, max_gap=400, num_search_frames=1, seed=0, max_failures=5,
                              max_sequence_tries=20)
    with pytest.raises(DatasetError, match="too_short"):
        sampler[0]


def test_empty_dataset_raises(tmp_path):
    with pytest.raises(DatasetError, match="has no sequences"):
        TrackingSampler([MemoryDataset([])], None, 10, max_gap=400, num_search_frames=1)
    (tmp_path / "lasot").mkdir()
    with pytest.raises(DatasetError, match="no sequences found"):
        Lasot(str(tmp_path / "lasot"), split=None)
