"""What a set of tracking results was produced by, identified by content (``docs/formats.md``).

A :class:`RunIdentity` holds the facts that decide the boxes: a SHA-256 of the weights actually
loaded (computed from the tensors in memory, so it costs no second read of the checkpoint and equals
for the same weights in any file layout), a SHA-256 of the resolved config, the tracker script, the
dataset name the tracker was built with (it selects the template-update rule), the precision it runs
in, and the code version (package version and a digest of the tracking code, see :func:`code_version`).
Benchmark runners add the benchmark and its result format. Its :attr:`~RunIdentity.digest` is what a
results folder records for every finished sequence; the checkpoint path and config source are kept
beside it for people, not compared.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional

import torch

REPO_ROOT = Path(__file__).resolve().parents[3]


def weights_digest(state: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, in key order."""
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}\n".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def json_digest(value: Any) -> str:
    """SHA-256 of ``value`` as canonical JSON (sorted keys)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


#: Parts of ``lib`` that cannot change a tracker's boxes (training, the quickstart, scoring).
NOT_TRACKING_CODE = ("train", "quickstart", "test/analysis", "experiments")


@functools.lru_cache(maxsize=1)
def code_version() -> Dict[str, Optional[str]]:
    """``{"package": <installed version>, "tracking_code": <SHA-256 of the code that decides the boxes>}``.

    The digest covers every ``lib/**/*.py`` file outside :data:`NOT_TRACKING_CODE` (model, tracker,
    readers, crops, configuration), by path and content: a commit that only touches docs, tests or
    training keeps results resumable, while an uncommitted edit to the tracking code does not.
    """
    try:
        package = importlib.metadata.version("cstrack")
    except importlib.metadata.PackageNotFoundError:
        package = None
    lib_dir = REPO_ROOT / "lib"
    digest = hashlib.sha256()
    for path in sorted(lib_dir.rglob("*.py")):
        relative = path.relative_to(lib_dir).as_posix()
        if relative.startswith(NOT_TRACKING_CODE) or relative.endswith("/local.py"):
            continue
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return {"package": package, "tracking_code": digest.hexdigest()}


@dataclass(frozen=True)
class RunIdentity:
    """``fields`` decide whether two runs give the same boxes (digested); ``info`` is only recorded."""

    fields: Dict[str, Any]
    info: Dict[str, Any] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        return json_digest(self.fields)

    def extended(self, **fields: Any) -> "RunIdentity":
        """A copy with more deciding fields (e.g. the benchmark a runner tracks)."""
        return RunIdentity({**self.fields, **fields}, dict(self.info))

    def to_dict(self) -> Dict[str, Any]:
        return {"digest": self.digest, "fields": self.fields, "info": self.info}

    def differences(self, recorded: Mapping[str, Any]) -> str:
        """The deciding fields that differ from a recorded ``to_dict()``, as ``name: old -> new`` text."""
        old = recorded.get("fields", {}) if isinstance(recorded, Mapping) else {}
        names = sorted(set(old) | set(self.fields))
        changed = [f"{n}: {old.get(n)!r} -> {self.fields.get(n)!r}" for n in names if old.get(n) != self.fields.get(n)]
        return "; ".join(changed) or "(no field differs)"


def tracker_identity(script: str, state: Mapping[str, torch.Tensor], cfg: Mapping[str, Any], dataset_name: str,
                     checkpoint: str, config_source: str, precision: str = "fp32") -> RunIdentity:
    """The identity of a tracker built from ``state`` and ``cfg`` running in ``precision`` (module docstring)."""
    from lib.config import to_plain

    return RunIdentity(
        fields={"script": script, "weights_sha256": weights_digest(state), "config_sha256": json_digest(to_plain(cfg)),
                "tracker_dataset": dataset_name.lower(), "precision": precision, "code": code_version()},
        info={"checkpoint": os.path.abspath(checkpoint), "config": config_source})


def identity_of(tracker: Any) -> RunIdentity:
    """The identity a tracker carries (``build_tracker`` sets it); other objects are named by their class."""
    identity = getattr(tracker, "identity", None)
    if isinstance(identity, RunIdentity):
        return identity
    cls = type(tracker)
    return RunIdentity({"tracker": f"{cls.__module__}.{cls.__qualname__}", "code": code_version()})


__all__ = ["RunIdentity", "code_version", "identity_of", "json_digest", "tracker_identity", "weights_digest"]
