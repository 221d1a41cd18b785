"""Training losses of CSTrack (docs/training.md)."""
from __future__ import annotations

import torch
import torch.nn as nn

Tensor = torch.Tensor


class FocalLoss(nn.Module):
    """CenterNet focal loss on the center heatmap (alpha 2, beta 4), normalised by the batch's positives.

    Not torchvision's ``sigmoid_focal_loss`` (the RetinaNet form). Without any positive cell the
    un-normalised negative term is returned, as the reference does (T33 in docs/parity.md).
    """

    def __init__(self, alpha: float = 2.0, beta: float = 4.0):
        super().__init__()
        self.alpha = alpha
        self.beta = beta

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        pred = torch.clamp(pred, min=1e-12)
        pos = target.eq(1).float()
        neg = target.lt(1).float()
        pos_loss = (torch.log(pred) * torch.pow(1 - pred, self.alpha) * pos).sum()
        neg_loss = (torch.log(1 - pred) * torch.pow(pred, self.alpha) * torch.pow(1 - target, self.beta) * neg).sum()
        num_pos = pos.sum()
        if num_pos == 0:
            return -neg_loss
        return -(pos_loss + neg_loss) / num_pos
