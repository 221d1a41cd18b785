"""TrackingNet training chunks (docs/training.md): ``<root>/TRAIN_s/{anno/<vid>.txt, frames/<vid>/<k>.jpg}``."""
from __future__ import annotations

import logging
import os
from typing import Dict, List, Optional, Sequence, Tuple

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import DATA_SPECS_DIR, BaseVideoDataset, SeqInfo, duplicate_rgb
from lib.utils.rgbx import imread_rgb

logger = logging.getLogger(__name__)


def load_trackingnet_classmap() -> Dict[str, str]:
    """``video -> class`` from ``data_specs/trackingnet_classmap.txt`` if present (training never uses it)."""
    path = DATA_SPECS_DIR / "trackingnet_classmap.txt"
    if not path.is_file():
        return {}
    classes = {}
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 2:
                classes[parts[0]] = parts[1]
    return classes


class TrackingNet(BaseVideoDataset):
    """TrackingNet: every ``anno/*.txt`` of the chunks ``TRAIN_0`` ... ``TRAIN_11``; visible = valid = w, h > 0.

    Frames are 0-based and not zero-padded (``0.jpg``, ``1.jpg``, ...). Chunks that are not on disk
    are skipped with one warning (the reference crashed).
    """

    ENV_FIELD = "trackingnet_dir"
    LAYOUT = "<trackingnet_dir>/TRAIN_<s>/{anno/<video>.txt, frames/<video>/0.jpg, 1.jpg, ...} for s = 0..11"

    def __init__(self, root: str, set_ids: Optional[Sequence[int]] = None, image_loader=imread_rgb,
                 multi_modal_vision: bool = True, name: str = "trackingnet"):
        super().__init__(name, root, image_loader)
        self.multi_modal_vision = multi_modal_vision
        self.set_ids = list(range(12)) if set_ids is None else list(set_ids)
        self._check_root()
        self.sequence_list: List[Tuple[int, str]] = self._list_sequences()
        self._check_nonempty()
        self._classes = load_trackingnet_classmap()

    def _list_sequences(self) -> List[Tuple[int, str]]:
        sequences, missing = [], []
        for s in self.set_ids:
            anno_dir = os.path.join(self.root, f"TRAIN_{s}", "anno")
            if not os.path.isdir(anno_dir):
                missing.append(f"TRAIN_{s}")
                continue
            sequences += [(s, f[:-4]) for f in sorted(os.listdir(anno_dir)) if f.endswith(".txt")]
        if missing:
            logger.warning("%s: chunks %s not found under %s; using the others", self.name, missing, self.root)
        return sequences

    def describe(self, seq_id: int) -> str:
        set_id, vid = self.sequence_list[seq_id]
        return os.path.join(self.root, f"TRAIN_{set_id}", "frames", vid)

    def _read_sequence_info(self, seq_id: int) -> SeqInfo:
        set_id, vid = self.sequence_list[seq_id]
        bbox = self._boxes(f"TRAIN_{set_id}/anno/{vid}.txt")
        valid = (bbox[:, 2] > 0) & (bbox[:, 3] > 0)
        return {"bbox": bbox, "valid": valid, "visible": valid.clone()}

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None):
        set_id, vid = self.sequence_list[seq_id]
        frames = []
        for f_id in frame_ids:
            frame = self._read_image(f"TRAIN_{set_id}/frames/{vid}/{f_id}.jpg")
            frames.append(duplicate_rgb(frame) if self.multi_modal_vision else frame)
        seq_info = self.get_sequence_info(seq_id) if seq_info is None else seq_info
        meta = {"object_class_name": self._classes.get(vid), "motion_class": None, "major_class": None,
                "root_class": None, "motion_adverb": None}
        return frames, self._frames_from_info(seq_info, frame_ids), meta


@TRAIN_DATASETS.register("TRACKINGNET")
def build_trackingnet(env, cfg, image_loader=imread_rgb) -> TrackingNet:
    """``TRACKINGNET``: chunks TRAIN_0 ... TRAIN_11."""
    return TrackingNet(str(env.require_dir(TrackingNet.ENV_FIELD, TrackingNet.LAYOUT)), image_loader=image_loader,
                       multi_modal_vision=False)
