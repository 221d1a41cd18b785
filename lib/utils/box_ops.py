"""Box format conversions and element-wise IoU / GIoU of the training losses (docs/training.md)."""
from __future__ import annotations

from typing import Tuple

import torch
from torchvision.ops import box_convert

Tensor = torch.Tensor


def box_cxcywh_to_xyxy(boxes: Tensor) -> Tensor:
    return box_convert(boxes, "cxcywh", "xyxy")


def box_xywh_to_xyxy(boxes: Tensor) -> Tensor:
    return box_convert(boxes, "xywh", "xyxy")


def paired_iou(boxes1: Tensor, boxes2: Tensor) -> Tuple[Tensor, Tensor]:
    """IoU and union of row-aligned xyxy boxes (N, 4) x (N, 4) -> (N,), (N,)."""
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    lt = torch.max(boxes1[:, :2], boxes2[:, :2])
    rb = torch.min(boxes1[:, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[:, 0] * wh[:, 1]
    union = area1 + area2 - inter
    return inter / union, union


def paired_giou(boxes1: Tensor, boxes2: Tensor) -> Tuple[Tensor, Tensor]:
    """Generalised IoU of row-aligned xyxy boxes -> (giou (N,), iou (N,)).

    torchvision's ``generalized_box_iou`` is pair-wise (N x M); its diagonal is the test oracle.
    """
    if not (boxes1[:, 2:] >= boxes1[:, :2]).all() or not (boxes2[:, 2:] >= boxes2[:, :2]).all():
        raise ValueError("GIoU needs xyxy boxes with x2 >= x1 and y2 >= y1")
    iou, union = paired_iou(boxes1, boxes2)
    lt = torch.min(boxes1[:, :2], boxes2[:, :2])
    rb = torch.max(boxes1[:, 2:], boxes2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    enclosing = wh[:, 0] * wh[:, 1]
    return iou - (enclosing - union) / enclosing, iou


def giou_loss(boxes1: Tensor, boxes2: Tensor) -> Tuple[Tensor, Tensor]:
    """``mean(1 - GIoU)`` and the per-row IoU of xyxy boxes (reference ``giou_loss``)."""
    giou, iou = paired_giou(boxes1, boxes2)
    return (1 - giou).mean(), iou
