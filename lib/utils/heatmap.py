"""Training targets on the search grid: CenterNet Gaussian heatmaps and soft template token masks."""
from __future__ import annotations

import math

import numpy as np
import torch

Tensor = torch.Tensor


def gaussian_radius(height: Tensor, width: Tensor, min_overlap: float = 0.7) -> Tensor:
    """CornerNet radius ("bug version" used by CenterNet / OSTrack), evaluated in float32 (docs/training.md)."""
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
    """Center heatmaps (N, 1, F, F) for normalised xywh boxes (N, 4) (docs/training.md).

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


def soft_template_mask(boxes: Tensor, size: int, stride: int) -> Tensor:
    """Soft template masks (N, (size/stride)^2, 1) from normalised xywh boxes (N, 4) (docs/training.md).

    Quirks kept (T26, T28 in docs/parity.md): boxes normalised by ``size - 1`` are scaled back by
    ``size``; the end ``x + w - 1`` is computed in float32 like the reference's tensor arithmetic, then
    start and end are truncated with ``int()`` (the last row/column is left out); negative starts wrap.
    A box with a non-finite value gives an all-background mask.
    """
    box_px = boxes.detach().to("cpu", torch.float32).reshape(-1, 4) * size
    ends = box_px[:, 0:2] + box_px[:, 2:4] - 1
    masks = []
    for (x, y), (x_end, y_end) in zip(box_px[:, 0:2].tolist(), ends.tolist()):
        if all(math.isfinite(v) for v in (x, y, x_end, y_end)):
            masks.append(box_token_mask(y, y_end, x, x_end, size, stride))
        else:
            masks.append(torch.zeros((size // stride) ** 2, 1))
    return torch.stack(masks).to(boxes.device)
