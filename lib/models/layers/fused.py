"""Several linear maps of one input computed as one matrix product, for inference.

A transformer block's q/k/v projections (and a SwiGLU's two input projections) read the same tokens:
one product with the concatenated weights gives exactly the same numbers (each output column is the
same dot product) in fewer, larger calls. The checkpoint keeps its separate parameters; the
concatenation is a cache, used only when no gradient is recorded, and rebuilt when any source tensor
changes (loading weights, training steps, a move to another device or dtype), which the storage address
and version counter of each source tensor reveal.

It is off by default: on a 2-core AVX2 CPU it was about 5 % slower per tracker step and held a second
copy of the weights (BENCHMARKS.md, "Model size and where a frame's time goes").
``CSTRACK_FUSED_PROJECTIONS=1`` in the environment (or :data:`ENABLED` = True) turns it on, to compare
on other hardware with ``tracking/profile_model.py --breakdown`` or ``tracking/benchmark_speed.py``.
"""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

Tensor = torch.Tensor

#: Whether inference uses the concatenated projections (``CSTRACK_FUSED_PROJECTIONS=1`` turns them on).
ENABLED = os.environ.get("CSTRACK_FUSED_PROJECTIONS", "0") == "1"


class ConcatenatedLinear:
    """``[F.linear(x, w_i, b_i) for i]`` as one product; missing biases count as zeros."""

    def __init__(self) -> None:
        self._key: Optional[Tuple] = None
        self._weight: Optional[Tensor] = None
        self._bias: Optional[Tensor] = None

    @staticmethod
    def _source_key(tensors: Sequence[Optional[Tensor]]) -> Tuple:
        return tuple((t.data_ptr(), t._version, t.dtype) if t is not None else None for t in tensors)

    def __call__(self, x: Tensor, weights: Sequence[Tensor], biases: Sequence[Optional[Tensor]]) -> List[Tensor]:
        key = self._source_key(list(weights) + list(biases))
        if key != self._key:
            with torch.no_grad():
                self._weight = torch.cat([w.detach() for w in weights], dim=0)
                self._bias = torch.cat([b.detach() if b is not None else w.new_zeros(w.shape[0])
                                        for w, b in zip(weights, biases)])
            self._key = key
        out = F.linear(x, self._weight, self._bias)
        return list(out.split([w.shape[0] for w in weights], dim=-1))


def use_fused(module: torch.nn.Module) -> bool:
    """Inference (eval mode, no gradient recorded) with the concatenated projections enabled."""
    return ENABLED and not module.training and not torch.is_grad_enabled()


__all__ = ["ConcatenatedLinear", "use_fused"]
