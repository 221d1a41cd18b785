"""Geometry helpers of the training processing (docs/training.md).

The crop itself (:func:`sample_target`) and the box mapping (:func:`transform_image_to_crop`) live in
:mod:`lib.utils.crop`, shared with the tracker, and the soft template masks in :mod:`lib.utils.heatmap`,
shared with the actor; they are re-exported here.
"""
from __future__ import annotations

import torch

from lib.utils.crop import sample_target, transform_image_to_crop
from lib.utils.heatmap import soft_template_mask


def get_jittered_box(box: torch.Tensor, scale_jitter: float, center_jitter: float,
                     generator: torch.Generator) -> torch.Tensor:
    """Randomly rescale and shift an xywh box (docs/training.md, torch RNG).

    ``(w', h') = (w, h) * exp(scale_jitter * n)``, n ~ N(0, I2); the centre moves by
    ``sqrt(w' h') * center_jitter * (u - 0.5)``, u ~ U(0, 1)^2. With both factors 0 (templates) the
    box is returned unchanged (the normal draw still happens, as in the reference).
    """
    jittered_size = box[2:4] * torch.exp(torch.randn(2, generator=generator) * scale_jitter)
    max_offset = jittered_size.prod().sqrt() * torch.tensor(center_jitter).float()
    jittered_center = box[0:2] + 0.5 * box[2:4] + max_offset * (torch.rand(2, generator=generator) - 0.5)
    return torch.cat((jittered_center - 0.5 * jittered_size, jittered_size), dim=0)


def crop_size_ok(boxes: torch.Tensor, factor: float) -> bool:
    """The only validity check of processing: every ``ceil(sqrt(w h) * factor) >= 1`` (docs/training.md)."""
    crop_sz = torch.ceil(torch.sqrt(boxes[:, 2] * boxes[:, 3]) * factor)
    return bool((crop_sz >= 1).all())


__all__ = ["crop_size_ok", "get_jittered_box", "sample_target", "soft_template_mask", "transform_image_to_crop"]
