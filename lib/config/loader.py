"""YAML experiment configs: ``_base_`` inheritance, merge onto the defaults, validation, dump.

``load_config("cstrack_s2")`` reads ``experiments/cstrack_s2/cstrack_s2.yaml``; a path to a yaml file
works too. A yaml may name ``_base_: other.yaml`` (relative to itself); the chain is merged first
(dicts merge key by key, lists and scalars replace, ``_delete_: true`` inside a dict replaces that
dict whole). The result is merged onto :data:`lib.config.defaults.DEFAULTS`; a key that is not in the
defaults, or a value of the wrong type, raises :class:`ConfigError` naming the file and dotted key.
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import yaml
from easydict import EasyDict

from lib.config.defaults import OPEN_DICTS, get_defaults

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS_DIR = REPO_ROOT / "experiments"


class ConfigError(ValueError):
    """A config file or override that does not fit the defaults."""


def resolve_config_path(name: Union[str, Path], script: Optional[str] = None) -> Path:
    """Map an experiment name (``cstrack_s1``), ``script`` + config name, or a yaml path to a file."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        return path.resolve()
    candidates = [EXPERIMENTS_DIR / (script or str(name)) / f"{name}.yaml"]
    if script is None:
        candidates += sorted(EXPERIMENTS_DIR.glob(f"*/{name}.yaml"))
    for cand in candidates:
        if cand.is_file():
            return cand.resolve()
    known = sorted(p.stem for p in EXPERIMENTS_DIR.glob("*/*.yaml"))
    close = difflib.get_close_matches(str(name), known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise FileNotFoundError(
        f"no experiment config '{name}'{hint}: looked for {candidates[0]}; known experiments: {known}")


def _read_yaml_chain(path: Path, seen: tuple = ()) -> Dict[str, Any]:
    """Read one yaml and everything it inherits through ``_base_``, merged base-first."""
    if path in seen:
        raise ConfigError(f"{path}: circular _base_ chain {[str(p) for p in seen + (path,)]}")
    try:
        with open(path, "r", encoding="utf-8") as f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid yaml: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping, got {type(data).__name__}")
    base = data.pop("_base_", None)
    if base is None:
        return data
    merged: Dict[str, Any] = {}
    for base_name in [base] if isinstance(base, str) else list(base):
        base_path = (path.parent / base_name).resolve()
        if not base_path.is_file():
            raise ConfigError(f"{path}: _base_ file not found: {base_path}")
        merged = _merge(merged, _read_yaml_chain(base_path, seen + (path,)))
    return _merge(merged, data)


def _merge(base: Dict[str, Any], update: Mapping[str, Any]) -> Dict[str, Any]:
    """Recursive merge of raw yaml dicts (no validation); ``_delete_: true`` replaces a dict."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict):
            value = dict(value)
            if value.pop("_delete_", False) or not isinstance(out.get(key), dict):
                out[key] = copy.deepcopy(value)
            else:
                out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _check_value(default: Any, value: Any, where: str) -> Any:
    """Type-check ``value`` against its default's type; ints are accepted where floats are."""
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(default, int):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list):
        ok = isinstance(value, (list, tuple))
        value = list(value) if ok else value
    else:
        ok = True
    if not ok:
        raise ConfigError(f"{where}: expected {type(default).__name__}, got {type(value).__name__} ({value!r})")
    return value


def merge_into_defaults(cfg: Dict[str, Any], update: Mapping[str, Any], source: str, prefix: str = "") -> None:
    """Merge a yaml dict into the defaults in place, rejecting unknown keys and mistyped values."""
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if dotted in OPEN_DICTS or prefix.rstrip(".") in OPEN_DICTS:
            if isinstance(cfg.get(key), dict) and isinstance(value, dict):
                merge_into_defaults(cfg[key], value, source, dotted + ".")
            else:
                cfg[key] = value
            continue
        if key not in cfg:
            close = difflib.get_close_matches(str(key), [str(k) for k in cfg], n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            raise ConfigError(f"{source}: unknown key {dotted}{hint}")
        if isinstance(cfg[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: {dotted} must be a mapping, got {value!r}")
            merge_into_defaults(cfg[key], value, source, dotted + ".")
        else:
            cfg[key] = _check_value(cfg[key], value, f"{source}: {dotted}")


def parse_overrides(items: Optional[list]) -> Dict[str, Any]:
    """``["TRAIN.EPOCH=2", "MODEL.PRETRAINED_PATH=a.pth"]`` -> nested dict (values parsed as yaml)."""
    nested: Dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"override '{item}' must look like KEY.SUBKEY=value")
        key, raw = item.split("=", 1)
        node = nested
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_scalar(raw)
    return nested


def _parse_scalar(raw: str) -> Any:
    """A command-line value parsed as yaml; numbers YAML 1.1 leaves as text (``1e30``) become floats."""
    if raw == "":
        return ""
    value = yaml.safe_load(raw)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def load_config(name: Union[str, Path], script: Optional[str] = None,
                overrides: Optional[Mapping[str, Any]] = None) -> EasyDict:
    """Build the validated config of an experiment.

    Args:
        name: experiment name (``cstrack_s2``), config name inside ``experiments/<script>/``, or a yaml path.
        script: the ``--script`` family folder, when ``name`` is a config name inside it.
        overrides: nested dict or ``["KEY=value"]`` list applied after the yaml.
    Returns:
        an ``EasyDict`` with reference (upper-case) keys; ``cfg_source_path(cfg)`` gives its file.
    """
    path = resolve_config_path(name, script)
    cfg = get_defaults()
    merge_into_defaults(cfg, _read_yaml_chain(path), str(path))
    if overrides:
        if isinstance(overrides, (list, tuple)):
            overrides = parse_overrides(list(overrides))
        merge_into_defaults(cfg, overrides, "override")
    result = EasyDict(cfg)
    _SOURCES[id(result)] = path
    return result


_SOURCES: Dict[int, Path] = {}


def cfg_source_path(cfg: Mapping[str, Any]) -> Optional[Path]:
    """The yaml file a config returned by :func:`load_config` was read from (None if unknown)."""
    return _SOURCES.get(id(cfg))


def to_plain(cfg: Any) -> Any:
    """Config (EasyDict) -> plain dicts / lists / scalars, safe for yaml and ``weights_only`` pickles."""
    if isinstance(cfg, Mapping):
        return {str(k): to_plain(v) for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return [to_plain(v) for v in cfg]
    return cfg


def dump_config(cfg: Mapping[str, Any]) -> str:
    """The resolved config as yaml text (written next to checkpoints)."""
    return yaml.safe_dump(to_plain(cfg), sort_keys=False)


def config_from_dict(data: Mapping[str, Any], source: str = "checkpoint") -> EasyDict:
    """Validate a plain dict (e.g. a config stored in a checkpoint) against the defaults."""
    cfg = get_defaults()
    merge_into_defaults(cfg, data, source)
    return EasyDict(cfg)
