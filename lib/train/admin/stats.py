"""Running averages of training statistics and the tensorboard writer (docs/training.md).

Statistics are per process, as in the reference (T37 in docs/parity.md: not all-reduced); global rank 0
logs and writes them. Tensorboard goes to ``<save_dir>/tensorboard/train/<script>/<config>`` (the
reference wrote under the ``tensorboard_dir`` of local.py, T8).

What tensorboard receives:

* every ``TRAIN.PRINT_INTERVAL`` iterations, at the global iteration number: each loss term and the IoU
  averaged over the iterations since the previous point (``Loss/total``, ``Loss/giou``, ..., ``IoU``),
  the learning rate of each parameter group (``LearningRate/head``, ``LearningRate/encoder``) and the
  throughput (``Speed/samples_per_s``);
* at the end of every epoch, at the epoch number: the epoch averages and learning rates under
  ``Epoch/`` (``Epoch/Loss/total``, ``Epoch/LearningRate/head``, ...);
* every ``TRAIN.TB_IMAGE_INTERVAL`` iterations (0: never): ``Sample/train``, a picture of one training
  sample (both templates, the search crop with ground-truth and predicted boxes, the score map; see
  :mod:`lib.train.trainers.sample_image`);
* once: the script, config and description as text.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Dict, Mapping

import numpy as np

logger = logging.getLogger(__name__)


class AverageMeter:
    """Sum, count and average of a scalar, weighted by the number of samples of each update."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.val = 0.0
        self.sum = 0.0
        self.count = 0
        self.avg = 0.0

    def update(self, val: float, n: int = 1) -> None:
        self.val = float(val)
        self.sum += float(val) * n
        self.count += n
        self.avg = self.sum / self.count


class StatsTracker:
    """One :class:`AverageMeter` per statistic name, in first-seen order; reset at every epoch."""

    def __init__(self) -> None:
        self.meters: "OrderedDict[str, AverageMeter]" = OrderedDict()

    def reset(self) -> None:
        self.meters.clear()

    def update(self, stats: Mapping[str, float], n: int) -> None:
        for name, value in stats.items():
            self.meters.setdefault(name, AverageMeter()).update(value, n)

    def averages(self) -> Dict[str, float]:
        return {name: meter.avg for name, meter in self.meters.items()}


class TensorboardWriter:
    """The tensorboard contents listed in the module docstring, through ``torch.utils.tensorboard``."""

    def __init__(self, log_dir: str):
        from torch.utils.tensorboard import SummaryWriter  # imported lazily: slow, and only rank 0 needs it

        self.log_dir = log_dir
        self.writer = SummaryWriter(log_dir=log_dir)

    def write_info(self, script: str, config: str, description: str) -> None:
        self.writer.add_text("info/script", script, 0)
        self.writer.add_text("info/config", config, 0)
        self.writer.add_text("info/description", description, 0)

    def write_step(self, step: int, stats: Mapping[str, float], lrs: Mapping[str, float],
                   samples_per_s: float) -> None:
        """Scalars of one print interval at global iteration ``step``; ``lrs`` maps group name -> lr."""
        for name, value in stats.items():
            self.writer.add_scalar(name, value, step)
        for name, value in lrs.items():
            self.writer.add_scalar(f"LearningRate/{name}", value, step)
        self.writer.add_scalar("Speed/samples_per_s", samples_per_s, step)

    def write_epoch(self, epoch: int, stats: Mapping[str, float], lrs: Mapping[str, float]) -> None:
        """Epoch averages and learning rates under ``Epoch/`` at step ``epoch``."""
        for name, value in stats.items():
            self.writer.add_scalar(f"Epoch/{name}", value, epoch)
        for name, value in lrs.items():
            self.writer.add_scalar(f"Epoch/LearningRate/{name}", value, epoch)
        self.writer.flush()

    def write_image(self, step: int, image: np.ndarray, tag: str = "Sample/train") -> None:
        """An H x W x 3 uint8 RGB image at global iteration ``step``."""
        self.writer.add_image(tag, image, step, dataformats="HWC")
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
