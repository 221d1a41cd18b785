"""Turn a raw sample (full frames + pixel boxes) into network inputs (docs/training.md, reference
``SeqTrackProcessing`` in mode 'sequence').

Per sample: joint grayscale/flip roll shared by all frames; per frame box jitter, square
crop and the ground-truth box in normalised crop coordinates; per-frame brightness,
flip and normalisation; the soft template masks the actor feeds the backbone. All sizes
come from the config, so small test configs (32 / 64 px crops) work too.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch

from lib.train.data.processing_utils import (crop_size_ok, get_jittered_box, sample_target, soft_template_mask,
                                             transform_image_to_crop)
from lib.train.data.transforms import FrameTransform, JointTransform, RandomSource

logger = logging.getLogger(__name__)

BRANCHES = ("template", "search")


class TrackingProcessing:
    """Processing of one sample for both branches; returns the sample dict (``valid`` False = redraw).

    Args:
        search_area_factor, output_sz, center_jitter_factor, scale_jitter_factor: per branch
            (``{'template': ..., 'search': ...}``).
        mean, std: normalisation (applied to both the RGB and the X half).
        stride: backbone patch size, for the soft template masks.
        brightness_jitter, grayscale_prob, flip_prob: augmentation parameters (0.2, 0.05, 0.5).
    """

    def __init__(self, search_area_factor: Mapping[str, float], output_sz: Mapping[str, int],
                 center_jitter_factor: Mapping[str, float], scale_jitter_factor: Mapping[str, float],
                 mean: Sequence[float], std: Sequence[float], stride: int = 16, brightness_jitter: float = 0.2,
                 grayscale_prob: float = 0.05, flip_prob: float = 0.5):
        self.search_area_factor = dict(search_area_factor)
        self.output_sz = {k: int(v) for k, v in output_sz.items()}
        self.center_jitter_factor = dict(center_jitter_factor)
        self.scale_jitter_factor = dict(scale_jitter_factor)
        self.stride = int(stride)
        if self.output_sz["template"] % self.stride:
            raise ValueError(f"template size {self.output_sz['template']} is not a multiple of the stride {stride}")
        self.joint = JointTransform(grayscale_prob=grayscale_prob, flip_prob=flip_prob)
        self.frame_transform = FrameTransform(mean, std, brightness_jitter=brightness_jitter, flip_prob=flip_prob)

    @classmethod
    def from_cfg(cls, cfg) -> "TrackingProcessing":
        """Build from ``DATA.TEMPLATE/SEARCH.{SIZE,FACTOR,CENTER_JITTER,SCALE_JITTER}``, ``DATA.MEAN/STD`` and
        ``MODEL.BACKBONE.STRIDE`` (the reference's ``update_settings``)."""
        data = cfg.DATA
        return cls(search_area_factor={"template": data.TEMPLATE.FACTOR, "search": data.SEARCH.FACTOR},
                   output_sz={"template": data.TEMPLATE.SIZE, "search": data.SEARCH.SIZE},
                   center_jitter_factor={"template": data.TEMPLATE.CENTER_JITTER, "search": data.SEARCH.CENTER_JITTER},
                   scale_jitter_factor={"template": data.TEMPLATE.SCALE_JITTER, "search": data.SEARCH.SCALE_JITTER},
                   mean=data.MEAN, std=data.STD, stride=cfg.MODEL.BACKBONE.STRIDE)

    def __call__(self, data: Dict[str, Any], rng: RandomSource) -> Dict[str, Any]:
        """Process one sample.

        Args:
            data: ``{template,search}_images`` (lists of H x W x 6 uint8 RGB‖X frames, or H x W x 3 RGB
                frames of RGB-only datasets, duplicated to 6 channels after cropping),
                ``{template,search}_anno`` (lists of (4,) xywh pixel boxes), optional
                ``{template,search}_masks`` (lists of H x W tensors or None), plus pass-through keys
                (``dataset``, ``test_class``, ``task_class``).
            rng: the sampler's generators.
        Returns:
            The input's pass-through keys plus, per branch ``s`` with N frames and crop side S:
            ``s_images`` (N, 6, S, S) float32, ``s_anno`` (N, 4) normalised xywh, ``s_masks`` (N, S, S),
            ``template_soft_mask`` (Nt, (S_t/stride)^2, 1) and ``valid``.
        """
        roll = self.joint.roll(rng)
        out = {k: v for k, v in data.items() if not k.startswith(BRANCHES)}
        for branch in BRANCHES:
            processed = self._process_branch(branch, data, roll, rng)
            if processed is None:
                out["valid"] = False
                return out
            out.update(processed)
        out["template_soft_mask"] = soft_template_mask(out["template_anno"], self.output_sz["template"], self.stride)
        out["valid"] = True
        return out

    def _process_branch(self, branch: str, data: Dict[str, Any], roll, rng: RandomSource
                        ) -> Optional[Dict[str, torch.Tensor]]:
        images: List[np.ndarray] = data[f"{branch}_images"]
        boxes = [torch.as_tensor(b, dtype=torch.float32) for b in data[f"{branch}_anno"]]
        masks = data.get(f"{branch}_masks") or [None] * len(images)
        images, boxes, masks = self.joint.apply(images, boxes, masks, roll)

        factor, size = self.search_area_factor[branch], self.output_sz[branch]
        jittered = [get_jittered_box(b, self.scale_jitter_factor[branch], self.center_jitter_factor[branch],
                                     rng.torch) for b in boxes]
        if not crop_size_ok(torch.stack(jittered), factor):
            return None
        crop_sz = torch.tensor([size, size], dtype=torch.float32)
        out_images, out_boxes, out_masks = [], [], []
        for image, box, jbox, mask in zip(images, boxes, jittered, masks):
            try:
                if mask is None:
                    crop, resize_factor = sample_target(image, jbox, factor, size)
                    mask_crop = torch.zeros(size, size)
                else:
                    crop, resize_factor, mask_crop = sample_target(image, jbox, factor, size, mask=mask)
            except ValueError as e:
                logger.debug("crop failed (%s); sample marked invalid", e)
                return None
            if crop.shape[2] == 3:
                # X = RGB for RGB-only data (docs/training.md). Duplicating after the crop gives exactly the
                # reference's result (crop, flip, grayscale and brightness act per channel) at 1/5 the copying.
                crop = np.concatenate([crop, crop], axis=2)
            box_crop = transform_image_to_crop(box, jbox, resize_factor, crop_sz, normalize=True)
            tensor, box_crop, mask_crop = self.frame_transform(crop, box_crop, mask_crop, rng)
            out_images.append(tensor)
            out_boxes.append(box_crop)
            out_masks.append(mask_crop)
        return {f"{branch}_images": torch.stack(out_images), f"{branch}_anno": torch.stack(out_boxes),
                f"{branch}_masks": torch.stack(out_masks)}
