"""Inference precision: fp32 (the reference's arithmetic), or bf16 / fp16 autocast where it pays off.

A CPU computes bf16 quickly only with native instructions (AVX512-BF16 or AMX); elsewhere PyTorch
emulates it, several to hundreds of times slower than fp32. So ``bf16`` on a CPU without them falls
back to fp32 with a one-line notice (``require_native=False`` keeps bf16 anyway, e.g. to measure its
accuracy). fp16 autocast is a GPU feature; on a CPU it falls back to fp32 the same way. The cost in
accuracy is measured on trained weights in BENCHMARKS.md.
"""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import ContextManager, Optional

import torch

from lib.utils.machine import cpu_flags

logger = logging.getLogger(__name__)

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@dataclass(frozen=True)
class Precision:
    """The precision a tracker runs its network in: ``name`` and the autocast dtype (None = fp32)."""

    name: str
    device_type: str
    dtype: Optional[torch.dtype] = None

    def autocast(self) -> ContextManager:
        """``torch.autocast`` for this precision; a no-op for fp32."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)


def native_bf16_cpu() -> bool:
    """Whether this CPU has bf16 instructions (AVX512-BF16 or AMX) that make bf16 faster than fp32."""
    return any(flag in cpu_flags() for flag in NATIVE_BF16_FLAGS)


def resolve_precision(name: str, device: torch.device, require_native: bool = True) -> Precision:
    """The :class:`Precision` for ``name`` on ``device``; fp32 (with a notice) where it is not native."""
    if name not in PRECISIONS:
        raise ValueError(f"precision '{name}' is not one of {sorted(PRECISIONS)}")
    device = torch.device(device)
    if name == "fp32":
        return Precision("fp32", device.type)
    if require_native:
        reason = None
        if device.type == "cpu" and name == "fp16":
            reason = "fp16 autocast is for GPUs"
        elif device.type == "cpu" and not native_bf16_cpu():
            reason = "this CPU has no native bf16 (AVX512-BF16 or AMX), where bf16 runs slower than fp32"
        elif device.type == "cuda" and name == "bf16" and not torch.cuda.is_bf16_supported():
            reason = f"{torch.cuda.get_device_name(device)} has no bf16 support"
        if reason:
            logger.warning("precision %s asked for, but %s: running in fp32", name, reason)
            return Precision("fp32", device.type)
    return Precision(name, device.type, PRECISIONS[name])


__all__ = ["NATIVE_BF16_FLAGS", "PRECISIONS", "Precision", "native_bf16_cpu", "resolve_precision"]
