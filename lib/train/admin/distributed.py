"""Process placement (single process, torch.distributed.launch, torchrun), device choice and seeding.

Fixes of the reference (T1-T3, T38 in docs/parity.md):

* ranks come from the launcher's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), which both
  ``torch.distributed.launch`` and ``torchrun`` set; ``--local_rank``/``--local-rank`` is accepted too;
* the backend follows the device: NCCL on CUDA, gloo on CPU, so the whole pipeline runs on CPU;
* seeds are derived from the *global* rank (the reference used the local rank, so the nodes of a
  multi-node run drew identical samples), and again at every epoch start (:func:`epoch_seed`), so a
  resumed run draws exactly the samples an uninterrupted run would have drawn;
* cuDNN flags are explicit: deterministic with autotuning off unless ``cudnn_benchmark`` is asked for
  (the reference's seeding always forced deterministic/no-benchmark, whatever its flag said).
"""
from __future__ import annotations

import logging
import os
import random
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch
import torch.distributed as dist

logger = logging.getLogger(__name__)


def placement_from_env(local_rank_arg: Optional[int] = None,
                       environ: Optional[Dict[str, str]] = None) -> Tuple[int, int, int]:
    """(rank, local_rank, world_size) from the launcher's environment; (0, 0, 1) without a launcher.

    ``local_rank_arg`` is the value of ``--local_rank``/``--local-rank`` (the old launcher's argument);
    when it is given it must agree with ``LOCAL_RANK`` if that is set too.
    """
    env = os.environ if environ is None else environ
    world_size = int(env.get("WORLD_SIZE", "1"))
    rank = int(env.get("RANK", "0"))
    env_local = env.get("LOCAL_RANK")
    local_rank = int(env_local) if env_local is not None else rank
    if local_rank_arg is not None and local_rank_arg >= 0:
        if env_local is not None and int(env_local) != local_rank_arg:
            raise ValueError(f"--local_rank={local_rank_arg} disagrees with LOCAL_RANK={env_local}")
        local_rank = local_rank_arg
    return rank, local_rank, world_size


def init_distributed(world_size: int, device: torch.device) -> None:
    """Join the process group when ``world_size > 1`` (env:// rendezvous set up by the launcher).

    NCCL on CUDA, gloo on CPU. On CUDA the process's GPU is selected first, as NCCL requires.
    """
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world_size <= 1 or (dist.is_available() and dist.is_initialized()):
        return
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this torch build")
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend=backend, init_method="env://")
    logger.info("joined process group: backend %s, rank %d of %d", backend, dist.get_rank(), dist.get_world_size())


def cleanup_distributed() -> None:
    """Leave the process group, if one was joined."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def is_dist() -> bool:
    """Whether this process has joined a process group."""
    return dist.is_available() and dist.is_initialized()


def epoch_seed(seed: int, epoch: int, rank: int) -> int:
    """Seed of one process for one epoch: ``seed + 1000 * epoch + rank`` (global rank, T38 in docs/parity.md)."""
    return seed + 1000 * epoch + rank


def seed_everything(seed: int, rank: int = 0, deterministic: bool = True) -> int:
    """Seed Python, NumPy and torch (all devices) with ``seed + rank``; set the cuDNN flags; return the seed.

    ``deterministic=True`` gives cuDNN deterministic with benchmarking off, the reference's effective
    setting (T2 in docs/parity.md).
    """
    process_seed = seed + rank
    random.seed(process_seed)
    np.random.seed(process_seed % 2 ** 32)
    torch.manual_seed(process_seed)  # also seeds every CUDA device
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    return process_seed


def get_rng_states() -> Dict[str, Any]:
    """Python, NumPy, torch and CUDA RNG states as tensors and plain types (``weights_only``-loadable)."""
    py_version, py_state, py_gauss = random.getstate()
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np.random.get_state()
    return {
        "python": {"version": py_version, "state": torch.tensor(py_state, dtype=torch.int64), "gauss": py_gauss},
        "numpy": {"name": np_name, "keys": torch.from_numpy(np_keys.astype(np.int64)), "pos": int(np_pos),
                  "has_gauss": int(np_has_gauss), "cached_gaussian": float(np_gauss)},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def set_rng_states(states: Dict[str, Any]) -> None:
    """Restore the states saved by :func:`get_rng_states` (CUDA states only when the GPU count matches)."""
    py = states["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    npy = states["numpy"]
    np.random.set_state((npy["name"], npy["keys"].numpy().astype(np.uint32), npy["pos"], npy["has_gauss"],
                         npy["cached_gaussian"]))
    torch.set_rng_state(states["torch"])
    cuda_states = states.get("cuda") or []
    if cuda_states and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)
