"""The iteration loop: forward, backward, clipping, optimizer step, progress lines (docs/training.md).

Per iteration: zero the gradients, run the actor (inside ``torch.autocast`` when ``TRAIN.AMP``),
backpropagate, clip the global gradient norm to ``TRAIN.GRAD_CLIP_NORM`` and step AdamW.

* **AMP** (T34 in docs/parity.md, fixed): the reference skipped gradient clipping under AMP. Here the
  gradients are unscaled first (``GradScaler.unscale_``), then clipped, in both modes. Autocast runs
  in float16 with a loss scaler on CUDA (the reference's ``torch.cuda.amp``) and in bfloat16 without
  one on CPU (float16 autocast is not what CPUs support).
* **Non-finite values** stop training with :class:`NonFiniteError` (non-zero exit, the last good
  checkpoint stays): a NaN/inf loss always; a non-finite gradient norm unless a float16 loss scaler is
  active (it skips such steps by design).
* **No per-iteration device synchronisation**: the reference called ``torch.cuda.synchronize()`` for
  its timings; reading the loss value already waits for the step.
* **Statistics** are running epoch averages weighted by the batch size, per process (T37); global rank
  0 logs them every ``TRAIN.PRINT_INTERVAL`` iterations with the learning rate each group actually uses
  (the reference logged ``get_lr()``, 0.1x too small after each drop, T35). Tensorboard receives the
  averages of each print interval at the global iteration, the epoch averages, and every
  ``TRAIN.TB_IMAGE_INTERVAL`` iterations a picture of one training sample (list in
  :mod:`lib.train.admin.stats`).
"""
from __future__ import annotations

import logging
import time
from typing import Any, Dict, Mapping

import numpy as np
import torch
import torch.nn as nn

from lib.train.admin.settings import RunSettings
from lib.train.admin.stats import StatsTracker
from lib.train.trainers.base_trainer import BaseTrainer, NonFiniteError
from lib.train.trainers.sample_image import training_sample_image
from lib.utils.timefmt import format_duration

logger = logging.getLogger(__name__)


def move_to_device(batch: Any, device: torch.device) -> Any:
    """Tensors of a (nested) batch dict / list onto ``device``; other values unchanged."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: move_to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in batch):
        return type(batch)(move_to_device(v, device) for v in batch)
    return batch


def batch_size(batch: Mapping) -> int:
    """Samples in a batch: dim 1 of ``search_images`` (Ns, B, C, H, W)."""
    return int(batch["search_images"].shape[1])


class LTRTrainer(BaseTrainer):
    """:class:`BaseTrainer` with the CSTrack iteration loop, AMP and progress logging."""

    def __init__(self, actor: nn.Module, loader: Any, optimizer: torch.optim.Optimizer, lr_scheduler: Any,
                 settings: RunSettings, cfg: Mapping, device: torch.device, tb_writer: Any = None):
        self.use_amp = bool(cfg.TRAIN.AMP)
        self.amp_dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
        scaler = torch.amp.GradScaler(device.type, enabled=self.use_amp and self.amp_dtype == torch.float16)
        super().__init__(actor, loader, optimizer, lr_scheduler, settings, cfg, device, scaler, tb_writer)
        self.grad_clip_norm = float(cfg.TRAIN.GRAD_CLIP_NORM)
        self.print_interval = max(1, int(cfg.TRAIN.PRINT_INTERVAL))
        self.image_interval = max(0, int(cfg.TRAIN.TB_IMAGE_INTERVAL))
        self.stats = StatsTracker()
        self.interval_stats = StatsTracker()
        self._failures_seen: Dict[str, int] = {}

    def _trainable_parameters(self):
        return [p for group in self.optimizer.param_groups for p in group["params"]]

    def train_step(self, batch: Mapping) -> Dict[str, float]:
        """One optimisation step on ``batch`` (already on the device); returns the actor's statistics."""
        self.optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type=self.device.type, dtype=self.amp_dtype, enabled=self.use_amp):
            loss, stats = self.actor(batch)
        if not torch.isfinite(loss):
            raise NonFiniteError(f"epoch {self.epoch}: loss is {loss.item()} (stats {stats}); stopping, the last "
                                 f"good checkpoint is kept")
        self.scaler.scale(loss).backward()
        if self.grad_clip_norm > 0:
            self.scaler.unscale_(self.optimizer)  # clip true gradients, also under AMP (T34 in docs/parity.md, fixed)
            norm = torch.nn.utils.clip_grad_norm_(self._trainable_parameters(), self.grad_clip_norm)
            if not self.scaler.is_enabled() and not torch.isfinite(norm):
                raise NonFiniteError(f"epoch {self.epoch}: gradient norm is {norm.item()}; stopping before the "
                                     f"weights are touched, the last good checkpoint is kept")
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return stats

    def learning_rates(self) -> Dict[str, float]:
        """The learning rate of each optimizer group, by group name (``head``, ``encoder``)."""
        return {g.get("name", f"group{i}"): g["lr"] for i, g in enumerate(self.optimizer.param_groups)}

    def train_epoch(self) -> Dict[str, float]:
        """All iterations of one epoch; logs progress and the epoch summary; returns the epoch averages."""
        self.actor.train(True)
        self.stats.reset()
        self.interval_stats.reset()
        num_iters = len(self.loader)
        if num_iters == 0:
            raise ValueError(f"the data loader yields no batch: DATA.TRAIN.SAMPLE_PER_EPOCH is smaller than "
                             f"TRAIN.BATCH_SIZE x {self.settings.world_size} process(es)")
        tensorboard = self.tb_writer is not None and self.settings.is_main
        samples = interval_samples = 0
        start = interval_start = time.perf_counter()
        for i, batch in enumerate(self.loader, start=1):
            batch = move_to_device(batch, self.device)
            step_stats = self.train_step(batch)
            n = batch_size(batch)
            samples += n
            interval_samples += n
            self.stats.update(step_stats, n)
            self.interval_stats.update(step_stats, n)
            step = (self.epoch - 1) * num_iters + i  # global iteration, the tensorboard step
            if i % self.print_interval == 0 or i == num_iters:
                now = time.perf_counter()
                eta = (now - start) / i * (num_iters - i)
                values = "  ".join(f"{k} {v:.5f}" for k, v in self.stats.averages().items())
                logger.info("[train: %d, %d / %d] %.1f samples/s  ETA %s  %s", self.epoch, i, num_iters,
                            samples / max(now - start, 1e-9), format_duration(eta), values)
                if tensorboard:
                    self.tb_writer.write_step(step, self.interval_stats.averages(), self.learning_rates(),
                                              interval_samples / max(now - interval_start, 1e-9))
                self.interval_stats.reset()
                interval_samples, interval_start = 0, now
            if tensorboard and self.image_interval and step % self.image_interval == 0:
                self.tb_writer.write_image(step, self.sample_image(batch))
        averages = self.stats.averages()
        lrs = self.learning_rates()
        self._report_data_failures()
        logger.info("epoch %d done in %s: %s  lr %s", self.epoch, format_duration(time.perf_counter() - start),
                    "  ".join(f"{k} {v:.5f}" for k, v in averages.items()),
                    " / ".join(f"{v:.3g}" for v in lrs.values()))
        if tensorboard:
            self.tb_writer.write_epoch(self.epoch, averages, lrs)
        return averages

    @torch.no_grad()
    def sample_image(self, batch: Mapping) -> np.ndarray:
        """The tensorboard picture of sample 0 of ``batch``, predicted by the network in eval mode.

        Runs the network without its DDP wrapper (this process only), so no collective is involved;
        eval mode uses no random numbers, so the training's random stream is unchanged.
        """
        one = {key: value[:, :1] for key, value in batch.items()
               if key in ("template_images", "search_images", "template_anno", "template_soft_mask", "search_anno")}
        self.net.eval()
        try:
            out = self.actor.forward_pass(one, net=self.net)
        finally:
            self.actor.train(True)
        return training_sample_image(one, out, self.cfg.DATA.MEAN, self.cfg.DATA.STD)

    def _report_data_failures(self) -> None:
        """Log the data pipeline's bad-data counters (``dataset.failure_counts()``) grown in this epoch."""
        counter = getattr(getattr(self.loader, "dataset", None), "failure_counts", None)
        if counter is None:
            return
        totals = dict(counter())
        new = {name: n - self._failures_seen.get(name, 0) for name, n in totals.items()}
        self._failures_seen = totals
        if any(new.values()):
            logger.warning("epoch %d: bad-data draws per dataset (redrawn): %s", self.epoch,
                           {name: n for name, n in new.items() if n})
