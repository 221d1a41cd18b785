"""Common interface of the training datasets (pytracking style, docs/training.md) and shared readers.

A dataset answers ``get_num_sequences()``, ``get_sequence_info(seq_id)`` (per-frame ``bbox`` (T, 4)
float32 xywh px, ``valid`` (T,) bool, ``visible`` (T,) bool) and ``get_frames(seq_id, frame_ids, info)``
-> ``(frames H x W x C uint8 RGB, {key: [per-frame values]}, meta)``. ``get_name()`` keeps the
reference's strings; the task class used by the loss comes from :attr:`modality`, not from the name
(T16 in docs/parity.md), so renamed or LMDB datasets keep the right label.

Split lists: a dataset built with a ``split`` reads its official list from ``lib/train/data_specs/``
(see the README there); a missing list is an error, because the fallback (every sequence on disk)
would train on LaSOT's test videos or on the GOT-10k videos VOT forbids. ``split=None`` asks for
every sequence explicitly (the yaml's ``DATA.ALL_SEQUENCES``). Listed sequences that are not on disk
are skipped with a warning; when none is there the dataset is an error (wrong root, or own data).

Errors: :class:`DatasetError` for a dataset that cannot be used at all (missing root or split list, no
sequences, split index out of range); :class:`SampleError` (or :class:`~lib.utils.rgbx.FrameReadError`)
for one bad sequence, frame or annotation, which the sampler logs, counts and redraws.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from lib.utils import annotations
from lib.utils.annotations import AnnotationError
from lib.utils.frame_lists import FramePairingError, list_frames, pair_frames
from lib.utils.rgbx import FrameReadError, imread_rgb

logger = logging.getLogger(__name__)

DATA_SPECS_DIR = Path(__file__).resolve().parents[1] / "data_specs"

# Task classes of the classification loss (docs/training.md).
MODALITY_TASK_CLASS = {"rgb": 0, "rgbt": 1, "rgbe": 2, "rgbd": 3}

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")

SeqInfo = Dict[str, torch.Tensor]


class DatasetError(RuntimeError):
    """A dataset that cannot be used at all: missing root, no sequences, inconsistent split file."""


class SampleError(ValueError):
    """One unusable sequence, frame or annotation (named in the message); the sampler redraws."""


ALL_SEQUENCES_HINT = ("to train on every sequence under the dataset's root instead (own or synthetic data), "
                      "list its DATASETS_NAME entry in DATA.ALL_SEQUENCES")


def read_split_file(filename: str, dataset: str) -> List[str]:
    """The sequence names (or GOT-10k row indices) of ``lib/train/data_specs/<filename>``.

    A missing file raises :class:`DatasetError`: the lists ship with the repository, and using every
    sequence on disk instead must be asked for (``DATA.ALL_SEQUENCES``).
    """
    path = DATA_SPECS_DIR / filename
    if not path.is_file():
        raise DatasetError(f"{dataset}: split list {path} not found (it ships with the repository: restore it "
                           f"from git); {ALL_SEQUENCES_HINT}")
    with open(path, "r", encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def uses_split_list(filename: str) -> Callable[[Callable], Callable]:
    """Mark a registered dataset builder as reading ``lib/train/data_specs/<filename>``.

    Such builders accept ``all_sequences=True`` (``DATA.ALL_SEQUENCES``) to read every sequence instead.
    """
    def decorator(builder: Callable) -> Callable:
        builder.split_list = filename
        return builder

    return decorator


def parse_boxes(text: str, source: str) -> torch.Tensor:
    """Annotation text (one ``x,y,w,h`` per line, any delimiter) -> (T, 4) float32.

    Empty fields and ``nan`` become NaN (pandas ``na_filter`` semantics of the reference); a bad line
    raises :class:`SampleError` naming ``source`` and the line (:mod:`lib.utils.annotations`).
    """
    try:
        boxes = annotations.parse_boxes(text, source)
    except AnnotationError as e:
        raise SampleError(str(e)) from e
    if len(boxes) == 0:
        raise SampleError(f"{source} holds no boxes")
    return torch.from_numpy(boxes.astype(np.float32))


def parse_int_list(text: str, source: str, first_char: bool = False) -> torch.Tensor:
    """Integers separated by commas or newlines -> (T,) int64; ``first_char`` reads only each line's
    first character (VisEvent ``absent_label.txt``, docs/training.md)."""
    try:
        if first_char:
            values = [int(line.strip()[0]) for line in text.splitlines() if line.strip()]
        else:
            values = annotations.parse_values(text, source).astype(np.int64).tolist()
    except (ValueError, AnnotationError) as e:
        raise SampleError(f"{source}: expected integers ({e})") from e
    return torch.tensor(values, dtype=torch.int64)


def list_dirs(path: str) -> List[str]:
    """Sorted names of the sub-directories of ``path`` (stray files are skipped)."""
    with os.scandir(path) as entries:
        return sorted(e.name for e in entries if e.is_dir())


def list_images(path: str) -> List[str]:
    """Image file names in ``path`` in frame-number order; :class:`SampleError` if the folder is missing.

    Numeric order (``v1.jpg`` before ``v10.jpg``) is what the annotation rows follow; the reference
    sorted the names as text, which misaligns unpadded LasHeR names (``lib.utils.frame_lists``).
    """
    try:
        return list_frames(path, IMAGE_EXTENSIONS)
    except FileNotFoundError as e:
        raise SampleError(f"image folder {path} does not exist") from e


class BaseVideoDataset:
    """A set of annotated video sequences read from ``root``.

    Subclasses set ``modality``, ``ENV_FIELD`` (the settings field of the root) and ``LAYOUT`` (a hint
    shown when the root is wrong), fill ``sequence_list`` and implement ``_read_sequence_info`` and
    ``get_frames``. File access goes through :meth:`_read_text` / :meth:`_read_image` with paths
    relative to the root, so the LMDB variants only swap those two.
    """

    modality: str = "rgb"
    ENV_FIELD: str = ""
    LAYOUT: str = ""
    SPLIT_FILES: Dict[str, str] = {}  # split name -> file in lib/train/data_specs/

    def __init__(self, name: str, root: str, image_loader: Callable[[str], np.ndarray] = imread_rgb):
        self.name = name
        self.root = os.fspath(root)
        self.image_loader = image_loader
        self.sequence_list: List[Any] = []
        self._info_cache: Dict[int, SeqInfo] = {}
        self._listing_cache: Dict[str, List[str]] = {}
        self._pairs_cache: Dict[str, Tuple[List[str], List[str]]] = {}

    # ----- interface -----
    def get_name(self) -> str:
        """The reference's name string (copied into every sample as ``data['dataset']``)."""
        return self.name

    @property
    def task_class(self) -> int:
        """Task-classification label: 0 RGB, 1 RGB-T, 2 RGB-E, 3 RGB-D."""
        return MODALITY_TASK_CLASS[self.modality]

    def is_video_sequence(self) -> bool:
        return True

    def get_num_sequences(self) -> int:
        return len(self.sequence_list)

    def __len__(self) -> int:
        return self.get_num_sequences()

    def get_sequence_info(self, seq_id: int) -> SeqInfo:
        """Boxes, validity and visibility of one sequence (read once, then cached)."""
        info = self._info_cache.get(seq_id)
        if info is None:
            info = self._read_sequence_info(seq_id)
            self._info_cache[seq_id] = info
        return info

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None
                   ) -> Tuple[List[np.ndarray], Dict[str, list], Dict[str, Any]]:
        raise NotImplementedError

    def describe(self, seq_id: int) -> str:
        """Where a sequence lives, for log messages."""
        return os.path.join(self.root, str(self.sequence_list[seq_id]))

    # ----- helpers for subclasses -----
    def _read_sequence_info(self, seq_id: int) -> SeqInfo:
        raise NotImplementedError

    def _read_text(self, rel_path: str) -> str:
        """A text file below the root; :class:`SampleError` naming it when missing."""
        path = os.path.join(self.root, rel_path)
        try:
            with open(path, "r", encoding="utf-8") as f:
                return f.read()
        except (FileNotFoundError, NotADirectoryError) as e:
            raise SampleError(f"{path} does not exist") from e

    def _read_image(self, rel_path: str) -> np.ndarray:
        """An RGB image below the root (H x W x 3 uint8); FrameReadError names a bad file."""
        return self.image_loader(os.path.join(self.root, rel_path))

    def _boxes(self, rel_path: str) -> torch.Tensor:
        return parse_boxes(self._read_text(rel_path), os.path.join(self.root, rel_path))

    def _listing(self, folder: str) -> List[str]:
        """Sorted image names of a folder, listed once (T20 in docs/parity.md: the reference re-listed
        the folder on every frame read)."""
        names = self._listing_cache.get(folder)
        if names is None:
            names = list_images(folder)
            self._listing_cache[folder] = names
        return names

    def _paired_listing(self, rgb_folder: str, x_folder: str) -> Tuple[List[str], List[str]]:
        """RGB and X frame names of a sequence, frame k beside frame k by frame number (listed once).

        A frame without its partner or a gap in the numbering raises :class:`SampleError` naming the
        file: the sampler skips the sequence and counts it, instead of training on shifted pairs.
        """
        key = f"{rgb_folder}\0{x_folder}"
        pairs = self._pairs_cache.get(key)
        if pairs is None:
            try:
                pairs = pair_frames(rgb_folder, self._listing(rgb_folder), x_folder, self._listing(x_folder))
            except FramePairingError as e:
                raise SampleError(str(e)) from e
            self._pairs_cache[key] = pairs
        return pairs

    @staticmethod
    def _frames_from_info(seq_info: SeqInfo, frame_ids: Sequence[int]) -> Dict[str, list]:
        """Per-frame values of every annotation key for the requested frames."""
        return {key: [value[f_id, ...].clone() for f_id in frame_ids] for key, value in seq_info.items()}

    def _check_root(self) -> None:
        if not os.path.isdir(self.root):
            raise DatasetError(f"{self.name}: root {self.root} is not a directory. Expected layout: {self.LAYOUT}")

    def _sequences_from_split(self, split: Optional[str]) -> List[str]:
        """Names from the split list ``SPLIT_FILES[split]`` present on disk; every folder when ``split`` is None."""
        if split is None:
            return list_dirs(self.root)
        return self._present(read_split_file(self.SPLIT_FILES[split], self.name), self.SPLIT_FILES[split])

    def _sequence_exists(self, rel_path: str) -> bool:
        """Whether a listed sequence is under the root (its folder exists)."""
        return os.path.isdir(os.path.join(self.root, rel_path))

    def _present(self, rel_paths: List[str], split_file: str) -> List[str]:
        """The listed sequences found under the root; a warning counts the others, none found is an error."""
        present = [p for p in rel_paths if self._sequence_exists(p)]
        if not present:
            raise DatasetError(f"{self.name}: none of the {len(rel_paths)} sequences of {split_file} (e.g. "
                               f"{rel_paths[0] if rel_paths else '-'}) is under {self.root}: wrong root? "
                               f"{ALL_SEQUENCES_HINT}")
        if len(present) < len(rel_paths):
            missing = [p for p in rel_paths if p not in set(present)]
            logger.warning("%s: %d of the %d sequences of %s are not under %s (e.g. %s); using the %d present",
                           self.name, len(missing), len(rel_paths), split_file, self.root, missing[0], len(present))
        return present

    def _check_nonempty(self) -> None:
        if not self.sequence_list:
            raise DatasetError(f"{self.name}: no sequences found under {self.root}. Expected layout: {self.LAYOUT}")


class BaseImageDataset(BaseVideoDataset):
    """A dataset of single annotated images, served as 1-frame "sequences" (COCO)."""

    def is_video_sequence(self) -> bool:
        return False


def duplicate_rgb(frame: np.ndarray) -> np.ndarray:
    """RGB -> 6-channel RGB ‖ RGB (docs/training.md: X equals RGB for RGB-only datasets)."""
    return np.concatenate([frame, frame], axis=2)


def check_frame_index(frame_id: int, count: int, folder: str, annotation: str) -> None:
    """A frame index beyond the folder's images means the annotation and the folder disagree."""
    if not 0 <= frame_id < count:
        raise SampleError(f"frame {frame_id} requested but {folder} holds {count} images "
                          f"(annotation {annotation} has more rows)")


__all__ = ["ALL_SEQUENCES_HINT", "BaseImageDataset", "BaseVideoDataset", "DATA_SPECS_DIR", "DatasetError",
           "FrameReadError", "MODALITY_TASK_CLASS", "SampleError", "check_frame_index", "duplicate_rgb", "list_dirs",
           "list_images", "parse_boxes", "parse_int_list", "read_split_file", "uses_split_list"]
