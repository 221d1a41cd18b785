"""Spatial Compact Module: RGB and X token streams fused by bidirectional cross-attention (docs/architecture.md)."""
from __future__ import annotations

import torch
import torch.nn as nn
from timm.layers import Mlp

from lib.models.layers.attention import CrossAttention
from lib.models.layers.weight_init import init_trunc_normal


class SpatialFusionLayer(nn.Module):
    """One SCM layer. Attribute names are the released checkpoint's (upper-case ``MLP``/``MLP_det``).

    Query stream = RGB prompts + RGB tokens, memory stream = X prompts + X tokens, both (B, P+N, D);
    output (B, 2P+N, D): RGB prompts, X prompts, then the summed RGB+X tokens, normalised.
    """

    def __init__(self, dim: int, num_heads: int, num_prompts: int, mlp_ratio: float = 1.0, dropout: float = 0.1):
        super().__init__()
        self.num_prompts = num_prompts
        hidden = int(dim * mlp_ratio)
        self.cross_attn = CrossAttention(dim, num_heads, attn_drop=dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.cross_attn_det = CrossAttention(dim, num_heads, attn_drop=dropout)
        self.dropout2_det = nn.Dropout(dropout)
        self.norm2_det = nn.LayerNorm(dim)
        self.MLP = Mlp(dim, hidden, act_layer=nn.GELU, drop=(dropout, 0.0))  # noqa: N815 (checkpoint name)
        self.dropout3 = nn.Dropout(dropout)
        self.norm3 = nn.LayerNorm(dim)
        self.MLP_det = Mlp(dim, hidden, act_layer=nn.GELU, drop=(dropout, 0.0))  # noqa: N815 (checkpoint name)
        self.dropout3_det = nn.Dropout(dropout)
        self.norm3_det = nn.LayerNorm(dim)
        self.norm_final = nn.LayerNorm(dim)

    def forward(self, rgb: torch.Tensor, x_mod: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        # Same positions for both streams (quirk Q5); positions enter queries and keys only.
        rgb = self.norm2(rgb + self.dropout2(self.cross_attn(rgb + pos, x_mod + pos, x_mod)))
        # Quirk Q4: the X stream attends to the RGB stream already updated above.
        x_mod = self.norm2_det(x_mod + self.dropout2_det(self.cross_attn_det(x_mod + pos, rgb + pos, rgb)))
        rgb = self.norm3(rgb + self.dropout3(self.MLP(rgb)))
        # Quirk Q3 (docs/architecture.md): the residual is lost, the MLP output is added to its own dropout.
        # In eval mode this is LN(2 * MLP(x)); needed for checkpoint parity.
        x_mod = self.MLP_det(x_mod)
        x_mod = self.norm3_det(x_mod + self.dropout3_det(x_mod))
        p = self.num_prompts
        fused = torch.cat([rgb[:, :p], x_mod[:, :p], rgb[:, p:] + x_mod[:, p:]], dim=1)
        return self.norm_final(fused)


class SpatialCompactModule(nn.Module):
    """Wrapper holding ``layers.0`` (checkpoint key prefix ``backbone_rgb_det_fusion.layers.0``)."""

    def __init__(self, dim: int, num_heads: int, num_prompts: int, mlp_ratio: float = 1.0, dropout: float = 0.1):
        super().__init__()
        self.layers = nn.ModuleList([SpatialFusionLayer(dim, num_heads, num_prompts, mlp_ratio, dropout)])
        self.apply(init_trunc_normal)

    def forward(self, rgb: torch.Tensor, x_mod: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        return self.layers[0](rgb, x_mod, pos)

