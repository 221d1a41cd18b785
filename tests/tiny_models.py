"""Toy-size CSTrack checkpoints for the tests that exercise plumbing rather than tracking quality."""
from pathlib import Path

import torch


def save_tiny_checkpoint(path: Path, script: str = "cstrack_s1", seed: int = 0) -> Path:
    """A ``{"net": state_dict}`` file of the ``<script>_tiny`` model with weights drawn from ``seed``."""
    from lib.config import load_config
    from lib.models import build_model

    torch.manual_seed(seed)
    net = build_model(load_config(f"{script}_tiny", script=script), arch=script)
    torch.save({"net": net.state_dict()}, path)
    return Path(path)
