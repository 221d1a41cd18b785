"""Actors: network + loss for one training step; ``build_actor(script, net, cfg)``."""
from __future__ import annotations

from typing import Mapping

import torch.nn as nn

from lib.registry import ACTORS
from lib.train.actors.cstrack import TASK_CLASS_BY_DATASET, CSTrackActor, task_targets


def build_actor(script: str, net: nn.Module, cfg: Mapping) -> nn.Module:
    """The actor registered for ``script`` (``cstrack_s1`` / ``cstrack_s2``) around ``net``."""
    return ACTORS.get(script)(net, cfg)


__all__ = ["build_actor", "CSTrackActor", "TASK_CLASS_BY_DATASET", "task_targets"]
