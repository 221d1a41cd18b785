"""Reference-parity fixtures: name-seeded weights and inputs from ``<parity_dir>/recipe.py``.

The fixtures (``../shared/parity``) were produced by the authors' implementation; the tests and
``python -m tests.tools.parity_report`` compare this implementation against them.
"""
from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Tuple, Union

import numpy as np
import torch


def load_recipe(parity_dir: Union[str, Path]):
    """Import the fixture recipe module (numpy + torch only) from the parity folder."""
    spec = importlib.util.spec_from_file_location("cstrack_parity_recipe", Path(parity_dir) / "recipe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=2)
def fixture_state_dict(parity_dir: Union[str, Path], stage: str) -> dict:
    """The name-seeded weights for every key of ``state_dict_<stage>.json`` (cached per session)."""
    recipe = load_recipe(parity_dir)
    layout = json.loads((Path(parity_dir) / f"state_dict_{stage}.json").read_text())
    return {k: recipe.fixture_tensor(k, tuple(shape), getattr(torch, dtype)) for k, shape, dtype in layout}


def fixture_batch(npz, device="cpu") -> dict:
    """The ``in.*`` entries of a training fixture as the actor's batch dict."""
    batch = {}
    for key in npz.files:
        if key.startswith("in."):
            name = key[3:]
            batch[name] = [str(v) for v in npz[key]] if name == "dataset" else torch.from_numpy(npz[key]).to(device)
    return batch


def fixture_sequence(parity_dir: Union[str, Path]) -> Tuple[np.ndarray, np.ndarray]:
    """The stored 60-frame sequence (``sequence.npz``): frames ``(N, H, W, 6)`` uint8 RGB then X, boxes ``(N, 4)``."""
    data = np.load(Path(parity_dir) / "sequence.npz")
    return np.concatenate([data["rgb"], data["x"]], axis=3), data["groundtruth"]
