"""Attention layers with the exact parameter names of the released CSTrack checkpoints."""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from lib.models.layers.fused import ConcatenatedLinear, use_fused


class SubLNAttention(nn.Module):
    """Fast-iTPN main-block attention (docs/architecture.md, quirk Q27).

    Separate ``q_proj``/``k_proj``/``v_proj`` without bias of their own, plus ``q_bias`` and ``v_bias``
    (k has no bias). "Sub-LN" here only means the split projections: there is no norm inside.
    """

    def __init__(self, dim: int, num_heads: int, attn_drop: float = 0.0, proj_drop: float = 0.0):
        super().__init__()
        self.num_heads = num_heads
        self.q_proj = nn.Linear(dim, dim, bias=False)
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self._qkv = ConcatenatedLinear()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        if use_fused(self):
            q, k, v = self._qkv(x, [self.q_proj.weight, self.k_proj.weight, self.v_proj.weight],
                                [self.q_bias, None, self.v_bias])
        else:
            q = F.linear(x, self.q_proj.weight, self.q_bias)
            k = F.linear(x, self.k_proj.weight)
            v = F.linear(x, self.v_proj.weight, self.v_bias)
        q, k, v = (t.view(b, n, self.num_heads, c // self.num_heads).transpose(1, 2) for t in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop if self.training else 0.0)
        return self.proj_drop(self.proj(out.transpose(1, 2).reshape(b, n, c)))


class CrossAttention(nn.Module):
    """SCM cross-attention (docs/architecture.md): bias-free ``q``/``k``/``v``, biased ``proj``, attention dropout."""

    def __init__(self, dim: int, num_heads: int, attn_drop: float = 0.1):
        super().__init__()
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(dim, dim, bias=False)
        self.v = nn.Linear(dim, dim, bias=False)
        self.proj = nn.Linear(dim, dim)
        self.attn_drop = attn_drop

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        b, nq, c = query.shape
        nk = key.shape[1]
        h = self.num_heads
        q = self.q(query).view(b, nq, h, c // h).transpose(1, 2)
        k = self.k(key).view(b, nk, h, c // h).transpose(1, 2)
        v = self.v(value).view(b, nk, h, c // h).transpose(1, 2)
        # The reference scales after the product; the difference is far below fp32 parity tolerance.
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=self.attn_drop if self.training else 0.0)
        return self.proj(out.transpose(1, 2).reshape(b, nq, c))
