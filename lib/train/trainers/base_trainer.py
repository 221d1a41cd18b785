"""Epoch loop, checkpoints and resume, shared by the trainers (docs/training.md).

Differences from the reference ``BaseTrainer`` (fixes T9, T36, T37 in docs/parity.md):

* checkpoints hold plain types and tensors only (``weights_only=True`` loads them): weights, optimizer,
  scheduler, AMP scaler, epoch, config (dict and yaml text), seed and RNG states; the reference
  pickled its settings and statistics objects and kept neither scheduler nor scaler;
* they are written by global rank 0 only (the reference: every local rank 0, once per node), through
  a temporary file and ``os.replace``, and never with non-finite weights;
* resume restores everything, and every epoch starts from a seed derived from (seed, epoch, rank), so
  an interrupted run that is resumed continues exactly as if it had never stopped;
* there is no "fail_safe": an exception ends training with a non-zero exit status (the reference
  printed the traceback, then "Finished training!", and exited 0).
"""
from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Dict, Iterator, List, Mapping, Optional

import torch
import torch.nn as nn

from lib.config import dump_config, to_plain
from lib.train.admin.distributed import epoch_seed, get_rng_states, seed_everything, set_rng_states
from lib.train.admin.settings import RunSettings
from lib.train.optim import unwrap
from lib.utils.checkpoint import CheckpointError, atomic_torch_save, read_checkpoint
from lib.utils.checkpoint_layout import checkpoint_name

logger = logging.getLogger(__name__)

class NonFiniteError(FloatingPointError):
    """Training produced a NaN / inf loss, gradient or weight; the run stops and nothing is saved."""


def _diff_keys(a: Any, b: Any, prefix: str = "") -> List[str]:
    """Dotted keys whose values differ between two plain config dicts."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        keys = list(a) + [k for k in b if k not in a]
        return [d for k in keys for d in _diff_keys(a.get(k), b.get(k), f"{prefix}{k}.")]
    return [] if a == b else [prefix.rstrip(".")]


@contextlib.contextmanager
def _restore_trained_cls_token(net: nn.Module) -> Iterator[None]:
    """Load with the class-token aliasing of quirk Q1 switched off (docs/parity.md).

    Fresh models copy ``pos_embed[:, 0]`` into the class token after every load (the reference's
    view aliasing); a resumed training run must instead get back the class token it trained.
    """
    backbone = getattr(net, "backbone", None)
    if backbone is None or not hasattr(backbone, "cls_token_from_pos_embed"):
        yield
        return
    previous = backbone.cls_token_from_pos_embed
    backbone.cls_token_from_pos_embed = False
    try:
        yield
    finally:
        backbone.cls_token_from_pos_embed = previous


class BaseTrainer:
    """Runs epochs ``self.epoch + 1 .. max_epochs``; saves, finds and restores checkpoints.

    Subclasses implement :meth:`train_epoch`. ``actor.net`` may be wrapped in DDP; checkpoints hold the
    unwrapped module's weights (no ``module.`` prefix).
    """

    def __init__(self, actor: nn.Module, loader: Any, optimizer: torch.optim.Optimizer,
                 lr_scheduler: Any, settings: RunSettings, cfg: Mapping, device: torch.device,
                 scaler: Optional[torch.amp.GradScaler] = None, tb_writer: Any = None):
        self.actor = actor
        self.loader = loader
        self.optimizer = optimizer
        self.lr_scheduler = lr_scheduler
        self.settings = settings
        self.cfg = cfg
        self.device = device
        self.scaler = scaler if scaler is not None else torch.amp.GradScaler(device.type, enabled=False)
        self.tb_writer = tb_writer
        self.epoch = 0

    # ---------------------------------------------------------------- properties
    @property
    def net(self) -> nn.Module:
        """The network without its DDP wrapper."""
        return unwrap(self.actor.net)

    @property
    def net_type(self) -> str:
        return type(self.net).__name__

    def checkpoint_path(self, epoch: int) -> str:
        return os.path.join(self.settings.checkpoint_dir, checkpoint_name(self.net_type, epoch))

    # ---------------------------------------------------------------- epoch loop
    def train(self, max_epochs: int) -> None:
        """Train up to ``max_epochs`` (inclusive), starting after the last finished epoch."""
        if self.epoch >= max_epochs:
            logger.info("nothing to do: epoch %d of %d already done", self.epoch, max_epochs)
        for epoch in range(self.epoch + 1, max_epochs + 1):
            self.epoch = epoch
            self.start_epoch(epoch)
            self.train_epoch()
            self.lr_scheduler.step()  # once per epoch, after it (docs/training.md)
            if self.should_save(epoch, max_epochs):
                self.save_checkpoint()
        logger.info("finished training: %d epochs", max_epochs)

    def start_epoch(self, epoch: int) -> None:
        """Seed every RNG from (seed, epoch, global rank) and tell the data pipeline the epoch.

        Reseeding per epoch (the reference seeded once at start-up) makes the random stream of an epoch
        independent of what ran before it, so resuming reproduces it exactly.
        """
        seed = epoch_seed(self.settings.seed, epoch, self.settings.rank)
        seed_everything(seed, deterministic=not self.settings.cudnn_benchmark)
        generator = getattr(self.loader, "generator", None)
        if generator is not None:  # draws the worker seeds and the sample order
            generator.manual_seed(seed)
        sampler = getattr(self.loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):  # DistributedSampler
            sampler.set_epoch(epoch)
        dataset = getattr(self.loader, "dataset", None)
        if hasattr(dataset, "reseed"):  # the sampler's own generators (used as is when num_workers = 0)
            dataset.reseed(seed)

    def train_epoch(self) -> Dict[str, float]:
        raise NotImplementedError

    def should_save(self, epoch: int, max_epochs: int) -> bool:
        """Every ``TRAIN.SAVE_EVERY_EPOCH`` epochs and each of the last ``TRAIN.SAVE_LAST_EPOCHS``
        (docs/training.md)."""
        every = self.cfg.TRAIN.SAVE_EVERY_EPOCH
        return (every > 0 and epoch % every == 0) or epoch > max_epochs - self.cfg.TRAIN.SAVE_LAST_EPOCHS

    # ---------------------------------------------------------------- checkpoints
    def state_dict(self) -> Dict[str, Any]:
        """Everything needed to resume, as tensors and plain Python types."""
        return {
            "net": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": self.lr_scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "epoch": self.epoch,
            "net_type": self.net_type,
            "actor_type": type(self.actor).__name__,
            "config": to_plain(self.cfg),
            "config_text": dump_config(self.cfg),
            "seed": self.settings.seed,
            "world_size": self.settings.world_size,
            # States of global rank 0 at the end of the epoch; each epoch reseeds (start_epoch), so
            # these only matter for code that runs before the next epoch starts.
            "rng_states": get_rng_states(),
        }

    def save_checkpoint(self) -> Optional[str]:
        """Write the epoch's checkpoint (global rank 0 only); refuses non-finite weights."""
        if not self.settings.is_main:
            return None
        state = self.state_dict()
        bad = [k for k, v in state["net"].items() if v.is_floating_point() and not torch.isfinite(v).all()]
        if bad:
            raise NonFiniteError(f"epoch {self.epoch}: non-finite weights in {bad[:5]}; checkpoint not written, "
                                 f"the last good one is kept")
        path = self.checkpoint_path(self.epoch)
        atomic_torch_save(state, path)
        logger.info("saved checkpoint %s", path)
        return path

    def load_checkpoint(self, path: str, ckpt: Optional[Mapping[str, Any]] = None) -> None:
        """Restore weights (strict), optimizer, scheduler, scaler, epoch and RNG states from ``path``
        (``ckpt``: its content, when the caller has read it already)."""
        ckpt = read_checkpoint(path) if ckpt is None else ckpt
        if ckpt.get("net_type") != self.net_type:
            raise CheckpointError(f"{path} holds a {ckpt.get('net_type')} network, this run trains {self.net_type}")
        missing = [k for k in ("net", "optimizer", "lr_scheduler", "epoch") if k not in ckpt]
        if missing:
            raise CheckpointError(f"{path} cannot be resumed from: no {missing} (a weights-only file? use it as "
                                  f"--pretrained or MODEL.PRETRAINED_PATH instead)")
        changed = _diff_keys(ckpt.get("config", {}), to_plain(self.cfg))
        if changed:
            logger.warning("config differs from the checkpoint's in %s", changed)
        if ckpt.get("seed") != self.settings.seed or ckpt.get("world_size") != self.settings.world_size:
            logger.warning("checkpoint was trained with seed %s on %s processes, this run uses seed %s on %s: "
                           "the random stream will differ from an uninterrupted run", ckpt.get("seed"),
                           ckpt.get("world_size"), self.settings.seed, self.settings.world_size)
        with _restore_trained_cls_token(self.net):
            self.net.load_state_dict(ckpt["net"], strict=True)
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.lr_scheduler.load_state_dict(ckpt["lr_scheduler"])
        if ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        if ckpt.get("rng_states") and self.settings.is_main:  # saved by global rank 0
            set_rng_states(ckpt["rng_states"])
        self.epoch = int(ckpt["epoch"])
        logger.info("resumed from %s (epoch %d done)", path, self.epoch)
