"""Fast-iTPN backbone as CSTrack uses it (docs/architecture.md).

Patch stages (conv-MLP blocks with patch merging, channel-last) turn a 3-channel image into a
stride-16 token grid; the same weights embed RGB and X. The main transformer blocks (sub-LN attention,
naive SwiGLU, layer scale) then run on the fused token stream that the CSTrack model assembles.
"""
from __future__ import annotations

import logging
import os
from typing import Dict, List

import torch
import torch.nn as nn
from timm.layers import DropPath, resample_abs_pos_embed, trunc_normal_

from lib.models.layers.attention import SubLNAttention
from lib.models.layers.mlp import ConvMlp, NaiveSwiGLU
from lib.models.layers.weight_init import init_trunc_normal

logger = logging.getLogger(__name__)
LN_EPS = 1e-6  # every LayerNorm of the backbone (quirk Q28)


class ConvMlpBlock(nn.Module):
    """``x + DropPath(ConvMlp(LN(x)))`` on (B, H, W, C) maps; no layer scale (docs/architecture.md)."""

    def __init__(self, dim: int, mlp_ratio: float, drop_path: float = 0.0):
        super().__init__()
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = ConvMlp(dim, int(dim * mlp_ratio), eps=LN_EPS)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.drop_path(self.mlp(self.norm2(x)))


class PatchMerge(nn.Module):
    """LayerNorm then a 2x2 stride-2 conv doubling the channels (docs/architecture.md); (B,H,W,C)->(B,H/2,W/2,2C)."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.reduction = nn.Conv2d(dim, dim * 2, kernel_size=2, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.reduction(self.norm(x).permute(0, 3, 1, 2))
        return x.permute(0, 2, 3, 1)


class PatchEmbed(nn.Module):
    """Conv 4x4 stride 4 (``proj``), channel-last output; no norm (docs/architecture.md)."""

    def __init__(self, in_chans: int, dim: int, inner_patch: int = 4):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=inner_patch, stride=inner_patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).permute(0, 2, 3, 1)


class TransformerBlock(nn.Module):
    """Pre-norm block with layer scale: attention then SwiGLU (docs/architecture.md)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, drop_path: float = 0.0,
                 init_values: float = 0.1):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=LN_EPS)
        self.attn = SubLNAttention(dim, num_heads)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=LN_EPS)
        self.mlp = NaiveSwiGLU(dim, int(dim * mlp_ratio), eps=LN_EPS)
        self.gamma_1 = nn.Parameter(init_values * torch.ones(dim))
        self.gamma_2 = nn.Parameter(init_values * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.gamma_1 * self.attn(self.norm1(x)))
        return x + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x)))


class FastITPN(nn.Module):
    """Fast-iTPN base ("3324") with CSTrack's tracking positional embeddings and token types.

    Args:
        embed_dim: width of the main blocks (512); the patch stages run at 1/4 and 1/2 of it.
        depths: (stage-1 conv blocks, stage-2 conv blocks, main transformer blocks).
        template_size / search_size: crop sizes in pixels; with stride 16 they give the token grids.
        pretrain_img_size: image size of the pretraining positional grid (224 -> 14x14).
    """

    patch_size = 16
    #: Parameters the forward pass never reads: the pretraining positions only seed the tracking grids
    #: and, after a load, the class token (quirk Q1), so they get no gradient while trainable.
    unused_in_forward = ("pos_embed",)

    def __init__(self, embed_dim: int = 512, depths: tuple = (3, 3, 24), num_heads: int = 8,
                 mlp_ratio: float = 3.0, bridge_mlp_ratio: float = 3.0, drop_path_rate: float = 0.0,
                 layer_scale_init: float = 0.1, pretrain_img_size: int = 224, template_size: int = 128,
                 search_size: int = 256):
        super().__init__()
        if embed_dim % 4:
            raise ValueError(f"MODEL.BACKBONE.EMBED_DIM must be divisible by 4, got {embed_dim}")
        for name, size in (("template", template_size), ("search", search_size)):
            if size % self.patch_size:
                raise ValueError(f"{name} size {size} is not a multiple of the stride {self.patch_size}")
        self.embed_dim = embed_dim
        self.num_main_blocks = depths[2]
        self.pretrain_grid = pretrain_img_size // self.patch_size
        self.template_grid = template_size // self.patch_size
        self.search_grid = search_size // self.patch_size
        n_z, n_x = self.template_grid ** 2, self.search_grid ** 2

        # Registration order = the checkpoints' key order (docs/formats.md); cls_token before pos_embed (Q1).
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.pretrain_grid ** 2 + 1, embed_dim))
        self.pos_embed_z = nn.Parameter(torch.zeros(1, 2 * n_z, embed_dim))  # two template grids (Q24)
        self.pos_embed_x = nn.Parameter(torch.zeros(1, n_x, embed_dim))
        self.token_type_search = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.token_type_template_fg = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.token_type_template_bg = nn.Parameter(torch.zeros(1, 1, embed_dim))
        # Quirk Q1 (docs/parity.md): the reference's cls_token is a view of pos_embed[:, 0], so
        # after loading a checkpoint the class token equals the loaded pos_embed[:, 0]. The load hook
        # below reproduces that; training resumes switch it off to restore the trained class token.
        self.cls_token_from_pos_embed = True
        self.register_load_state_dict_post_hook(_alias_cls_token_after_load)

        self.patch_embed = PatchEmbed(3, embed_dim // 4)
        dpr = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        blocks: List[nn.Module] = []
        dims = [embed_dim // 4, embed_dim // 2]
        for stage in range(2):
            for i in range(depths[stage]):
                blocks.append(ConvMlpBlock(dims[stage], bridge_mlp_ratio, dpr[sum(depths[:stage]) + i]))
            blocks.append(PatchMerge(dims[stage]))
        offset = depths[0] + depths[1]
        for i in range(depths[2]):
            blocks.append(TransformerBlock(embed_dim, num_heads, mlp_ratio, dpr[offset + i], layer_scale_init))
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.LayerNorm(embed_dim, eps=LN_EPS)
        self._init_weights()

    # ---------------------------------------------------------------- initialisation
    def _init_weights(self) -> None:
        """Trunc-normal positions and linears, LN 1/0 (docs/architecture.md); then derive the tracking grids."""
        trunc_normal_(self.pos_embed, std=0.02)
        trunc_normal_(self.cls_token, std=0.02)
        self.apply(init_trunc_normal)
        self.finetune_track()

    @torch.no_grad()
    def finetune_track(self) -> None:
        """Resample the pretraining positions to the template/search grids (docs/architecture.md).

        Bicubic, align_corners=False, no antialias; the template grid is stored twice (Q24); the class
        token starts as ``pos_embed[:, 0]``; the token-type embeddings start at zero.
        """
        patch_pos = self.pos_embed[:, 1:]
        kw = dict(old_size=(self.pretrain_grid, self.pretrain_grid), num_prefix_tokens=0,
                  interpolation="bicubic", antialias=False)
        pos_z = resample_abs_pos_embed(patch_pos, new_size=(self.template_grid,) * 2, **kw)
        pos_x = resample_abs_pos_embed(patch_pos, new_size=(self.search_grid,) * 2, **kw)
        self.pos_embed_z.copy_(torch.cat([pos_z, pos_z], dim=1))
        self.pos_embed_x.copy_(pos_x)
        self.cls_token.copy_(self.pos_embed[:, 0:1])
        for p in (self.token_type_search, self.token_type_template_fg, self.token_type_template_bg):
            p.zero_()

    def load_pretrained(self, path: str) -> Dict[str, List[str]]:
        """Load a Fast-iTPN pretraining file (``{"module": state_dict}``, docs/formats.md), then re-derive grids.

        Positional embeddings get a class position (the mean of the patch positions) prepended; unknown
        keys are ignored and reported; a shape mismatch raises naming the key.
        """
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Fast-iTPN pretraining file not found: {path} (download fast_itpn_base_clipl_e1600.pt "
                f"into resource/pretrained_models/, see the README)")
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        state = ckpt.get("module", ckpt.get("model", ckpt)) if isinstance(ckpt, dict) else ckpt
        state = dict(state)
        for key in list(state):
            if "pos_embed" in key:
                pe = state[key]
                state[key] = torch.cat([pe.mean(dim=1, keepdim=True), pe], dim=1)
        own = self.state_dict()
        for key, value in state.items():
            if key in own and own[key].shape != value.shape:
                raise ValueError(f"{path}: '{key}' has shape {tuple(value.shape)}, the backbone expects "
                                 f"{tuple(own[key].shape)} (is MODEL.BACKBONE configured as Fast-iTPN base?)")
        result = self.load_state_dict(state, strict=False)
        logger.info("loaded Fast-iTPN weights from %s (%d missing, %d unexpected keys)", path,
                    len(result.missing_keys), len(result.unexpected_keys))
        self.finetune_track()
        return {"missing_keys": list(result.missing_keys), "unexpected_keys": list(result.unexpected_keys)}

    # ---------------------------------------------------------------- forward pieces
    def embed_patches(self, image: torch.Tensor) -> torch.Tensor:
        """3-channel image (B, 3, H, W) -> stride-16 tokens (B, H/16 * W/16, D), row-major."""
        x = self.patch_embed(image)
        for blk in self.blocks[:-self.num_main_blocks]:
            x = blk(x)
        return x.flatten(1, 2)

    def add_template_token_types(self, z0: torch.Tensor, z1: torch.Tensor, mask0: torch.Tensor,
                                 mask1: torch.Tensor) -> torch.Tensor:
        """Token-type embeddings of the two templates, weighted by their soft masks -> (B, 2Nz, D).

        Quirk Q2 (docs/parity.md): template 1 reuses template 0's already-masked vectors.
        """
        fg0 = mask0 * self.token_type_template_fg
        bg0 = (1 - mask0) * self.token_type_template_bg
        fg1 = mask1 * fg0
        bg1 = (1 - mask1) * bg0
        return torch.cat([z0 + fg0 + bg0, z1 + fg1 + bg1], dim=1)

    def add_search_token_type(self, x: torch.Tensor) -> torch.Tensor:
        """The search token-type embedding added to every search token."""
        return x + self.token_type_search

    def forward_main_blocks(self, tokens: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Prepend the class token, add positions, run the main blocks and the final norm."""
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        x = torch.cat([cls, tokens], dim=1) + pos
        for blk in self.blocks[-self.num_main_blocks:]:
            x = blk(x)
        return self.norm(x)


def _alias_cls_token_after_load(module: FastITPN, incompatible_keys) -> None:
    """Post-load hook reproducing quirk Q1: the effective class token is the loaded ``pos_embed[:, 0]``."""
    if module.cls_token_from_pos_embed:
        with torch.no_grad():
            module.cls_token.copy_(module.pos_embed[:, 0:1])
