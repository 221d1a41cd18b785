"""Model zoo: ``build_model(cfg, arch=script)`` builds the network registered under that name.

Which network to build comes from the caller's script (``--script`` in training, the tracker's
script at test time) or from ``MODEL.ARCH``. The authors' yamls have no ``MODEL.ARCH``: empty means
"the caller's script decides"; a ``MODEL.ARCH`` that names another network than the script is an error.
"""
from __future__ import annotations

from typing import Mapping, Optional

import torch.nn as nn

from lib.config import ConfigError
from lib.models.cstrack import builder as _cstrack_builder  # noqa: F401 (registers cstrack_s1/s2)
from lib.models.cstrack.model import CSTRACK_S1, CSTRACK_S2
from lib.registry import MODELS


def resolve_arch(cfg: Mapping, arch: Optional[str] = None) -> str:
    """The registry name of the network to build: ``arch`` (the caller's script) or ``MODEL.ARCH``.

    Raises ConfigError when both are given and differ, or when neither is; KeyError (listing the known
    networks) for an unregistered name.
    """
    configured = cfg.MODEL.ARCH or None
    if arch and configured and arch != configured:
        raise ConfigError(f"MODEL.ARCH is '{configured}' but the script is '{arch}': remove MODEL.ARCH from the "
                          f"yaml (the script decides) or use --script {configured}")
    name = arch or configured
    if not name:
        raise ConfigError(f"no network named: MODEL.ARCH is empty and no script was given (pass arch=, e.g. "
                          f"--script; known: {MODELS.names()})")
    MODELS.get(name)  # a clear KeyError for an unknown name
    return name


def build_model(cfg: Mapping, arch: Optional[str] = None, load_pretrained: bool = False) -> nn.Module:
    """Build a CSTrack network with random weights (no file is read unless ``load_pretrained``).

    Args:
        cfg: config from :func:`lib.config.load_config`; every size comes from it.
        arch: the caller's script (``cstrack_s1`` / ``cstrack_s2``); may be None when ``MODEL.ARCH`` is set.
            See :func:`resolve_arch`.
        load_pretrained: load the Fast-iTPN backbone named by ``MODEL.PRETRAIN_FILE`` (training).
    """
    return MODELS.get(resolve_arch(cfg, arch))(cfg, load_pretrained=load_pretrained)


__all__ = ["build_model", "resolve_arch", "CSTRACK_S1", "CSTRACK_S2", "MODELS"]
