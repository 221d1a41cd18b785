"""Running averages of training statistics and the tensorboard writer (TRAINING.md §7.6).

Statistics are per process, as in the reference (§9 item 37: not all-reduced); global rank 0 logs
and writes them. Tensorboard goes to ``<save_dir>/tensorboard/train/<script>/<config>`` (the
reference wrote under the ``tensorboard_dir`` of local.py, §9 item 8).
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Dict, Mapping, Optional

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
    """Per-epoch scalars (each statistic's epoch average and ``LearningRate/group{i}``) and run info."""

    def __init__(self, log_dir: str):
        from torch.utils.tensorboard import SummaryWriter  # imported lazily: slow, and only rank 0 needs it

        self.log_dir = log_dir
        self.writer = SummaryWriter(log_dir=log_dir)

    def write_info(self, script: str, config: str, description: str) -> None:
        self.writer.add_text("info/script", script, 0)
        self.writer.add_text("info/config", config, 0)
        self.writer.add_text("info/description", description, 0)

    def write_epoch(self, epoch: int, stats: Mapping[str, float], lrs: Optional[Mapping[str, float]] = None) -> None:
        for name, value in stats.items():
            self.writer.add_scalar(name, value, epoch)
        for name, value in (lrs or {}).items():
            self.writer.add_scalar(name, value, epoch)
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
