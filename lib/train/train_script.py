"""The one wiring function of a training run: config -> data -> model -> DDP -> actor -> optimizer -> trainer.

``run(settings)`` follows the reference ``train_script.run`` (TRAINING.md §1.5), with these decisions:

* **Config**: ``experiments/<script>/<config>.yaml`` through :func:`lib.config.load_config`, then
  ``--cfg-options``, ``--workers`` and ``--pretrained``; the resolved config is logged and written to
  ``<checkpoint dir>/config.yaml`` (and into every checkpoint).
* **Logging**: console INFO on global rank 0, WARNING on the others; rank 0 also appends to
  ``<save_dir>/logs/<script>-<config>.log`` (one file per run).
* **Weights** (§1.6): a resumed run loads its own checkpoint and nothing else. Otherwise stage 1
  loads the Fast-iTPN file ``MODEL.PRETRAIN_FILE`` (if set) and stage 2 loads the stage-1 checkpoint
  ``MODEL.PRETRAINED_PATH`` / ``--pretrained``. A missing or unreadable stage-1 checkpoint, or one that
  does not fit, is an error (the reference skipped the load silently unless the path contained
  "CSTRACK"). Stage 2 skips the Fast-iTPN load the reference did first: the stage-1 checkpoint
  overwrites every backbone weight, so the result is the same without needing that file. The warm
  start keeps quirk Q1 (the class token becomes the checkpoint's ``pos_embed[:, 0]``, MODEL.md §8.3).
* **Freezing** (stage 2: ``backbone`` and ``backbone_rgb_det_fusion``) happens *before* the DDP wrap, so
  DDP never tracks frozen parameters (the reference froze after wrapping, §9 item 31). Frozen modules
  stay in train mode like the reference's.
* **DDP**: gloo on CPU, NCCL on CUDA, ``device_ids`` only on CUDA; ``find_unused_parameters`` only
  where a trainable parameter gets no gradient (stage 1, see :func:`wrap_ddp`).
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any, Dict, Iterator, List, Mapping, Optional

import torch
import torch.nn as nn

from lib.config import dump_config, load_config, parse_overrides
from lib.config.environment import env_settings
from lib.models import build_model
from lib.models.cstrack.builder import pretrained_backbone_path
from lib.registry import ACTORS, MODELS
from lib.train.actors import build_actor
from lib.train.admin.distributed import cleanup_distributed, init_distributed, is_dist, seed_everything
from lib.train.admin.settings import RunSettings
from lib.train.admin.stats import TensorboardWriter
from lib.train.data import build_dataloaders
from lib.train.optim import build_optimizer, build_scheduler, freeze_modules, frozen_modules_for
from lib.train.trainers import LTRTrainer
from lib.utils.checkpoint import CheckpointError, load_network_weights
from lib.utils.checkpoint_layout import latest_checkpoint
from lib.utils.device import resolve_device
from lib.utils.files import atomic_write_text

logger = logging.getLogger(__name__)

DESCRIPTION = "Training script for CSTrack"

# Modules a stage-1 checkpoint does not have: the only keys a stage-2 warm start may miss (§1.6).
STAGE2_ONLY_MODULES = ("dy_template_pos_embed", "temporal_fusion")
# Architectures that start from a stage-1 checkpoint (MODEL.PRETRAINED_PATH) when not resuming.
WARM_START_ARCHS = ("cstrack_s2",)

_LOG_FORMAT = "%(asctime)s %(levelname)s [rank {rank}] %(name)s: %(message)s"


# ---------------------------------------------------------------------------------------- setup
@contextlib.contextmanager
def run_logging(settings: RunSettings) -> Iterator[None]:
    """Console handler (INFO on global rank 0, WARNING elsewhere) and, on rank 0, the run's log file.

    The handlers live on the root logger for the duration of the run, then are removed again.
    """
    level = logging.INFO if settings.is_main else logging.WARNING
    formatter = logging.Formatter(_LOG_FORMAT.format(rank=settings.rank))
    handlers: List[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if settings.is_main:
        os.makedirs(os.path.dirname(settings.log_file), exist_ok=True)
        handlers.append(logging.FileHandler(settings.log_file, mode="a", encoding="utf-8"))
    root = logging.getLogger()
    previous_level = root.level
    root.setLevel(level)
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(previous_level)


def load_run_config(settings: RunSettings) -> Any:
    """The experiment config with ``--cfg-options``, ``--workers`` and ``--pretrained`` applied."""
    overrides: Dict[str, Any] = parse_overrides(settings.cfg_options)
    if settings.workers is not None:
        overrides.setdefault("TRAIN", {})["NUM_WORKER"] = settings.workers
    if settings.pretrained is not None:
        overrides.setdefault("MODEL", {})["PRETRAINED_PATH"] = settings.pretrained
    cfg = load_config(settings.config, script=settings.script, overrides=overrides)
    if settings.script not in MODELS or settings.script not in ACTORS:
        raise KeyError(f"--script '{settings.script}' is not a known model family; known: {MODELS.names()}")
    if cfg.MODEL.ARCH != settings.script:
        logger.warning("--script %s trains MODEL.ARCH %s (from the config)", settings.script, cfg.MODEL.ARCH)
    return cfg


def build_loader(cfg: Mapping, settings: RunSettings) -> Any:
    """The training data loader of the run (TRAINING.md §3-§5); dataset roots from ``settings.env``
    (default: :func:`lib.config.environment.env_settings`, i.e. local.py and ``CSTRACK_*`` variables)."""
    env = settings.env if settings.env is not None else env_settings()
    return build_dataloaders(cfg, env, seed=settings.seed, rank=settings.rank, world_size=settings.world_size,
                             use_lmdb=settings.use_lmdb)


def warm_start(net: nn.Module, path: str) -> None:
    """Load a stage-1 checkpoint into a fresh stage-2 network (§1.6); errors name what does not fit."""
    if not path:
        raise ValueError("stage 2 needs a stage-1 checkpoint: set MODEL.PRETRAINED_PATH in the yaml or pass "
                         "--pretrained PATH (e.g. <save_dir>/checkpoints/train/cstrack_s1/cstrack_s1/"
                         "CSTRACK_S1_ep0150.pth.tar)")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"stage-1 checkpoint not found: {path} (MODEL.PRETRAINED_PATH / --pretrained)")
    result = load_network_weights(net, path, strict=False)
    allowed = tuple(f"{name}." for name in STAGE2_ONLY_MODULES)
    bad_missing = [k for k in result["missing_keys"] if not k.startswith(allowed)]
    if bad_missing or result["unexpected_keys"]:
        raise CheckpointError(f"{path} is not a stage-1 checkpoint of this network: missing {bad_missing[:5]}, "
                              f"unexpected {result['unexpected_keys'][:5]}")
    logger.info("stage-2 warm start from %s (new modules %s start from their initialisation)", path,
                list(STAGE2_ONLY_MODULES))


def resume_target(settings: RunSettings, net_type: str) -> Optional[str]:
    """The checkpoint ``--resume`` asks for: None (fresh start) or an existing file."""
    latest = latest_checkpoint(settings.checkpoint_dir, net_type)
    if settings.resume == "none":
        if latest is not None:
            logger.warning("--resume none: starting from epoch 1; checkpoints in %s will be overwritten",
                           settings.checkpoint_dir)
        return None
    if settings.resume == "auto":
        path = latest
        if path is None:
            logger.info("no checkpoint in %s: starting from epoch 1", settings.checkpoint_dir)
        return path
    if not os.path.isfile(settings.resume):
        raise FileNotFoundError(f"--resume: checkpoint not found: {settings.resume}")
    return settings.resume


def initialise_weights(net: nn.Module, cfg: Mapping, resuming: bool) -> None:
    """Pretrained weights of a fresh run: Fast-iTPN backbone (stage 1) or stage-1 checkpoint (stage 2)."""
    if resuming:
        if cfg.MODEL.PRETRAINED_PATH:
            logger.info("resuming: MODEL.PRETRAINED_PATH is not loaded (the checkpoint holds every weight)")
        return
    if cfg.MODEL.ARCH in WARM_START_ARCHS:
        warm_start(net, cfg.MODEL.PRETRAINED_PATH)
        return
    if cfg.MODEL.PRETRAINED_PATH:
        logger.warning("MODEL.PRETRAINED_PATH is ignored by %s (only %s start from a stage-1 checkpoint)",
                       cfg.MODEL.ARCH, list(WARM_START_ARCHS))
    if cfg.MODEL.PRETRAIN_FILE:
        net.backbone.load_pretrained(str(pretrained_backbone_path(cfg)))


def wrap_ddp(net: nn.Module, settings: RunSettings, device: torch.device) -> nn.Module:
    """DistributedDataParallel on several processes (device_ids only on CUDA), else the model itself.

    ``find_unused_parameters`` is needed exactly when the 224-px ``backbone.pos_embed`` is trainable:
    the forward pass never uses it (it only feeds the class token at load time, quirk Q1), so it gets
    no gradient. That is stage 1; in stage 2 it is frozen and every trainable parameter is used (the
    reference always passed True, §7.9, which costs a graph traversal per iteration).
    """
    if not settings.distributed:
        return net
    device_ids = [device.index] if device.type == "cuda" else None
    unused = getattr(getattr(net, "backbone", None), "pos_embed", None)
    find_unused = unused is None or unused.requires_grad
    return nn.parallel.DistributedDataParallel(net, device_ids=device_ids, find_unused_parameters=find_unused)


# ---------------------------------------------------------------------------------------- run
def run(settings: RunSettings) -> LTRTrainer:
    """Train the experiment ``settings`` describes; returns the trainer (after the last epoch).

    Any failure is logged and re-raised: the process then exits with a non-zero status.
    """
    with run_logging(settings):
        joined = False
        tb_writer = None
        try:
            if settings.ignored_args:
                logger.warning("ignoring legacy reference arguments: %s", settings.ignored_args)
            cfg = load_run_config(settings)
            device = resolve_device(settings.device, settings.local_rank)
            joined = settings.distributed and not is_dist()
            init_distributed(settings.world_size, device)
            logger.info("%s: script %s, config %s, device %s, %d process(es), seed %d, save_dir %s", DESCRIPTION,
                        settings.script, settings.config, device, settings.world_size, settings.seed,
                        settings.save_dir)
            logger.info("config:\n%s", dump_config(cfg))
            seed_everything(settings.seed, settings.rank, deterministic=not settings.cudnn_benchmark)

            loader = build_loader(cfg, settings)
            net = build_model(cfg)
            resume_path = resume_target(settings, type(net).__name__)
            initialise_weights(net, cfg, resuming=resume_path is not None)
            frozen = frozen_modules_for(cfg.MODEL.ARCH)
            if frozen:
                logger.info("frozen modules (train mode kept): %s (%d tensors)", list(frozen),
                            freeze_modules(net, frozen))
            net.to(device)
            net = wrap_ddp(net, settings, device)
            actor = build_actor(settings.script, net, cfg)
            optimizer = build_optimizer(net, cfg)
            scheduler = build_scheduler(optimizer, cfg)
            if settings.is_main:
                atomic_write_text(os.path.join(settings.checkpoint_dir, "config.yaml"), dump_config(cfg))
                tb_writer = TensorboardWriter(settings.tensorboard_dir)
                tb_writer.write_info(settings.script, settings.config, DESCRIPTION)
            trainer = LTRTrainer(actor, loader, optimizer, scheduler, settings, cfg, device, tb_writer=tb_writer)
            if resume_path is not None:
                trainer.load_checkpoint(resume_path)
            trainer.train(cfg.TRAIN.EPOCH)
            return trainer
        except BaseException:
            logger.exception("training failed")
            raise
        finally:
            if tb_writer is not None:
                tb_writer.close()
            if joined:
                cleanup_distributed()

