"""The one wiring function of a training run: config -> data -> model -> DDP -> actor -> optimizer -> trainer.

``run(settings)`` follows the reference ``train_script.run`` (docs/training.md), with these decisions:

* **Config**: ``experiments/<script>/<config>.yaml`` through :func:`lib.config.load_config`, then
  ``--cfg-options``, ``--workers`` and ``--pretrained``. ``--script`` names the network; a yaml without
  ``MODEL.ARCH`` (every yaml the authors ship) trains that network, a ``MODEL.ARCH`` naming another
  one is an error. The resolved config goes to the log file (not the console) and to
  ``<checkpoint dir>/config.yaml`` (and into every checkpoint).
* **Logging**: console INFO on global rank 0, WARNING on the others; rank 0 also appends to
  ``<save_dir>/logs/<script>-<config>.log`` (one file per run). A failure ends with one short line
  naming the problem (configuration, data, files); its traceback is in the log file. Unexpected
  errors (bugs) show their traceback on the console too.
* **Weights**: what to load is declared by the network (:mod:`lib.models.cstrack.model`). A resumed
  run loads its own checkpoint and nothing else; ``--resume auto`` skips unreadable (e.g. truncated)
  newest checkpoints, saying so. Otherwise a network with ``warm_start_from`` (stage 2) loads that
  network's checkpoint ``MODEL.PRETRAINED_PATH`` / ``--pretrained`` (this framework's, a bare
  ``{"net": ...}`` file or the authors' trainer format); only its ``new_modules`` may be missing, and the
  log says which modules were loaded and which kept their initialisation. A missing or unfitting file
  is an error (the reference skipped the load silently unless the path contained "CSTRACK"). Other
  networks (stage 1) load the Fast-iTPN file ``MODEL.PRETRAIN_FILE`` if set. The warm start keeps quirk
  Q1 (the class token becomes the checkpoint's ``pos_embed[:, 0]``, docs/parity.md).
* **Freezing**: the network's ``frozen_modules`` (stage 2: ``backbone`` and ``backbone_rgb_det_fusion``)
  are frozen *before* the DDP wrap, so DDP never tracks them (T31 in docs/parity.md). Frozen modules stay
  in train mode like the reference's.
* **DDP**: gloo on CPU, NCCL on CUDA, ``device_ids`` only on CUDA; ``find_unused_parameters`` only when
  the network reports trainable parameters without gradient (stage 1, see :func:`wrap_ddp`).
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

import torch
import torch.nn as nn

from lib.config import ConfigError, dump_config, load_config, parse_overrides
from lib.config.environment import env_settings
from lib.models import build_model, resolve_arch
from lib.models.cstrack.builder import pretrained_backbone_path
from lib.registry import ACTORS, MODELS
from lib.train.actors import build_actor
from lib.train.admin.distributed import cleanup_distributed, init_distributed, is_dist, seed_everything
from lib.train.admin.settings import RunSettings
from lib.train.admin.stats import TensorboardWriter
from lib.train.data import build_dataloaders
from lib.train.dataset import DatasetError
from lib.train.optim import build_optimizer, build_scheduler, freeze_modules
from lib.train.trainers import LTRTrainer, NonFiniteError
from lib.utils.checkpoint import CheckpointError, load_network_weights, read_checkpoint
from lib.utils.checkpoint_layout import list_checkpoints
from lib.utils.device import resolve_device
from lib.utils.files import atomic_write_text

logger = logging.getLogger(__name__)

DESCRIPTION = "Training script for CSTrack"

#: Failures caused by the configuration, the data or the files, not by the code: reported in one line
#: (exit status 2 from run_training.py); the traceback goes to the log file only.
USER_ERRORS = (ConfigError, DatasetError, CheckpointError, OSError)
# Also reported in one line, but a failure of the training itself (exit status 1).
_SHORT_ERRORS = USER_ERRORS + (NonFiniteError,)

_LOG_FORMAT = "%(asctime)s %(levelname)s [rank {rank}] %(name)s: %(message)s"
# ``extra=`` of records for one destination: the log file only (the config dump, tracebacks of user
# errors) or the console only (the closing one-line failure message, which points at the log file).
FILE_ONLY = {"destination": "file"}
CONSOLE_ONLY = {"destination": "console"}


class SaveDirError(OSError):
    """``--save_dir`` cannot be written; raised before any log file exists, so the caller prints it."""


# ---------------------------------------------------------------------------------------- setup
def check_save_dir(settings: RunSettings) -> None:
    """Create the run's output folders and write a probe file in each (global rank 0 only).

    Raises :class:`SaveDirError` naming ``--save_dir`` and the reason (not a folder, no permission, full
    or read-only file system) before anything else runs.
    """
    if not settings.is_main:
        return
    for folder in (os.path.dirname(settings.log_file), settings.checkpoint_dir, settings.tensorboard_dir):
        try:
            os.makedirs(folder, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as e:
            reason = e.strerror or type(e).__name__
            where = f" ({e.filename})" if e.filename else ""
            raise SaveDirError(f"cannot write to --save_dir {settings.save_dir}: {reason}{where}; choose a "
                               f"folder you can write to") from None


class _DestinationFilter(logging.Filter):
    """Passes records without a ``destination`` and those meant for this handler (:data:`FILE_ONLY`...)."""

    def __init__(self, destination: str):
        super().__init__()
        self.destination = destination

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "destination", self.destination) == self.destination


@contextlib.contextmanager
def run_logging(settings: RunSettings) -> Iterator[None]:
    """Console handler (INFO on global rank 0, WARNING elsewhere) and, on rank 0, the run's log file.

    The handlers live on the root logger for the duration of the run, then are removed again.
    """
    level = logging.INFO if settings.is_main else logging.WARNING
    formatter = logging.Formatter(_LOG_FORMAT.format(rank=settings.rank))
    console = logging.StreamHandler(sys.stderr)
    console.addFilter(_DestinationFilter("console"))
    handlers: List[logging.Handler] = [console]
    if settings.is_main:
        try:
            log_file = logging.FileHandler(settings.log_file, mode="a", encoding="utf-8")
        except OSError as e:
            raise SaveDirError(f"cannot write the log file {settings.log_file}: {e.strerror}") from None
        log_file.addFilter(_DestinationFilter("file"))
        handlers.append(log_file)
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
    """The experiment config with ``--cfg-options``, ``--workers`` and ``--pretrained`` applied.

    ``MODEL.ARCH`` is set to ``--script`` (empty in the authors' yamls); a yaml naming another network
    raises ConfigError.
    """
    known = sorted(set(MODELS.names()) & set(ACTORS.names()))
    if settings.script not in known:
        try:
            MODELS.get(settings.script)  # its message suggests a close name
        except KeyError as e:
            raise ConfigError(f"--script: {e.args[0]}") from None
        raise ConfigError(f"--script '{settings.script}' has no training actor; known: {known}")
    overrides: Dict[str, Any] = parse_overrides(settings.cfg_options)
    if settings.workers is not None:
        overrides.setdefault("TRAIN", {})["NUM_WORKER"] = settings.workers
    if settings.pretrained is not None:
        overrides.setdefault("MODEL", {})["PRETRAINED_PATH"] = settings.pretrained
    cfg = load_config(settings.config, script=settings.script, overrides=overrides)
    try:
        cfg.MODEL.ARCH = resolve_arch(cfg, settings.script)
    except ConfigError as e:
        raise ConfigError(f"--config {settings.config}: {e}") from None
    return cfg


def build_loader(cfg: Mapping, settings: RunSettings) -> Any:
    """The training data loader of the run (docs/training.md); dataset roots from ``settings.env``
    (default: :func:`lib.config.environment.env_settings`, i.e. local.py and ``CSTRACK_*`` variables)."""
    env = settings.env if settings.env is not None else env_settings()
    return build_dataloaders(cfg, env, seed=settings.seed, rank=settings.rank, world_size=settings.world_size,
                             use_lmdb=settings.use_lmdb)


def warm_start(net: nn.Module, path: str) -> None:
    """Load the previous stage's checkpoint into a fresh network; errors name what does not fit.

    Only the network's ``new_modules`` may be missing from the file; the log says how many tensors were
    loaded and which new modules were in the file or kept their initialisation.
    """
    source = net.warm_start_from
    if not path:
        raise ConfigError(f"{type(net).__name__} starts from a {source} checkpoint: set MODEL.PRETRAINED_PATH in "
                          f"the yaml or pass --pretrained PATH (e.g. <save_dir>/checkpoints/train/{source}/"
                          f"{source}/{source.upper()}_ep0150.pth.tar)")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{source} checkpoint not found: {path} (MODEL.PRETRAINED_PATH / --pretrained)")
    result = load_network_weights(net, path, strict=False)
    new_prefixes = tuple(f"{name}." for name in net.new_modules)
    bad_missing = [k for k in result["missing_keys"] if not k.startswith(new_prefixes)]
    if bad_missing or result["unexpected_keys"]:
        raise CheckpointError(f"{path} is not a {source} checkpoint of this network size: missing {bad_missing[:5]}, "
                              f"unexpected {result['unexpected_keys'][:5]}")
    missing_modules = {key.split(".", 1)[0] for key in result["missing_keys"]}
    kept = [name for name in net.new_modules if name in missing_modules]
    loaded = [name for name in net.new_modules if name not in missing_modules]
    total = len(net.state_dict())
    parts = [f"{total - len(result['missing_keys'])} of {total} tensors loaded"]
    if kept:
        parts.append(f"not in the file, keeping their initialisation: {', '.join(kept)}")
    if loaded:
        parts.append(f"new modules loaded from the file as well: {', '.join(loaded)}")
    logger.info("warm start of %s from %s: %s", type(net).__name__, path, "; ".join(parts))


def resume_candidates(settings: RunSettings, net_type: str) -> List[str]:
    """Checkpoints ``--resume`` may continue from, preferred first (empty: a fresh start)."""
    found = [path for _, path in reversed(list_checkpoints(settings.checkpoint_dir, net_type))]
    if settings.resume == "none":
        if found:
            logger.warning("--resume none: starting from epoch 1; checkpoints in %s will be overwritten",
                           settings.checkpoint_dir)
        return []
    if settings.resume == "auto":
        if not found:
            logger.info("no checkpoint in %s: starting from epoch 1", settings.checkpoint_dir)
        return found
    if not os.path.isfile(settings.resume):
        raise FileNotFoundError(f"--resume: checkpoint not found: {settings.resume}")
    return [settings.resume]


def read_resume_checkpoint(candidates: List[str]) -> Tuple[Optional[str], Optional[Dict[str, Any]]]:
    """The first readable checkpoint of ``candidates`` and its content; (None, None) without candidates.

    An unreadable file (truncated by a crash during the copy, damaged disk) is skipped with a warning
    naming it, so ``--resume auto`` continues from the newest readable epoch. When none is readable
    the run stops: starting over silently would overwrite them.
    """
    for path in candidates:
        try:
            return path, read_checkpoint(path)
        except CheckpointError as e:
            if len(candidates) > 1:
                logger.warning("%s; resuming from the previous checkpoint instead", e)
            else:
                raise
    if candidates:
        raise CheckpointError(f"no readable checkpoint to resume from among {candidates}; remove or replace the "
                              f"damaged files, or pass --resume none to start over")
    return None, None


def check_same_resume_point(settings: RunSettings, state: Optional[Mapping[str, Any]]) -> None:
    """All processes resume from the same epoch, else CheckpointError (before any of them trains).

    Every process reads the checkpoint folder itself; on several machines it must be one shared folder.
    A machine that sees other files (or none) would train other epochs and hang the job at the end.
    """
    if not settings.distributed:
        return
    epoch = int(state["epoch"]) if state is not None else 0
    epochs: List[Optional[int]] = [None] * settings.world_size
    torch.distributed.all_gather_object(epochs, epoch)
    if len(set(epochs)) > 1:
        raise CheckpointError(f"the processes would resume from different epochs (by rank: {epochs}; 0 = no "
                              f"checkpoint): {settings.checkpoint_dir} is not the same folder on every machine. "
                              f"Use a --save_dir that all machines share, or --resume none")


def initialise_weights(net: nn.Module, cfg: Mapping, resuming: bool) -> None:
    """Pretrained weights of a fresh run: the previous stage's checkpoint or the Fast-iTPN backbone."""
    if resuming:
        if cfg.MODEL.PRETRAINED_PATH:
            logger.info("resuming: MODEL.PRETRAINED_PATH is not loaded (the checkpoint holds every weight)")
        return
    if net.warm_start_from:
        warm_start(net, cfg.MODEL.PRETRAINED_PATH)
        return
    if cfg.MODEL.PRETRAINED_PATH:
        logger.warning("MODEL.PRETRAINED_PATH is ignored by %s: it trains from MODEL.PRETRAIN_FILE",
                       type(net).__name__)
    if cfg.MODEL.PRETRAIN_FILE:
        net.backbone.load_pretrained(str(pretrained_backbone_path(cfg)))


def wrap_ddp(net: nn.Module, settings: RunSettings, device: torch.device) -> nn.Module:
    """DistributedDataParallel on several processes (device_ids only on CUDA), else the model itself.

    ``find_unused_parameters`` only when the network reports trainable parameters that get no gradient
    (stage 1: the 224-px ``backbone.pos_embed``, quirk Q1). The reference always passed True, which costs
    a graph traversal per iteration.
    """
    if not settings.distributed:
        return net
    device_ids = [device.index] if device.type == "cuda" else None
    unused = net.parameters_without_gradient()
    if unused:
        logger.info("DDP with find_unused_parameters: %s get no gradient", unused)
    return nn.parallel.DistributedDataParallel(net, device_ids=device_ids, find_unused_parameters=bool(unused))


def _report_failure(error: BaseException, settings: RunSettings) -> None:
    """The failure as the last console line: short for expected errors (traceback in the log file only)."""
    if isinstance(error, _SHORT_ERRORS):
        logger.error("training failed: %s", error, exc_info=True, extra=FILE_ONLY)
        where = f" (details in {settings.log_file})" if settings.is_main else ""
        logger.error("training failed: %s%s", error, where, extra=CONSOLE_ONLY)
    else:
        logger.exception("training failed")


# ---------------------------------------------------------------------------------------- run
def run(settings: RunSettings) -> LTRTrainer:
    """Train the experiment ``settings`` describes; returns the trainer (after the last epoch).

    Any failure is logged and re-raised: the process then exits with a non-zero status.
    """
    check_save_dir(settings)
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
            logger.info("config:\n%s", dump_config(cfg), extra=FILE_ONLY)
            seed_everything(settings.seed, settings.rank, deterministic=not settings.cudnn_benchmark)

            loader = build_loader(cfg, settings)
            net = build_model(cfg, arch=settings.script)
            resume_path, resume_state = read_resume_checkpoint(resume_candidates(settings, type(net).__name__))
            check_same_resume_point(settings, resume_state)
            initialise_weights(net, cfg, resuming=resume_path is not None)
            if net.frozen_modules:
                logger.info("frozen modules (train mode kept): %s (%d tensors)", list(net.frozen_modules),
                            freeze_modules(net, net.frozen_modules))
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
                trainer.load_checkpoint(resume_path, resume_state)
            trainer.train(cfg.TRAIN.EPOCH)
            return trainer
        except BaseException as error:
            _report_failure(error, settings)
            raise
        finally:
            if tb_writer is not None:
                tb_writer.close()
            if joined:
                cleanup_distributed()
