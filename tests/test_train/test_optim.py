"""Parameter groups, stage-2 freezing and the LR schedule (TRAINING.md §7.1-§7.2, §1.6, §9 items 30-31)."""
import pytest
import torch

from lib.config import load_config
from lib.models import build_model
from lib.train.optim import (ENCODER_MODULES, build_optimizer, build_scheduler, freeze_modules, frozen_modules_for,
                             get_param_groups)

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
    # Quirk kept (§9 item 30): backbone_rgb_det_fusion trains at the encoder rate, chosen by module.
    assert any(n.startswith("backbone_rgb_det_fusion.") for n in encoder)
    assert all(n.split(".")[0] in ENCODER_MODULES for n in encoder)
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
    assert frozen_modules_for("cstrack_s2") == ("backbone", "backbone_rgb_det_fusion")
    assert frozen_modules_for("cstrack_s1") == ()
    freeze_modules(net, frozen_modules_for(cfg.MODEL.ARCH))
    trainable = {n.split(".")[0] for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"box_head", "task_cls", "rgb_prompts", "det_prompts", "cls_prompts_pos",
                         "confidence_pred", "dy_template_pos_embed", "temporal_fusion"}
    groups = build_optimizer(net, cfg).param_groups
    assert [g["name"] for g in groups] == ["head"]
    assert sum(len(g["params"]) for g in groups) == sum(p.requires_grad for p in net.parameters())
    # Frozen modules stay in train mode (dropout / drop-path active), like the reference (§7.5).
    net.train()
    assert net.backbone.training and net.backbone_rgb_det_fusion.training


def test_stage2_step_leaves_frozen_weights_untouched():
    cfg, net = tiny("cstrack_s2")
    freeze_modules(net, frozen_modules_for(cfg.MODEL.ARCH))
    opt = build_optimizer(net, cfg)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    b = 2
    out = net(template=[torch.randn(b, 6, 64, 64)] * 2, search=[torch.randn(b, 6, 128, 128)] * 3,
              soft_token_template_mask=[torch.rand(b, 16, 1)] * 2, training=True)
    (out["pred_boxes"].sum() + out["score_map"].sum() + out["task_res"].sum()).backward()
    # Gradients still flow through the frozen encoder into the prompts (§1.6).
    assert net.rgb_prompts.weight.grad is not None and net.rgb_prompts.weight.grad.abs().sum() > 0
    opt.step()
    after = net.state_dict()
    params = {n for n, _ in net.named_parameters()}
    for key in params:
        same = torch.equal(before[key], after[key])
        if key.split(".")[0] in ENCODER_MODULES:
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
