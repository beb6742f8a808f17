"""Hungarian matching of predictions to ground truth, and the box geometry it needs."""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment


def cxcywh_to_xyxy(b: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = b.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1)


def box_iou_and_giou(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairwise IoU and generalised IoU of xyxy boxes ``a (N,4)``, ``b (M,4)`` -> ``(N,M)`` each."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area_a[:, None] + area_b[None] - inter
    iou = inter / union.clamp(min=1e-9)
    lt_c = torch.min(a[:, None, :2], b[None, :, :2])
    rb_c = torch.max(a[:, None, 2:], b[None, :, 2:])
    hull = (rb_c - lt_c).clamp(min=0).prod(-1)
    return iou, iou - (hull - union) / hull.clamp(min=1e-9)


def paired_giou(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """IoU and GIoU of matched pairs of xyxy boxes ``(N,4)`` -> ``(N,)`` each."""
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    inter = (torch.min(a[:, 2:], b[:, 2:]) - torch.max(a[:, :2], b[:, :2])).clamp(min=0).prod(-1)
    union = area_a + area_b - inter
    iou = inter / union.clamp(min=1e-9)
    hull = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).clamp(min=0).prod(-1)
    return iou, iou - (hull - union) / hull.clamp(min=1e-9)


@torch.no_grad()
def hungarian_match(boxes: torch.Tensor, logits: torch.Tensor, gt: torch.Tensor,
                    w_cls: float = 2.0, w_l1: float = 5.0, w_giou: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one assignment of predictions to ground truth.

    Args:
        boxes: ``(Q,4)`` predicted cxcywh, normalised to the tile.
        logits: ``(Q,)`` objectness logits.
        gt: ``(G,4)`` ground-truth cxcywh, normalised.
    Returns: (prediction indices, ground-truth indices), each ``(min(Q,G),)``.
    """
    if gt.shape[0] == 0 or boxes.shape[0] == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    p = logits.sigmoid()
    alpha, gamma = 0.25, 2.0
    pos = alpha * (1 - p) ** gamma * -(p + 1e-8).log()
    neg = (1 - alpha) * p ** gamma * -(1 - p + 1e-8).log()
    cost_cls = (pos - neg)[:, None]
    cost_l1 = torch.cdist(boxes, gt, p=1)
    _, giou = box_iou_and_giou(cxcywh_to_xyxy(boxes), cxcywh_to_xyxy(gt))
    cost = w_cls * cost_cls + w_l1 * cost_l1 - w_giou * giou
    rows, cols = linear_sum_assignment(cost.cpu().numpy())
    return rows.astype(np.int64), cols.astype(np.int64)
