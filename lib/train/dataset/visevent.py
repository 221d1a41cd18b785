"""VisEvent RGB-E training set (docs/training.md): ``<root>/<seq>/{vis_imgs,event_imgs}/*.bmp``."""
from __future__ import annotations

import logging
import os
from typing import List, Optional, Sequence

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import (BaseVideoDataset, SampleError, SeqInfo, check_frame_index, list_dirs,
                                                  parse_int_list)
from lib.utils.rgbx import get_x_frame

logger = logging.getLogger(__name__)


class VisEvent(BaseVideoDataset):
    """VisEvent: frame k = k-th sorted ``vis_imgs/*.bmp``; the event frame is the same name in ``event_imgs/``.

    Quirks kept (T17 in docs/parity.md): valid = w > 5 and h > 5; the first character of each line of
    ``absent_label.txt`` is used directly as the visibility flag (1 = visible), and-ed with valid.
    Frames are RGB ‖ event (``rgbrgb``). Fixed: stray files in the root are not taken as sequences,
    listings are cached, and differing vis / event frame counts raise :class:`SampleError`.
    """

    modality = "rgbe"
    ENV_FIELD = "visevent_dir"
    LAYOUT = ("<visevent_dir> = visevent/train: <seq>/{vis_imgs/*.bmp, event_imgs/*.bmp, groundtruth.txt, "
              "absent_label.txt}")

    def __init__(self, root: str, dtype: str = "rgbrgb", split: Optional[str] = "train", name: str = "visevent"):
        super().__init__(name, root)
        self.dtype = dtype
        self.split = split
        self._check_root()
        self.sequence_list: List[str] = list_dirs(self.root)
        self._check_nonempty()

    def _read_sequence_info(self, seq_id: int) -> SeqInfo:
        seq = self.sequence_list[seq_id]
        bbox = self._boxes(f"{seq}/groundtruth.txt")
        absent = parse_int_list(self._read_text(f"{seq}/absent_label.txt"), f"{seq}/absent_label.txt",
                                first_char=True)
        if len(absent) != len(bbox):
            raise SampleError(f"{self.describe(seq_id)}: groundtruth.txt has {len(bbox)} rows but "
                              f"absent_label.txt has {len(absent)}")
        valid = (bbox[:, 2] > 5) & (bbox[:, 3] > 5)
        return {"bbox": bbox, "valid": valid, "visible": (absent == 1) & valid}

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None):
        seq_dir = os.path.join(self.root, self.sequence_list[seq_id])
        rgb_dir, x_dir = os.path.join(seq_dir, "vis_imgs"), os.path.join(seq_dir, "event_imgs")
        rgb, x = self._paired_listing(rgb_dir, x_dir)
        frames = []
        for f_id in frame_ids:
            check_frame_index(f_id, len(rgb), rgb_dir, "groundtruth.txt")
            frames.append(get_x_frame(os.path.join(rgb_dir, rgb[f_id]), os.path.join(x_dir, x[f_id]),
                                      dtype=self.dtype, depth_clip=False))
        seq_info = self.get_sequence_info(seq_id) if seq_info is None else seq_info
        meta = {"object_class_name": None, "motion_class": None, "major_class": None, "root_class": None,
                "motion_adverb": None}
        return frames, self._frames_from_info(seq_info, frame_ids), meta


@TRAIN_DATASETS.register("VisEvent")
def build_visevent(env, cfg, image_loader=None) -> VisEvent:
    """``VisEvent``: every sequence folder under ``visevent_dir`` (no split file in the reference)."""
    return VisEvent(str(env.require_dir(VisEvent.ENV_FIELD, VisEvent.LAYOUT)), dtype="rgbrgb", split="train")
