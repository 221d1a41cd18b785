"""Tiny synthetic copies of every training dataset, in each dataset's real on-disk layout.

Public API (reused by the training-loop and quickstart tests, and by
``python -m tests.benchmarks.data_pipeline``)::

    from tests.synthetic_data import write_dataset, write_all_training_datasets, env_from_overrides

    root = write_dataset("LasHeR_train", data_dir)          # -> data_dir/lasher/trainingset
    overrides = write_all_training_datasets(data_dir)      # {"CSTRACK_LASHER_DIR": ..., ...}
    env = env_from_overrides(overrides)                    # EnvSettings with those roots

Datasets land where ``tracking/create_default_local_file.py --data_dir <data_dir>`` points
(:data:`lib.config.environment.DEFAULT_DATA_LAYOUT`), so a generated ``local.py`` finds them too.
Frames are real JPEG / BMP / 16-bit PNG files showing a bright rectangle (the target) moving over
noise; the boxes in the annotation files are that rectangle. A few frames per sequence are marked
occluded / absent so that the visibility rules are exercised.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional, Tuple, Union

import cv2
import numpy as np

from lib.config.environment import DEFAULT_DATA_LAYOUT, ENV_PREFIX, EnvSettings
from lib.utils.lmdb_utils import build_lmdb_from_folder, build_trackingnet_lmdb

PathLike = Union[str, Path]
Size = Tuple[int, int]

# yaml dataset name -> settings field of its root
ENV_FIELDS: Dict[str, str] = {
    "LASOT": "lasot_dir",
    "GOT10K_vottrain": "got10k_dir",
    "TRACKINGNET": "trackingnet_dir",
    "VastTrack": "vasttrack_dir",
    "TNL2K_train": "tnl2k_dir",
    "COCO17": "coco_dir",
    "LasHeR_train": "lasher_dir",
    "DepthTrack_train": "depthtrack_dir",
    "VisEvent": "visevent_dir",
    "LASOT_lmdb": "lasot_lmdb_dir",
    "GOT10K_vottrain_lmdb": "got10k_lmdb_dir",
    "TRACKINGNET_lmdb": "trackingnet_lmdb_dir",
    "COCO17_lmdb": "coco_lmdb_dir",
}
TRAINING_DATASETS = ("LASOT", "GOT10K_vottrain", "TRACKINGNET", "VastTrack", "TNL2K_train", "COCO17",
                     "LasHeR_train", "DepthTrack_train", "VisEvent")
LMDB_DATASETS = ("LASOT_lmdb", "GOT10K_vottrain_lmdb", "TRACKINGNET_lmdb", "COCO17_lmdb")


# ----- frames and boxes -----
def synthetic_boxes(num_frames: int, size: Size, rng: np.random.Generator, min_side: int = 14) -> np.ndarray:
    """(T, 4) integer-valued xywh boxes of a target drifting inside a ``size`` = (W, H) image."""
    width, height = size
    w = int(rng.integers(min_side, min_side + max(2, width // 8)))
    h = int(rng.integers(min_side, min_side + max(2, height // 8)))
    x, y = float(rng.uniform(0, width - w)), float(rng.uniform(0, height - h))
    vx, vy = rng.uniform(-1.5, 1.5, size=2)
    boxes = []
    for _ in range(num_frames):
        boxes.append([round(x), round(y), w, h])
        x, y = x + vx, y + vy
        if not 0 <= x <= width - w:
            vx, x = -vx, min(max(x, 0.0), width - w)
        if not 0 <= y <= height - h:
            vy, y = -vy, min(max(y, 0.0), height - h)
    return np.asarray(boxes, np.float64)


def draw_frame(box: Iterable[float], size: Size, rng: np.random.Generator,
               color: Tuple[int, int, int] = (230, 60, 40)) -> np.ndarray:
    """H x W x 3 uint8 BGR image: noise background plus a filled rectangle at ``box``."""
    width, height = size
    img = rng.integers(0, 90, size=(height, width, 3), dtype=np.uint8)
    x, y, w, h = (int(v) for v in box)
    img[max(y, 0):y + h, max(x, 0):x + w] = color
    return img


def draw_depth(box: Iterable[float], size: Size, rng: np.random.Generator) -> np.ndarray:
    """H x W uint16 depth map (millimetres): a near target in front of a far, noisy background."""
    width, height = size
    depth = rng.integers(3000, 5000, size=(height, width)).astype(np.uint16)
    x, y, w, h = (int(v) for v in box)
    depth[max(y, 0):y + h, max(x, 0):x + w] = 1200
    return depth


def _write_image(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), img):
        raise OSError(f"cv2.imwrite failed for {path}")


def _write_boxes(path: Path, boxes: np.ndarray, sep: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join("nan" if np.isnan(v) else f"{v:g}" for v in row) for row in boxes]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _flags(num_frames: int, ones_at: Iterable[int]) -> np.ndarray:
    flags = np.zeros(num_frames, np.int64)
    flags[[i for i in ones_at if i < num_frames]] = 1
    return flags


# ----- one writer per layout; each writes into `root` (the settings root) -----
def _write_lasot(root: Path, num_seqs: int, num_frames: int, size: Size, rng: np.random.Generator) -> None:
    classes = ["airplane", "bird", "cat", "dog"]
    for i in range(num_seqs):
        cls = classes[i % len(classes)]
        seq = root / cls / f"{cls}-{i + 1}"
        boxes = synthetic_boxes(num_frames, size, rng)
        for t, box in enumerate(boxes):
            _write_image(seq / "img" / f"{t + 1:08d}.jpg", draw_frame(box, size, rng))
        _write_boxes(seq / "groundtruth.txt", boxes)
        (seq / "full_occlusion.txt").write_text(",".join(map(str, _flags(num_frames, [3]))), encoding="utf-8")
        (seq / "out_of_view.txt").write_text(",".join(map(str, _flags(num_frames, [5]))), encoding="utf-8")
        (seq / "nlp.txt").write_text(f"the {cls} flying over the noise\n", encoding="utf-8")


def _write_got10k(root: Path, num_seqs: int, num_frames: int, size: Size, rng: np.random.Generator) -> None:
    names = [f"GOT-10k_Train_{i + 1:06d}" for i in range(num_seqs)]
    for name in names:
        seq = root / name
        boxes = synthetic_boxes(num_frames, size, rng)
        for t, box in enumerate(boxes):
            _write_image(seq / f"{t + 1:08d}.jpg", draw_frame(box, size, rng))
        _write_boxes(seq / "groundtruth.txt", boxes)
        cover = np.full(num_frames, 8, np.int64)
        cover[min(6, num_frames - 1)] = 0
        (seq / "absence.label").write_text("\n".join(map(str, _flags(num_frames, [4]))) + "\n", encoding="utf-8")
        (seq / "cover.label").write_text("\n".join(map(str, cover)) + "\n", encoding="utf-8")
        (seq / "cut_by_image.label").write_text("\n".join(["0"] * num_frames) + "\n", encoding="utf-8")
        (seq / "meta_info.ini").write_text(
            "[METAINFO]\nurl: https://example.invalid/video\nbegin: 00:00:00\nend: 00:00:10\nanno_fps: 10Hz\n"
            "object_class: ball\nmotion_class: rolling\nmajor_class: artifact\nroot_class: object\n"
            "motion_adverb: slowly\nresolution: (64, 48)\n", encoding="utf-8")
    (root / "list.txt").write_text("\n".join(names) + "\n", encoding="utf-8")


def _write_trackingnet(root: Path, num_seqs: int, num_frames: int, size: Size, rng: np.random.Generator) -> None:
    for i in range(num_seqs):
        chunk = root / f"TRAIN_{i % 2}"
        vid = f"vid{i:03d}_{rng.integers(1000, 9999)}"
        boxes = synthetic_boxes(num_frames, size, rng)
        for t, box in enumerate(boxes):
            _write_image(chunk / "frames" / vid / f"{t}.jpg", draw_frame(box, size, rng))
        _write_boxes(chunk / "anno" / f"{vid}.txt", boxes)


def _write_vasttrack(root: Path, num_seqs: int, num_frames: int, size: Size, rng: np.random.Generator) -> None:
    classes = ["Aardvark", "Abacus", "Accordion"]
    for i in range(num_seqs):
        cls = classes[i % len(classes)]
        seq = root / cls / f"{cls}-{i + 1}"
        boxes = synthetic_boxes(num_frames, size, rng)
        for t, box in enumerate(boxes):
            _write_image(seq / "imgs" / f"{t + 1:05d}.jpg", draw_frame(box, size, rng))
        boxes[min(7, num_frames - 1)] = 0  # an all-zero row = invisible frame
        _write_boxes(seq / "Groundtruth.txt", boxes)
        (seq / "nlp.txt").write_text(f"a {cls.lower()} on a noisy table\n", encoding="utf-8")


def _write_tnl2k(root: Path, num_seqs: int, num_frames: int, size: Size, rng: np.random.Generator) -> None:
    names = ["Baseball_game_001", "INF_bike_002", "CM_advSamp_car_003", "girl_004"]
    for i in range(num_seqs):
        seq = root / names[i % len(names)] if i < len(names) else root / f"seq_{i:03d}"
        boxes = synthetic_boxes(num_frames, size, rng)
        for t, box in enumerate(boxes):
            _write_image(seq / "imgs" / f"{t + 1:05d}.jpg", draw_frame(box, size, rng))
        _write_boxes(seq / "groundtruth.txt", boxes)
        (seq / "language.txt").write_text("the target moving right\n", encoding="utf-8")


def _write_coco(root: Path, num_seqs: int, num_frames: int, size: Size, rng: np.random.Generator) -> None:
    width, height = size
    images, annotations = [], []
    for i in range(num_seqs):
        file_name = f"{i + 1:012d}.jpg"
        img = rng.integers(0, 90, size=(height, width, 3), dtype=np.uint8)
        boxes = [synthetic_boxes(1, size, rng)[0] for _ in range(3)]
        for k in (2, 1, 0):  # drawn back to front: object 0 is fully visible
            x, y, w, h = (int(v) for v in boxes[k])
            img[y:y + h, x:x + w] = (230, 60 + 60 * k, 40)
        for k in range(3):  # two objects plus one crowd region (crowd is skipped by the dataset)
            x, y, w, h = (int(v) for v in boxes[k])
            annotations.append({
                "id": len(annotations) + 1, "image_id": i + 1, "category_id": 1 + k % 2, "iscrowd": int(k == 2),
                "bbox": [float(x), float(y), float(w), float(h)], "area": float(w * h),
                "segmentation": ([[x, y, x + w, y, x + w, y + h, x, y + h]] if k < 2 else
                                 {"counts": [x * height, w * height, (width - x - w) * height],
                                  "size": [height, width]}),  # uncompressed RLE: full-height columns
            })
        _write_image(root / "images" / "train2017" / file_name, img)
        images.append({"id": i + 1, "file_name": file_name, "height": height, "width": width})
    data = {"images": images, "annotations": annotations,
            "categories": [{"id": 1, "name": "person", "supercategory": "person"},
                           {"id": 2, "name": "kite", "supercategory": "outdoor"}]}
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / "instances_train2017.json").write_text(json.dumps(data), encoding="utf-8")


def _write_lasher(root: Path, num_seqs: int, num_frames: int, size: Size, rng: np.random.Generator) -> None:
    names = ["2whitegirl", "3bike2", "boy_run", "car_far"]
    for i in range(num_seqs):
        seq = root / (names[i] if i < len(names) else f"seq{i:03d}")
        boxes = synthetic_boxes(num_frames, size, rng)
        for t, box in enumerate(boxes):
            _write_image(seq / "visible" / f"v{t + 1:06d}.jpg", draw_frame(box, size, rng))
            thermal = draw_frame(box, size, rng, color=(250, 250, 250))
            _write_image(seq / "infrared" / f"i{t + 1:06d}.jpg", cv2.cvtColor(
                cv2.cvtColor(thermal, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR))
        _write_boxes(seq / "visible.txt", boxes)
        _write_boxes(seq / "infrared.txt", boxes)


def _write_depthtrack(root: Path, num_seqs: int, num_frames: int, size: Size, rng: np.random.Generator) -> None:
    names = ["adapter01_indoor", "bag01_indoor", "ball10_wild", "bandlight_indoor"]
    for i in range(num_seqs):
        name = names[i] if i < len(names) else f"seq{i:03d}_indoor"
        seq = root / name / name  # the real archive nests the sequence folder twice
        boxes = synthetic_boxes(num_frames, size, rng, min_side=14)
        for t, box in enumerate(boxes):
            _write_image(seq / "color" / f"{t + 1:08d}.jpg", draw_frame(box, size, rng))
            _write_image(seq / "depth" / f"{t + 1:08d}.png", draw_depth(box, size, rng))
        boxes[min(8, num_frames - 1)] = np.nan  # target lost: NaN row
        _write_boxes(seq / "groundtruth.txt", boxes)


def _write_visevent(root: Path, num_seqs: int, num_frames: int, size: Size, rng: np.random.Generator) -> None:
    for i in range(num_seqs):
        seq = root / f"00{141 + i}_tank_outdoor2"
        boxes = synthetic_boxes(num_frames, size, rng)
        for t, box in enumerate(boxes):
            _write_image(seq / "vis_imgs" / f"frame{t:04d}.bmp", draw_frame(box, size, rng))
            event = np.full((size[1], size[0], 3), 255, np.uint8)
            x, y, w, h = (int(v) for v in box)
            event[y:y + h, x:x + 2] = (255, 0, 0)
            event[y:y + h, x + w - 2:x + w] = (0, 0, 255)
            _write_image(seq / "event_imgs" / f"frame{t:04d}.bmp", event)
        _write_boxes(seq / "groundtruth.txt", boxes)
        absent = np.ones(num_frames, np.int64)
        absent[min(2, num_frames - 1)] = 0
        (seq / "absent_label.txt").write_text("\n".join(map(str, absent)) + "\n", encoding="utf-8")


_WRITERS: Dict[str, Callable[[Path, int, int, Size, np.random.Generator], None]] = {
    "LASOT": _write_lasot, "GOT10K_vottrain": _write_got10k, "TRACKINGNET": _write_trackingnet,
    "VastTrack": _write_vasttrack, "TNL2K_train": _write_tnl2k, "COCO17": _write_coco,
    "LasHeR_train": _write_lasher, "DepthTrack_train": _write_depthtrack, "VisEvent": _write_visevent,
}


def dataset_root(name: str, data_dir: PathLike) -> Path:
    """Where ``name`` lives under ``data_dir`` (the default ``local.py`` layout)."""
    return Path(data_dir) / DEFAULT_DATA_LAYOUT[ENV_FIELDS[name]]


def write_dataset(name: str, data_dir: PathLike, num_seqs: int = 2, num_frames: int = 25, size: Size = (64, 48),
                  seed: int = 0) -> Path:
    """Write a synthetic copy of dataset ``name`` (yaml name, e.g. ``LasHeR_train`` or ``LASOT_lmdb``).

    Args:
        name: a key of :data:`ENV_FIELDS`.
        data_dir: the data folder; the dataset goes to its default sub-folder (``lasher/trainingset``).
        num_seqs: sequences (COCO: images, each with two usable annotations).
        num_frames: frames per sequence (the sampler needs >= 20).
        size: (width, height) of the frames.
        seed: seed of the content.
    Returns:
        The dataset root, i.e. the value for its settings field. LMDB variants first write the
        file-based dataset (if absent) and convert it.
    """
    if name not in ENV_FIELDS:
        raise KeyError(f"no synthetic writer for '{name}'; known: {sorted(ENV_FIELDS)}")
    root = dataset_root(name, data_dir)
    rng = np.random.default_rng([seed, sorted(ENV_FIELDS).index(name)])
    if name in _WRITERS:
        root.mkdir(parents=True, exist_ok=True)
        _WRITERS[name](root, num_seqs, num_frames, size, rng)
        return root
    source_name = name[: -len("_lmdb")]
    source = dataset_root(source_name, data_dir)
    if not source.is_dir():
        write_dataset(source_name, data_dir, num_seqs, num_frames, size, seed)
    if name == "TRACKINGNET_lmdb":
        build_trackingnet_lmdb(source, root)
    else:
        build_lmdb_from_folder(source, root, key_prefix="train/" if name.startswith("GOT10K") else "")
    return root


def write_all_training_datasets(data_dir: PathLike, num_seqs: int = 2, num_frames: int = 25, size: Size = (64, 48),
                                seed: int = 0, lmdb: bool = True, names: Optional[Iterable[str]] = None
                                ) -> Dict[str, str]:
    """Write all nine training datasets (and, with ``lmdb``, the four LMDB variants) under ``data_dir``.

    Returns the environment overrides pointing at them, e.g. ``{"CSTRACK_LASOT_DIR": ".../lasot"}``:
    pass them to ``monkeypatch.setenv`` / a subprocess env, or to :func:`env_from_overrides`.
    """
    names = list(names) if names is not None else list(TRAINING_DATASETS) + (list(LMDB_DATASETS) if lmdb else [])
    overrides = {}
    for name in names:
        root = write_dataset(name, data_dir, num_seqs=num_seqs, num_frames=num_frames, size=size, seed=seed)
        overrides[ENV_PREFIX + ENV_FIELDS[name].upper()] = os.fspath(root)
    return overrides


def env_from_overrides(overrides: Dict[str, str], **fields: str) -> EnvSettings:
    """An :class:`EnvSettings` holding the roots of ``overrides`` (``CSTRACK_*`` keys) plus ``fields``."""
    values = {key[len(ENV_PREFIX):].lower(): value for key, value in overrides.items() if key.startswith(ENV_PREFIX)}
    values.update(fields)
    env = EnvSettings(**values)
    env.sources.update({name: "synthetic test data" for name in values})
    return env
