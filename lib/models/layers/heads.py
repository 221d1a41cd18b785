"""Prediction heads: center head, confidence head, task-classification head (``docs/architecture.md``)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn_relu(in_planes: int, out_planes: int) -> nn.Sequential:
    """3x3 conv + BatchNorm + ReLU; indices 0/1 give the checkpoint's ``.0.weight``/``.1.weight`` keys."""
    return nn.Sequential(nn.Conv2d(in_planes, out_planes, 3, padding=1), nn.BatchNorm2d(out_planes),
                         nn.ReLU(inplace=True))


def _xavier_init(module: nn.Module) -> None:
    for p in module.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)


class CenterPredictor(nn.Module):
    """CenterNet-style head: score, offset and size maps on the search feature map (``docs/architecture.md``).

    Three branches of four conv-BN-ReLU layers (widths C, C/2, C/4, C/8) and a 1x1 output conv.
    Registration order ctr, offset, size matches the released checkpoints. :meth:`decode` turns the maps
    into a box; the forward pass and the tracker (which first multiplies a Hann window in) both use it.
    """

    def __init__(self, inplanes: int, channel: int, feat_sz: int, stride: int):
        super().__init__()
        self.feat_sz = feat_sz
        self.stride = stride
        widths = [inplanes, channel, channel // 2, channel // 4, channel // 8]
        for branch, out_ch in (("ctr", 1), ("offset", 2), ("size", 2)):
            for i in range(4):
                setattr(self, f"conv{i + 1}_{branch}", conv_bn_relu(widths[i], widths[i + 1]))
            setattr(self, f"conv5_{branch}", nn.Conv2d(widths[4], out_ch, 1))
        _xavier_init(self)

    def _branch(self, x: torch.Tensor, name: str) -> torch.Tensor:
        for i in range(1, 5):
            x = getattr(self, f"conv{i}_{name}")(x)
        return getattr(self, f"conv5_{name}")(x)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, C, F, F) -> score map (B,1,F,F), boxes (B,4) cxcywh normalised, size map, offset map."""
        score_map = torch.clamp(torch.sigmoid(self._branch(x, "ctr")), min=1e-4, max=1 - 1e-4)
        size_map = torch.clamp(torch.sigmoid(self._branch(x, "size")), min=1e-4, max=1 - 1e-4)
        offset_map = self._branch(x, "offset")
        boxes, _ = self.decode(score_map, size_map, offset_map)
        return score_map, boxes, size_map, offset_map

    def decode(self, score_map: torch.Tensor, size_map: torch.Tensor, offset_map: torch.Tensor,
               window: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """The box at the peak of ``score_map`` (times ``window`` when given) and that peak's value.

        Returns boxes ``(B, 4)`` as (cx, cy, w, h) normalised to the crop, from the peak cell plus its
        offset and the size there (the first maximum on ties), and scores ``(B, 1)``: the peak of the
        (windowed) map. The tracker decodes the Hann-windowed map and reports that peak as its confidence
        (quirks Q13 and Q29, ``docs/parity.md``).
        """
        if window is not None:
            score_map = window * score_map
        fs = self.feat_sz
        max_score, idx = torch.max(score_map.flatten(1), dim=1, keepdim=True)
        idx_y = torch.div(idx, fs, rounding_mode="floor")
        idx_x = idx % fs
        gather_idx = idx.unsqueeze(1).expand(idx.shape[0], 2, 1)
        size = size_map.flatten(2).gather(dim=2, index=gather_idx)
        offset = offset_map.flatten(2).gather(dim=2, index=gather_idx).squeeze(-1)
        boxes = torch.cat([(idx_x.to(torch.float) + offset[:, :1]) / fs,
                           (idx_y.to(torch.float) + offset[:, 1:]) / fs,
                           size.squeeze(-1)], dim=1)
        return boxes, max_score


class ConfidencePred(nn.Module):
    """Predicts the IoU of the box from the head maps (``docs/architecture.md``); trained, never used by the tracker."""

    def __init__(self, feat_sz: int, in_planes: int = 5, hidden: int = 512):
        super().__init__()
        widths = [in_planes, 16, 8, 4, 2]
        for i in range(4):
            setattr(self, f"conv{i + 1}_ctr", conv_bn_relu(widths[i], widths[i + 1]))
        self.conv5_ctr = nn.Conv2d(2, 1, 1)
        self.fc1 = nn.Linear(feat_sz * feat_sz, hidden)
        self.fc2 = nn.Linear(hidden, 1)
        _xavier_init(self)

    def forward(self, score_map: torch.Tensor, size_map: torch.Tensor, offset_map: torch.Tensor) -> torch.Tensor:
        x = torch.cat([score_map, size_map, offset_map], dim=1)
        for i in range(1, 5):
            x = getattr(self, f"conv{i}_ctr")(x)
        x = self.conv5_ctr(x).flatten(1)
        return torch.sigmoid(self.fc2(F.relu(self.fc1(x))))


class TaskClsBranch(nn.Module):
    """Classifies the task (0 RGB, 1 RGB-T, 2 RGB-E, 3 RGB-D) from the class token (``docs/architecture.md``)."""

    def __init__(self, dim: int, hidden: int = 256, num_classes: int = 4, drop: float = 0.5):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, num_classes)
        self.drop = nn.Dropout(drop)

    def forward(self, cls_token: torch.Tensor) -> torch.Tensor:
        x = self.drop(F.relu(self.fc1(cls_token)))
        x = self.drop(F.relu(self.fc2(x)))
        return self.fc3(x)
