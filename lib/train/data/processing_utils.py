"""Geometry helpers of the training processing (TRAINING.md §5.2-§5.4, §6.1).

The crop itself (:func:`sample_target`) and the box mapping (:func:`transform_image_to_crop`) live in
:mod:`lib.utils.crop`, shared with the tracker; they are re-exported here.
"""
from __future__ import annotations

import math

import torch

from lib.utils.crop import sample_target, transform_image_to_crop


def get_jittered_box(box: torch.Tensor, scale_jitter: float, center_jitter: float,
                     generator: torch.Generator) -> torch.Tensor:
    """Randomly rescale and shift an xywh box (TRAINING.md §5.2, torch RNG).

    ``(w', h') = (w, h) * exp(scale_jitter * n)``, n ~ N(0, I2); the centre moves by
    ``sqrt(w' h') * center_jitter * (u - 0.5)``, u ~ U(0, 1)^2. With both factors 0 (templates) the
    box is returned unchanged (the normal draw still happens, as in the reference).
    """
    jittered_size = box[2:4] * torch.exp(torch.randn(2, generator=generator) * scale_jitter)
    max_offset = jittered_size.prod().sqrt() * torch.tensor(center_jitter).float()
    jittered_center = box[0:2] + 0.5 * box[2:4] + max_offset * (torch.rand(2, generator=generator) - 0.5)
    return torch.cat((jittered_center - 0.5 * jittered_size, jittered_size), dim=0)


def crop_size_ok(boxes: torch.Tensor, factor: float) -> bool:
    """The only validity check of processing: every ``ceil(sqrt(w h) * factor) >= 1`` (TRAINING.md §5.2)."""
    crop_sz = torch.ceil(torch.sqrt(boxes[:, 2] * boxes[:, 3]) * factor)
    return bool((crop_sz >= 1).all())


def soft_template_mask(boxes: torch.Tensor, size: int, stride: int) -> torch.Tensor:
    """Soft foreground fraction per template patch, as the training actors compute it (TRAINING.md §6.1).

    Args:
        boxes: (N, 4) template boxes, normalised xywh (as in ``template_anno``).
        size: template crop side (128); stride: patch side (16).
    Returns:
        (N, (size // stride) ** 2, 1) float32, patches in row-major order.

    Quirks kept (TRAINING.md §9 items 26, 28): the normalised box is scaled by ``size`` although it was
    normalised by ``size - 1``; start and end are truncated with ``int()`` and the end is reduced by one
    (the last row/column of the box is left out); negative starts follow Python slicing (they wrap).
    """
    box_px = boxes.float() * size
    ends = box_px[:, 0:2] + box_px[:, 2:4] - 1  # float32, like the reference's tensor arithmetic
    mask = torch.zeros(boxes.shape[0], size, size)
    for n, ((x, y), (x_end, y_end)) in enumerate(zip(box_px[:, 0:2].tolist(), ends.tolist())):
        if not all(math.isfinite(v) for v in (x, y, x_end, y_end)):
            continue
        mask[n, int(y):int(y_end), int(x):int(x_end)] = 1
    grid = size // stride
    patches = mask[:, :grid * stride, :grid * stride].reshape(-1, grid, stride, grid, stride)
    return patches.mean(dim=(2, 4)).reshape(-1, grid * grid, 1)


__all__ = ["crop_size_ok", "get_jittered_box", "sample_target", "soft_template_mask", "transform_image_to_crop"]
