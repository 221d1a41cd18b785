"""TNL2K training set (docs/training.md): ``<root>/<seq>/imgs/<sorted image files>``."""
from __future__ import annotations

import logging
import os
from typing import Optional, Sequence

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import BaseVideoDataset, SeqInfo, check_frame_index, duplicate_rgb, list_dirs
from lib.utils.rgbx import imread_rgb

logger = logging.getLogger(__name__)


def tnl2k_class_name(seq_name: str) -> str:
    """The first ``_`` token of the name, skipping the ``CM`` / ``INF`` prefixes."""
    tokens = [t for t in seq_name.split("_") if t]
    while len(tokens) > 1 and tokens[0] in ("CM", "INF"):
        tokens = tokens[1:]
    return tokens[0] if tokens else seq_name


class Tnl2k(BaseVideoDataset):
    """TNL2K: frame k is the k-th file of the sorted ``imgs/`` listing; visible = any coordinate > 0 and w, h > 0.

    Fixed (T20 in docs/parity.md): the folder is listed once and cached. Stray files in the root are
    skipped (the reference took every ``os.listdir`` entry as a sequence). The language file is not read.
    """

    ENV_FIELD = "tnl2k_dir"
    LAYOUT = "<tnl2k_dir> = tnl2k/train: <seq>/{imgs/<frames>.jpg|png, groundtruth.txt}"

    def __init__(self, root: str, split: Optional[str] = None, image_loader=imread_rgb,
                 multi_modal_vision: bool = True, name: str = "tnl2k"):
        super().__init__(name, root, image_loader)
        self.multi_modal_vision = multi_modal_vision
        self._check_root()
        self.sequence_list = list_dirs(self.root)
        self._check_nonempty()

    def _read_sequence_info(self, seq_id: int) -> SeqInfo:
        bbox = self._boxes(f"{self.sequence_list[seq_id]}/groundtruth.txt")
        valid = (bbox[:, 2] > 0) & (bbox[:, 3] > 0)
        visible = (bbox > 0).any(dim=1) & valid
        return {"bbox": bbox, "valid": valid, "visible": visible}

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None):
        seq = self.sequence_list[seq_id]
        folder = os.path.join(self.root, seq, "imgs")
        names = self._listing(folder)
        frames = []
        for f_id in frame_ids:
            check_frame_index(f_id, len(names), folder, f"{seq}/groundtruth.txt")
            frame = self.image_loader(os.path.join(folder, names[f_id]))
            frames.append(duplicate_rgb(frame) if self.multi_modal_vision else frame)
        seq_info = self.get_sequence_info(seq_id) if seq_info is None else seq_info
        meta = {"object_class_name": tnl2k_class_name(seq), "motion_class": None, "major_class": None,
                "root_class": None, "motion_adverb": None}
        return frames, self._frames_from_info(seq_info, frame_ids), meta


@TRAIN_DATASETS.register("TNL2K_train")
def build_tnl2k_train(env, cfg, image_loader=imread_rgb) -> Tnl2k:
    """``TNL2K_train``: every sequence folder under ``tnl2k_dir``."""
    return Tnl2k(str(env.require_dir(Tnl2k.ENV_FIELD, Tnl2k.LAYOUT)), split=None, image_loader=image_loader,
                 multi_modal_vision=False)
