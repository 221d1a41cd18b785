"""The network reproduces the reference's state_dict layout and outputs (../shared/parity)."""
import json

import numpy as np
import pytest
import torch

from lib.config import load_config
from lib.models import build_model
from tests.parity_fixtures import fixture_state_dict, load_recipe

ATOL = 1e-4  # parity README: model outputs and intermediates within 1e-4 max abs (fp32, CPU)

pytestmark = pytest.mark.slow  # full-size networks: 5 to 40 s each on 2 cores


def _fixture_model(parity_dir, stage):
    net = build_model(load_config(f"cstrack_{stage}")).eval()
    net.load_state_dict(fixture_state_dict(parity_dir, stage), strict=True)
    return net


@pytest.mark.parametrize("stage", ["s1", "s2"])
def test_state_dict_layout_matches_reference(parity_dir, stage):
    net = build_model(load_config(f"cstrack_{stage}"))
    ours = [[k, list(v.shape), str(v.dtype).replace("torch.", "")] for k, v in net.state_dict().items()]
    ref = json.loads((parity_dir / f"state_dict_{stage}.json").read_text())
    assert ours == ref


def test_forward_stage1_matches_reference(parity_dir):
    recipe = load_recipe(parity_dir)
    net = _fixture_model(parity_dir, "s1")
    z, x, m = recipe.model_inputs(100)
    mids = {}
    with torch.no_grad():
        out = net(z, x[0], m, training=False, intermediates=mids)
    ref = np.load(parity_dir / "forward_s1.npz")
    for key in ref.files:
        kind, name = key.split(".", 1)
        got = (out if kind == "out" else mids)[name]
        np.testing.assert_allclose(got.numpy(), ref[key], rtol=0, atol=ATOL, err_msg=key)


def test_forward_stage2_three_steps_with_memory(parity_dir):
    recipe = load_recipe(parity_dir)
    net = _fixture_model(parity_dir, "s2")
    z, _, m = recipe.model_inputs(200)
    ref = np.load(parity_dir / "forward_s2.npz")
    memory = []
    for step in range(3):
        search = recipe.fixture_input(210 + step, (1, 6, 256, 256))
        mids = {}
        with torch.no_grad():
            out = net(z, search, m, temporal_infor=memory, first_frame_flag=step == 0, training=False,
                      intermediates=mids)
        memory = out["temporal_infor"]
        checked = 0
        for key in ref.files:
            if not key.startswith(f"step{step}."):
                continue
            _, kind, name = key.split(".", 2)
            if name.startswith("temporal_infor."):
                got = out["temporal_infor"][int(name.split(".")[1])]
            else:
                got = (out if kind == "out" else mids)[name]
            np.testing.assert_allclose(got.numpy(), ref[key], rtol=0, atol=ATOL, err_msg=key)
            checked += 1
        assert checked == 17


def test_fast_itpn_initialisation_matches_reference(parity_dir, tmp_path):
    recipe = load_recipe(parity_dir)
    keys = json.loads((parity_dir / "itpn_pretrain_keys.json").read_text())
    state = {k: recipe.fixture_tensor("itpn." + k, tuple(s), getattr(torch, d)) for k, s, d in keys}
    path = tmp_path / "fast_itpn_base_clipl_e1600.pt"
    torch.save({"module": state}, path)
    cfg = load_config("cstrack_s1", overrides={"MODEL": {"PRETRAIN_FILE": str(path)}})
    net = build_model(cfg, load_pretrained=True)
    ours = net.state_dict()
    ref = np.load(parity_dir / "pretrain_init.npz")
    for key in ref.files:
        np.testing.assert_allclose(ours[key].numpy(), ref[key], rtol=0, atol=ATOL, err_msg=key)


def test_class_token_follows_loaded_pos_embed(parity_dir):
    """Quirk Q1: after a load, the class token used is the checkpoint's pos_embed[:, 0]."""
    state = dict(fixture_state_dict(parity_dir, "s1"))
    assert not torch.equal(state["backbone.cls_token"], state["backbone.pos_embed"][:, :1])
    net = build_model(load_config("cstrack_s1"))
    net.load_state_dict(state)
    assert torch.equal(net.backbone.cls_token, state["backbone.pos_embed"][:, :1])
    net.backbone.cls_token_from_pos_embed = False  # training resume keeps the trained class token
    net.load_state_dict(state)
    assert torch.equal(net.backbone.cls_token, state["backbone.cls_token"])
