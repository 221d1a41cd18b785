"""Loading and saving network weights in the released CSTrack format (``{"net": state_dict, ...}``)."""
from __future__ import annotations

import logging
import os
import tempfile
from typing import Any, Dict, List, Mapping, Optional

import torch
import torch.nn as nn

logger = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """A checkpoint that does not fit the network; the message names the file and the first bad key."""


def read_checkpoint(path: str, allow_pickle: bool = False) -> Dict[str, Any]:
    """``torch.load`` a checkpoint on the CPU with ``weights_only=True`` (plain tensors and types only).

    Checkpoints that pickle Python objects (the reference trainer stored its settings) need
    ``allow_pickle=True``: only do that for files from a trusted source.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=not allow_pickle)
    except Exception as e:  # torch raises UnpicklingError / RuntimeError / EOFError depending on the damage
        hint = ("" if allow_pickle else " If it is a trusted reference checkpoint that pickles objects, "
                "load it with allow_pickle=True (--allow-pickle).")
        raise CheckpointError(f"cannot read checkpoint {path}: {e}.{hint}") from e


def extract_state_dict(ckpt: Any, path: str = "<checkpoint>") -> Mapping[str, torch.Tensor]:
    """The weights of a checkpoint: its ``net`` entry, or the object itself when it is a bare state_dict."""
    if isinstance(ckpt, Mapping) and "net" in ckpt:
        state = ckpt["net"]
    else:
        state = ckpt
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a state_dict or a dict with a 'net' state_dict")
    # DDP-saved weights carry a 'module.' prefix
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def load_network_weights(net: nn.Module, path: str, strict: bool = True,
                         allow_pickle: bool = False) -> Dict[str, List[str]]:
    """Load ``path`` into ``net``; report missing / unexpected keys and fail clearly on shape mismatches.

    With ``strict`` any missing or unexpected key is an error that lists them (a stage-1 checkpoint in a
    stage-2 network, say). Returns the missing and unexpected key lists.
    """
    state = extract_state_dict(read_checkpoint(path, allow_pickle), path)
    own = net.state_dict()
    for key, value in state.items():
        if key in own and own[key].shape != value.shape:
            raise CheckpointError(
                f"{path}: shape mismatch at '{key}': checkpoint {tuple(value.shape)} vs network "
                f"{tuple(own[key].shape)} (checkpoint of another model size or config?)")
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if strict and (missing or unexpected):
        raise CheckpointError(
            f"{path} does not match the network ({type(net).__name__}): {len(missing)} missing keys "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''}, {len(unexpected)} unexpected keys "
            f"{unexpected[:5]}{'...' if len(unexpected) > 5 else ''} (checkpoint of the other stage?)")
    net.load_state_dict(state, strict=False)
    if missing or unexpected:
        logger.warning("%s: %d missing keys %s, %d unexpected keys %s", path, len(missing), missing[:5],
                       len(unexpected), unexpected[:5])
    return {"missing_keys": missing, "unexpected_keys": unexpected}


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` to a temporary file in the same folder, then ``os.replace``: never a half file."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=".pth", dir=folder)
    os.close(fd)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_network(net: nn.Module, path: str, extra: Optional[Dict[str, Any]] = None) -> None:
    """Save weights in the released layout ``{"net": state_dict, **extra}`` atomically."""
    module = net.module if hasattr(net, "module") else net
    atomic_torch_save({"net": module.state_dict(), **(extra or {})}, path)
