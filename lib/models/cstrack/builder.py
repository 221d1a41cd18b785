"""Registered builders ``cstrack_s1`` / ``cstrack_s2``: all sizes come from the config (docs/architecture.md)."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping

from lib.models.backbones.fast_itpn import FastITPN
from lib.models.cstrack.model import CSTRACK_S1, CSTRACK_S2
from lib.models.layers.heads import CenterPredictor
from lib.registry import MODELS

logger = logging.getLogger(__name__)
REPO_ROOT = Path(__file__).resolve().parents[3]
PRETRAINED_DIR = REPO_ROOT / "resource" / "pretrained_models"


def _check_supported(cfg: Mapping) -> None:
    backbone_type = cfg.MODEL.BACKBONE.TYPE
    if backbone_type != "itpn_base":
        raise ValueError(f"MODEL.BACKBONE.TYPE '{backbone_type}' is not supported: CSTrack uses 'itpn_base'")
    if cfg.MODEL.HEAD.TYPE != "CENTER":
        raise ValueError(f"MODEL.HEAD.TYPE '{cfg.MODEL.HEAD.TYPE}' is not supported: CSTrack uses 'CENTER'")
    if cfg.MODEL.BACKBONE.STRIDE != FastITPN.patch_size:
        raise ValueError(f"MODEL.BACKBONE.STRIDE must be {FastITPN.patch_size}, got {cfg.MODEL.BACKBONE.STRIDE}")


def pretrained_backbone_path(cfg: Mapping) -> Path:
    """``resource/pretrained_models/<MODEL.PRETRAIN_FILE>`` (an absolute path is used as given)."""
    path = Path(cfg.MODEL.PRETRAIN_FILE)
    return path if path.is_absolute() else PRETRAINED_DIR / path


def _build_parts(cfg: Mapping, load_pretrained: bool):
    _check_supported(cfg)
    bcfg = cfg.MODEL.BACKBONE
    backbone = FastITPN(embed_dim=bcfg.EMBED_DIM, depths=tuple(bcfg.DEPTHS), num_heads=bcfg.NUM_HEADS,
                        mlp_ratio=bcfg.MLP_RATIO, bridge_mlp_ratio=bcfg.BRIDGE_MLP_RATIO,
                        drop_path_rate=cfg.TRAIN.DROP_PATH_RATE, layer_scale_init=bcfg.LAYER_SCALE_INIT,
                        pretrain_img_size=bcfg.PRETRAIN_IMG_SIZE, template_size=cfg.DATA.TEMPLATE.SIZE,
                        search_size=cfg.DATA.SEARCH.SIZE)
    if load_pretrained and cfg.MODEL.PRETRAIN_FILE:
        backbone.load_pretrained(str(pretrained_backbone_path(cfg)))
    feat_sz = cfg.DATA.SEARCH.SIZE // bcfg.STRIDE
    box_head = CenterPredictor(bcfg.EMBED_DIM, cfg.MODEL.HEAD.NUM_CHANNELS, feat_sz, bcfg.STRIDE)
    kwargs = dict(num_prompts=cfg.MODEL.SCM.NUM_PROMPTS, num_heads=bcfg.NUM_HEADS,
                  scm_mlp_ratio=cfg.MODEL.SCM.MLP_RATIO, scm_dropout=cfg.MODEL.SCM.DROPOUT,
                  task_hidden_dim=cfg.MODEL.HEAD.TASK_HIDDEN_DIM, num_task_classes=cfg.MODEL.HEAD.NUM_TASK_CLASSES)
    return backbone, box_head, kwargs


@MODELS.register("cstrack_s1")
def build_cstrack_s1(cfg: Mapping, load_pretrained: bool = False) -> CSTRACK_S1:
    """Stage-1 network; ``load_pretrained`` reads the Fast-iTPN file named by ``MODEL.PRETRAIN_FILE``."""
    backbone, box_head, kwargs = _build_parts(cfg, load_pretrained)
    return CSTRACK_S1(backbone, box_head, **kwargs)


@MODELS.register("cstrack_s2")
def build_cstrack_s2(cfg: Mapping, load_pretrained: bool = False) -> CSTRACK_S2:
    """Stage-2 network (stage 1 + Temporal Compact Module).

    The stage-1 warm start (``MODEL.PRETRAINED_PATH``) is the trainer's job, where a missing file is an
    error (the reference skipped it silently when the path lacked "CSTRACK").
    """
    backbone, box_head, kwargs = _build_parts(cfg, load_pretrained)
    tcm = cfg.MODEL.TCM
    return CSTRACK_S2(backbone, box_head, memory_slots=tcm.MEMORY_SLOTS, topk=tcm.TOPK, tcm_ffn_dim=tcm.FFN_DIM,
                      tcm_dropout=tcm.DROPOUT, **kwargs)
