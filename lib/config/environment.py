"""Dataset roots and output folders for training and testing, from one loader (TRAINING.md §1.3-§1.4).

Settings come from two plain-assignment files, the ones users of this tracker family know:

* ``lib/train/admin/local.py``: training roots (``lasot_dir = '<data>/lasot'``, ...);
* ``lib/test/evaluation/local.py``: test roots and result folders.

Both are written by ``python tracking/create_default_local_file.py``. They are *parsed* (``ast``),
never imported or executed, and never rewritten by this module: a broken file raises an error that
names the file and line (the reference overwrote it with a blank template, TRAINING.md §9 item 7;
PAIN_POINTS A1/A2). After the files, every field can be overridden by an environment variable
``CSTRACK_<FIELD_UPPER>`` (``CSTRACK_LASHER_DIR=/data/LasHeR/trainingset``).

Relative paths in the files are taken relative to the repository root; relative paths in environment
variables relative to the current directory. ``python -m lib.config.environment`` prints every root
and whether it exists.
"""
from __future__ import annotations

import argparse
import ast
import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from lib.utils.files import atomic_write_text

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAIN_LOCAL_FILE = REPO_ROOT / "lib" / "train" / "admin" / "local.py"
TEST_LOCAL_FILE = REPO_ROOT / "lib" / "test" / "evaluation" / "local.py"
ENV_PREFIX = "CSTRACK_"

# Where ``create_default_local_file.py --data_dir D`` points each dataset root, relative to D.
# Quirk fixed (TRAINING.md §9 item 6): the reference pointed vasttrack_dir at <data>/trackingnet.
DEFAULT_DATA_LAYOUT: Dict[str, str] = {
    "lasot_dir": "lasot",
    "got10k_dir": "got10k/train",
    "trackingnet_dir": "trackingnet",
    "coco_dir": "coco",
    "vasttrack_dir": "VastTrack/unisot_train_final_backup",
    "tnl2k_dir": "tnl2k/train",
    "lasher_dir": "lasher/trainingset",
    "depthtrack_dir": "depthtrack/train",
    "visevent_dir": "visevent/train",
    "lasot_lmdb_dir": "lasot_lmdb",
    "got10k_lmdb_dir": "got10k_lmdb",
    "trackingnet_lmdb_dir": "trackingnet_lmdb",
    "coco_lmdb_dir": "coco_lmdb",
    # test benchmarks
    "lasher_test_dir": "lasher/testingset",
    "rgbt234_dir": "rgbt234",
    "visevent_test_dir": "visevent/test",
    "depthtrack_test_dir": "depthtrack/test",
    "vot22rgbd_dir": "vot22rgbd",
}

# A reference-style test local.py names the test roots like the training ones; map them on read.
_TEST_FILE_ALIASES = {"lasher_dir": "lasher_test_dir", "visevent_dir": "visevent_test_dir",
                      "depthtrack_dir": "depthtrack_test_dir"}


class SettingsError(FileNotFoundError):
    """A settings file that cannot be parsed, or a root that is unset or missing (names the setting)."""


@dataclass
class EnvSettings:
    """Every path the framework reads or writes; empty string = not set.

    ``sources`` records where each non-default value came from (file or environment variable) so
    error messages can say what to edit; ``extra`` keeps assignments of unknown names (e.g. ``ckpt_name``).
    """

    # training: outputs
    workspace_dir: str = ""
    tensorboard_dir: str = ""
    pretrained_networks: str = ""
    # training: dataset roots
    lasot_dir: str = ""
    got10k_dir: str = ""
    trackingnet_dir: str = ""
    coco_dir: str = ""
    vasttrack_dir: str = ""
    tnl2k_dir: str = ""
    lasher_dir: str = ""
    depthtrack_dir: str = ""
    visevent_dir: str = ""
    lasot_lmdb_dir: str = ""
    got10k_lmdb_dir: str = ""
    trackingnet_lmdb_dir: str = ""
    coco_lmdb_dir: str = ""
    # testing: outputs
    save_dir: str = ""
    prj_dir: str = ""
    results_path: str = ""
    network_path: str = ""
    checkpoints_path: str = ""
    # testing: benchmark roots
    lasher_test_dir: str = ""
    rgbt234_dir: str = ""
    visevent_test_dir: str = ""
    depthtrack_test_dir: str = ""
    vot22rgbd_dir: str = ""
    sources: Dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    extra: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def path_fields(cls) -> List[str]:
        """Names of all path settings, in declaration order."""
        return [f.name for f in fields(cls) if f.name not in ("sources", "extra")]

    def source_of(self, name: str) -> str:
        """Where a setting's value came from, for error messages."""
        return self.sources.get(name, "default (unset)")

    def _how_to_set(self, name: str) -> str:
        local = TRAIN_LOCAL_FILE if name in TRAIN_FIELDS else TEST_LOCAL_FILE
        return (f"set {name} in {_display(local)} (create it with `python tracking/create_default_local_file.py "
                f"--workspace_dir . --data_dir ./data --save_dir .`) or export {ENV_PREFIX}{name.upper()}")

    def check_path(self, name: str, expected_layout_hint: str = "") -> Path:
        """The setting as a :class:`Path`; :class:`SettingsError` naming setting, path and layout if missing."""
        if name not in self.path_fields():
            raise KeyError(f"unknown setting '{name}'; known: {self.path_fields()}")
        value = getattr(self, name)
        hint = f" Expected layout: {expected_layout_hint}." if expected_layout_hint else ""
        if not value:
            raise SettingsError(f"setting '{name}' is not set.{hint} To fix: {self._how_to_set(name)}.")
        path = Path(value).expanduser()
        if not path.exists():
            raise SettingsError(f"setting '{name}' = '{value}' (from {self.source_of(name)}) does not exist."
                                f"{hint} To fix: {self._how_to_set(name)}.")
        return path

    def require_dir(self, name: str, expected_layout_hint: str = "") -> Path:
        """Like :meth:`check_path`, and the path must be a directory."""
        path = self.check_path(name, expected_layout_hint)
        if not path.is_dir():
            hint = f" Expected layout: {expected_layout_hint}." if expected_layout_hint else ""
            raise SettingsError(f"setting '{name}' = '{path}' (from {self.source_of(name)}) is not a directory."
                                f"{hint} To fix: {self._how_to_set(name)}.")
        return path

    def report(self) -> List[Tuple[str, str, bool, str]]:
        """(setting, value, exists, source) for every path setting, for a `doctor`-style listing."""
        rows = []
        for name in self.path_fields():
            value = getattr(self, name)
            rows.append((name, value, bool(value) and Path(value).expanduser().exists(), self.source_of(name)))
        return rows


TRAIN_FIELDS = ("workspace_dir", "tensorboard_dir", "pretrained_networks", "lasot_dir", "got10k_dir",
                "trackingnet_dir", "coco_dir", "vasttrack_dir", "tnl2k_dir", "lasher_dir", "depthtrack_dir",
                "visevent_dir", "lasot_lmdb_dir", "got10k_lmdb_dir", "trackingnet_lmdb_dir", "coco_lmdb_dir")
TEST_FIELDS = tuple(name for name in EnvSettings.path_fields() if name not in TRAIN_FIELDS)


def _display(path: Path) -> str:
    """A path relative to the repository when inside it (shorter messages)."""
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


class _Unsupported(Exception):
    """An assignment value that is not a plain literal / path expression."""


def _eval_value(node: ast.AST, known: Mapping[str, Any]) -> Any:
    """Evaluate a literal, ``a + b`` of strings, a reference to an earlier setting or ``os.path.join(...)``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _eval_value(node.left, known), _eval_value(node.right, known)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        raise _Unsupported("only strings may be added")
    if isinstance(node, ast.Name) and node.id in known:
        return known[node.id]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.attr in known:
        return known[node.attr]  # old-style `self.workspace_dir + '/tensorboard'`
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join"
            and not node.keywords):
        parts = [_eval_value(arg, known) for arg in node.args]
        if all(isinstance(p, str) for p in parts):
            return os.path.join(*parts)
    raise _Unsupported(ast.dump(node)[:80])


def read_local_file(path: Union[str, Path], aliases: Optional[Mapping[str, str]] = None) -> Dict[str, Tuple[Any, int]]:
    """Parse a ``local.py`` without executing it: ``{name: (value, line)}`` for every plain assignment.

    Module-level ``name = '...'`` is the format written by the generator; ``self.name = ...`` and
    ``settings.name = ...`` (reference-style classes and functions) are accepted too. Assignments of
    unknown names whose value is not a literal (``settings = EnvSettings()``) are skipped.
    Raises :class:`SettingsError` (naming file and line) for a syntax error or a non-literal value of a
    known setting; the file is never modified.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as e:
        raise SettingsError(
            f"{path}:{e.lineno}: cannot parse the settings file ({e.msg}). Windows paths must be written with "
            f"forward slashes or as raw strings (r'C:\\data'); regenerate the file with "
            f"`python tracking/create_default_local_file.py ... --force` if unsure") from e
    aliases = dict(aliases or {})
    known_fields = set(EnvSettings.path_fields())
    values: Dict[str, Tuple[Any, int]] = {}
    plain: Dict[str, Any] = {}
    assigns = [n for n in ast.walk(tree) if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None]
    for node in sorted(assigns, key=lambda n: (n.lineno, n.col_offset)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                name = target.id
            elif isinstance(target, ast.Attribute):
                name = target.attr
            else:
                continue
            try:
                value = _eval_value(node.value, plain)
            except _Unsupported as e:
                if aliases.get(name, name) in known_fields:
                    raise SettingsError(f"{path}:{node.lineno}: '{name}' must be a plain string path, "
                                        f"got an expression ({e})") from e
                continue
            plain[name] = value
            values[aliases.get(name, name)] = (value, node.lineno)
    return values


def env_settings(train_local: Optional[Union[str, Path]] = None, test_local: Optional[Union[str, Path]] = None,
                 environ: Optional[Mapping[str, str]] = None) -> EnvSettings:
    """Read both local files (a missing file is fine), then apply ``CSTRACK_<FIELD>`` overrides.

    Args:
        train_local, test_local: the two files (default: the repository's ``local.py`` files).
        environ: the environment to read overrides from (default ``os.environ``).
    """
    settings = EnvSettings()
    names = set(EnvSettings.path_fields())
    for path, aliases in ((Path(train_local or TRAIN_LOCAL_FILE), {}),
                          (Path(test_local or TEST_LOCAL_FILE), _TEST_FILE_ALIASES)):
        if not path.is_file():
            logger.debug("settings file %s not found; its fields stay unset", path)
            continue
        for name, (value, line) in read_local_file(path, aliases).items():
            if name not in names:
                settings.extra[name] = value
                continue
            if value is None:
                value = ""
            if not isinstance(value, (str, os.PathLike)):
                raise SettingsError(f"{path}:{line}: '{name}' must be a string path, got {value!r}")
            value = os.fspath(value)
            if value and not Path(value).expanduser().is_absolute():
                value = str(REPO_ROOT / value)
            setattr(settings, name, value)
            settings.sources[name] = f"{_display(path)} line {line}"
    environ = os.environ if environ is None else environ
    for name in names:
        key = ENV_PREFIX + name.upper()
        if key in environ:
            value = environ[key]
            if value and not Path(value).expanduser().is_absolute():
                value = os.path.abspath(value)
            setattr(settings, name, value)
            settings.sources[name] = f"environment variable {key}"
    return settings


def _py_str(path: Union[str, Path]) -> str:
    """A path as a Python literal that is valid on every OS: forward slashes, quoted with repr()."""
    return repr(Path(path).as_posix())


def default_local_values(workspace_dir: Union[str, Path], data_dir: Union[str, Path],
                         save_dir: Union[str, Path]) -> Tuple[Dict[str, str], Dict[str, str]]:
    """The (training, test) field values the generator writes, as absolute forward-slash paths."""
    ws = Path(os.path.abspath(workspace_dir))
    data = Path(os.path.abspath(data_dir))
    save = Path(os.path.abspath(save_dir))
    train = {"workspace_dir": ws, "tensorboard_dir": ws / "tensorboard", "pretrained_networks": ws / "pretrained_networks"}
    train.update({name: data / DEFAULT_DATA_LAYOUT[name] for name in TRAIN_FIELDS if name in DEFAULT_DATA_LAYOUT})
    test = {"save_dir": save, "prj_dir": ws, "results_path": save / "test" / "tracking_results",
            "network_path": save / "test" / "networks", "checkpoints_path": save / "checkpoints"}
    test.update({name: data / DEFAULT_DATA_LAYOUT[name] for name in TEST_FIELDS if name in DEFAULT_DATA_LAYOUT})
    return ({k: Path(v).as_posix() for k, v in train.items()},
            {k: Path(v).as_posix() for k, v in test.items()})


_HEADER = '''"""{what} for CSTrack, generated by tracking/create_default_local_file.py.

Plain assignments only: this file is parsed, not imported, so keep one `name = 'path'` per line
(forward slashes also on Windows). Any value can be overridden by an environment variable
CSTRACK_<NAME>, e.g. CSTRACK_{example}=/somewhere/else. Relative paths are relative to the
repository root. Check the result with `python -m lib.config.environment`.
"""
'''


def _render(values: Mapping[str, str], what: str, example: str) -> str:
    lines = [_HEADER.format(what=what, example=example)]
    lines += [f"{name} = {_py_str(value)}" for name, value in values.items()]
    return "\n".join(lines) + "\n"


def write_local_files(workspace_dir: Union[str, Path], data_dir: Union[str, Path], save_dir: Union[str, Path],
                      force: bool = False, train_local: Optional[Union[str, Path]] = None,
                      test_local: Optional[Union[str, Path]] = None) -> List[Path]:
    """Write the training and test ``local.py`` files; returns the files written.

    An existing file is never replaced unless ``force``: :class:`FileExistsError` names it and says to
    pass ``--force`` (nothing is written then, so the two files stay consistent).
    """
    train_path = Path(train_local or TRAIN_LOCAL_FILE)
    test_path = Path(test_local or TEST_LOCAL_FILE)
    existing = [p for p in (train_path, test_path) if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{', '.join(str(p) for p in existing)} already exist(s); not overwriting. "
                              f"Edit the file(s), or pass --force to replace them with fresh defaults.")
    train_values, test_values = default_local_values(workspace_dir, data_dir, save_dir)
    contents = {train_path: _render(train_values, "Training dataset roots and output folders", "LASHER_DIR"),
                test_path: _render(test_values, "Test benchmark roots and result folders", "LASHER_TEST_DIR")}
    for path, text in contents.items():
        atomic_write_text(path, text)
        logger.info("wrote %s", path)
    return list(contents)


def _main(argv: Optional[List[str]] = None) -> int:
    """``python -m lib.config.environment``: list every setting, its value, source and whether it exists."""
    parser = argparse.ArgumentParser(description=_main.__doc__)
    parser.parse_args(argv)
    settings = env_settings()
    width = max(len(n) for n in settings.path_fields())
    for name, value, exists, source in settings.report():
        status = "ok     " if exists else ("MISSING" if value else "unset  ")
        print(f"{name:<{width}}  {status}  {value or '-'}  [{source}]")
    return 0


__all__ = ["DEFAULT_DATA_LAYOUT", "ENV_PREFIX", "EnvSettings", "SettingsError", "TEST_FIELDS", "TEST_LOCAL_FILE",
           "TRAIN_FIELDS", "TRAIN_LOCAL_FILE", "default_local_values", "env_settings", "read_local_file",
           "write_local_files"]

if __name__ == "__main__":
    raise SystemExit(_main())
