"""Model zoo: ``build_model(cfg)`` builds the network the config names (``MODEL.ARCH``)."""
from __future__ import annotations

from typing import Mapping, Optional

import torch.nn as nn

from lib.models.cstrack import builder as _cstrack_builder  # noqa: F401 (registers cstrack_s1/s2)
from lib.models.cstrack.model import CSTRACK_S1, CSTRACK_S2
from lib.registry import MODELS


def build_model(cfg: Mapping, arch: Optional[str] = None, load_pretrained: bool = False) -> nn.Module:
    """Build a CSTrack network with random weights (no file is read unless ``load_pretrained``).

    Args:
        cfg: config from :func:`lib.config.load_config`; every size comes from it.
        arch: registry name (``cstrack_s1`` / ``cstrack_s2``); defaults to ``cfg.MODEL.ARCH``.
        load_pretrained: load the Fast-iTPN backbone named by ``MODEL.PRETRAIN_FILE`` (training).
    """
    return MODELS.get(arch or cfg.MODEL.ARCH)(cfg, load_pretrained=load_pretrained)


__all__ = ["build_model", "CSTRACK_S1", "CSTRACK_S2", "MODELS"]
