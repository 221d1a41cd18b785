"""YAML experiment configs: ``_base_`` inheritance, merge onto the defaults, validation, dump.

``load_config("cstrack_s2")`` reads ``experiments/cstrack_s2/cstrack_s2.yaml``; a path to a yaml file
works too. A yaml may name ``_base_: other.yaml`` (relative to itself, or a list of such names); the
chain is merged first (dicts merge key by key, lists and scalars replace, ``_delete_: true`` inside a
dict replaces that dict whole). The result is merged onto :data:`lib.config.defaults.DEFAULTS`. Every
problem raises :class:`ConfigError` naming the file and the dotted key: a key that is not in the
defaults, a value of the wrong type (an int key given 2.5, a list element of the wrong type), a
``_base_`` that is not a file name, a file that is not UTF-8 yaml text.

The experiment yamls are found in ``lib/experiments`` (a link to the repository's ``experiments/``
folder, and a real folder in an installed wheel); where the link is not a folder (a checkout without
symlink support) the repository's ``experiments/`` is used.
"""
from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Union

import yaml
from easydict import EasyDict

from lib.config.defaults import LIST_ITEM_TYPES, OPEN_DICTS, get_defaults


def _experiments_dir() -> Path:
    """``lib/experiments`` when it is a folder (the link, or the copy in a wheel), else ``<repo>/experiments``."""
    packaged = Path(__file__).resolve().parents[1] / "experiments"
    if packaged.is_dir():
        return packaged.resolve()
    return Path(__file__).resolve().parents[2] / "experiments"


EXPERIMENTS_DIR = _experiments_dir()


class ConfigError(ValueError):
    """A config file or override that does not fit the defaults; the message names the file and key."""


def known_experiments() -> List[str]:
    """Names of the shipped experiment yamls (file stems under every ``experiments/<script>/``)."""
    return sorted({p.stem for p in EXPERIMENTS_DIR.glob("*/*.yaml")})


def _close_match(name: str, candidates: List[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate other than ``name`` itself, else ''."""
    close = difflib.get_close_matches(name, [c for c in candidates if c != name], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def resolve_config_path(name: Union[str, Path], script: Optional[str] = None) -> Path:
    """Map an experiment name (``cstrack_s1``), ``script`` + config name, or a yaml path to a file.

    With ``script`` the yaml must be ``experiments/<script>/<name>.yaml``, as in the authors' layout;
    when it exists in another script's folder the error says which one.
    """
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        return path.resolve()
    name = str(name)
    if script is not None:
        wanted = EXPERIMENTS_DIR / script / f"{name}.yaml"
        if wanted.is_file():
            return wanted.resolve()
        elsewhere = sorted(p.parent.name for p in EXPERIMENTS_DIR.glob(f"*/{name}.yaml"))
        if elsewhere:
            raise FileNotFoundError(
                f"no experiment config '{name}' for --script {script}: looked for {wanted}; '{name}.yaml' is in "
                f"experiments/{elsewhere[0]}/ (pass --script {elsewhere[0]}, or the yaml's path as --config)")
        scripts = sorted(p.name for p in EXPERIMENTS_DIR.iterdir() if p.is_dir())
        if script not in scripts:
            raise FileNotFoundError(f"no experiments/{script}/ folder: unknown --script '{script}'"
                                    f"{_close_match(script, scripts)}; known: {scripts}")
        raise FileNotFoundError(
            f"no experiment config '{name}'{_close_match(name, known_experiments())}: looked for {wanted}; "
            f"known experiments: {known_experiments()}")
    candidates = sorted(EXPERIMENTS_DIR.glob(f"*/{name}.yaml"))
    if candidates:
        return candidates[0].resolve()
    raise FileNotFoundError(f"no experiment config '{name}'{_close_match(name, known_experiments())}: looked "
                            f"in {EXPERIMENTS_DIR}/*/; known experiments: {known_experiments()}")


def _read_yaml(path: Path) -> Dict[str, Any]:
    """One yaml file as a dict; ConfigError for undecodable bytes, invalid yaml or a non-mapping."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a UTF-8 text yaml file (undecodable byte at offset {e.start}); "
                          f"is it the right file?") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: invalid yaml: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, got {type(data).__name__}")
    return data


def _base_names(base: Any, path: Path) -> List[str]:
    """The file names of a ``_base_`` entry (one name or a list of names)."""
    names = [base] if isinstance(base, str) else base
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"{path}: _base_ must be a yaml file name or a list of file names (relative to "
                          f"this file), got {base!r}")
    return names


def _read_yaml_chain(path: Path, seen: tuple = ()) -> Dict[str, Any]:
    """Read one yaml and everything it inherits through ``_base_``, merged base-first."""
    if path in seen:
        raise ConfigError(f"{path}: circular _base_ chain {[str(p) for p in seen + (path,)]}")
    data = _read_yaml(path)
    base = data.pop("_base_", None)
    if base is None:
        return data
    merged: Dict[str, Any] = {}
    for base_name in _base_names(base, path):
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


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _typed(expected: type, value: Any) -> Any:
    """``value`` as ``expected`` (bool, int, float or str), or raise TypeError.

    Ints are accepted where floats are (and become floats); nothing else is converted: 2.5 or 2.0 for
    an int key, 1 for a bool key and 3 for a text key are errors.
    """
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = _is_number(value)
        value = float(value) if ok else value
    elif expected is str:
        ok = isinstance(value, str)
    else:
        ok = True
    if not ok:
        raise TypeError(f"expected {'an integer' if expected is int else expected.__name__}, got "
                        f"{type(value).__name__} ({value!r})")
    return value


def _check_value(default: Any, value: Any, source: str, dotted: str) -> Any:
    """``value`` checked against its default's type (list elements against :data:`LIST_ITEM_TYPES`)."""
    if default is None or value is None:
        return value
    try:
        if isinstance(default, list):
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"expected a list, got {type(value).__name__} ({value!r})")
            item_type = LIST_ITEM_TYPES.get(dotted)
            checked = []
            for i, item in enumerate(value):
                try:
                    checked.append(_typed(item_type, item) if item_type else item)
                except TypeError as e:
                    raise ConfigError(f"{source}: {dotted}[{i}]: {e}") from None
            return checked
        if isinstance(default, dict):
            raise TypeError(f"expected a mapping, got {value!r}")
        return _typed(type(default), value)
    except TypeError as e:
        raise ConfigError(f"{source}: {dotted}: {e}") from None


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
            cfg[key] = _check_value(cfg[key], value, source, dotted)


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
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        raise ConfigError(f"override value '{raw}' is not valid yaml: {e}") from None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def load_config(name: Union[str, Path], script: Optional[str] = None,
                overrides: Optional[Union[Mapping[str, Any], List[str]]] = None) -> EasyDict:
    """Build the validated config of an experiment.

    Args:
        name: experiment name (``cstrack_s2``), config name inside ``experiments/<script>/``, or a yaml path.
        script: the ``--script`` family folder, when ``name`` is a config name inside it.
        overrides: nested dict or ``["KEY=value"]`` list applied after the yaml.
    Returns:
        an ``EasyDict`` with reference (upper-case) keys.
    """
    path = resolve_config_path(name, script)
    cfg = get_defaults()
    merge_into_defaults(cfg, _read_yaml_chain(path), str(path))
    if overrides:
        if isinstance(overrides, (list, tuple)):
            overrides = parse_overrides(list(overrides))
        merge_into_defaults(cfg, overrides, "override")
    return EasyDict(cfg)


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
