"""A small experiment config builds a small model that trains on CPU; module-level checks."""
import pytest
import torch
from timm.layers import SwiGLU

from lib.config import load_config
from lib.models import build_model
from lib.models.cstrack.tcm import box_gaussian_prior, search_attention_map, select_tokens, update_memory
from lib.models.layers.mlp import NaiveSwiGLU
from lib.train.optim import freeze_modules

TINY = {"s1": "cstrack_s1_tiny", "s2": "cstrack_s2_tiny"}


def _inputs(cfg, batch, n_search):
    t, s = cfg.DATA.TEMPLATE.SIZE, cfg.DATA.SEARCH.SIZE
    nz = (t // 16) ** 2
    templates = [torch.randn(batch, 6, t, t) for _ in range(2)]
    searches = [torch.randn(batch, 6, s, s) for _ in range(n_search)]
    masks = [torch.rand(batch, nz, 1) for _ in range(2)]
    return templates, searches, masks


@pytest.mark.parametrize("stage", ["s1", "s2"])
def test_every_trainable_parameter_gets_a_finite_gradient(stage, one_torch_thread):
    torch.manual_seed(0)
    cfg = load_config(TINY[stage])
    net = build_model(cfg).train()
    freeze_modules(net, net.frozen_modules)  # as training does (stage 2: encoder and fusion decoder)
    n_search = cfg.DATA.SEARCH.NUMBER
    templates, searches, masks = _inputs(cfg, 2, n_search)
    out = net(templates, searches, masks, training=True)
    loss = out["pred_boxes"].sum() + out["score_map"].mean() + out["task_res"].sum() + out["confidence_pred"].sum()
    loss.backward()
    feat = cfg.DATA.SEARCH.SIZE // 16
    assert out["pred_boxes"].shape == (2 * n_search, 1, 4)
    assert out["score_map"].shape == (2 * n_search, 1, feat, feat)
    assert out["task_res"].shape == (2 * n_search, 4)
    assert net.backbone.embed_dim == cfg.MODEL.BACKBONE.EMBED_DIM
    # Every trainable parameter except those the network declares unused (stage 1: backbone.pos_embed).
    declared = set(net.parameters_without_gradient())
    trainable = {name: p for name, p in net.named_parameters() if p.requires_grad}
    assert declared <= set(trainable) and len(trainable) > len(declared)
    for name, p in trainable.items():
        if name in declared:
            assert p.grad is None, f"{name} is declared without gradient but got one"
        else:
            assert p.grad is not None, f"{name} got no gradient"
            assert torch.isfinite(p.grad).all(), f"{name} has a non-finite gradient"
    frozen = [p for p in net.parameters() if not p.requires_grad]
    assert len(frozen) == (0 if stage == "s1" else sum(1 for m in net.frozen_modules
                                                        for _ in getattr(net, m).parameters()))
    assert all(p.grad is None for p in frozen)


def test_stage2_inference_memory_is_carried():
    torch.manual_seed(0)
    cfg = load_config(TINY["s2"])
    net = build_model(cfg).eval()
    templates, searches, masks = _inputs(cfg, 1, 3)
    with torch.no_grad():
        first = net(templates, searches[0], masks, temporal_infor=[], first_frame_flag=True, training=False)
        memory = first["temporal_infor"]
        assert len(memory) == cfg.MODEL.TCM.MEMORY_SLOTS
        assert all(m is memory[0] for m in memory)  # first frame: every slot = its own tokens
        second = net(templates, searches[1], masks, temporal_infor=memory, training=False)
    new_memory = second["temporal_infor"]
    assert new_memory[0] is memory[0]                       # slot 0 pinned (quirk Q9)
    assert torch.equal(new_memory[-1], second["z0_filter"])  # newest tokens last


def test_training_clip_equals_step_by_step_inference():
    """The training path (list of frames, memory carried through the clip) equals frame-by-frame calls."""
    torch.manual_seed(1)
    cfg = load_config(TINY["s2"])
    net = build_model(cfg).eval()
    templates, searches, masks = _inputs(cfg, 1, 3)
    with torch.no_grad():
        clip = net(templates, searches, masks, training=True)
        memory, boxes = [], []
        for i, s in enumerate(searches):
            out = net(templates, s, masks, temporal_infor=memory, first_frame_flag=i == 0, training=False)
            memory = out["temporal_infor"]
            boxes.append(out["pred_boxes"])
    torch.testing.assert_close(clip["pred_boxes"], torch.cat(boxes), atol=1e-5, rtol=0)


def test_naive_swiglu_equals_timm_swiglu_with_copied_weights():
    torch.manual_seed(0)
    ours = NaiveSwiGLU(32, 48)
    timm_mlp = SwiGLU(32, 48, norm_layer=lambda d, **kw: torch.nn.LayerNorm(d, eps=1e-6, **kw))
    with torch.no_grad():
        timm_mlp.fc1_g.weight.copy_(ours.w1.weight)
        timm_mlp.fc1_g.bias.copy_(ours.w1.bias)
        timm_mlp.fc1_x.weight.copy_(ours.w2.weight)
        timm_mlp.fc1_x.bias.copy_(ours.w2.bias)
        timm_mlp.norm.weight.copy_(torch.randn(48))
        ours.ffn_ln.weight.copy_(timm_mlp.norm.weight)
        timm_mlp.fc2.weight.copy_(ours.w3.weight)
        timm_mlp.fc2.bias.copy_(ours.w3.bias)
    x = torch.randn(3, 5, 32)
    torch.testing.assert_close(ours(x), timm_mlp(x))


def test_attention_map_is_inverted_and_batch_normalised():
    feat = torch.randn(2, 10 + 16, 8)
    n = search_attention_map(feat, 16)
    assert n.shape == (2, 16)
    assert n.min() == 0 and n.max() == 1  # over the whole batch (quirk Q7), not per sample
    raw = torch.einsum("bij,bjk->bik", torch.einsum("bij,bkj->bik", feat[:, -16:], feat[:, -16:]),
                       feat[:, -16:]) @ feat[:, :-16].transpose(1, 2)
    raw = raw.mean(-1)
    assert n.flatten().argmin() == raw.flatten().argmax()  # largest affinity ranks last (quirk Q6)


def test_gaussian_prior_rows_follow_cy_and_full_size_sigma():
    g = box_gaussian_prior(torch.tensor([[0.25, 0.75, 0.5, 0.125]]), 16).view(16, 16)
    # peak at row cy*16 = 12, column cx*16 = 4 (integer cell coordinates, no +0.5)
    assert divmod(int(g.argmax()), 16) == (12, 4)
    # one sigma (the full height, 2 cells) away in rows: exp(-0.5)
    assert g[14, 4].item() == pytest.approx(float(torch.exp(torch.tensor(-0.5))), rel=1e-6)


def test_select_tokens_sorted_and_update_memory():
    tokens = torch.arange(6.0).view(1, 6, 1)
    picked = select_tokens(tokens, torch.tensor([[0.1, 0.9, 0.2, 0.8, 0.0, 0.7]]), 3)
    assert picked.flatten().tolist() == [1.0, 3.0, 5.0]
    mem = update_memory(["a", "b", "c", "d"], "e", False, 4)
    assert mem == ["a", "c", "d", "e"]
    assert update_memory([], "x", True, 4) == ["x"] * 4


def test_unsupported_backbone_type_is_rejected():
    cfg = load_config("cstrack_s1_tiny", overrides=["MODEL.BACKBONE.TYPE=vit_base_patch16_224"])
    with pytest.raises(ValueError, match="MODEL.BACKBONE.TYPE"):
        build_model(cfg)
