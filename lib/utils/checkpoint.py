"""Reading and writing network checkpoints, including the files the authors' trainer wrote.

Three layouts are read by one function, :func:`read_checkpoint`, always on the CPU and always with
PyTorch's weights-only unpickler (no code from a file is ever imported or run):

* this framework's checkpoints: plain tensors and Python types (``net``, ``optimizer``, ``config``...);
* bare state_dicts and ``{"net": state_dict}`` files, with or without DDP's ``module.`` prefix;
* the authors' trainer format, the layout of the released CSTrack weights (``docs/formats.md``):
  besides ``net`` it pickles the trainer's own objects (``lib.train.admin.stats.AverageMeter`` /
  ``StatValue``, ``lib.train.admin.settings.Settings`` holding a
  ``lib.train.admin.local.EnvironmentSettings``) and tags every storage ``cuda:0``. Exactly these
  globals are accepted, each mapped to an :class:`InertObject` placeholder that stores the pickled
  attributes and has no behaviour; storages are mapped to the CPU. Any other global in a file
  (``os.system``, ``builtins.eval``, ``subprocess.Popen``...) stops the load with a
  :class:`CheckpointError` naming the file and the global, before anything is built from it.
"""
from __future__ import annotations

import _compat_pickle
import logging
import os
import pickle
import pickletools
import re
import zipfile
from typing import Any, Dict, List, Mapping, Optional

import torch
import torch.nn as nn

from lib.utils.files import atomic_write

logger = logging.getLogger(__name__)


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be read or does not fit the network; the message names the file."""


class InertObject:
    """Stand-in for a class pickled by the authors' trainer: it keeps the pickled state, runs nothing.

    ``state`` is what the pickle stored (for these classes, the object's ``__dict__``); attribute
    reads fall back to it, so ``ckpt["settings"].script_name`` works for inspection.
    """

    pickled_name = "InertObject"

    def __init__(self, *args: Any) -> None:
        self.state: Any = args if args else None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __getattr__(self, name: str) -> Any:
        state = self.__dict__.get("state")
        if isinstance(state, dict) and name in state:
            return state[name]
        raise AttributeError(f"{self.pickled_name} placeholder has no attribute '{name}'")

    def __repr__(self) -> str:
        return f"<{self.pickled_name} (inert placeholder)>"


def _placeholder(qualified_name: str) -> type:
    return type(qualified_name.rsplit(".", 1)[1], (InertObject,), {"pickled_name": qualified_name})


#: Globals of the authors' trainer checkpoints besides tensors and containers (which PyTorch's
#: weights-only unpickler accepts by itself: OrderedDict, torch.device, storages, tensor rebuilds).
AUTHORS_TRAINER_GLOBALS = ("lib.train.admin.stats.AverageMeter", "lib.train.admin.stats.StatValue",
                           "lib.train.admin.settings.Settings", "lib.train.admin.local.EnvironmentSettings")
_PLACEHOLDERS = [(_placeholder(name), name) for name in AUTHORS_TRAINER_GLOBALS]
_PY2_MODULES = {"posix": "os", "nt": "os"}  # os.system is pickled under the platform module


def pickled_globals(path: str) -> List[str]:
    """The globals a checkpoint's pickle names, as ``module.name``, read without unpickling anything.

    Python-2 compatible names written by pickle protocol 2 (``__builtin__``, ``commands``) are
    translated to today's modules. Empty for files that are not a zip checkpoint.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            member = next((n for n in archive.namelist() if n.endswith("data.pkl")), None)
            data = archive.read(member) if member else b""
    except (zipfile.BadZipFile, OSError):
        return []
    names: List[str] = []
    strings: List[str] = []
    try:
        for opcode, arg, _ in pickletools.genops(data):
            if opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
                strings.append(arg)
            elif opcode.name == "GLOBAL":
                module, name = arg.split(" ", 1)
                names.append(_py3_name(module, name))
            elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                names.append(_py3_name(strings[-2], strings[-1]))
    except (ValueError, pickle.UnpicklingError):
        pass  # a damaged pickle: torch.load reports it
    return list(dict.fromkeys(names))


def _py3_name(module: str, name: str) -> str:
    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    return f"{_PY2_MODULES.get(module, module)}.{name}"


def _refused_global(path: str, message: str) -> Optional[str]:
    """The global torch's weights-only unpickler refused, named as the file names it."""
    match = re.search(r"GLOBAL ([\w.]+) (?:was not an allowed global|whose module [\w.]+ is blocked)", message)
    if not match:
        return None
    reported = match.group(1).rsplit(".", 1)[-1]
    allowed = set(AUTHORS_TRAINER_GLOBALS)
    for name in pickled_globals(path):
        if name not in allowed and name.rsplit(".", 1)[-1] == reported:
            return name
    return match.group(1)


def read_checkpoint(path: str) -> Any:
    """Load a checkpoint file on the CPU without running code from it (see the module docstring).

    Raises FileNotFoundError for a missing file and :class:`CheckpointError` for a file that is
    truncated, not a PyTorch checkpoint, or names a global outside the allowed set.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    try:
        with torch.serialization.safe_globals(_PLACEHOLDERS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        name = _refused_global(path, str(e))
        if name:
            raise CheckpointError(
                f"refusing to load {path}: it names the Python global '{name}', which is not part of a "
                f"checkpoint (tensors, containers and the authors' trainer records only). Nothing from the "
                f"file was run; do not use it") from None
        raise CheckpointError(f"cannot read checkpoint {path}: {e}") from e
    except PermissionError as e:
        raise CheckpointError(f"cannot read checkpoint {path}: permission denied; make the file readable "
                              f"(chmod a+r) or copy it somewhere you can read") from e
    except (RuntimeError, EOFError, OSError, ValueError) as e:
        reason = str(e).split(". ")[0].splitlines()[0] if str(e) else type(e).__name__
        raise CheckpointError(f"cannot read checkpoint {path}: it is truncated or not a PyTorch checkpoint; download "
                              f"or copy it again (PyTorch said: {reason})") from e


def extract_state_dict(ckpt: Any, path: str = "<checkpoint>") -> Mapping[str, torch.Tensor]:
    """The weights of a checkpoint: its ``net`` entry, or the object itself when it is a bare state_dict.

    DDP's ``module.`` prefix is removed.
    """
    state = ckpt["net"] if isinstance(ckpt, Mapping) and "net" in ckpt else ckpt
    if not isinstance(state, Mapping) or not state or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: expected a state_dict or a dict with a 'net' state_dict of tensors")
    if all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def stored_config(ckpt: Any) -> Optional[Mapping[str, Any]]:
    """The resolved experiment config this framework stores in its checkpoints (None in other files)."""
    config = ckpt.get("config") if isinstance(ckpt, Mapping) else None
    return config if isinstance(config, Mapping) and config else None


def load_state_dict_into(net: nn.Module, state: Mapping[str, torch.Tensor], path: str,
                         strict: bool = True) -> Dict[str, List[str]]:
    """Load ``state`` into ``net``; fail clearly on shapes and (with ``strict``) on missing / extra keys.

    Returns the missing and unexpected key lists.
    """
    own = net.state_dict()
    for key, value in state.items():
        if key in own and own[key].shape != value.shape:
            raise CheckpointError(
                f"{path}: shape mismatch at '{key}': checkpoint {tuple(value.shape)} vs network "
                f"{tuple(own[key].shape)} (checkpoint of another model size or config?)")
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if strict and (missing or unexpected):
        raise CheckpointError(
            f"{path} does not match the network ({type(net).__name__}): {len(missing)} missing keys "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''}, {len(unexpected)} unexpected keys "
            f"{unexpected[:5]}{'...' if len(unexpected) > 5 else ''} (checkpoint of the other stage?)")
    net.load_state_dict(state, strict=False)
    return {"missing_keys": missing, "unexpected_keys": unexpected}


def load_network_weights(net: nn.Module, path: str, strict: bool = True) -> Dict[str, List[str]]:
    """Read ``path`` (any layout above) and load its weights into ``net``; see :func:`load_state_dict_into`."""
    return load_state_dict_into(net, extract_state_dict(read_checkpoint(path), path), path, strict)


def atomic_torch_save(obj: Any, path: str) -> None:
    """``torch.save`` through a temporary file and ``os.replace``: never a half-written checkpoint."""
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def save_network(net: nn.Module, path: str, extra: Optional[Dict[str, Any]] = None) -> None:
    """Save weights in the released layout ``{"net": state_dict, **extra}`` atomically."""
    module = net.module if hasattr(net, "module") else net
    atomic_torch_save({"net": module.state_dict(), **(extra or {})}, path)


__all__ = ["AUTHORS_TRAINER_GLOBALS", "CheckpointError", "InertObject", "atomic_torch_save", "extract_state_dict",
           "load_network_weights", "load_state_dict_into", "read_checkpoint", "save_network", "stored_config"]
