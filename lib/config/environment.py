"""Dataset roots and output folders: the settings object and how it is loaded.

Settings come from two plain-assignment files, the ones users of this tracker family know:

* ``lib/train/admin/local.py``: training dataset roots (``lasot_dir = '<data>/lasot'``, ...);
* ``lib/test/evaluation/local.py``: benchmark roots and the test output folders.

``python tracking/create_default_local_file.py`` writes both (:mod:`lib.config.local_generator`).
They are parsed, never imported or executed (:mod:`lib.config.local_file`), and never rewritten
here: a broken file is an error naming the file and line. After the files, every setting can be
overridden by an environment variable ``CSTRACK_<NAME>`` (``CSTRACK_LASHER_DIR=/data/LasHeR/trainingset``).
Relative paths in the files are taken relative to the repository root, relative paths in
environment variables relative to the current directory.

Each field of :class:`EnvSettings` says which file it belongs to, where the generator points it and
what reads it; ``python -m lib.config.environment`` lists every setting, its value, where the value
came from and whether the path exists (:mod:`lib.config.settings_report`).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from lib.config.local_file import SettingsError, read_local_file

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAIN_LOCAL_FILE = REPO_ROOT / "lib" / "train" / "admin" / "local.py"
TEST_LOCAL_FILE = REPO_ROOT / "lib" / "test" / "evaluation" / "local.py"
ENV_PREFIX = "CSTRACK_"
GENERATE_COMMAND = "python tracking/create_default_local_file.py --data_dir ./data --save_dir ."


def _setting(file: str, default: str, purpose: str) -> Any:
    """A path setting: its file (``train`` / ``test``), the generator's default (``data/<rel>`` under
    ``--data_dir`` or ``save/<rel>`` under ``--save_dir``) and what the framework uses it for."""
    return field(default="", metadata={"file": file, "default": default, "purpose": purpose})


@dataclass
class EnvSettings:
    """Every path the framework reads or writes; empty string = not set.

    ``sources`` records where each non-default value came from (file and line, or environment
    variable) so that error messages can say what to edit; ``retired`` holds settings of older
    files that nothing reads any more (:data:`RETIRED_SETTINGS`), ``extra`` other assignments
    (``ckpt_name = ...``), both as ``name -> (value, source)``.
    """

    # training dataset roots (lib/train/dataset/*.py)
    lasot_dir: str = _setting("train", "data/lasot", "LaSOT training root (LASOT)")
    got10k_dir: str = _setting("train", "data/got10k/train", "GOT-10k train split (GOT10K_vottrain, GOT10K_train_full)")
    trackingnet_dir: str = _setting("train", "data/trackingnet", "TrackingNet root with TRAIN_0..11 (TRACKINGNET)")
    coco_dir: str = _setting("train", "data/coco", "COCO 2017 root (COCO17)")
    vasttrack_dir: str = _setting("train", "data/VastTrack/unisot_train_final_backup", "VastTrack training root")
    tnl2k_dir: str = _setting("train", "data/tnl2k/train", "TNL2K training root (TNL2K_train)")
    lasher_dir: str = _setting("train", "data/lasher/trainingset", "LasHeR training set (LasHeR_train)")
    depthtrack_dir: str = _setting("train", "data/depthtrack/train", "DepthTrack training set (DepthTrack_train)")
    visevent_dir: str = _setting("train", "data/visevent/train", "VisEvent training set (VisEvent)")
    lasot_lmdb_dir: str = _setting("train", "data/lasot_lmdb", "LaSOT as LMDB (--use_lmdb 1)")
    got10k_lmdb_dir: str = _setting("train", "data/got10k_lmdb", "GOT-10k as LMDB (--use_lmdb 1)")
    trackingnet_lmdb_dir: str = _setting("train", "data/trackingnet_lmdb", "TrackingNet as LMDB (--use_lmdb 1)")
    coco_lmdb_dir: str = _setting("train", "data/coco_lmdb", "COCO as LMDB (--use_lmdb 1)")
    # test outputs (lib/test/evaluation/results.py, lib/utils/checkpoint_layout.py)
    save_dir: str = _setting("test", "save", "runners write <save_dir>/output/test/tracking_results/<yaml>/"
                                             "<Dataset>_<epoch>/ (<save_dir>/test/... when save_dir is a "
                                             "folder named output) unless --results_dir is given")
    network_path: str = _setting("test", "save/test/networks", "folder where a bare --checkpoint file name "
                                                               "(no folder) is looked up")
    checkpoints_path: str = _setting("test", "save/checkpoints", "training output read by --epoch N and the "
                                                                 "VOT entry point (<checkpoints_path>/train/...)")
    # benchmark roots (lib/test/evaluation/datasets.py)
    lasher_test_dir: str = _setting("test", "data/lasher/testingset", "LasHeR test set (--dataset_name LasHeR)")
    rgbt234_dir: str = _setting("test", "data/rgbt234", "RGBT234 (--dataset_name RGBT234)")
    visevent_test_dir: str = _setting("test", "data/visevent/test", "VisEvent test set (--dataset_name VisEvent)")
    depthtrack_test_dir: str = _setting("test", "data/depthtrack/test", "DepthTrack test set (--dataset_name "
                                                                        "DepthTrack)")
    vot22rgbd_dir: str = _setting("test", "data/vot22rgbd", "VOT-RGBD2022 sequences (VOT22RGBD)")
    sources: Dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    retired: Dict[str, Tuple[Any, str]] = field(default_factory=dict, repr=False, compare=False)
    extra: Dict[str, Tuple[Any, str]] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def path_fields(cls) -> List[str]:
        """Names of all path settings, in declaration order."""
        return [f.name for f in fields(cls) if "file" in f.metadata]

    @classmethod
    def describe(cls, name: str) -> Mapping[str, str]:
        """``{"file": "train"|"test", "default": ..., "purpose": ...}`` of one setting."""
        for f in fields(cls):
            if f.name == name and "file" in f.metadata:
                return f.metadata
        raise KeyError(f"unknown setting '{name}'; known: {cls.path_fields()}")

    def source_of(self, name: str) -> str:
        """Where a setting's value came from, for error messages."""
        return self.sources.get(name, "default (unset)")

    def check_path(self, name: str, expected_layout_hint: str = "") -> Path:
        """The setting as a :class:`Path`; :class:`SettingsError` naming setting, path and layout if missing."""
        self.describe(name)
        value = getattr(self, name)
        hint = f" Expected layout: {expected_layout_hint}." if expected_layout_hint else ""
        if not value:
            raise SettingsError(f"setting '{name}' is not set.{hint} To fix: {how_to_set(name)}.")
        path = Path(value).expanduser()
        if not path.exists():
            raise SettingsError(f"setting '{name}' = '{value}' (from {self.source_of(name)}) does not exist."
                                f"{hint} To fix: {how_to_set(name)}.")
        return path

    def require_dir(self, name: str, expected_layout_hint: str = "") -> Path:
        """Like :meth:`check_path`, and the path must be a directory."""
        path = self.check_path(name, expected_layout_hint)
        if not path.is_dir():
            hint = f" Expected layout: {expected_layout_hint}." if expected_layout_hint else ""
            raise SettingsError(f"setting '{name}' = '{path}' (from {self.source_of(name)}) is not a directory."
                                f"{hint} To fix: {how_to_set(name)}.")
        return path

    def report(self) -> List[Tuple[str, str, bool, str]]:
        """(setting, value, exists, source) for every path setting, for a `doctor`-style listing."""
        rows = []
        for name in self.path_fields():
            value = getattr(self, name)
            rows.append((name, value, bool(value) and Path(value).expanduser().exists(), self.source_of(name)))
        return rows


TRAIN_FIELDS = tuple(name for name in EnvSettings.path_fields() if EnvSettings.describe(name)["file"] == "train")
TEST_FIELDS = tuple(name for name in EnvSettings.path_fields() if EnvSettings.describe(name)["file"] == "test")
# Where ``create_default_local_file.py --data_dir D`` points each dataset root, relative to D.
DEFAULT_DATA_LAYOUT: Dict[str, str] = {
    name: EnvSettings.describe(name)["default"][len("data/"):] for name in EnvSettings.path_fields()
    if EnvSettings.describe(name)["default"].startswith("data/")}

# Settings of the reference's local.py files that nothing in this framework reads. A file that still
# sets one is accepted; `python -m lib.config.environment` says where the value is taken from instead.
RETIRED_SETTINGS: Dict[str, str] = {
    "workspace_dir": "nothing reads it: training writes under --save_dir of lib/train/run_training.py",
    "tensorboard_dir": "TensorBoard logs go to <--save_dir>/tensorboard/train/<script>/<config>/ of the training run",
    "pretrained_networks": "the Fast-iTPN file is read from resource/pretrained_models/<MODEL.PRETRAIN_FILE>",
    "prj_dir": "nothing reads it: paths relative to the project are resolved against the repository root",
    "results_path": "results go to <save_dir>/output/test/tracking_results/ or the runner's --results_dir",
}

# A reference-style test local.py names the test roots like the training ones; map them on read.
_TEST_FILE_ALIASES = {"lasher_dir": "lasher_test_dir", "visevent_dir": "visevent_test_dir",
                      "depthtrack_dir": "depthtrack_test_dir"}


def display_path(path: Union[str, Path]) -> str:
    """A path relative to the repository when inside it (shorter messages)."""
    try:
        return Path(path).resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def how_to_set(name: str) -> str:
    """How a user sets ``name``: the file to edit (and how to create it) or the environment variable."""
    local = TRAIN_LOCAL_FILE if name in TRAIN_FIELDS else TEST_LOCAL_FILE
    return (f"set {name} in {display_path(local)} (create it with `{GENERATE_COMMAND}`) "
            f"or export {ENV_PREFIX}{name.upper()}")


def _apply_file(settings: EnvSettings, path: Path, aliases: Mapping[str, str]) -> None:
    """Copy the assignments of one settings file into ``settings`` (relative paths: repository root)."""
    names = set(EnvSettings.path_fields())
    for name, (value, line) in read_local_file(path, aliases).items():
        source = f"{display_path(path)} line {line}"
        if name in RETIRED_SETTINGS:
            settings.retired[name] = (value, source)
            continue
        if name not in names:
            settings.extra[name] = (value, source)
            continue
        if value is None:
            value = ""
        if not isinstance(value, (str, os.PathLike)):
            raise SettingsError(f"{path}:{line}: '{name}' must be a string path, got {value!r}")
        value = os.fspath(value)
        if value and not Path(value).expanduser().is_absolute():
            value = str(REPO_ROOT / value)
        setattr(settings, name, value)
        settings.sources[name] = source


def env_settings(train_local: Optional[Union[str, Path]] = None, test_local: Optional[Union[str, Path]] = None,
                 environ: Optional[Mapping[str, str]] = None) -> EnvSettings:
    """Read both local files (a missing file is fine), then apply ``CSTRACK_<NAME>`` overrides.

    Args:
        train_local, test_local: the two files (default: the repository's ``local.py`` files).
        environ: the environment to read overrides from (default ``os.environ``).
    """
    settings = EnvSettings()
    for path, aliases in ((Path(train_local or TRAIN_LOCAL_FILE), {}),
                          (Path(test_local or TEST_LOCAL_FILE), _TEST_FILE_ALIASES)):
        if path.is_file():
            _apply_file(settings, path, aliases)
        else:
            logger.debug("settings file %s not found; its fields stay unset", path)
    environ = os.environ if environ is None else environ
    for name in EnvSettings.path_fields():
        key = ENV_PREFIX + name.upper()
        if key in environ:
            value = environ[key]
            if value and not Path(value).expanduser().is_absolute():
                value = os.path.abspath(value)
            setattr(settings, name, value)
            settings.sources[name] = f"environment variable {key}"
    return settings


__all__ = ["DEFAULT_DATA_LAYOUT", "ENV_PREFIX", "EnvSettings", "GENERATE_COMMAND", "RETIRED_SETTINGS",
           "SettingsError", "TEST_FIELDS", "TEST_LOCAL_FILE", "TRAIN_FIELDS", "TRAIN_LOCAL_FILE", "display_path",
           "env_settings", "how_to_set", "read_local_file"]

if __name__ == "__main__":
    from lib.config.settings_report import main

    raise SystemExit(main())
