"""Trackers: ``build_tracker("cstrack_s2", checkpoint=..., dataset_name="lasher", device="cpu")``."""
from __future__ import annotations

import os
from typing import Any, Mapping, Optional, Tuple, Union

import torch

from lib.config import config_from_dict, load_config
from lib.models import build_model
from lib.registry import TRACKERS
from lib.test.tracker.cstrack import CSTrackTemporalTracker, CSTrackTracker
from lib.test.tracker.identity import RunIdentity, tracker_identity
from lib.utils.checkpoint import extract_state_dict, load_state_dict_into, read_checkpoint, stored_config
from lib.utils.device import resolve_device


def tracker_config(script: str, config: Optional[str], ckpt: Any, path: str) -> Tuple[Mapping, str]:
    """The config to build ``script`` with, and where it came from.

    ``config`` (a yaml name or path) when given; else the config this framework's trainer stored in
    the checkpoint; else the named experiment ``experiments/<script>/<script>.yaml`` (released weights).
    """
    if config:
        return load_config(config, script=script), str(config)
    stored = stored_config(ckpt)
    if stored is not None:
        source = f"{path} (stored config)"
        return config_from_dict(stored, source=source), source
    return load_config(script, script=script), f"experiments/{script}/{script}.yaml"


def _read_weights(script: str, checkpoint: str, config: Optional[str]) -> Tuple[Mapping, Mapping, str]:
    """Read ``checkpoint`` once: its state_dict, the config to build with, and where that config came from."""
    ckpt = read_checkpoint(checkpoint)
    state = extract_state_dict(ckpt, checkpoint)
    cfg, config_source = tracker_config(script, config, ckpt, checkpoint)
    return state, cfg, config_source  # the optimizer state and trainer records of ``ckpt`` are dropped


def build_tracker(script: str, checkpoint: Optional[str], dataset_name: str = "default",
                  device: Optional[Union[str, torch.device]] = None, config: Optional[str] = None,
                  precision: str = "fp32", require_native: bool = True) -> CSTrackTracker:
    """Build a tracker and load its weights; the file is read once.

    Args:
        script: ``cstrack_s1`` or ``cstrack_s2``.
        checkpoint: any layout :func:`lib.utils.checkpoint.read_checkpoint` reads (the authors' trainer
            files, ``{"net": ...}``, bare state_dicts, this framework's checkpoints); ``strict=True``.
        dataset_name: sets the template-update rule (``lasher``/``rgbt234``: 0.45, others 0.7).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``; default: CUDA when available.
        config: yaml name or path; default: the config stored in the checkpoint, else
            ``experiments/<script>/<script>.yaml``.
        precision: ``fp32`` (default, the reference's arithmetic), ``bf16`` (CPUs with AVX512-BF16 or AMX,
            GPUs) or ``fp16`` (GPUs); elsewhere fp32 with a notice (:mod:`lib.test.tracker.precision`), unless
            ``require_native`` is False (to measure an emulated precision's accuracy).

    The tracker's ``identity`` (:class:`~lib.test.tracker.identity.RunIdentity`) names the weights,
    config, dataset name and code version the boxes come from.
    """
    if checkpoint is None:
        raise ValueError("build_tracker needs a checkpoint file (checkpoint=...)")
    tracker_cls = TRACKERS.get(script)
    path = os.fspath(checkpoint)
    state, cfg, config_source = _read_weights(script, path, config)
    net = build_model(cfg, arch=script)
    load_state_dict_into(net, state, path, strict=True)
    tracker = tracker_cls(net, cfg, dataset_name=dataset_name, device=resolve_device(device), precision=precision,
                          require_native=require_native)
    tracker.identity = tracker_identity(script, state, cfg, dataset_name, path, config_source,
                                        tracker.precision.name)
    return tracker


def checkpoint_identity(script: str, checkpoint: str, dataset_name: str = "default",
                        config: Optional[str] = None, precision: str = "fp32") -> RunIdentity:
    """The identity :func:`build_tracker` would give an fp32 (or ``precision``) tracker, without building it."""
    TRACKERS.get(script)
    path = os.fspath(checkpoint)
    state, cfg, config_source = _read_weights(script, path, config)
    return tracker_identity(script, state, cfg, dataset_name, path, config_source, precision)


__all__ = ["build_tracker", "checkpoint_identity", "CSTrackTracker", "CSTrackTemporalTracker", "RunIdentity",
           "tracker_config"]
