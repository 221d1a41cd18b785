"""COCO 2017 as 1-frame sequences (docs/training.md): one non-crowd annotation = one "sequence".

Layout: ``<root>/annotations/instances_train2017.json`` and ``<root>/images/train2017/<file_name>``.
The annotation file is parsed with :mod:`json` (no pycocotools needed). Masks are rasterised here
(polygons with ``cv2.fillPoly``, RLE decoded); they are cropped along but unused by training, so the
sub-pixel differences to pycocotools' polygon rasteriser do not matter.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Sequence

import cv2
import numpy as np
import torch

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import BaseImageDataset, DatasetError, SampleError, SeqInfo, duplicate_rgb
from lib.utils.rgbx import imread_rgb

logger = logging.getLogger(__name__)


def rle_counts_from_string(text: str) -> List[int]:
    """Decode COCO's compressed RLE string into run lengths (pycocotools ``rleFrString``)."""
    counts: List[int] = []
    pos = 0
    while pos < len(text):
        value, shift, more = 0, 0, True
        while more:
            c = ord(text[pos]) - 48
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            pos += 1
            shift += 1
            if not more and (c & 0x10):
                value |= -1 << (5 * shift)
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def segmentation_to_mask(segmentation: Any, height: int, width: int) -> np.ndarray:
    """Polygon list or (compressed / uncompressed) RLE -> H x W uint8 {0, 1} mask."""
    if isinstance(segmentation, list):
        mask = np.zeros((height, width), np.uint8)
        polygons = [np.round(np.asarray(p, np.float64).reshape(-1, 2)).astype(np.int32)
                    for p in segmentation if len(p) >= 6]
        if polygons:
            cv2.fillPoly(mask, polygons, 1)
        return mask
    counts = segmentation["counts"]
    if isinstance(counts, str):
        counts = rle_counts_from_string(counts)
    flat = np.zeros(height * width, np.uint8)
    pos, value = 0, 0
    for run in counts:
        flat[pos:pos + run] = value
        pos += run
        value = 1 - value
    return flat.reshape((width, height)).T  # RLE is column-major


class MSCOCOSeq(BaseImageDataset):
    """COCO: ``bbox`` (1, 4) xywh, ``mask`` (1, H, W); valid = visible = w > 50 and h > 50.

    Quirk (T19 in docs/parity.md): the sampler ignores validity for image datasets, so tiny objects are used.
    """

    ENV_FIELD = "coco_dir"
    LAYOUT = "<coco_dir>/{annotations/instances_train2017.json, images/train2017/<file_name>.jpg}"

    def __init__(self, root: str, image_loader=imread_rgb, split: str = "train", version: str = "2017",
                 multi_modal_vision: bool = True, name: str = "coco"):
        super().__init__(name, root, image_loader)
        self.multi_modal_vision = multi_modal_vision
        self.img_dir = f"images/{split}{version}"
        self.anno_file = f"annotations/instances_{split}{version}.json"
        self._init_annotations()

    def _init_annotations(self) -> None:
        self._check_root()
        try:
            data = json.loads(self._read_text(self.anno_file))
        except (SampleError, json.JSONDecodeError) as e:
            raise DatasetError(f"{self.name}: cannot read {self.anno_file} under {self.root} ({e}). "
                               f"Expected layout: {self.LAYOUT}") from e
        self._images = {img["id"]: img for img in data.get("images", [])}
        self._categories = {cat["id"]: cat for cat in data.get("categories", [])}
        self._annotations = {ann["id"]: ann for ann in data.get("annotations", [])}
        self.sequence_list = [a_id for a_id, ann in self._annotations.items() if ann.get("iscrowd", 0) == 0]
        self._check_nonempty()

    def describe(self, seq_id: int) -> str:
        ann = self._annotations[self.sequence_list[seq_id]]
        image = self._images.get(ann["image_id"], {})
        return f"{self.root}/{self.img_dir}/{image.get('file_name', '?')} (annotation {ann['id']})"

    def get_sequence_info(self, seq_id: int) -> SeqInfo:
        """Box and mask of one annotation (not cached: masks are image-sized)."""
        ann = self._annotations[self.sequence_list[seq_id]]
        image = self._images.get(ann["image_id"])
        if image is None:
            raise SampleError(f"{self.name}: annotation {ann['id']} refers to unknown image {ann['image_id']}")
        bbox = torch.tensor(ann["bbox"], dtype=torch.float32).view(1, 4)
        mask = torch.from_numpy(segmentation_to_mask(ann.get("segmentation", []), image["height"], image["width"]))
        valid = (bbox[:, 2] > 50) & (bbox[:, 3] > 50)
        return {"bbox": bbox, "mask": mask.float().unsqueeze(0), "valid": valid, "visible": valid.clone()}

    def get_frames(self, seq_id: int, frame_ids: Sequence[int], seq_info: Optional[SeqInfo] = None):
        ann = self._annotations[self.sequence_list[seq_id]]
        image = self._images[ann["image_id"]]
        frame = self._read_image(f"{self.img_dir}/{image['file_name']}")
        if self.multi_modal_vision:
            frame = duplicate_rgb(frame)
        seq_info = self.get_sequence_info(seq_id) if seq_info is None else seq_info
        anno = {key: [value[0, ...].clone() for _ in frame_ids] for key, value in seq_info.items()}
        category = self._categories.get(ann.get("category_id"), {})
        meta: Dict[str, Any] = {"object_class_name": category.get("name"), "motion_class": None,
                                "major_class": category.get("supercategory"), "root_class": None,
                                "motion_adverb": None}
        return [frame.copy() for _ in frame_ids], anno, meta


@TRAIN_DATASETS.register("COCO17")
def build_coco17(env, cfg, image_loader=imread_rgb) -> MSCOCOSeq:
    """``COCO17``: COCO 2017 train, non-crowd annotations."""
    return MSCOCOSeq(str(env.require_dir(MSCOCOSeq.ENV_FIELD, MSCOCOSeq.LAYOUT)), image_loader=image_loader,
                     version="2017", multi_modal_vision=False)
