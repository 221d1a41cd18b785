"""DepthTrack RGB-D training set (docs/training.md): ``<root>/<seq>/<seq>/{color,depth}/%08d``."""
from __future__ import annotations

import logging
import os
from typing import List, Optional, Sequence

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import BaseVideoDataset, SeqInfo, uses_split_list
from lib.utils.rgbx import get_x_frame

logger = logging.getLogger(__name__)


class DepthTrack(BaseVideoDataset):
    """DepthTrack: colour JPEG + 16-bit depth PNG, 1-based, in a doubly nested ``<seq>/<seq>/`` folder.

    Quirks kept (T17 in docs/parity.md, needed to match the released weights and the test pipeline):
    valid = w > 10 and h > 10 (NaN rows are invalid); frames are RGB ‖ JET colormap (OpenCV BGR order)
    of the depth clipped at min(3 * median, 10000) and min-max normalised per frame (``rgbcolormap``).
    """

    modality = "rgbd"
    ENV_FIELD = "depthtrack_dir"
    LAYOUT = ("<depthtrack_dir> = depthtrack/train: <seq>/<seq>/{color/00000001.jpg, depth/00000001.png (16-bit), "
              "groundtruth.txt}; split list lib/train/data_specs/depthtrack_train.txt")
    SPLIT_FILES = {"train": "depthtrack_train.txt", "val": "depthtrack_val.txt"}

    def __init__(self, root: str, dtype: str = "rgbcolormap", split: Optional[str] = "train", name: str = "depthtrack"):
        super().__init__(name, root)
        self.dtype = dtype
        self._check_root()
        self.sequence_list: List[str] = self._sequences_from_split(split)
        self._check_nonempty()

    def describe(self, seq_id: int) -> str:
        seq = self.sequence_list[seq_id]
        return os.path.join(self.root, seq, seq)

    def _read_sequence_info(self, seq_id: int) -> SeqInfo:
        seq = self.sequence_list[seq_id]
        bbox = self._boxes(f"{seq}/{seq}/groundtruth.txt")
        valid = (bbox[:, 2] > 10) & (bbox[:, 3] > 10)
        return {"bbox": bbox, "valid": valid, "visible": valid.clone()}

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None):
        seq_dir = self.describe(seq_id)
        frames = [get_x_frame(os.path.join(seq_dir, "color", f"{f_id + 1:08d}.jpg"),
                              os.path.join(seq_dir, "depth", f"{f_id + 1:08d}.png"),
                              dtype=self.dtype, depth_clip=True) for f_id in frame_ids]
        seq_info = self.get_sequence_info(seq_id) if seq_info is None else seq_info
        meta = {"object_class_name": "train", "motion_class": None, "major_class": None, "root_class": None,
                "motion_adverb": None}
        return frames, self._frames_from_info(seq_info, frame_ids), meta


def _build_depthtrack(env, split: str, all_sequences: bool) -> DepthTrack:
    return DepthTrack(str(env.require_dir(DepthTrack.ENV_FIELD, DepthTrack.LAYOUT)), dtype="rgbcolormap",
                      split=None if all_sequences else split)


@TRAIN_DATASETS.register("DepthTrack_train")
@uses_split_list(DepthTrack.SPLIT_FILES["train"])
def build_depthtrack_train(env, cfg, image_loader=None, all_sequences: bool = False) -> DepthTrack:
    """``DepthTrack_train``: the 146 training sequences the authors train on."""
    return _build_depthtrack(env, "train", all_sequences)


@TRAIN_DATASETS.register("DepthTrack_val")
@uses_split_list(DepthTrack.SPLIT_FILES["val"])
def build_depthtrack_val(env, cfg, image_loader=None, all_sequences: bool = False) -> DepthTrack:
    """``DepthTrack_val``: 6 sequences of the DepthTrack training folder held out for validation."""
    return _build_depthtrack(env, "val", all_sequences)
