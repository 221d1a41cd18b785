"""MLPs of the Fast-iTPN backbone with the checkpoint's parameter names (docs/architecture.md)."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from lib.models.layers.fused import ConcatenatedLinear, use_fused


class NaiveSwiGLU(nn.Module):
    """``w3(LN(SiLU(w1 x) * w2 x))``: Fast-iTPN's SwiGLU with a LayerNorm on the hidden units.

    timm's ``SwiGLU`` computes the same function but names its weights ``fc1_g/fc1_x/norm/fc2``;
    the released checkpoints need ``w1/w2/ffn_ln/w3`` (tested against timm in the test suite).
    """

    def __init__(self, dim: int, hidden: int, eps: float = 1e-6, drop: float = 0.0):
        super().__init__()
        self.w1 = nn.Linear(dim, hidden)
        self.w2 = nn.Linear(dim, hidden)
        self.ffn_ln = nn.LayerNorm(hidden, eps=eps)
        self.w3 = nn.Linear(hidden, dim)
        self.drop = nn.Dropout(drop)
        self._w12 = ConcatenatedLinear()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if use_fused(self):
            a, g = self._w12(x, [self.w1.weight, self.w2.weight], [self.w1.bias, self.w2.bias])
        else:
            a, g = self.w1(x), self.w2(x)
        return self.drop(self.w3(self.ffn_ln(F.silu(a) * g)))


class ConvMlp(nn.Module):
    """1x1-conv MLP with a LayerNorm between the layers, on channel-last maps (B, H, W, C).

    The weights stay 4-D ``Conv2d`` tensors (checkpoint layout); applying them as linear layers on
    channel-last data is the same computation without the permutes.
    """

    def __init__(self, dim: int, hidden: int, eps: float = 1e-6, drop: float = 0.0):
        super().__init__()
        self.fc1 = nn.Conv2d(dim, hidden, 1)
        self.ffn_ln = nn.LayerNorm(hidden, eps=eps)
        self.fc2 = nn.Conv2d(hidden, dim, 1)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(F.linear(x, self.fc1.weight.flatten(1), self.fc1.bias))
        x = F.linear(self.ffn_ln(x), self.fc2.weight.flatten(1), self.fc2.bias)
        return self.drop(x)
