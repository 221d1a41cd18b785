"""Config loading: reference values, inheritance, validation with helpful errors."""
import pytest

from lib.config import ConfigError, dump_config, load_config, to_plain
from lib.config.defaults import get_defaults


def test_reference_values_of_both_stages():
    s1, s2 = load_config("cstrack_s1"), load_config("cstrack_s2")
    assert s1.DATA.TEMPLATE.SIZE == 128 and s1.TEST.TEMPLATE_FACTOR == 2.0 and s1.MODEL.HEAD.NUM_CHANNELS == 256
    assert s1.TRAIN.EPOCH == 150 and s1.TRAIN.BATCH_SIZE == 18 and s1.DATA.TRAIN.DATASETS_RATIO == [2] * 6 + [1] * 3
    # stage 2 = stage 1 + exactly the keys of TRAINING.md §2 (plus the network name)
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
    with pytest.raises(ConfigError, match="TRAIN.EPOCH: expected int"):
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
    cfg = load_config("cstrack_s2")
    dumped = tmp_path / "resolved.yaml"
    dumped.write_text(dump_config(cfg))
    assert to_plain(load_config(str(dumped))) == to_plain(cfg)
