"""Trackers: ``build_tracker("cstrack_s2", checkpoint=..., dataset_name="lasher", device="cpu")``."""
from __future__ import annotations

from typing import Optional, Union

import torch

from lib.config import load_config
from lib.models import build_model
from lib.registry import TRACKERS
from lib.test.tracker.cstrack import CSTrackTemporalTracker, CSTrackTracker
from lib.utils.checkpoint import load_network_weights
from lib.utils.device import resolve_device


def build_tracker(script: str, checkpoint: Optional[str], dataset_name: str = "default",
                  device: Optional[Union[str, torch.device]] = None, config: Optional[str] = None
                  ) -> CSTrackTracker:
    """Build a tracker and load its weights.

    Args:
        script: ``cstrack_s1`` or ``cstrack_s2``.
        checkpoint: released (``{"net": ...}``) or bare state_dict file; loaded with ``strict=True``.
        dataset_name: sets the template-update rule (``lasher``/``rgbt234``: 0.45, others 0.7).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``; default: CUDA when available.
        config: yaml name or path (default ``experiments/<script>/<script>.yaml``).
    """
    if checkpoint is None:
        raise ValueError("build_tracker needs a checkpoint file (checkpoint=...)")
    cfg = load_config(config or script, script=script)
    tracker_cls = TRACKERS.get(script)
    net = build_model(cfg, arch=script)
    load_network_weights(net, checkpoint, strict=True)
    return tracker_cls(net, cfg, dataset_name=dataset_name, device=resolve_device(device))


__all__ = ["build_tracker", "CSTrackTracker", "CSTrackTemporalTracker", "resolve_device"]
