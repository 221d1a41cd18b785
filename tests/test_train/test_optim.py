"""Parameter groups, stage-2 freezing and the LR schedule, as the networks declare them (T30, T31 in docs/parity.md)."""
import pytest
import torch

from lib.config import load_config
from lib.models import build_model
from lib.train.optim import build_optimizer, build_scheduler, freeze_modules, get_param_groups

CONFIGS = {"cstrack_s1": "cstrack_s1_tiny", "cstrack_s2": "cstrack_s2_tiny"}

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny(stage, **overrides):
    cfg = load_config(CONFIGS[stage], script=stage, overrides=overrides or None)
    torch.manual_seed(0)
    return cfg, build_model(cfg)


def names_of(net, params):
    ids = {id(p) for p in params}
    return {n for n, p in net.named_parameters() if id(p) in ids}


def test_stage1_groups_put_fusion_decoder_with_the_encoder():
    cfg, net = tiny("cstrack_s1")
    groups = get_param_groups(net, cfg)
    assert [g["name"] for g in groups] == ["head", "encoder"]
    head, encoder = (names_of(net, g["params"]) for g in groups)
    assert head.isdisjoint(encoder) and head | encoder == {n for n, _ in net.named_parameters()}
    # T30 kept: backbone_rgb_det_fusion trains at the encoder rate, chosen by module.
    assert net.encoder_modules == ("backbone", "backbone_rgb_det_fusion")
    assert any(n.startswith("backbone_rgb_det_fusion.") for n in encoder)
    assert {n.split(".")[0] for n in encoder} == {"backbone", "backbone_rgb_det_fusion"}
    assert {n.split(".")[0] for n in head} == {"box_head", "task_cls", "rgb_prompts", "det_prompts",
                                               "cls_prompts_pos", "confidence_pred"}
    assert groups[0]["lr"] == pytest.approx(cfg.TRAIN.LR)
    assert groups[1]["lr"] == pytest.approx(cfg.TRAIN.LR * cfg.TRAIN.ENCODER_MULTIPLIER)


def test_adamw_decays_every_parameter():
    cfg, net = tiny("cstrack_s1")
    opt = build_optimizer(net, cfg)
    assert isinstance(opt, torch.optim.AdamW)
    assert all(g["weight_decay"] == cfg.TRAIN.WEIGHT_DECAY for g in opt.param_groups)
    assert all(g["betas"] == (0.9, 0.999) and g["eps"] == 1e-8 for g in opt.param_groups)


def test_stage2_freezes_encoder_and_fusion_before_grouping():
    cfg, net = tiny("cstrack_s2")
    assert net.frozen_modules == ("backbone", "backbone_rgb_det_fusion")
    assert tiny("cstrack_s1")[1].frozen_modules == ()
    freeze_modules(net, net.frozen_modules)
    trainable = {n.split(".")[0] for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"box_head", "task_cls", "rgb_prompts", "det_prompts", "cls_prompts_pos",
                         "confidence_pred", "dy_template_pos_embed", "temporal_fusion"}
    groups = build_optimizer(net, cfg).param_groups
    assert [g["name"] for g in groups] == ["head"]
    assert sum(len(g["params"]) for g in groups) == sum(p.requires_grad for p in net.parameters())
    # Frozen modules stay in train mode (dropout / drop-path active), like the reference (T31).
    net.train()
    assert net.backbone.training and net.backbone_rgb_det_fusion.training


def test_stage2_step_leaves_frozen_weights_untouched():
    cfg, net = tiny("cstrack_s2")
    freeze_modules(net, net.frozen_modules)
    opt = build_optimizer(net, cfg)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    b = 2
    out = net(template=[torch.randn(b, 6, 64, 64)] * 2, search=[torch.randn(b, 6, 128, 128)] * 3,
              soft_token_template_mask=[torch.rand(b, 16, 1)] * 2, training=True)
    (out["pred_boxes"].sum() + out["score_map"].sum() + out["task_res"].sum()).backward()
    # Gradients still flow through the frozen encoder into the prompts (docs/training.md).
    assert net.rgb_prompts.weight.grad is not None and net.rgb_prompts.weight.grad.abs().sum() > 0
    opt.step()
    after = net.state_dict()
    params = {n for n, _ in net.named_parameters()}
    for key in params:
        same = torch.equal(before[key], after[key])
        if key.split(".")[0] in net.frozen_modules:
            assert same, key
    assert not torch.equal(before["rgb_prompts.weight"], after["rgb_prompts.weight"])


def test_freeze_unknown_module_fails_loudly():
    _, net = tiny("cstrack_s1")
    with pytest.raises(AttributeError, match="backbone_typo"):
        freeze_modules(net, ["backbone_typo"])


def test_step_scheduler_drops_lr_tenfold_after_lr_drop_epoch():
    cfg, net = tiny("cstrack_s1", TRAIN={"LR_DROP_EPOCH": 3})
    opt = build_optimizer(net, cfg)
    sched = build_scheduler(opt, cfg)
    lrs = []
    for _ in range(5):
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx([1e-4, 1e-5]) and lrs[2] == pytest.approx([1e-4, 1e-5])
    assert lrs[3] == pytest.approx([1e-5, 1e-6]) and lrs[4] == pytest.approx([1e-5, 1e-6])


@pytest.mark.parametrize("key,value", [("TRAIN.OPTIMIZER", "SGD"), ("TRAIN.SCHEDULER.TYPE", "Mstep")])
def test_unsupported_optimizer_or_scheduler_is_an_error(key, value):
    cfg = load_config("cstrack_s1_tiny", script="cstrack_s1", overrides=[f"{key}={value}"])
    net = build_model(cfg)
    with pytest.raises(ValueError, match=value):
        build_scheduler(build_optimizer(net, cfg), cfg)


def test_networks_declare_their_stage():
    s1, s2 = tiny("cstrack_s1")[1], tiny("cstrack_s2")[1]
    assert (s1.warm_start_from, s1.new_modules) == (None, ())
    assert (s2.warm_start_from, s2.new_modules) == ("cstrack_s1", ("dy_template_pos_embed", "temporal_fusion"))
    # The new modules are exactly the state_dict entries stage 2 adds to stage 1.
    added = {k.split(".")[0] for k in s2.state_dict()} - {k.split(".")[0] for k in s1.state_dict()}
    assert added == set(s2.new_modules)
    # Stage 1 trains the unused 224-px positions (DDP needs find_unused_parameters); stage 2 freezes them.
    assert s1.parameters_without_gradient() == ["backbone.pos_embed"]
    freeze_modules(s2, s2.frozen_modules)
    assert s2.parameters_without_gradient() == []
