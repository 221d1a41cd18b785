"""Choosing the torch device from configuration: the one place that turns ``"auto"`` into a device."""
from __future__ import annotations

from typing import Optional, Union

import torch

DeviceLike = Union[None, str, torch.device]


def resolve_device(device: DeviceLike = None, local_rank: Optional[int] = None) -> torch.device:
    """``None``/``"auto"``: CUDA when available, else CPU; ``"cpu"``, ``"cuda"``, ``"cuda:N"`` as asked.

    ``local_rank`` (one process per GPU) turns ``auto`` / ``cuda`` into ``cuda:<local_rank>``. Asking
    for CUDA without it, or for a GPU index that is not visible, is an error that says so.
    """
    name = "auto" if device is None else str(device)
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        name = "cuda"
    try:
        resolved = torch.device(name)
    except RuntimeError as e:
        raise ValueError(f"device '{name}' is not a device name (expected auto, cpu, cuda or cuda:N)") from e
    if resolved.type != "cuda":
        return resolved
    if not torch.cuda.is_available():
        raise RuntimeError(f"device '{name}' was asked for but torch.cuda.is_available() is False "
                           f"(use --device cpu, or install a CUDA build of PyTorch)")
    if resolved.index is None:
        resolved = torch.device("cuda", local_rank or 0)
    if resolved.index >= torch.cuda.device_count():
        raise RuntimeError(f"device {resolved} is not visible: only {torch.cuda.device_count()} GPU(s)")
    return resolved


__all__ = ["DeviceLike", "resolve_device"]
