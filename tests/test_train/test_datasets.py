"""Every training dataset class reads its real on-disk layout (synthetic copies, docs/training.md),
and the yaml dataset names read the official split lists of ``lib/train/data_specs/``."""
import logging
import math
import re

import numpy as np
import pytest
import torch

import lib.train.dataset  # noqa: F401  (registers the builders)
from lib.config import ConfigError, load_config
from lib.config.environment import SettingsError
from lib.registry import TRAIN_DATASETS
from lib.train.data.loader import build_datasets
from lib.train.dataset import base_video_dataset
from lib.train.dataset.base_video_dataset import DatasetError, SampleError
from lib.train.dataset.coco_seq import rle_counts_from_string, segmentation_to_mask
from lib.train.dataset.got10k import Got10k
from lib.train.dataset.lasher import LasHeR
from lib.train.dataset.lasot import Lasot
from lib.train.dataset.tnl2k import tnl2k_class_name
from tests.synthetic_data import (ENV_FIELDS, LMDB_DATASETS, TRAINING_DATASETS, env_from_overrides,
                                  write_all_training_datasets, write_dataset)

NUM_SEQS, NUM_FRAMES = 2, 25

# yaml name -> (get_name(), task class, channels, number of sequences, invisible frames of sequence 0)
EXPECTED = {
    "LASOT": ("lasot_lang", 0, 3, NUM_SEQS, {3, 5}),
    "GOT10K_vottrain": ("got10k", 0, 3, NUM_SEQS, {4, 6}),
    "TRACKINGNET": ("trackingnet", 0, 3, NUM_SEQS, set()),
    "VastTrack": ("vasttrack_test", 0, 3, NUM_SEQS, {7}),
    "TNL2K_train": ("tnl2k", 0, 3, NUM_SEQS, set()),
    "COCO17": ("coco", 0, 3, 2 * NUM_SEQS, None),
    "LasHeR_train": ("lasher", 1, 6, NUM_SEQS, set()),
    "DepthTrack_train": ("depthtrack", 3, 6, NUM_SEQS, {8}),
    "VisEvent": ("visevent", 2, 6, NUM_SEQS, {2}),
    "LASOT_lmdb": ("lasot_lmdb", 0, 3, NUM_SEQS, {3, 5}),
    "GOT10K_vottrain_lmdb": ("got10k_lmdb", 0, 3, NUM_SEQS, {4, 6}),
    "TRACKINGNET_lmdb": ("trackingnet_lmdb", 0, 3, NUM_SEQS, set()),
    "COCO17_lmdb": ("coco_lmdb", 0, 3, 2 * NUM_SEQS, None),
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    overrides = write_all_training_datasets(root, num_seqs=NUM_SEQS, num_frames=NUM_FRAMES)
    return root, env_from_overrides(overrides), load_config("cstrack_s1")


def build(name, env, cfg):
    """The registered dataset on the synthetic data: every sequence, since no official list names them."""
    builder = TRAIN_DATASETS.get(name)
    return builder(env, cfg, all_sequences=True) if getattr(builder, "split_list", None) else builder(env, cfg)


def test_every_yaml_name_is_registered():
    cfg = load_config("cstrack_s1")
    for name in list(cfg.DATA.TRAIN.DATASETS_NAME) + list(LMDB_DATASETS):
        assert name in TRAIN_DATASETS
    assert set(ENV_FIELDS) == set(TRAINING_DATASETS) | set(LMDB_DATASETS)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_dataset_reads_its_layout(data, name):
    _, env, cfg = data
    ds = build(name, env, cfg)
    ds_name, task_class, channels, num_seqs, invisible = EXPECTED[name]
    assert ds.get_name() == ds_name
    assert ds.task_class == task_class
    assert ds.get_num_sequences() == num_seqs
    info = ds.get_sequence_info(0)
    length = 1 if not ds.is_video_sequence() else NUM_FRAMES
    assert info["bbox"].shape == (length, 4) and info["bbox"].dtype == torch.float32
    assert info["valid"].shape == (length,) and info["visible"].shape == (length,)
    if invisible is not None:
        assert set(torch.nonzero(~info["visible"].bool()).flatten().tolist()) == invisible
    frame_ids = [0, 9, NUM_FRAMES - 1] if ds.is_video_sequence() else [0, 0]
    frames, anno, meta = ds.get_frames(0, frame_ids, info)
    assert len(frames) == len(frame_ids) and "object_class_name" in meta
    for frame, box in zip(frames, anno["bbox"]):
        assert frame.shape == (48, 64, channels) and frame.dtype == np.uint8
        x, y, w, h = box.tolist()
        cx, cy = int(x + w / 2), int(y + h / 2)
        r, _, b = frame[cy, cx, :3].astype(int)
        # the target is drawn blue-ish in RGB order on a dark background: annotation and frame agree
        assert b > 150 and r < 150, (name, frame[cy, cx])


def test_x_modalities(data):
    _, env, cfg = data
    lasot = Lasot(env.lasot_dir, split=None, multi_modal_vision=True)
    frames, _, _ = lasot.get_frames(0, [0], None)
    np.testing.assert_array_equal(frames[0][..., :3], frames[0][..., 3:])  # RGB datasets: X == RGB
    lasher = build("LasHeR_train", env, cfg)
    frames, anno, _ = lasher.get_frames(0, [4], None)
    x, y, w, h = anno["bbox"][0].tolist()
    assert (frames[0][int(y + h / 2), int(x + w / 2), 3:] > 200).all()  # bright thermal target
    depth = build("DepthTrack_train", env, cfg)
    frames, anno, _ = depth.get_frames(0, [4], None)
    x, y, w, h = anno["bbox"][0].tolist()
    # nearest depth -> normalised 0 -> JET colormap in OpenCV's BGR order = (128, 0, 0) (quirk kept)
    np.testing.assert_allclose(frames[0][int(y + h / 2), int(x + w / 2), 3:], [128, 0, 0], atol=2)


def test_depthtrack_nan_rows_and_thresholds(data):
    _, env, cfg = data
    info = build("DepthTrack_train", env, cfg).get_sequence_info(0)
    assert torch.isnan(info["bbox"][8]).all() and not info["valid"][8]
    visevent = build("VisEvent", env, cfg).get_sequence_info(0)
    assert not visevent["visible"][2] and visevent["valid"][2]  # absent_label = 0 while the box is valid


def test_lmdb_variants_match_the_file_datasets(data):
    _, env, cfg = data
    for file_name in ("LASOT", "GOT10K_vottrain", "TRACKINGNET"):
        files, lmdb = build(file_name, env, cfg), build(file_name + "_lmdb", env, cfg)
        assert [str(s) for s in files.sequence_list] == [str(s) for s in lmdb.sequence_list]
        a, anno_a, _ = files.get_frames(1, [2, 20], None)
        b, anno_b, _ = lmdb.get_frames(1, [2, 20], None)
        for fa, fb in zip(a, b):
            np.testing.assert_array_equal(fa, fb)
        torch.testing.assert_close(torch.stack(anno_a["bbox"]), torch.stack(anno_b["bbox"]))


def test_coco_masks_and_crowd_exclusion(data):
    _, env, cfg = data
    coco = build("COCO17", env, cfg)
    info = coco.get_sequence_info(0)
    assert not coco.is_video_sequence()
    assert info["mask"].shape == (1, 48, 64)
    x, y, w, h = info["bbox"][0].int().tolist()
    assert info["mask"][0, y + 1:y + h - 1, x + 1:x + w - 1].eq(1).all()
    assert info["mask"].sum() <= (w + 1) * (h + 1)
    frames, anno, meta = coco.get_frames(0, [0, 0, 0], info)
    assert len(frames) == 3 and meta["object_class_name"] == "person"
    assert all(torch.equal(m, info["mask"][0]) for m in anno["mask"])


def _rle_string(counts):
    """COCO's compressed RLE encoding (the inverse of rle_counts_from_string)."""
    out = []
    for i, value in enumerate(counts):
        x = value - counts[i - 2] if i > 2 else value
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = not ((c & 0x10) == 0 and x == 0 or (c & 0x10) != 0 and x == -1)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def test_coco_rle_decoding():
    counts = [5, 3, 40, 7, 1, 144]
    assert rle_counts_from_string(_rle_string(counts)) == counts
    mask = segmentation_to_mask({"counts": _rle_string([4, 2, 6]), "size": [3, 4]}, 3, 4)
    expected = np.zeros(12, np.uint8)
    expected[4:6] = 1
    np.testing.assert_array_equal(mask, expected.reshape(4, 3).T)  # column-major


def test_split_files_select_the_sequences(data, tmp_path, monkeypatch):
    root, env, _ = data
    monkeypatch.setattr(base_video_dataset, "DATA_SPECS_DIR", tmp_path)
    (tmp_path / "lasot_train_split.txt").write_text("bird-2\n")
    assert Lasot(env.lasot_dir, split="train").sequence_list == ["bird/bird-2"]
    (tmp_path / "lasher_train.txt").write_text("3bike2\n")
    assert LasHeR(env.lasher_dir, split="train").sequence_list == ["3bike2"]
    (tmp_path / "got10k_vot_train_split.txt").write_text("1\n")
    assert Got10k(env.got10k_dir, split="vottrain").sequence_list == ["GOT-10k_Train_000002"]
    (tmp_path / "got10k_vot_train_split.txt").write_text("0\n7085\n")
    with pytest.raises(DatasetError, match="list.txt"):
        Got10k(env.got10k_dir, split="vottrain")


@pytest.mark.parametrize("name,file", [("LASOT", "lasot_train_split.txt"),
                                       ("GOT10K_vottrain", "got10k_vot_train_split.txt"),
                                       ("GOT10K_votval", "got10k_vot_val_split.txt"),
                                       ("LasHeR_train", "lasher_train.txt"), ("DepthTrack_val", "depthtrack_val.txt"),
                                       ("LASOT_lmdb", "lasot_train_split.txt")])
def test_a_missing_split_list_is_an_error_naming_the_file(data, tmp_path, monkeypatch, name, file):
    _, env, cfg = data
    monkeypatch.setattr(base_video_dataset, "DATA_SPECS_DIR", tmp_path)  # an empty data_specs folder
    with pytest.raises(DatasetError, match=re.escape(str(tmp_path / file)) + ".*DATA.ALL_SEQUENCES"):
        TRAIN_DATASETS.get(name)(env, cfg)
    assert TRAIN_DATASETS.get(name)(env, cfg, all_sequences=True).get_num_sequences() >= NUM_SEQS  # asked for


def test_official_split_lists_ship_with_their_description():
    specs = base_video_dataset.DATA_SPECS_DIR
    readme = (specs / "README.md").read_text()
    lists = sorted(p.name for p in specs.glob("*.txt"))
    assert len(lists) == 15
    for name in lists:  # each file has a table row giving its number of entries
        rows = [line for line in (specs / name).read_text().splitlines() if line.strip()]
        row = next((line for line in readme.splitlines() if line.startswith("|") and f"`{name}`" in line), "")
        assert re.search(rf"\| [\d /]*\b{len(rows)}\b[\d /]* \|", row), (name, len(rows), row)
    for name in TRAIN_DATASETS.names():
        split_list = getattr(TRAIN_DATASETS.get(name), "split_list", None)
        if split_list:
            assert (specs / split_list).is_file() and name in readme, name


def test_lasher_and_depthtrack_names_read_their_official_lists(tmp_path, caplog):
    lasher_root = write_dataset("LasHeR_train", tmp_path, num_seqs=4, num_frames=21)
    # 2whitegirl and 3bike2 are LasHeR training sequences; make boy_run a validation one, car_far is in no list.
    (lasher_root / "boy_run").rename(lasher_root / "boywalkinginsnow3")
    depth_root = write_dataset("DepthTrack_train", tmp_path, num_seqs=2, num_frames=21)
    (depth_root / "adapter01_indoor").rename(depth_root / "toy03_indoor")  # a validation sequence
    (depth_root / "toy03_indoor" / "adapter01_indoor").rename(depth_root / "toy03_indoor" / "toy03_indoor")
    (depth_root / "bag01_indoor").rename(depth_root / "adapter02_indoor")  # a training sequence
    (depth_root / "adapter02_indoor" / "bag01_indoor").rename(depth_root / "adapter02_indoor" / "adapter02_indoor")
    env = env_from_overrides({"CSTRACK_LASHER_DIR": str(lasher_root), "CSTRACK_DEPTHTRACK_DIR": str(depth_root)})
    cfg = load_config("cstrack_s1")
    with caplog.at_level(logging.WARNING):
        train = TRAIN_DATASETS.get("LasHeR_train")(env, cfg)
    assert sorted(train.sequence_list) == ["2whitegirl", "3bike2"]
    assert any("880 of the 882 sequences of lasher_train.txt are not under" in r.getMessage() for r in caplog.records)
    assert TRAIN_DATASETS.get("LasHeR_val")(env, cfg).sequence_list == ["boywalkinginsnow3"]
    assert sorted(TRAIN_DATASETS.get("LasHeR_all")(env, cfg).sequence_list) == ["2whitegirl", "3bike2",
                                                                                "boywalkinginsnow3"]
    assert len(TRAIN_DATASETS.get("LasHeR_train")(env, cfg, all_sequences=True).sequence_list) == 4
    assert TRAIN_DATASETS.get("DepthTrack_train")(env, cfg).sequence_list == ["adapter02_indoor"]
    val = TRAIN_DATASETS.get("DepthTrack_val")(env, cfg)
    assert val.sequence_list == ["toy03_indoor"] and val.get_sequence_info(0)["bbox"].shape == (21, 4)


def test_a_root_without_any_listed_sequence_is_an_error(data):
    _, env, cfg = data  # synthetic LaSOT: airplane-1 is a test video, bird-2 is in no list
    with pytest.raises(DatasetError, match="none of the 1120 sequences of lasot_train_split.txt .*DATA.ALL_SEQUENCES"):
        TRAIN_DATASETS.get("LASOT")(env, cfg)


def test_dataset_names_are_checked_against_the_registry(data):
    _, env, _ = data
    cfg = load_config("cstrack_s1_tiny",
                      overrides=["DATA.TRAIN.DATASETS_NAME=[LasHeR_tran]", "DATA.TRAIN.DATASETS_RATIO=[1]"])
    with pytest.raises(ConfigError, match=r"DATA.TRAIN.DATASETS_NAME: unsupported dataset 'LasHeR_tran'; supported: "
                                          r"\[.*'LasHeR_train', 'LasHeR_val'"):
        build_datasets(cfg.DATA.TRAIN.DATASETS_NAME, env, cfg)
    cfg = load_config("cstrack_s1_tiny", overrides=["DATA.VAL.DATASETS_NAME=[GOT10K_valvot]"])
    with pytest.raises(ConfigError, match="DATA.VAL.DATASETS_NAME: unsupported dataset 'GOT10K_valvot'"):
        build_datasets(cfg.DATA.TRAIN.DATASETS_NAME, env, cfg)
    cfg = load_config("cstrack_s1_tiny", overrides=["DATA.ALL_SEQUENCES=[LASOT]"])
    with pytest.raises(ConfigError, match="DATA.ALL_SEQUENCES: 'LASOT' is not in"):
        build_datasets(cfg.DATA.TRAIN.DATASETS_NAME, env, cfg)
    cfg = load_config("cstrack_s1_tiny", overrides=["DATA.ALL_SEQUENCES=[VisEvent]"])
    with pytest.raises(ConfigError, match="'VisEvent' has no split list"):
        build_datasets(cfg.DATA.TRAIN.DATASETS_NAME, env, cfg)
    cfg = load_config("cstrack_s1_tiny")  # GOT-10k, LasHeR, DepthTrack in ALL_SEQUENCES; VisEvent has no list
    assert [d.get_num_sequences() for d in build_datasets(cfg.DATA.TRAIN.DATASETS_NAME, env, cfg)] == [NUM_SEQS] * 4


def test_missing_and_empty_roots(data, tmp_path):
    _, env, cfg = data
    env_missing = env_from_overrides({"CSTRACK_LASOT_DIR": str(tmp_path / "nope")})
    with pytest.raises(SettingsError, match="lasot_dir"):
        build("LASOT", env_missing, cfg)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no sequences"):
        Lasot(str(tmp_path / "empty"), split=None)


def test_listings_are_cached(data, monkeypatch):
    _, env, cfg = data
    lasher = build("LasHeR_train", env, cfg)
    calls = []
    original = base_video_dataset.list_images
    monkeypatch.setattr(base_video_dataset, "list_images", lambda path: calls.append(path) or original(path))
    for _ in range(3):
        lasher.get_frames(0, [1, 2, 3], None)
    assert len(calls) == 2  # visible/ and infrared/ listed once each


def test_bad_sequences_raise_sample_errors(tmp_path):
    """Missing frames, RGB/X count mismatches and malformed annotations name the file."""
    root = write_dataset("LasHeR_train", tmp_path, num_seqs=1, num_frames=21)
    seq = root / "2whitegirl"
    (seq / "infrared" / "i000021.jpg").unlink()
    lasher = LasHeR(str(root), split=None)
    with pytest.raises(SampleError, match=r"v000021.jpg has no X frame with number 21"):
        lasher.get_frames(0, [0], None)
    lasot_root = str(write_dataset("LASOT", tmp_path, num_seqs=1, num_frames=21))
    lasot = Lasot(lasot_root, split=None)
    frame = tmp_path / "lasot" / "airplane" / "airplane-1" / "img" / "00000005.jpg"
    frame.unlink()
    with pytest.raises(OSError, match="00000005.jpg"):
        lasot.get_frames(0, [4], None)
    gt = tmp_path / "lasot" / "airplane" / "airplane-1" / "groundtruth.txt"
    gt.write_text("1,2,3\n")
    with pytest.raises(SampleError, match="groundtruth.txt:1: 3 values"):
        Lasot(lasot_root, split=None).get_sequence_info(0)


def test_small_helpers():
    assert tnl2k_class_name("INF_bike_002") == "bike"
    assert tnl2k_class_name("CM_advSamp_car_003") == "advSamp"
    boxes = base_video_dataset.parse_boxes("1,2,3,4\nnan,nan,nan,nan\n5\t6\t7\t8\n9 10 11 12\n,1,2,3\n", "x")
    assert boxes.shape == (5, 4) and math.isnan(boxes[1, 0]) and boxes[3].tolist() == [9, 10, 11, 12]
    assert math.isnan(boxes[4, 0])
    assert base_video_dataset.parse_int_list("1\n0\n1\n", "x", first_char=True).tolist() == [1, 0, 1]


def test_rgbt_frames_are_ordered_and_paired_by_number_and_a_missing_partner_is_a_sample_error(tmp_path):
    """Unpadded LasHeR-style names follow the annotation rows; one missing thermal frame is caught."""
    import cv2
    import numpy as np

    from lib.train.dataset.lasher import LasHeR

    seq = tmp_path / "seqA"
    for folder, prefix in (("visible", "v"), ("infrared", "i")):
        (seq / folder).mkdir(parents=True)
        for k in range(12):  # names v0 .. v11: text order would put v10, v11 before v2
            cv2.imwrite(str(seq / folder / f"{prefix}{k}.jpg"), np.full((24, 32, 3), 20 * k, np.uint8))
    (seq / "visible.txt").write_text("".join(f"{k},{k},10,10\n" for k in range(12)))
    dataset = LasHeR(str(tmp_path), split=None)
    frames, annos, _ = dataset.get_frames(0, [2, 10])
    assert [int(f[0, 0, 0]) for f in frames] == [40, 200]  # frame 2 and frame 10, RGB and X alike
    assert [int(f[0, 0, 3]) for f in frames] == [40, 200]
    (seq / "infrared" / "i5.jpg").unlink()
    (seq / "infrared" / "i12.jpg").write_bytes((seq / "infrared" / "i11.jpg").read_bytes())
    fresh = LasHeR(str(tmp_path), split=None)
    with pytest.raises(SampleError, match=r"v5.jpg has no X frame"):
        fresh.get_frames(0, [0])
