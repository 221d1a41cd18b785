"""Inference with concatenated projections computes what the separate layers compute, and never goes stale."""
import copy

import pytest
import torch

from lib.config import load_config
from lib.models import build_model
from lib.models.layers import fused as fused_projections
from lib.models.layers.attention import SubLNAttention
from lib.models.layers.mlp import NaiveSwiGLU


@pytest.fixture(autouse=True)
def concatenated_projections_on(monkeypatch):
    """They are off by default; these tests compare them with the separate layers."""
    monkeypatch.setattr(fused_projections, "ENABLED", True)


def _pair(module_cls, *args):
    torch.manual_seed(0)
    module = module_cls(*args).eval()
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, 0.1)
    return module


def test_fused_and_separate_projections_give_the_same_numbers():
    x = torch.randn(2, 9, 32)
    for module in (_pair(SubLNAttention, 32, 4), _pair(NaiveSwiGLU, 32, 48)):
        with torch.no_grad():
            fused = module(x)
        separate = module(x)  # gradient recorded: the separate layers
        assert torch.equal(fused, separate.detach())


def test_the_cache_follows_loaded_and_updated_weights():
    module = _pair(SubLNAttention, 32, 4)
    x = torch.randn(1, 5, 32)
    with torch.no_grad():
        before = module(x)
        other = copy.deepcopy(module)
        for p in other.parameters():
            p.add_(0.5)
        module.load_state_dict(other.state_dict())
        after_load = module(x)
        module.v_bias.add_(1.0)  # an in-place update (an optimizer step)
        after_step = module(x)
    assert not torch.equal(before, after_load)
    torch.testing.assert_close(after_load, other(x), rtol=0, atol=0)
    with torch.enable_grad():
        assert torch.equal(after_step, module(x).detach())


def test_the_tiny_network_matches_with_and_without_fusion(one_torch_thread):
    cfg = load_config("cstrack_s2_tiny")
    torch.manual_seed(1)
    net = build_model(cfg, arch="cstrack_s2").eval()
    z = [torch.randn(1, 6, cfg.DATA.TEMPLATE.SIZE, cfg.DATA.TEMPLATE.SIZE) for _ in range(2)]
    x = torch.randn(1, 6, cfg.DATA.SEARCH.SIZE, cfg.DATA.SEARCH.SIZE)
    masks = [torch.rand(1, (cfg.DATA.TEMPLATE.SIZE // 16) ** 2, 1) for _ in range(2)]
    with torch.no_grad():
        fused = net(template=z, search=x, soft_token_template_mask=masks, training=False)
    separate = net(template=z, search=x, soft_token_template_mask=masks, training=False)
    for key in ("score_map", "size_map", "offset_map", "pred_boxes"):
        torch.testing.assert_close(fused[key], separate[key].detach(), rtol=0, atol=1e-6)
