"""Where checkpoints live and how they are named: the one place the trainer, the runners, the VOT
entry point and the demo look them up (``docs/formats.md``).

The trainer writes ``<save_dir>/checkpoints/train/<script>/<config>/<NET_TYPE>_ep<EEEE>.pth.tar``
(``NET_TYPE`` is the network class name, ``CSTRACK_S1`` / ``CSTRACK_S2``). Test-time lookups accept a
file path, a bare file name under the ``network_path`` setting (the reference's ``--ckpt_name``), an
epoch of a training run, or the latest checkpoint of a run.
"""
from __future__ import annotations

import logging
import os
import re
from typing import List, Mapping, Optional, Tuple

logger = logging.getLogger(__name__)

CHECKPOINT_SUFFIX = ".pth.tar"
_EPOCH = re.compile(r"^(?P<net>.+)_ep(?P<epoch>\d+)" + re.escape(CHECKPOINT_SUFFIX) + "$")


def checkpoint_name(net_type: str, epoch: int) -> str:
    """``<NetClass>_ep<EEEE>.pth.tar``, e.g. ``CSTRACK_S1_ep0150.pth.tar``."""
    return f"{net_type}_ep{int(epoch):04d}{CHECKPOINT_SUFFIX}"


def net_type_of(script: str) -> str:
    """The network class name the trainer uses in file names for a ``--script`` (``CSTRACK_S2``)."""
    return script.upper()


def run_checkpoint_dir(checkpoints_root: str, script: str, config_name: str) -> str:
    """``<checkpoints_root>/train/<script>/<config>``; ``checkpoints_root`` is ``<save_dir>/checkpoints``."""
    return os.path.join(checkpoints_root, "train", script, config_name)


def list_checkpoints(folder: str, net_type: Optional[str] = None) -> List[Tuple[int, str]]:
    """``(epoch, path)`` of every ``*_ep<N>.pth.tar`` in ``folder`` (of ``net_type`` if given), by epoch."""
    if not os.path.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        match = _EPOCH.match(name)
        if match and (net_type is None or match.group("net") == net_type):
            found.append((int(match.group("epoch")), os.path.join(folder, name)))
    return sorted(found)


def latest_checkpoint(folder: str, net_type: Optional[str] = None) -> Optional[str]:
    """The checkpoint with the highest epoch in ``folder``, or None."""
    found = list_checkpoints(folder, net_type)
    return found[-1][1] if found else None


def epoch_label(checkpoint: str) -> str:
    """The reference's result-folder suffix, ``..._ep0030.pth.tar`` -> ``ep0030`` (``docs/formats.md``)."""
    return os.path.basename(checkpoint).split(".")[0].split("_")[-1]


def resolve_test_checkpoint(script: str, config_name: str, checkpoint: Optional[str] = None,
                            epoch: Optional[int] = None) -> str:
    """The checkpoint a benchmark runner tests.

    ``checkpoint`` may be a path or a bare file name under the ``network_path`` setting; without it,
    ``epoch`` selects that epoch of the training run under the ``checkpoints_path`` setting; with
    neither, the ``checkpoints_path`` setting names the file, or a folder whose latest checkpoint of
    ``script`` is taken (the authors' README: set ``checkpoints_path``, then run the script). Raises
    FileNotFoundError naming what was tried.
    """
    from lib.config.environment import env_settings

    if checkpoint:
        if os.path.isfile(checkpoint):
            return os.path.abspath(checkpoint)
        network_path = env_settings().network_path
        candidate = os.path.join(network_path, checkpoint) if network_path else ""
        if candidate and os.path.isfile(candidate):
            return os.path.abspath(candidate)
        tried = f" or {candidate} (setting 'network_path')" if candidate else " (setting 'network_path' is unset)"
        raise FileNotFoundError(f"checkpoint '{checkpoint}' not found as a path{tried}")
    if epoch is None:
        how = "pass --checkpoint FILE or --epoch N, or set 'checkpoints_path' to the checkpoint or its folder"
        return _from_checkpoints_setting(script, config_name, how)
    folder = run_checkpoint_dir(str(env_settings().require_dir("checkpoints_path")), script, config_name)
    matches = [path for found_epoch, path in list_checkpoints(folder) if found_epoch == int(epoch)]
    if len(matches) != 1:
        found = "no file" if not matches else f"{len(matches)} files"
        raise FileNotFoundError(f"{found} for epoch {int(epoch)} in {folder}; pass --checkpoint FILE")
    return matches[0]


def resolve_vot_checkpoint(script: str, config_name: str, checkpoint: Optional[str] = None,
                           environ: Optional[Mapping[str, str]] = None) -> str:
    """The weights of the VOT entry point, which the toolkit starts without arguments.

    ``checkpoint``, else ``<SCRIPT>_CHECKPOINT``, else ``CSTRACK_CHECKPOINT`` from the environment, else
    the ``checkpoints_path`` setting: a file, or a folder holding ``<NET>_ep*.pth.tar`` directly or in
    the training layout (the latest epoch is taken). Raises FileNotFoundError saying how to set it.
    """
    environ = os.environ if environ is None else environ
    per_script = f"{script.upper()}_CHECKPOINT"
    how = (f"export {per_script} or CSTRACK_CHECKPOINT=/path/to/{net_type_of(script)}_ep0050.pth.tar in the "
           f"shell that runs `vot evaluate`, or set the 'checkpoints_path' setting")
    checkpoint = checkpoint or environ.get(per_script) or environ.get("CSTRACK_CHECKPOINT")
    if checkpoint:
        if not os.path.isfile(checkpoint):
            raise FileNotFoundError(f"checkpoint '{checkpoint}' does not exist; {how}")
        return os.path.abspath(checkpoint)
    return _from_checkpoints_setting(script, config_name, how)


def _from_checkpoints_setting(script: str, config_name: str, how: str) -> str:
    """The ``checkpoints_path`` setting: a file, or the latest ``<NET>_ep*.pth.tar`` of ``script`` in that
    folder or in its training layout ``train/<script>/<config>/`` (the one chosen is logged)."""
    from lib.config.environment import env_settings

    folder = env_settings().checkpoints_path
    if folder and os.path.isfile(folder):
        return os.path.abspath(folder)
    if not folder or not os.path.isdir(folder):
        raise FileNotFoundError(f"no checkpoint: the 'checkpoints_path' setting ('{folder}') is not a file or "
                                f"folder; {how}")
    candidates = [folder, run_checkpoint_dir(folder, script, config_name)]
    for candidate in candidates:
        found = latest_checkpoint(candidate, net_type_of(script)) or latest_checkpoint(candidate)
        if found:
            logger.info("checkpoint: %s (the latest in 'checkpoints_path')", found)
            return found
    raise FileNotFoundError(f"no *_ep*{CHECKPOINT_SUFFIX} in {' or '.join(candidates)}; {how}")


__all__ = ["CHECKPOINT_SUFFIX", "checkpoint_name", "epoch_label", "latest_checkpoint", "list_checkpoints",
           "net_type_of", "resolve_test_checkpoint", "resolve_vot_checkpoint", "run_checkpoint_dir"]
