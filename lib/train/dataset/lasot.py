"""LaSOT training set (docs/training.md): ``<root>/<class>/<class>-<idx>/img/%08d.jpg``."""
from __future__ import annotations

import logging
import os
from typing import Any, Dict, List, Optional, Sequence

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import (BaseVideoDataset, SampleError, SeqInfo, duplicate_rgb, list_dirs,
                                                  parse_int_list, read_split_file, uses_split_list)
from lib.utils.rgbx import imread_rgb

logger = logging.getLogger(__name__)


class Lasot(BaseVideoDataset):
    """LaSOT: boxes from ``groundtruth.txt``; visible = not ``full_occlusion`` and not ``out_of_view`` and w, h > 0.

    Quirk (T15 in docs/parity.md): with ``multi_modal_language`` every sample reads ``nlp.txt`` (a
    missing file makes the sample fail) and the name is ``lasot_lang``; the text itself is unused.
    """

    ENV_FIELD = "lasot_dir"
    LAYOUT = ("<lasot_dir>/<class>/<class>-<idx>/{img/00000001.jpg, groundtruth.txt, full_occlusion.txt, "
              "out_of_view.txt, nlp.txt}; split list lib/train/data_specs/lasot_train_split.txt")
    SPLIT_FILES = {"train": "lasot_train_split.txt", "test": "lasot_test_split.txt"}

    def __init__(self, root: str, split: Optional[str] = "train", image_loader=imread_rgb,
                 multi_modal_vision: bool = True, multi_modal_language: bool = True, name: Optional[str] = None):
        super().__init__(name or ("lasot_lang" if multi_modal_language else "lasot"), root, image_loader)
        self.multi_modal_vision = multi_modal_vision
        self.multi_modal_language = multi_modal_language
        self._check_root()
        self.sequence_list = self._build_sequence_list(split)
        self._check_nonempty()

    def _all_sequences(self) -> List[str]:
        return [f"{cls}/{seq}" for cls in list_dirs(self.root) for seq in list_dirs(os.path.join(self.root, cls))]

    def _build_sequence_list(self, split: Optional[str]) -> List[str]:
        """``<class>/<class>-<idx>`` of the split list's videos present under the root; all with ``split=None``."""
        if split is None:
            return self._all_sequences()
        names = read_split_file(self.SPLIT_FILES[split], self.name)
        return self._present([f"{name.rsplit('-', 1)[0]}/{name}" for name in names], self.SPLIT_FILES[split])

    def _read_sequence_info(self, seq_id: int) -> SeqInfo:
        seq = self.sequence_list[seq_id]
        bbox = self._boxes(f"{seq}/groundtruth.txt")
        occlusion = parse_int_list(self._read_text(f"{seq}/full_occlusion.txt"), f"{seq}/full_occlusion.txt")
        out_of_view = parse_int_list(self._read_text(f"{seq}/out_of_view.txt"), f"{seq}/out_of_view.txt")
        if not len(occlusion) == len(out_of_view) == len(bbox):
            raise SampleError(f"{self.describe(seq_id)}: groundtruth.txt, full_occlusion.txt and out_of_view.txt "
                              f"have {len(bbox)}, {len(occlusion)} and {len(out_of_view)} entries")
        valid = (bbox[:, 2] > 0) & (bbox[:, 3] > 0)
        visible = (occlusion == 0) & (out_of_view == 0) & valid
        return {"bbox": bbox, "valid": valid, "visible": visible}

    def _frame(self, seq: str, frame_id: int):
        frame = self._read_image(f"{seq}/img/{frame_id + 1:08d}.jpg")
        return duplicate_rgb(frame) if self.multi_modal_vision else frame

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None):
        seq = self.sequence_list[seq_id]
        meta: Dict[str, Any] = {"object_class_name": seq.split("/")[0], "motion_class": None,
                                "major_class": None, "root_class": None, "motion_adverb": None}
        if self.multi_modal_language:
            meta["language"] = self._read_text(f"{seq}/nlp.txt").strip()
        frames = [self._frame(seq, f_id) for f_id in frame_ids]
        seq_info = self.get_sequence_info(seq_id) if seq_info is None else seq_info
        return frames, self._frames_from_info(seq_info, frame_ids), meta


@TRAIN_DATASETS.register("LASOT")
@uses_split_list(Lasot.SPLIT_FILES["train"])
def build_lasot(env, cfg, image_loader=imread_rgb, all_sequences: bool = False) -> Lasot:
    """``LASOT`` in the yaml: the 1120 training videos of the LaSOT train split (never its test videos)."""
    return Lasot(str(env.require_dir(Lasot.ENV_FIELD, Lasot.LAYOUT)), split=None if all_sequences else "train",
                 image_loader=image_loader,
                 multi_modal_vision=False, multi_modal_language=cfg.DATA.MULTI_MODAL_LANGUAGE)
