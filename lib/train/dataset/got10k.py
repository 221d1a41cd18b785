"""GOT-10k training set (docs/training.md): ``<root>/<seq>/%08d.jpg`` with ``<root>/list.txt``."""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, List, Optional, Sequence

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import (BaseVideoDataset, DatasetError, SampleError, SeqInfo, duplicate_rgb,
                                                  list_dirs, parse_int_list, read_split_file, uses_split_list)
from lib.utils.rgbx import imread_rgb

logger = logging.getLogger(__name__)

_META_KEYS = {"object_class": "object_class_name", "motion_class": "motion_class", "major_class": "major_class",
              "root_class": "root_class", "motion_adverb": "motion_adverb"}


class Got10k(BaseVideoDataset):
    """GOT-10k: visible = ``absence.label`` == 0 and ``cover.label`` > 0 and w, h > 0.

    Split files hold 0-based row indices into ``list.txt`` (``got10k_vot_train_split.txt`` for
    ``vottrain``); an index beyond ``list.txt`` raises :class:`DatasetError` naming both files (the
    reference failed later with an IndexError). ``split=None`` or ``"train_full"``: every row of ``list.txt``.
    """

    ENV_FIELD = "got10k_dir"
    LAYOUT = ("<got10k_dir> = the GOT-10k 'train' folder: list.txt and <GOT-10k_Train_XXXXXX>/{00000001.jpg, "
              "groundtruth.txt, absence.label, cover.label, meta_info.ini}; split list "
              "lib/train/data_specs/got10k_vot_train_split.txt")
    SPLIT_FILES = {"vottrain": "got10k_vot_train_split.txt", "votval": "got10k_vot_val_split.txt",
                   "train": "got10k_train_split.txt", "val": "got10k_val_split.txt"}

    def __init__(self, root: str, split: Optional[str] = None, image_loader=imread_rgb,
                 multi_modal_vision: bool = True, name: str = "got10k"):
        super().__init__(name, root, image_loader)
        self.multi_modal_vision = multi_modal_vision
        self._key_prefix = ""
        self._init_sequences(split)

    def _init_sequences(self, split: Optional[str]) -> None:
        self._check_root()
        self.sequence_list = self._select(self._list_file_sequences(), split)
        self._check_nonempty()

    def _list_file_sequences(self) -> List[str]:
        list_file = os.path.join(self.root, "list.txt")
        if os.path.isfile(list_file):
            with open(list_file, "r", encoding="utf-8") as f:
                return [line.strip() for line in f if line.strip()]
        logger.warning("%s: %s not found; using the sorted sequence folders instead", self.name, list_file)
        return list_dirs(self.root)

    def _select(self, all_names: List[str], split: Optional[str]) -> List[str]:
        """Apply an index split file to the ``list.txt`` order (a missing file is an error)."""
        if split is None or split == "train_full":
            return all_names
        lines = read_split_file(self.SPLIT_FILES[split], self.name)
        try:
            return [all_names[int(i)] for i in lines]
        except IndexError as e:
            bad = max(int(i) for i in lines)
            raise DatasetError(f"{self.name}: split file {self.SPLIT_FILES[split]} refers to row {bad} but list.txt "
                               f"under {self.root} has only {len(all_names)} sequences; the local copy and the "
                               f"split disagree") from e

    def _read_sequence_info(self, seq_id: int) -> SeqInfo:
        seq = self._key_prefix + self.sequence_list[seq_id]
        bbox = self._boxes(f"{seq}/groundtruth.txt")
        absence = parse_int_list(self._read_text(f"{seq}/absence.label"), f"{seq}/absence.label")
        cover = parse_int_list(self._read_text(f"{seq}/cover.label"), f"{seq}/cover.label")
        if not len(absence) == len(cover) == len(bbox):
            raise SampleError(f"{self.describe(seq_id)}: groundtruth.txt, absence.label and cover.label have "
                              f"{len(bbox)}, {len(absence)} and {len(cover)} entries")
        valid = (bbox[:, 2] > 0) & (bbox[:, 3] > 0)
        visible = (absence == 0) & (cover > 0) & valid
        return {"bbox": bbox, "valid": valid, "visible": visible}

    def _read_meta(self, seq: str) -> Dict[str, Any]:
        """Object/motion classes from ``meta_info.ini`` ("key: value" lines); None when unreadable."""
        meta: Dict[str, Any] = {v: None for v in _META_KEYS.values()}
        try:
            text = self._read_text(f"{seq}/meta_info.ini")
        except (SampleError, OSError):
            return meta
        for line in text.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() in _META_KEYS:
                meta[_META_KEYS[key.strip()]] = value.strip()
        return meta

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None):
        seq = self._key_prefix + self.sequence_list[seq_id]
        frames = []
        for f_id in frame_ids:
            frame = self._read_image(f"{seq}/{f_id + 1:08d}.jpg")
            frames.append(duplicate_rgb(frame) if self.multi_modal_vision else frame)
        seq_info = self.get_sequence_info(seq_id) if seq_info is None else seq_info
        return frames, self._frames_from_info(seq_info, frame_ids), self._read_meta(seq)


@TRAIN_DATASETS.register("GOT10K_vottrain")
@uses_split_list(Got10k.SPLIT_FILES["vottrain"])
def build_got10k_vottrain(env, cfg, image_loader=imread_rgb, all_sequences: bool = False) -> Got10k:
    """``GOT10K_vottrain``: GOT-10k train without the videos VOT forbids, its larger part (7086 videos)."""
    return Got10k(str(env.require_dir(Got10k.ENV_FIELD, Got10k.LAYOUT)), split=None if all_sequences else "vottrain",
                  image_loader=image_loader, multi_modal_vision=False)


@TRAIN_DATASETS.register("GOT10K_votval")
@uses_split_list(Got10k.SPLIT_FILES["votval"])
def build_got10k_votval(env, cfg, image_loader=imread_rgb, all_sequences: bool = False) -> Got10k:
    """``GOT10K_votval``: the other part of GOT-10k train without the VOT videos (1249 videos, validation)."""
    return Got10k(str(env.require_dir(Got10k.ENV_FIELD, Got10k.LAYOUT)), split=None if all_sequences else "votval",
                  image_loader=image_loader, multi_modal_vision=False)


@TRAIN_DATASETS.register("GOT10K_train_full")
def build_got10k_train_full(env, cfg, image_loader=imread_rgb) -> Got10k:
    """``GOT10K_train_full``: every sequence of ``list.txt``, including the videos VOT forbids."""
    return Got10k(str(env.require_dir(Got10k.ENV_FIELD, Got10k.LAYOUT)), split="train_full",
                  image_loader=image_loader, multi_modal_vision=False)
