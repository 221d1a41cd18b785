"""Checkpoint reading: the authors' trainer format loads without running code; hostile files are refused."""
import builtins
import json
import os
import subprocess

import pytest
import torch

from lib.utils.checkpoint import (CheckpointError, extract_state_dict, load_network_weights, pickled_globals,
                                  read_checkpoint)
from tests.parity_fixtures import load_recipe

AUTHORS_FILE = "authors_format/CSTRACK_S2_ep0050.pth.tar"


class Payload:
    """Pickles as a call of ``func(*args)``: what a malicious checkpoint carries."""

    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def test_authors_trainer_file_loads_and_its_weights_are_the_recipe_tensors(parity_dir):
    path = parity_dir / AUTHORS_FILE
    # The file really is the hostile-looking format: torch's plain weights-only load refuses it.
    with pytest.raises(Exception, match="lib.train.admin"):
        torch.load(path, map_location="cpu", weights_only=True)
    ckpt = read_checkpoint(str(path))
    recipe = load_recipe(parity_dir)
    layout = json.loads((parity_dir / "state_dict_s2.json").read_text())[:6]
    state = extract_state_dict(ckpt, str(path))
    assert list(state) == [key for key, _, _ in layout]
    for key, shape, dtype in layout:
        assert state[key].device.type == "cpu"  # stored on cuda:0, mapped to the CPU
        assert torch.equal(state[key], recipe.fixture_tensor(key, tuple(shape), getattr(torch, dtype)))
    assert ckpt["epoch"] == 50 and ckpt["net_type"] == "CSTRACK_S2"
    # The trainer's objects are inert placeholders that only hold what was pickled.
    settings = ckpt["settings"]
    assert settings.script_name == "cstrack_s2"
    assert settings.env.lasher_dir.endswith("trainingset")
    assert str(settings.device) == "cuda:0"
    assert ckpt["stats"]["train"]["IoU"].state["history"] == [pytest.approx(0.71)]


@pytest.mark.parametrize("func,args,name", [
    (os.system, ("touch {marker}",), "os.system"),
    (builtins.eval, ("open({marker!r}, 'w')",), "builtins.eval"),
    (subprocess.Popen, (["touch", "{marker}"],), "subprocess.Popen"),
])
def test_a_hostile_copy_is_refused_and_its_payload_never_runs(parity_dir, tmp_path, func, args, name):
    marker = tmp_path / "payload_ran"
    args = tuple([a.format(marker=str(marker)) for a in arg] if isinstance(arg, list) else arg.format(marker=str(marker))
                 for arg in args)
    ckpt = read_checkpoint(str(parity_dir / AUTHORS_FILE))
    ckpt["settings"] = Payload(func, args)  # the authors' file with its settings object swapped
    ckpt["stats"] = {}  # (the inert placeholders are not meant to be pickled again)
    hostile = tmp_path / "CSTRACK_S2_ep0050.pth.tar"
    torch.save(ckpt, hostile)
    assert name in pickled_globals(str(hostile))
    with pytest.raises(CheckpointError) as err:
        read_checkpoint(str(hostile))
    assert str(hostile) in str(err.value) and f"'{name}'" in str(err.value)
    assert "allow" not in str(err.value).lower()  # no hint at an unsafe way round
    assert not marker.exists()


def _tiny_net():
    return torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))


@pytest.mark.parametrize("layout", ["bare", "net", "ddp", "trainer"])
def test_every_weights_layout_loads_through_the_same_path(tmp_path, layout):
    source, target = _tiny_net(), _tiny_net()
    state = source.state_dict()
    obj = {"bare": state, "net": {"net": state, "epoch": 3},
           "ddp": {"net": {f"module.{k}": v for k, v in state.items()}},
           "trainer": {"net": state, "optimizer": torch.optim.AdamW(source.parameters()).state_dict(),
                       "config": {"MODEL": {"ARCH": "cstrack_s1"}}, "epoch": 1}}[layout]
    path = tmp_path / "weights.pth.tar"
    torch.save(obj, path)
    result = load_network_weights(target, str(path), strict=True)
    assert result == {"missing_keys": [], "unexpected_keys": []}
    for key, value in state.items():
        assert torch.equal(target.state_dict()[key], value)


def test_truncated_and_missing_files_name_the_file(parity_dir, tmp_path):
    data = (parity_dir / AUTHORS_FILE).read_bytes()
    truncated = tmp_path / "truncated.pth.tar"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated.pth.tar"):
        read_checkpoint(str(truncated))
    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        read_checkpoint(str(tmp_path / "nowhere.pth"))


def test_a_checkpoint_that_does_not_fit_names_the_key(tmp_path):
    path = tmp_path / "other.pth"
    other = torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.BatchNorm1d(2))
    torch.save({"net": other.state_dict()}, path)
    with pytest.raises(CheckpointError, match=r"shape mismatch at '0.weight'"):
        load_network_weights(_tiny_net(), str(path))


def test_the_test_writer_produces_the_authors_globals(parity_dir, tmp_path):
    """``tests.authors_format`` (used to build full-size authors-format files) matches the real file."""
    from tests.authors_format import write_authors_checkpoint

    path = tmp_path / "CSTRACK_S2_ep0050.pth.tar"
    weights = {"a.weight": torch.randn(3, 2), "a.bias": torch.zeros(3)}
    write_authors_checkpoint(path, weights)
    assert sorted(pickled_globals(str(path))) == sorted(pickled_globals(str(parity_dir / AUTHORS_FILE)))
    with pytest.raises(RuntimeError, match="CUDA"):  # storages tagged cuda:0, as a GPU machine saves them
        torch.load(path, weights_only=False)
    loaded = extract_state_dict(read_checkpoint(str(path)))
    assert all(torch.equal(loaded[k], v) for k, v in weights.items())


def test_an_unreadable_file_says_permission_not_truncation(tmp_path, monkeypatch):
    path = tmp_path / "weights.pth.tar"
    torch.save({"net": {"a": torch.zeros(1)}}, path)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(torch, "load", denied)
    with pytest.raises(CheckpointError, match="permission denied") as err:
        read_checkpoint(str(path))
    assert "truncated" not in str(err.value)
