"""Training targets on the search grid: CenterNet Gaussian heatmaps and soft template token masks."""
from __future__ import annotations

import math

import numpy as np
import torch

Tensor = torch.Tensor


def gaussian_radius(height: Tensor, width: Tensor, min_overlap: float = 0.7) -> Tensor:
    """CornerNet radius ("bug version" used by CenterNet / OSTrack), evaluated in float32 (TRAINING.md §6.3)."""
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + torch.sqrt(b1 ** 2 - 4 * c1)) / 2
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + torch.sqrt(b2 ** 2 - 4 * 4 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + torch.sqrt(b3 ** 2 - 4 * a3 * c3)) / 2
    return torch.min(torch.min(r1, r2), r3)


def gaussian_2d(radius: int) -> np.ndarray:
    """(2r+1)^2 Gaussian with sigma (2r+1)/6, tiny values zeroed, float64 like the reference."""
    sigma = (2 * radius + 1) / 6
    ys, xs = np.ogrid[-radius:radius + 1, -radius:radius + 1]
    g = np.exp(-(xs * xs + ys * ys) / (2 * sigma * sigma))
    g[g < np.finfo(g.dtype).eps * g.max()] = 0
    return g


def generate_heatmap(boxes: Tensor, feat_sz: int) -> Tensor:
    """Center heatmaps (N, 1, F, F) for normalised xywh boxes (N, 4) (TRAINING.md §6.3).

    Row index = y, column index = x. Centres are ``round`` (half to even) of the float32 box centre in
    cells; the Gaussian is cropped at the grid border, so a centre outside the grid gives no 1.0.
    """
    boxes = boxes.detach().to("cpu", torch.float32).reshape(-1, 4)
    heatmaps = torch.zeros(boxes.shape[0], 1, feat_sz, feat_sz, dtype=torch.float32)
    scaled = boxes * feat_sz
    centers = torch.round(scaled[:, :2] + scaled[:, 2:] / 2)
    for n in range(boxes.shape[0]):
        bw, bh = scaled[n, 2], scaled[n, 3]
        radius = max(0, int(gaussian_radius(bh, bw)))
        g = torch.from_numpy(gaussian_2d(radius).astype(np.float32))
        cx, cy = int(centers[n, 0]), int(centers[n, 1])
        r0, r1 = max(cy - radius, 0), min(cy + radius + 1, feat_sz)
        c0, c1 = max(cx - radius, 0), min(cx + radius + 1, feat_sz)
        if r0 >= r1 or c0 >= c1:
            continue  # the Gaussian lies entirely outside the grid
        g_part = g[r0 - (cy - radius):r1 - (cy - radius), c0 - (cx - radius):c1 - (cx - radius)]
        heatmaps[n, 0, r0:r1, c0:c1] = torch.maximum(heatmaps[n, 0, r0:r1, c0:c1], g_part)
    return heatmaps


def box_token_mask(row_start: float, row_end: float, col_start: float, col_end: float, size: int,
                   patch: int) -> Tensor:
    """Fraction of each ``patch`` x ``patch`` cell of a ``size`` x ``size`` crop covered by a box mask.

    The box is ``mask[int(row_start):int(row_end), int(col_start):int(col_end)] = 1`` with Python slice
    semantics, negative starts included (quirk Q16: a negative start selects the last pixels).
    Returns (size/patch)^2 values in row-major order, shape (N, 1), float32.
    """
    mask = torch.zeros(size, size, dtype=torch.float32)
    mask[int(row_start):int(row_end), int(col_start):int(col_end)] = 1
    grid = size // patch
    return mask.view(grid, patch, grid, patch).mean(dim=(1, 3)).reshape(-1, 1)


def training_template_masks(template_anno: Tensor, template_size: int, patch: int) -> Tensor:
    """Soft template masks of a batch (B, Nz, 1) from normalised xywh boxes (B, 4) (TRAINING.md §6.1).

    Quirk (TRAINING.md §9 item 26): boxes are normalised by size-1 but scaled back by ``size``; ``int``
    truncation and the exclusive ``- 1`` end drop the last row and column (item 28).
    """
    boxes = (template_anno.detach().to("cpu", torch.float32) * template_size).tolist()
    masks = [box_token_mask(y, y + h - 1, x, x + w - 1, template_size, patch) for x, y, w, h in boxes]
    return torch.stack(masks).to(template_anno.device)
