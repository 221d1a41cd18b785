"""What the trackers do around the network: normalise the crops going in, and turn the box coming out
(in search-crop coordinates) into an image box: the Hann window on the score map, the mapping back to
the image and the clipping to it (one frame through the tracker: ``docs/architecture.md``)."""
from __future__ import annotations

from typing import List, Sequence

import numpy as np
import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class Preprocessor:
    """uint8 H x W x C crop -> normalised float tensor (1, 6, H, W) on the tracker's device.

    Quirk Q22 (``docs/parity.md``): ImageNet statistics for both halves whatever the config says; a
    3-channel crop is normalised and then duplicated so that X is a copy of RGB.
    """

    def __init__(self, device: torch.device):
        mean = torch.tensor(IMAGENET_MEAN * 2, device=device).view(1, 6, 1, 1)
        std = torch.tensor(IMAGENET_STD * 2, device=device).view(1, 6, 1, 1)
        self.mean, self.std, self.device = mean, std, device

    def __call__(self, crop: np.ndarray) -> torch.Tensor:
        channels = crop.shape[2]
        t = torch.from_numpy(np.ascontiguousarray(crop)).to(self.device).permute(2, 0, 1).unsqueeze(0).float()
        t = (t / 255.0 - self.mean[:, :channels]) / self.std[:, :channels]
        return torch.cat([t, t], dim=1) if channels == 3 else t


def hann_window_2d(size: int, device: torch.device) -> torch.Tensor:
    """Centred Hann window ``h[k] = 0.5 (1 - cos(2 pi (k+1) / (size+1)))``, outer product, (1,1,size,size)."""
    h = torch.hann_window(size + 2, periodic=False, dtype=torch.float64)[1:-1]
    return (h[:, None] * h[None, :]).float().view(1, 1, size, size).to(device)


def map_box_back(state: Sequence[float], pred_box: Sequence[float], search_size: int,
                 resize_factor: float) -> List[float]:
    """Crop-frame (cx, cy, w, h) -> image (x, y, w, h) around the previous state's centre.

    Quirk Q19 (``docs/parity.md``): the unrounded crop centre is used although the crop was placed
    with a rounded corner.
    """
    cx_prev = state[0] + 0.5 * state[2]
    cy_prev = state[1] + 0.5 * state[3]
    cx, cy, w, h = pred_box
    half_side = 0.5 * search_size / resize_factor
    cx_real = cx + (cx_prev - half_side)
    cy_real = cy + (cy_prev - half_side)
    return [cx_real - 0.5 * w, cy_real - 0.5 * h, w, h]


def clip_box(box: Sequence[float], height: int, width: int, margin: int = 10) -> List[float]:
    """Keep at least ``margin`` pixels of the box inside the image and w, h >= margin (quirk Q20, ``docs/parity.md``)."""
    x1, y1, w, h = box
    x2, y2 = x1 + w, y1 + h
    x1 = min(max(0, x1), width - margin)
    x2 = min(max(margin, x2), width)
    y1 = min(max(0, y1), height - margin)
    y2 = min(max(margin, y2), height)
    return [x1, y1, max(margin, x2 - x1), max(margin, y2 - y1)]
