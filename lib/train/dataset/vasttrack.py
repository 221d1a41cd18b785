"""VastTrack training set (docs/training.md): ``<root>/<Class>/<Class>-<n>/imgs/%05d.jpg``."""
from __future__ import annotations

import logging
import os
from typing import List, Optional, Sequence

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import BaseVideoDataset, SeqInfo, list_dirs
from lib.utils.rgbx import imread_rgb

logger = logging.getLogger(__name__)


class VastTrack(BaseVideoDataset):
    """VastTrack: boxes from ``Groundtruth.txt`` (capital G); visible = box row != (0, 0, 0, 0).

    Returns 3-channel frames; the sampler duplicates them to 6 channels (docs/training.md).
    Quirks kept: the name is ``vasttrack_test``; ``valid`` (w, h > 0) is computed but the visibility
    ignores it; every sample reads ``<seq>/nlp.txt`` and fails without it (T15 in docs/parity.md).
    """

    ENV_FIELD = "vasttrack_dir"
    LAYOUT = ("<vasttrack_dir> = VastTrack/unisot_train_final_backup: <Class>/<Class>-<n>/{imgs/00001.jpg, "
              "Groundtruth.txt, nlp.txt}")

    def __init__(self, root: str, split: Optional[str] = "train", image_loader=imread_rgb, name: str = "vasttrack_test"):
        super().__init__(name, root, image_loader)
        self.split = split
        self._check_root()
        self.sequence_list: List[str] = [f"{cls}/{seq}" for cls in list_dirs(self.root)
                                         for seq in list_dirs(os.path.join(self.root, cls))]
        self._check_nonempty()

    def _read_sequence_info(self, seq_id: int) -> SeqInfo:
        seq = self.sequence_list[seq_id]
        bbox = self._boxes(f"{seq}/Groundtruth.txt")
        valid = (bbox[:, 2] > 0) & (bbox[:, 3] > 0)
        visible = ~(bbox == 0).all(dim=1)
        return {"bbox": bbox, "valid": valid, "visible": visible}

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None):
        seq = self.sequence_list[seq_id]
        language = self._read_text(f"{seq}/nlp.txt").strip()
        frames = [self._read_image(f"{seq}/imgs/{f_id + 1:05d}.jpg") for f_id in frame_ids]
        seq_info = self.get_sequence_info(seq_id) if seq_info is None else seq_info
        meta = {"object_class_name": seq.split("/")[0], "motion_class": None, "major_class": None,
                "root_class": None, "motion_adverb": None, "language": language}
        return frames, self._frames_from_info(seq_info, frame_ids), meta


@TRAIN_DATASETS.register("VastTrack")
def build_vasttrack(env, cfg, image_loader=imread_rgb) -> VastTrack:
    """``VastTrack``: built without the multi-modal flag, as in the reference (3-channel frames)."""
    return VastTrack(str(env.require_dir(VastTrack.ENV_FIELD, VastTrack.LAYOUT)), split="train",
                     image_loader=image_loader)
