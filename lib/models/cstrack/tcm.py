"""Temporal Compact Module (stage 2): token memory and temporal fusion decoder (docs/architecture.md)."""
from __future__ import annotations

from typing import List, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from lib.models.layers.weight_init import init_trunc_normal


class TemporalFusionLayer(nn.Module):
    """Post-norm decoder layer: memory self-attention, query-to-memory cross-attention, ReLU FFN (docs/architecture.md).

    Uses ``nn.MultiheadAttention`` (packed ``in_proj_weight``, ``out_proj``), as the checkpoints do; the
    FFN width is the layer default 1024, not a ratio of the width (quirk Q26).
    """

    def __init__(self, dim: int, num_heads: int, ffn_dim: int = 1024, dropout: float = 0.1):
        super().__init__()
        self.self_attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.multihead_attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.linear1 = nn.Linear(dim, ffn_dim)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(ffn_dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def forward(self, query: torch.Tensor, memory: torch.Tensor, query_pos: torch.Tensor,
                memory_pos: torch.Tensor) -> torch.Tensor:
        mem_qk = memory + memory_pos
        memory = self.norm1(memory + self.dropout1(self.self_attn(mem_qk, mem_qk, memory, need_weights=False)[0]))
        attn = self.multihead_attn(query + query_pos, memory + memory_pos, memory, need_weights=False)[0]
        query = self.norm2(query + self.dropout2(attn))
        ffn = self.linear2(self.dropout(F.relu(self.linear1(query))))
        return self.norm3(query + self.dropout3(ffn))


class TemporalFusion(nn.Module):
    """Wrapper holding ``layers.0`` (checkpoint key prefix ``temporal_fusion.layers.0``)."""

    def __init__(self, dim: int, num_heads: int, ffn_dim: int = 1024, dropout: float = 0.1):
        super().__init__()
        self.layers = nn.ModuleList([TemporalFusionLayer(dim, num_heads, ffn_dim, dropout)])
        # Linear layers (out_proj too) truncated normal; in_proj keeps PyTorch's Xavier init (docs/architecture.md).
        self.apply(init_trunc_normal)

    def forward(self, query, memory, query_pos, memory_pos):
        return self.layers[0](query, memory, query_pos, memory_pos)


def search_attention_map(feat: torch.Tensor, num_search_tokens: int, per_sample: bool = False) -> torch.Tensor:
    """Inverted, min-max normalised search-to-template affinity (docs/architecture.md), (B, Nx).

    ``mean(((X Xᵀ) X) Zᵀ)`` over the 137 non-search tokens (class + prompts + templates, quirk Q11),
    computed in this order to match the reference's float32 rounding (top-k is sensitive to it).
    Quirks Q6 + Q7 (docs/parity.md): ``(max - att) / (max - min)`` with max/min over the whole batch, as
    in training; ``per_sample`` normalises each row on its own (batched inference, where rows are
    independent sequences; the same numbers for a batch of one).
    """
    search = feat[:, -num_search_tokens:]
    others = feat[:, :-num_search_tokens]
    att = torch.matmul(torch.matmul(torch.matmul(search, search.transpose(1, 2)), search),
                       others.transpose(1, 2)).mean(dim=-1)
    if per_sample:
        att_max, att_min = att.amax(dim=1, keepdim=True), att.amin(dim=1, keepdim=True)
    else:
        att_max, att_min = att.max(), att.min()
    return (att_max - att) / (att_max - att_min)


def box_gaussian_prior(pred_boxes: torch.Tensor, feat_sz: int) -> torch.Tensor:
    """Gaussian over the F x F grid from normalised (cx, cy, w, h) boxes (B, 4) -> (B, F*F) (docs/architecture.md).

    Quirk Q8: integer cell coordinates (no +0.5) and standard deviations equal to the full box size.
    """
    boxes = pred_boxes.reshape(-1, 4) * feat_sz
    cx, cy, w, h = (boxes[:, i].view(-1, 1, 1) for i in range(4))
    grid = torch.arange(feat_sz, dtype=boxes.dtype, device=boxes.device)
    rows = grid.view(1, -1, 1)
    cols = grid.view(1, 1, -1)
    g = torch.exp(-0.5 * (((rows - cy) / h) ** 2 + ((cols - cx) / w) ** 2))
    return g.flatten(1)


def select_tokens(search_tokens: torch.Tensor, scores: torch.Tensor, k: int) -> torch.Tensor:
    """Gather the ``k`` highest-scoring search tokens in ascending index order: (B, N, D) -> (B, k, D)."""
    idx = torch.topk(scores, k, dim=1).indices.sort(dim=1).values
    return torch.gather(search_tokens, 1, idx.unsqueeze(-1).expand(-1, -1, search_tokens.shape[-1]))


#: Whether a frame is a sequence's first tracked frame: for the whole batch, or per row as a (B,) bool tensor.
FirstFrame = Union[bool, torch.Tensor]


def restart_memory(memory: List[torch.Tensor], tokens: torch.Tensor, first_frame: FirstFrame,
                   num_slots: int) -> List[torch.Tensor]:
    """Every slot = ``tokens`` for the rows whose memory (re)starts, the old slots for the others."""
    if not isinstance(first_frame, torch.Tensor) or not memory:
        return [tokens] * num_slots
    rows = first_frame.view(-1, 1, 1)
    return [torch.where(rows, tokens, slot) for slot in memory]


def update_memory(memory: List[torch.Tensor], new_tokens: torch.Tensor, first_frame: FirstFrame,
                  num_slots: int) -> List[torch.Tensor]:
    """Memory after a frame: all slots = new tokens on the first frame, else ``[m0, m2, ..., new]`` (quirk Q9)."""
    if not isinstance(first_frame, torch.Tensor):
        return [new_tokens] * num_slots if first_frame else [memory[0]] + list(memory[2:]) + [new_tokens]
    return restart_memory([memory[0]] + list(memory[2:]) + [new_tokens], new_tokens, first_frame, num_slots)
