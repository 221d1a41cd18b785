"""A picture of one training sample for tensorboard: what the network sees and what it predicts.

Layout (H = search crop size): a top row for RGB and a bottom row for X; in each row both templates
(stacked, each H/2 high), the search crop with the ground-truth box (green) and the predicted box (red),
and, in the top row, the predicted score map (JET colours, upsampled to H x H). For stage 2 the last
search frame of the clip is shown (the temporal memory is filled by then).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import cv2
import numpy as np
import torch

GT_COLOR = (0, 200, 0)  # RGB
PRED_COLOR = (230, 30, 30)


def denormalise(image: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """A normalised 3-channel crop (3, H, W) -> H x W x 3 uint8 RGB."""
    mean_t = torch.tensor(mean, dtype=image.dtype).view(3, 1, 1)
    std_t = torch.tensor(std, dtype=image.dtype).view(3, 1, 1)
    pixels = ((image.float().cpu() * std_t + mean_t) * 255).clamp(0, 255).round().to(torch.uint8)
    return np.ascontiguousarray(pixels.permute(1, 2, 0).numpy())


def _draw_xywh(image: np.ndarray, box: Sequence[float], color) -> None:
    """A normalised ``[x, y, w, h]`` box onto an H x W image, in place."""
    h, w = image.shape[:2]
    x, y, bw, bh = (float(v) for v in box)
    if not all(np.isfinite([x, y, bw, bh])):
        return
    cv2.rectangle(image, (int(round(x * w)), int(round(y * h))), (int(round((x + bw) * w)), int(round((y + bh) * h))),
                  color, 1)


def score_map_image(score_map: torch.Tensor, size: int) -> np.ndarray:
    """A (F, F) score map in [0, 1] -> size x size x 3 uint8 RGB (JET, nearest upsampling)."""
    values = (score_map.detach().float().cpu().clamp(0, 1).numpy() * 255).astype(np.uint8)
    coloured = cv2.applyColorMap(cv2.resize(values, (size, size), interpolation=cv2.INTER_NEAREST), cv2.COLORMAP_JET)
    return cv2.cvtColor(coloured, cv2.COLOR_BGR2RGB)


def training_sample_image(batch: Mapping[str, torch.Tensor], out: Mapping[str, torch.Tensor],
                          mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """The picture of sample 0 of ``batch`` (layout in the module docstring) as H x W x 3 uint8 RGB.

    Args:
        batch: the data pipeline's batch (``template_images`` (Nt, B, 6, St, St), ``search_images``
            (Ns, B, 6, S, S), ``search_anno`` (Ns, B, 4) normalised xywh).
        out: the network's output on sample 0 alone (``pred_boxes`` (Ns, 1, 4) normalised cxcywh,
            ``score_map`` (Ns, 1, F, F)), frames in time order.
        mean, std: ``DATA.MEAN`` / ``DATA.STD`` used to normalise both modalities.
    """
    frame = batch["search_images"].shape[0] - 1
    size = batch["search_images"].shape[-1]
    half = size // 2
    cx, cy, bw, bh = out["pred_boxes"][frame].reshape(4).tolist()
    pred_xywh = [cx - bw / 2, cy - bh / 2, bw, bh]
    gt_xywh = batch["search_anno"][frame, 0].tolist()
    rows = []
    for channels in (slice(0, 3), slice(3, 6)):
        templates = [cv2.resize(denormalise(t[0, channels], mean, std), (half, half), interpolation=cv2.INTER_AREA)
                     for t in batch["template_images"][:2]]
        search = denormalise(batch["search_images"][frame, 0, channels], mean, std)
        _draw_xywh(search, gt_xywh, GT_COLOR)
        _draw_xywh(search, pred_xywh, PRED_COLOR)
        column = np.zeros((size, half, 3), np.uint8)
        column[:half], column[half:2 * half] = templates[0], templates[-1]
        last = score_map_image(out["score_map"][frame, 0], size) if channels.start == 0 else np.zeros_like(search)
        rows.append(np.concatenate([column, search, last], axis=1))
    return np.concatenate(rows, axis=0)
