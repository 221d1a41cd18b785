"""LasHeR RGB-T training set (docs/training.md): ``<root>/<seq>/{visible,infrared}/<frames>``."""
from __future__ import annotations

import logging
import os
from typing import List, Optional, Sequence

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import (BaseVideoDataset, SeqInfo, check_frame_index,
                                                  uses_split_list)
from lib.utils.rgbx import get_x_frame

logger = logging.getLogger(__name__)


class LasHeR(BaseVideoDataset):
    """LasHeR: frame k = the k-th ``visible/`` and ``infrared/`` frames by frame number; boxes from ``visible.txt``.

    Frames are RGB ‖ thermal (``rgbrgb``, no clipping; 6 channels). visible = valid = w, h > 0. The
    listings are cached (T20 in docs/parity.md); RGB and thermal frames are paired by the numbers in
    their names, and a frame without its partner raises :class:`SampleError` naming it (the reference
    paired by position after a text sort, which LasHeR's inconsistent names break silently).
    """

    modality = "rgbt"
    ENV_FIELD = "lasher_dir"
    LAYOUT = ("<lasher_dir> = LasHeR trainingset: <seq>/{visible/*.jpg, infrared/*.jpg, visible.txt}; "
              "split list lib/train/data_specs/lasher_train.txt")
    SPLIT_FILES = {"train": "lasher_train.txt", "val": "lasher_val.txt", "all": "lasher_all.txt"}

    def __init__(self, root: str, dtype: str = "rgbrgb", split: Optional[str] = "train", name: str = "lasher"):
        super().__init__(name, root)
        self.dtype = dtype
        self._check_root()
        self.sequence_list: List[str] = self._sequences_from_split(split)
        self._check_nonempty()

    def _read_sequence_info(self, seq_id: int) -> SeqInfo:
        bbox = self._boxes(f"{self.sequence_list[seq_id]}/visible.txt")
        valid = (bbox[:, 2] > 0) & (bbox[:, 3] > 0)
        return {"bbox": bbox, "valid": valid, "visible": valid.clone()}

    def _pairs(self, seq_id: int):
        seq_dir = os.path.join(self.root, self.sequence_list[seq_id])
        rgb_dir, x_dir = os.path.join(seq_dir, "visible"), os.path.join(seq_dir, "infrared")
        rgb, x = self._paired_listing(rgb_dir, x_dir)
        return rgb_dir, rgb, x_dir, x

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None):
        rgb_dir, rgb, x_dir, x = self._pairs(seq_id)
        frames = []
        for f_id in frame_ids:
            check_frame_index(f_id, len(rgb), rgb_dir, "visible.txt")
            frames.append(get_x_frame(os.path.join(rgb_dir, rgb[f_id]), os.path.join(x_dir, x[f_id]),
                                      dtype=self.dtype, depth_clip=False))
        seq_info = self.get_sequence_info(seq_id) if seq_info is None else seq_info
        meta = {"object_class_name": None, "motion_class": None, "major_class": None, "root_class": None,
                "motion_adverb": None}
        return frames, self._frames_from_info(seq_info, frame_ids), meta


def _build_lasher(env, split: str, all_sequences: bool) -> LasHeR:
    return LasHeR(str(env.require_dir(LasHeR.ENV_FIELD, LasHeR.LAYOUT)), dtype="rgbrgb",
                  split=None if all_sequences else split)


@TRAIN_DATASETS.register("LasHeR_train")
@uses_split_list(LasHeR.SPLIT_FILES["train"])
def build_lasher_train(env, cfg, image_loader=None, all_sequences: bool = False) -> LasHeR:
    """``LasHeR_train``: the 882 training sequences the authors train on."""
    return _build_lasher(env, "train", all_sequences)


@TRAIN_DATASETS.register("LasHeR_val")
@uses_split_list(LasHeR.SPLIT_FILES["val"])
def build_lasher_val(env, cfg, image_loader=None, all_sequences: bool = False) -> LasHeR:
    """``LasHeR_val``: the 97 sequences of the LasHeR training set held out for validation."""
    return _build_lasher(env, "val", all_sequences)


@TRAIN_DATASETS.register("LasHeR_all")
@uses_split_list(LasHeR.SPLIT_FILES["all"])
def build_lasher_all(env, cfg, image_loader=None, all_sequences: bool = False) -> LasHeR:
    """``LasHeR_all``: train and val together, the 979 sequences of the LasHeR training set."""
    return _build_lasher(env, "all", all_sequences)
