"""The CSTrack actor: runs the network on a batch and computes the training loss (docs/training.md).

One actor serves both stages: the number of search frames is read from the batch, and the task
targets are tiled over the frames in the same time-major order as the network's outputs (docs/training.md).
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from lib.registry import ACTORS
from lib.train.actors.losses import FocalLoss
from lib.utils.box_ops import box_cxcywh_to_xyxy, box_xywh_to_xyxy, giou_loss
from lib.utils.heatmap import generate_heatmap, soft_template_mask

Tensor = torch.Tensor

# Task classes by the dataset name a sample carries (``get_name()`` of the training datasets).
# The LMDB variants map by modality too (the reference crashed on them, T16 in docs/parity.md).
TASK_CLASS_BY_DATASET = {
    "lasot": 0, "lasot_lang": 0, "got10k": 0, "tnl2k": 0, "coco": 0, "trackingnet": 0, "vasttrack_test": 0,
    "vasttrack": 0, "lasot_lmdb": 0, "got10k_lmdb": 0, "trackingnet_lmdb": 0, "coco_lmdb": 0,
    "lasher": 1, "visevent": 2, "depthtrack": 3,
}


def task_targets(datasets: Sequence[str], num_frames: int, device: torch.device) -> Tensor:
    """Class index per sample, tiled ``num_frames`` times frame-major ``[t_0..t_{B-1}, t_0..]`` (docs/training.md)."""
    labels: List[int] = []
    for name in datasets:
        if name not in TASK_CLASS_BY_DATASET:
            raise KeyError(f"dataset name '{name}' has no task class; known: {sorted(TASK_CLASS_BY_DATASET)}")
        labels.append(TASK_CLASS_BY_DATASET[name])
    return torch.tensor(labels * num_frames, dtype=torch.long, device=device)


class CSTrackActor(nn.Module):
    """Forward + loss: ``2 GIoU + 5 L1 + focal + task CE + confidence MSE`` (weights from TRAIN.*)."""

    def __init__(self, net: nn.Module, cfg: Mapping):
        super().__init__()
        self.net = net
        self.cfg = cfg
        self.focal = FocalLoss()
        self.weights = {"giou": cfg.TRAIN.GIOU_WEIGHT, "l1": cfg.TRAIN.L1_WEIGHT, "focal": cfg.TRAIN.FOCAL_WEIGHT,
                        "task": cfg.TRAIN.TASK_CLS_WEIGHT, "confidence": cfg.TRAIN.CONFIDENCE_WEIGHT}
        self.template_size = cfg.DATA.TEMPLATE.SIZE
        self.stride = cfg.MODEL.BACKBONE.STRIDE
        self.feat_sz = cfg.DATA.SEARCH.SIZE // self.stride

    def forward(self, data: Mapping) -> Tuple[Tensor, Dict[str, float]]:
        out = self.forward_pass(data)
        return self.compute_losses(out, data)

    def forward_pass(self, data: Mapping, net: Optional[nn.Module] = None) -> Dict[str, Tensor]:
        """Network on ``template_images`` (Nt,B,6,H,W) and ``search_images`` (Ns,B,6,H,W) with soft masks.

        ``net`` replaces ``self.net`` for this call (the trainer passes the module without its DDP
        wrapper to draw a sample on one process only).
        """
        templates = list(data["template_images"])
        searches = list(data["search_images"])
        if "template_soft_mask" in data:  # computed by the data pipeline's workers
            masks = list(data["template_soft_mask"])
        else:
            masks = [soft_template_mask(anno, self.template_size, self.stride) for anno in data["template_anno"]]
        net = self.net if net is None else net
        return net(template=templates, search=searches, soft_token_template_mask=masks, training=True)

    def compute_losses(self, out: Mapping[str, Tensor], data: Mapping) -> Tuple[Tensor, Dict[str, float]]:
        pred_boxes = out["pred_boxes"]
        if torch.isnan(pred_boxes).any():
            raise ValueError("Network outputs is NAN! Stop Training")
        search_anno = data["search_anno"].reshape(-1, 4)
        num_frames = data["search_images"].shape[0]
        pred_xyxy = box_cxcywh_to_xyxy(pred_boxes.reshape(-1, 4))
        gt_xyxy = box_xywh_to_xyxy(search_anno).clamp(min=0.0, max=1.0)
        loss_giou, iou = giou_loss(pred_xyxy, gt_xyxy)
        loss_l1 = F.l1_loss(pred_xyxy, gt_xyxy)
        # Heatmaps from the unclamped boxes (docs/training.md), in the score map's frame-major row order.
        heatmaps = generate_heatmap(search_anno, self.feat_sz).to(out["score_map"].device)
        loss_focal = self.focal(out["score_map"], heatmaps)
        if "task_class" in data:
            targets = data["task_class"].reshape(-1).to(pred_boxes.device).long().repeat(num_frames)
        else:
            targets = task_targets(list(data["dataset"]), num_frames, pred_boxes.device)
        loss_task = F.cross_entropy(out["task_res"], targets)
        # The IoU target is not detached, as in the reference (T29 in docs/parity.md).
        loss_conf = F.mse_loss(out["confidence_pred"].squeeze(1), iou)
        w = self.weights
        loss = (w["giou"] * loss_giou + w["l1"] * loss_l1 + w["focal"] * loss_focal + w["task"] * loss_task
                + w["confidence"] * loss_conf)
        stats = {"Loss/total": loss.item(), "Loss/giou": loss_giou.item(), "Loss/l1": loss_l1.item(),
                 "Loss/location": loss_focal.item(), "Loss/task_cls_loss": loss_task.item(),
                 "IoU": iou.detach().mean().item()}
        return loss, stats


ACTORS.register("cstrack_s1")(CSTrackActor)
ACTORS.register("cstrack_s2")(CSTrackActor)
