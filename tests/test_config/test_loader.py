"""Config loading: reference values, inheritance, validation with helpful errors."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lib.config import ConfigError, dump_config, load_config, to_plain
from lib.config.defaults import get_defaults


def test_reference_values_of_both_stages():
    s1, s2 = load_config("cstrack_s1"), load_config("cstrack_s2")
    assert s1.DATA.TEMPLATE.SIZE == 128 and s1.TEST.TEMPLATE_FACTOR == 2.0 and s1.MODEL.HEAD.NUM_CHANNELS == 256
    assert s1.TRAIN.EPOCH == 150 and s1.TRAIN.BATCH_SIZE == 18 and s1.DATA.TRAIN.DATASETS_RATIO == [2] * 6 + [1] * 3
    # stage 2 = stage 1 + exactly the keys of the authors' stage-2 yaml (plus the network name)
    diff = {}

    def walk(a, b, prefix=""):
        for k in a:
            if isinstance(a[k], dict):
                walk(a[k], b[k], prefix + k + ".")
            elif a[k] != b[k]:
                diff[prefix + k] = b[k]
    walk(to_plain(s1), to_plain(s2))
    assert diff == {"DATA.SEARCH.NUMBER": 6, "DATA.TRAIN.SAMPLE_PER_EPOCH": 30000, "TRAIN.BATCH_SIZE": 10,
                    "TRAIN.EPOCH": 50, "TRAIN.LR_DROP_EPOCH": 40, "MODEL.ARCH": "cstrack_s2"}


def test_defaults_keep_reference_quirks():
    d = get_defaults()
    assert d["DATA"]["TEMPLATE"]["SIZE"] == 256  # quirk Q23: only the yaml's 128 is right
    assert d["TEST"]["UPDATE_THRESHOLD"]["DEFAULT"] == 0.475 and d["TRAIN"]["ENCODER_MULTIPLIER"] == 0.1


def test_unknown_key_names_file_key_and_close_match(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("TRAIN:\n  LR_DROP_EPOC: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: unknown key TRAIN\.LR_DROP_EPOC \(did you mean TRAIN\.LR_DROP_EPOCH\?\)"):
        load_config(str(bad))


def test_wrong_type_and_bad_override():
    with pytest.raises(ConfigError, match="TRAIN.EPOCH: expected an integer"):
        load_config("cstrack_s1", overrides={"TRAIN": {"EPOCH": "ten"}})
    with pytest.raises(ConfigError, match="KEY.SUBKEY=value"):
        load_config("cstrack_s1", overrides=["TRAIN.EPOCH"])
    cfg = load_config("cstrack_s1", overrides=["TRAIN.EPOCH=3", "DATA.TEMPLATE.FACTOR=2", "TRAIN.LR=1e-3"])
    assert cfg.TRAIN.EPOCH == 3 and isinstance(cfg.DATA.TEMPLATE.FACTOR, float) and cfg.TRAIN.LR == 1e-3


def test_base_chain_lists_replace_and_delete(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("DATA:\n  TRAIN:\n    DATASETS_NAME: [LASOT, COCO17]\n    DATASETS_RATIO: [1, 1]\n")
    child = tmp_path / "child.yaml"
    child.write_text("_base_: base.yaml\nDATA:\n  TRAIN:\n    DATASETS_NAME: [LasHeR_train]\n")
    cfg = load_config(str(child))
    assert cfg.DATA.TRAIN.DATASETS_NAME == ["LasHeR_train"] and cfg.DATA.TRAIN.DATASETS_RATIO == [1, 1]
    reset = tmp_path / "reset.yaml"
    reset.write_text("_base_: base.yaml\nDATA:\n  TRAIN:\n    _delete_: true\n    DATASETS_NAME: [VisEvent]\n")
    cfg = load_config(str(reset))  # the TRAIN dict is replaced, missing keys fall back to the defaults
    assert cfg.DATA.TRAIN.DATASETS_NAME == ["VisEvent"] and cfg.DATA.TRAIN.DATASETS_RATIO == [1, 1]
    loop = tmp_path / "loop.yaml"
    loop.write_text("_base_: loop.yaml\n")
    with pytest.raises(ConfigError, match="circular"):
        load_config(str(loop))


def test_unknown_experiment_and_dump_roundtrip(tmp_path):
    with pytest.raises(FileNotFoundError, match="did you mean 'cstrack_s2'"):
        load_config("cstrack_s3")
    with pytest.raises(FileNotFoundError, match=r"unknown --script 'cstrack_s3' \(did you mean 'cstrack_s2'\?\)"):
        load_config("cstrack_s1_tiny_x", script="cstrack_s3")
    cfg = load_config("cstrack_s2")
    dumped = tmp_path / "resolved.yaml"
    dumped.write_text(dump_config(cfg))
    assert to_plain(load_config(str(dumped))) == to_plain(cfg)


# ------------------------------------------------------------------------------------- types and files
def _yaml(tmp_path, text, name="exp.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text,key,what", [
    ("TRAIN:\n  EPOCH: 2.5\n", "TRAIN.EPOCH", "expected an integer, got float"),
    ("TRAIN:\n  BATCH_SIZE: 2.7\n", "TRAIN.BATCH_SIZE", "expected an integer, got float"),
    ("TRAIN:\n  EPOCH: 2.0\n", "TRAIN.EPOCH", "expected an integer, got float"),
    ("TRAIN:\n  AMP: 1\n", "TRAIN.AMP", "expected bool, got int"),
    ("MODEL:\n  BACKBONE:\n    DEPTHS: [a, b, c]\n", r"MODEL.BACKBONE.DEPTHS\[0\]", "expected an integer, got str"),
    ("MODEL:\n  BACKBONE:\n    DEPTHS: [1, 1, 2.5]\n", r"MODEL.BACKBONE.DEPTHS\[2\]", "expected an integer"),
    ("MODEL:\n  BACKBONE:\n    DEPTHS: 3\n", "MODEL.BACKBONE.DEPTHS", "expected a list, got int"),
    ("DATA:\n  TRAIN:\n    DATASETS_NAME: [LASOT, 3]\n", r"DATA.TRAIN.DATASETS_NAME\[1\]", "expected str"),
    ("DATA:\n  MEAN: [0.5, x, 0.5]\n", r"DATA.MEAN\[1\]", "expected float, got str"),
    ("TRAIN:\n  LR: [1]\n", "TRAIN.LR", "expected float, got list"),
])
def test_mistyped_values_name_the_file_and_dotted_key(tmp_path, text, key, what):
    path = _yaml(tmp_path, text)
    with pytest.raises(ConfigError, match=f"exp\\.yaml: {key}: {what}"):
        load_config(str(path))


def test_numbers_where_floats_are_expected_become_floats(tmp_path):
    cfg = load_config(str(_yaml(tmp_path, "TRAIN:\n  LR: 1\nDATA:\n  TRAIN:\n    DATASETS_RATIO: [2, 1]\n")))
    assert cfg.TRAIN.LR == 1.0 and isinstance(cfg.TRAIN.LR, float)
    ratios = cfg.DATA.TRAIN.DATASETS_RATIO
    assert ratios == [2.0, 1.0] and all(isinstance(v, float) for v in ratios)


def test_every_list_key_has_an_element_type():
    from lib.config.defaults import LIST_ITEM_TYPES

    def lists(node, prefix=""):
        for key, value in node.items():
            if isinstance(value, dict):
                yield from lists(value, f"{prefix}{key}.")
            elif isinstance(value, list):
                yield f"{prefix}{key}"
    assert set(lists(get_defaults())) == set(LIST_ITEM_TYPES)


@pytest.mark.parametrize("base", ["5", "[a.yaml, 3]", "[]", "{x: 1}"])
def test_bad_base_entry_names_the_file(tmp_path, base):
    path = _yaml(tmp_path, f"_base_: {base}\n")
    with pytest.raises(ConfigError, match=r"exp\.yaml: _base_ must be a yaml file name or a list of file names"):
        load_config(str(path))


def test_binary_or_malformed_yaml_names_the_file(tmp_path):
    binary = tmp_path / "weights.yaml"
    binary.write_bytes(b"PK\x03\x04\x00\xff\xfe\x80binary")
    with pytest.raises(ConfigError, match=r"weights\.yaml: not a UTF-8 text yaml file"):
        load_config(str(binary))
    with pytest.raises(ConfigError, match=r"list\.yaml: top level must be a mapping"):
        load_config(str(_yaml(tmp_path, "- a\n- b\n", "list.yaml")))
    with pytest.raises(ConfigError, match=r"broken\.yaml: invalid yaml"):
        load_config(str(_yaml(tmp_path, "TRAIN: [1,\n", "broken.yaml")))
    child = _yaml(tmp_path, "_base_: weights.yaml\n", "child.yaml")
    with pytest.raises(ConfigError, match=r"weights\.yaml: not a UTF-8"):
        load_config(str(child))


def test_config_in_another_script_folder_is_named_not_suggested_as_itself():
    # The typed config exists, but under another --script: the message says where, not "did you mean <it>".
    with pytest.raises(FileNotFoundError) as info:
        load_config("cstrack_s2", script="cstrack_s1")
    message = str(info.value)
    assert "did you mean" not in message and "experiments/cstrack_s2/" in message and "--script cstrack_s2" in message


def test_authors_yamls_leave_the_network_to_the_script():
    assert get_defaults()["MODEL"]["ARCH"] == ""


def test_experiments_are_found_through_lib_experiments_or_the_repository(monkeypatch, tmp_path):
    from lib.config import loader

    repo = Path(loader.__file__).resolve().parents[2]
    assert loader.EXPERIMENTS_DIR == (repo / "experiments").resolve()
    # A checkout without symlinks has a small text file at lib/experiments: the repository folder is used.
    fake_lib = tmp_path / "repo" / "lib"
    (fake_lib / "config").mkdir(parents=True)
    (fake_lib / "experiments").write_text("../experiments")
    (tmp_path / "repo" / "experiments").mkdir()
    monkeypatch.setattr(loader, "__file__", str(fake_lib / "config" / "loader.py"))
    assert loader._experiments_dir() == tmp_path / "repo" / "experiments"


@pytest.mark.slow
def test_an_installed_wheel_finds_the_experiments_and_split_lists(tmp_path):
    """Non-editable install: the wheel carries lib/experiments/*/*.yaml and the split lists."""
    repo = Path(__file__).resolve().parents[2]
    source = tmp_path / "source"  # a copy, so that the build leaves no build/ or egg-info in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "lib", "experiments"):
        if (repo / name).is_dir():
            shutil.copytree(repo / name, source / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        elif (repo / name).is_file():
            shutil.copy2(repo / name, source / name)
    run = dict(capture_output=True, text=True, timeout=600)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(tmp_path / "dist"), str(source)], **run)
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((tmp_path / "dist").glob("cstrack-*.whl"))
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                                str(tmp_path / "site"), str(wheel)], **run)
    assert installed.returncode == 0, installed.stderr[-3000:]
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    check = ("import lib, lib.config.loader as loader; from lib.config import load_config; "
             "from lib.train.dataset.base_video_dataset import DATA_SPECS_DIR; cfg = load_config('cstrack_s2'); "
             "print(lib.__file__, loader.EXPERIMENTS_DIR, DATA_SPECS_DIR, cfg.MODEL.ARCH, cfg.TRAIN.EPOCH, "
             "(DATA_SPECS_DIR / 'lasot_train_split.txt').is_file())")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(tmp_path / "site")
    result = subprocess.run([sys.executable, "-c", check], cwd=str(outside), env=env, **run)
    assert result.returncode == 0, result.stderr[-3000:]
    module, experiments, specs, arch, epochs, has_list = result.stdout.split()
    site = str(tmp_path / "site")
    assert module.startswith(site) and experiments.startswith(site) and specs.startswith(site)
    assert (arch, epochs, has_list) == ("cstrack_s2", "50", "True")
