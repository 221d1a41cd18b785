"""Write checkpoints in the authors' trainer format (the layout of the released CSTrack weights).

``write_authors_checkpoint(path, state_dict)`` produces a file with the same keys and the same pickled
globals as ``../shared/parity/authors_format/CSTRACK_S2_ep0050.pth.tar`` (its README lists them):
``net`` plus an AdamW state, ``stats`` of ``lib.train.admin.stats.AverageMeter`` / ``StatValue``,
``settings`` = ``lib.train.admin.settings.Settings`` holding ``lib.train.admin.local.EnvironmentSettings``
and ``torch.device("cuda:0")``, with every storage tagged ``cuda:0``. The classes only exist while the
file is written, under those module paths, so the pickle names exactly those globals.
"""
from __future__ import annotations

import contextlib
import sys
import types
from collections import OrderedDict
from typing import Iterator, Mapping

import torch


class _Record:
    """A plain object pickled by its ``__dict__`` (what the authors' classes are, seen from a pickle)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)


def _record_class(module: str, name: str) -> type:
    cls = type(name, (_Record,), {})
    cls.__module__, cls.__qualname__ = module, name
    return cls


@contextlib.contextmanager
def _authors_classes() -> Iterator[dict]:
    """Install the four trainer classes under the authors' module paths for the duration of a save."""
    wanted = {("lib.train.admin.stats", "AverageMeter"), ("lib.train.admin.stats", "StatValue"),
              ("lib.train.admin.settings", "Settings"), ("lib.train.admin.local", "EnvironmentSettings")}
    restore = []
    classes = {}
    for module_name, name in sorted(wanted):
        module = sys.modules.get(module_name)
        if module is None:
            module = types.ModuleType(module_name)
            sys.modules[module_name] = module
            restore.append((module_name, None, None))
        else:
            restore.append((module_name, name, getattr(module, name, None)))
        classes[name] = _record_class(module_name, name)
        setattr(module, name, classes[name])
    try:
        yield classes
    finally:
        for module_name, name, previous in reversed(restore):
            if name is None:
                sys.modules.pop(module_name, None)
            elif previous is None:
                delattr(sys.modules[module_name], name)
            else:
                setattr(sys.modules[module_name], name, previous)


@contextlib.contextmanager
def _storages_tagged_cuda0() -> Iterator[None]:
    """Make ``torch.save`` record every storage as ``cuda:0``, as a save on a GPU machine does."""
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        yield
    finally:
        torch.serialization.location_tag = original


def write_authors_checkpoint(path, net: Mapping[str, torch.Tensor], epoch: int = 50,
                             net_type: str = "CSTRACK_S2", script: str = "cstrack_s2") -> None:
    """Save ``net`` in the authors' trainer format at ``path`` (see the module docstring)."""
    first = next(iter(net.values()))
    optimizer = {"state": {0: {"step": torch.tensor(float(epoch)), "exp_avg": torch.zeros_like(first),
                               "exp_avg_sq": torch.zeros_like(first)}},
                 "param_groups": [{"lr": 1e-5, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-4,
                                   "amsgrad": False, "params": [0]}]}
    with _authors_classes() as cls, _storages_tagged_cuda0():
        stats = OrderedDict(train=OrderedDict(
            [("Loss/total", cls["AverageMeter"](avg=0, val=0, sum=0, count=0, history=[1.25], has_new_data=True)),
             ("IoU", cls["AverageMeter"](avg=0, val=0, sum=0, count=0, history=[0.71], has_new_data=True)),
             ("LearningRate/group0", cls["StatValue"](val=1e-5, history=[1e-5]))]))
        env = cls["EnvironmentSettings"](workspace_dir="/path/to/your/project",
                                          lasher_dir="/path/to/your/data/LasHeR/trainingset")
        settings = cls["Settings"](env=env, use_gpu=True, script_name=script, config_name=script,
                                   local_rank=0, device=torch.device("cuda", 0), batchsize=10)
        torch.save({"epoch": epoch, "actor_type": "CSTrackS2Actor", "net_type": net_type,
                    "net": OrderedDict(net), "net_info": None, "constructor": None, "optimizer": optimizer,
                    "stats": stats, "settings": settings}, path)
