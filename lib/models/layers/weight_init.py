"""Weight initialisation shared by the backbone and the fusion modules (docs/architecture.md)."""
import torch.nn as nn
from timm.layers import trunc_normal_


def init_trunc_normal(m: nn.Module) -> None:
    """For ``Module.apply``: Linear truncated normal (std 0.02) with zero bias; LayerNorm weight 1, bias 0."""
    if isinstance(m, nn.Linear):
        trunc_normal_(m.weight, std=0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LayerNorm):
        nn.init.ones_(m.weight)
        nn.init.zeros_(m.bias)
