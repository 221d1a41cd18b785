"""The run settings of one training process: what the command line asked for, plus derived paths.

Replaces the reference's attribute bag ``Settings`` (docs/training.md). Everything the model and the
data need comes from the config; this object only says *which* experiment runs, *where* outputs go,
on which device, with which rank and seed, and how to resume.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional


@dataclass
class RunSettings:
    """Command-line choices of a training run and the output layout derived from them (docs/training.md).

    Attributes:
        script: model / actor family (``cstrack_s1``, ``cstrack_s2``); registry key.
        config: yaml name inside ``experiments/<script>/`` or a path to a yaml file.
        save_dir: root of ``logs/``, ``checkpoints/`` and ``tensorboard/`` (made absolute).
        seed: base seed; each process and epoch derives its own from it (``admin.distributed``).
        device: ``auto`` (cuda when available), ``cpu`` or ``cuda``.
        resume: ``auto`` (latest checkpoint of this run, if any), ``none``, or a checkpoint path.
        pretrained: stage-1 checkpoint for a stage-2 warm start (overrides ``MODEL.PRETRAINED_PATH``).
        cfg_options: ``KEY=VALUE`` config overrides, applied after the yaml.
        workers: data-loader workers (overrides ``TRAIN.NUM_WORKER``) when not None.
        use_lmdb: use the LMDB dataset variants.
        cudnn_benchmark: cuDNN autotuning; False (the default) also makes cuDNN deterministic.
        rank, local_rank, world_size: process placement (1 process: 0, 0, 1).
        ignored_args: legacy reference arguments that were given and are ignored (logged once).
        env: dataset roots (``lib.config.environment.EnvSettings``), filled in by the train script.
    """

    script: str
    config: str
    save_dir: str = "."
    seed: int = 0
    device: str = "auto"
    resume: str = "auto"
    pretrained: Optional[str] = None
    cfg_options: List[str] = field(default_factory=list)
    workers: Optional[int] = None
    use_lmdb: bool = False
    cudnn_benchmark: bool = False
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    ignored_args: List[str] = field(default_factory=list)
    env: Any = None

    def __post_init__(self) -> None:
        self.save_dir = os.path.abspath(os.path.expanduser(self.save_dir))
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise ValueError(f"invalid process placement: rank {self.rank} of world size {self.world_size}")

    @property
    def config_name(self) -> str:
        """The config's short name (file stem when ``config`` is a path), used in output paths."""
        return Path(self.config).stem if self.config.endswith((".yaml", ".yml")) else self.config

    @property
    def project_path(self) -> str:
        """``train/<script>/<config>``: the run's sub-folder under checkpoints and tensorboard."""
        return os.path.join("train", self.script, self.config_name)

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Global rank 0: the only process that writes checkpoints, the log file and tensorboard."""
        return self.rank == 0

    @property
    def log_file(self) -> str:
        return os.path.join(self.save_dir, "logs", f"{self.script}-{self.config_name}.log")

    @property
    def checkpoint_dir(self) -> str:
        return os.path.join(self.save_dir, "checkpoints", self.project_path)

    @property
    def tensorboard_dir(self) -> str:
        """``<save_dir>/tensorboard/train/<script>/<config>``; the reference used ``env.tensorboard_dir``
        from local.py instead (T8 in docs/parity.md, fixed: every output lives under save_dir)."""
        return os.path.join(self.save_dir, "tensorboard", self.project_path)
