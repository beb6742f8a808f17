"""DEAL's training objective (eqs. 10-11): density focal loss + decoder classification, L1 and GIoU.

``set_loss`` scores one prompt set of one image: the prompt head's outputs for that set against
the ground-truth boxes of the prompted category.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as fn

from .matcher import cxcywh_to_xyxy, hungarian_match, paired_giou
from .targets import centre_cells, heat_and_count_targets


@dataclass
class LossWeights:
    heat: float = 1.0
    count: float = 1.0
    dense_l1: float = 1.0
    dense_giou: float = 1.0
    cls: float = 1.0
    l1: float = 5.0
    giou: float = 2.0


def heat_focal_loss(logit: torch.Tensor, target: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """Penalty-reduced focal loss on a Gaussian heat map (peaks == 1), normalised by the number of peaks."""
    p = torch.sigmoid(logit).clamp(1e-4, 1 - 1e-4)
    peaks = target.eq(1.0).float()
    pos = -((1 - p) ** alpha) * torch.log(p) * peaks
    neg = -((1 - target) ** beta) * (p ** alpha) * torch.log(1 - p) * (1 - peaks)
    return (pos.sum() + neg.sum()) / peaks.sum().clamp(min=1.0)


def varifocal_loss(logits: torch.Tensor, target_iou: torch.Tensor, alpha: float = 0.75, gamma: float = 2.0) -> torch.Tensor:
    """Varifocal loss: positives weighted by their IoU target, negatives down-weighted by p^gamma (sum)."""
    p = logits.sigmoid()
    weight = alpha * p.detach() ** gamma * (target_iou <= 0).float() + target_iou
    return (fn.binary_cross_entropy_with_logits(logits, target_iou, reduction="none") * weight).sum()


def decoder_layer_loss(boxes: torch.Tensor, logits: torch.Tensor, gt_norm: torch.Tensor, w: LossWeights):
    """Loss of one decoder layer for one set: ``boxes (Q,4)`` cxcywh norm, ``logits (Q,)``, ``gt_norm (G,4)``.

    Returns (loss, matched prediction indices, matched gt indices, matched IoUs).
    """
    rows, cols = hungarian_match(boxes, logits, gt_norm)
    n = max(len(gt_norm), 1)
    target = torch.zeros_like(logits)
    if len(rows) == 0:
        return w.cls * varifocal_loss(logits, target) / n, rows, cols, torch.zeros(0)
    pb, gb = boxes[rows], gt_norm[cols]
    iou, giou = paired_giou(cxcywh_to_xyxy(pb), cxcywh_to_xyxy(gb))
    target[torch.as_tensor(rows)] = iou.detach().clamp(min=0.01)
    loss = (w.cls * varifocal_loss(logits, target) + w.l1 * (pb - gb).abs().sum() + w.giou * (1 - giou).sum()) / n
    return loss, rows, cols, iou.detach()


def set_loss(out: dict, k: int, gt_boxes_px: np.ndarray, stride: int, w: LossWeights):
    """Total loss of prompt set ``k`` of a prompt-head output against ``gt_boxes_px (G,4)`` xyxy.

    Returns (loss, parts dict of floats, per-gt quality (G,) = score * IoU of its match in the
    last decoder layer, 0 when unmatched) -- the quality drives PG-CPP's re-prompting.
    """
    heat_logit = out["heat_logit"][k]
    h, wd = heat_logit.shape
    heat_t, count_t = heat_and_count_targets(gt_boxes_px, h, wd, stride)
    heat_t = torch.from_numpy(heat_t)
    count_t = torch.from_numpy(count_t)
    rho = out["count_density"][k]
    parts = {"heat": heat_focal_loss(heat_logit, heat_t),
             "count": 10.0 * ((rho - count_t) ** 2).sum() / max(len(gt_boxes_px), 1)
             + 0.1 * (rho.sum() - float(len(gt_boxes_px))).abs() / max(len(gt_boxes_px), 1.0)}
    index, raw_t = centre_cells(gt_boxes_px, h, wd, stride)
    keep = index >= 0
    dense = out["dense_boxes"][k]
    if keep.any():
        pred = dense[torch.from_numpy(index[keep])]
        gt_xyxy = torch.from_numpy(gt_boxes_px[keep].astype(np.float32))
        _, giou = paired_giou(cxcywh_to_xyxy(pred), gt_xyxy)
        scale = torch.from_numpy(np.maximum(gt_boxes_px[keep, 2:] - gt_boxes_px[keep, :2], 1.0).astype(np.float32)).repeat(1, 2)
        gt_cxcywh = torch.cat([(gt_xyxy[:, :2] + gt_xyxy[:, 2:]) / 2, gt_xyxy[:, 2:] - gt_xyxy[:, :2]], 1)
        parts["dense_l1"] = ((pred - gt_cxcywh).abs() / scale).sum() / keep.sum()
        parts["dense_giou"] = (1 - giou).mean()
    size = out["tile_size"]
    gt = torch.from_numpy(gt_boxes_px.astype(np.float32))
    gt_norm = torch.cat([(gt[:, :2] + gt[:, 2:]) / 2, gt[:, 2:] - gt[:, :2]], 1) / size if len(gt) else torch.zeros(0, 4)
    dec_total = 0.0
    quality = np.zeros(len(gt_boxes_px), np.float32)
    for li, (boxes, logits) in enumerate(out["layers"]):
        loss, rows, cols, iou = decoder_layer_loss(boxes[k], logits[k], gt_norm, w)
        dec_total = dec_total + loss
        if li == len(out["layers"]) - 1 and len(rows):
            quality[cols] = (logits[k][rows].sigmoid().detach() * iou).numpy()
    parts["decoder"] = dec_total
    total = (w.heat * parts["heat"] + w.count * parts["count"] + parts["decoder"]
             + w.dense_l1 * parts.get("dense_l1", 0.0) + w.dense_giou * parts.get("dense_giou", 0.0))
    return total, {k_: float(v.detach()) if torch.is_tensor(v) else float(v) for k_, v in parts.items()}, quality


def size_loss(size_map: torch.Tensor, boxes_px: np.ndarray, stride: int) -> torch.Tensor:
    """L1 on log(w), log(h) in pixels at each object's centre cell: ``size_map (2,h,w)``."""
    h, w = size_map.shape[-2:]
    index, _ = centre_cells(boxes_px, h, w, stride)
    keep = index >= 0
    if not keep.any():
        return size_map.sum() * 0.0
    wh = np.log(np.maximum(boxes_px[keep, 2:] - boxes_px[keep, :2], 1.0)).astype(np.float32)
    pred = size_map.reshape(2, -1)[:, torch.from_numpy(index[keep])].t()
    return (pred - torch.from_numpy(wh)).abs().mean()
