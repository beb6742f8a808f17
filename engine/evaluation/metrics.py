"""Detection and counting scores: COCO-style AP (faster-coco-eval) with tiny-object size bins.

Boxes are xyxy in image pixels. AP follows COCO exactly (greedy matching by score, 101-point
interpolated precision, IoU 0.50:0.05:0.95); scenes hold hundreds of objects, so up to
``max_dets`` detections per image are scored instead of COCO's 100.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from faster_coco_eval import COCO, COCOeval_faster

# Size bins on sqrt(box area) in pixels; "2-8" ... "32-64" are the tiny-object bins of the
# small-object literature, "64+" holds the larger objects of our own data (aircraft, drone cars).
SIZE_BINS: dict[str, tuple[float, float]] = {
    "2-8": (2.0, 8.0), "8-16": (8.0, 16.0), "16-32": (16.0, 32.0), "32-64": (32.0, 64.0), "64+": (64.0, 1e5),
}

GroundTruth = tuple[np.ndarray, np.ndarray]                 # boxes (n, 4) xyxy px, categories (n,) str
Prediction = tuple[np.ndarray, np.ndarray, np.ndarray]      # boxes (m, 4) xyxy px, scores (m,), categories (m,) str


def _coco_dict(boxes_per_image: Iterable[np.ndarray], cats_per_image: Iterable[np.ndarray],
               cat_ids: dict[str, int], scores_per_image: Iterable[np.ndarray] | None = None) -> dict:
    """COCO dataset dict with image ids 1..n; boxes of unlisted categories are left out."""
    images, anns = [], []
    scores_iter = iter(scores_per_image) if scores_per_image is not None else None
    for image_id, (boxes, cats) in enumerate(zip(boxes_per_image, cats_per_image), 1):
        images.append({"id": image_id, "width": 1, "height": 1})
        scores = next(scores_iter) if scores_iter is not None else None
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        for j, (box, cat) in enumerate(zip(boxes, np.asarray(cats, dtype=str))):
            if cat not in cat_ids:
                continue
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            ann = {"id": len(anns) + 1, "image_id": image_id, "category_id": cat_ids[cat],
                   "bbox": [float(box[0]), float(box[1]), w, h], "area": w * h, "iscrowd": 0}
            if scores is not None:
                ann["score"] = float(scores[j])
            anns.append(ann)
    return {"images": images, "annotations": anns,
            "categories": [{"id": i, "name": c} for c, i in cat_ids.items()]}


def _mean_valid(precision: np.ndarray) -> float | None:
    """COCO's AP: mean of the interpolated precisions that are defined (-1 = no ground truth)."""
    valid = precision[precision > -1]
    return float(valid.mean()) if valid.size else None


def _count_errors(gt: Sequence[GroundTruth], preds: Sequence[Prediction], categories: Sequence[str],
                  count_threshold: float, scored: Sequence[Iterable[str]] | None) -> dict[str, dict]:
    """Per category: mean over scored images of |pred - gt| and |pred - gt| / max(gt, 1)."""
    out = {}
    for cat in categories:
        abs_err, rel_err = [], []
        for i, ((_, gt_cats), (_, scores, pred_cats)) in enumerate(zip(gt, preds)):
            if scored is not None and cat not in set(scored[i]):
                continue
            n_gt = int(np.sum(np.asarray(gt_cats, dtype=str) == cat))
            n_pred = int(np.sum((np.asarray(pred_cats, dtype=str) == cat) & (np.asarray(scores) >= count_threshold)))
            abs_err.append(abs(n_pred - n_gt))
            rel_err.append(abs(n_pred - n_gt) / max(n_gt, 1))
        out[cat] = {"mae": float(np.mean(abs_err)) if abs_err else None,
                    "rel": float(np.mean(rel_err)) if rel_err else None, "images": len(abs_err)}
    return out


def count_mae(gt: Sequence[GroundTruth], preds: Sequence[Prediction], categories: Sequence[str],
              count_threshold: float, scored: Sequence[Iterable[str]] | None = None) -> float | None:
    """The count error (mean over categories of the per-image MAE) when counting at ``count_threshold``."""
    maes = [v["mae"] for v in _count_errors(gt, preds, categories, count_threshold, scored).values() if v["mae"] is not None]
    return float(np.mean(maes)) if maes else None


def evaluate_detections(gt: Sequence[GroundTruth], preds: Sequence[Prediction], categories: Sequence[str],
                        count_threshold: float = 0.3, max_dets: int = 1000,
                        scored: Sequence[Iterable[str]] | None = None) -> dict:
    """Score detections against ground truth, image by image.

    Args:
        gt: per image ``(boxes (n, 4) xyxy px, categories (n,) str)``.
        preds: per image ``(boxes (m, 4) xyxy px, scores (m,), categories (m,) str)``, same order.
        categories: the categories to score; boxes of other categories are ignored.
        count_threshold: a detection counts as an object when its score is at least this.
        max_dets: detections kept per image (highest scores first).
        scored: per image, the categories whose count is scored there (default: all); the
            single-category prompt settings score only the prompted category.

    Returns:
        ``AP``, ``AP50``, ``AP75`` (mean over categories with ground truth; None without any),
        ``AP_size`` and ``AP50_size`` by :data:`SIZE_BINS` label, ``per_category``
        {name: {AP, AP50, AP75, n_gt, n_pred, count_mae, count_rel}}, ``count_mae`` and
        ``count_rel`` (means over categories), ``n_images``, ``n_gt``, ``n_pred``.
    """
    if len(gt) != len(preds):
        raise ValueError(f"{len(gt)} ground-truth images but {len(preds)} prediction images")
    cat_ids = {c: i for i, c in enumerate(dict.fromkeys(categories), 1)}
    gt_dict = _coco_dict((b for b, _ in gt), (c for _, c in gt), cat_ids)
    dt_dict = _coco_dict((b for b, _, _ in preds), (c for _, _, c in preds), cat_ids, (s for _, s, _ in preds))

    coco_gt = COCO(gt_dict)
    coco_dt = COCO(dt_dict)
    evaluator = COCOeval_faster(coco_gt, coco_dt, iouType="bbox", print_function=lambda *a, **k: None)
    p = evaluator.params
    p.imgIds = [img["id"] for img in gt_dict["images"]]
    p.catIds = list(cat_ids.values())
    p.maxDets = [max_dets]
    p.areaRng = [[0.0, 1e10]] + [[lo ** 2, hi ** 2] for lo, hi in SIZE_BINS.values()]
    p.areaRngLbl = ["all", *SIZE_BINS]
    if p.imgIds:
        evaluator.evaluate()
        evaluator.accumulate()
        precision = np.asarray(evaluator.eval["precision"])  # (T iou, R recall, K cats, A areas, M maxdets)
    else:
        precision = -np.ones((len(p.iouThrs), len(p.recThrs), len(cat_ids), len(p.areaRng), 1))
    t50 = int(np.argmin(np.abs(p.iouThrs - 0.5)))
    t75 = int(np.argmin(np.abs(p.iouThrs - 0.75)))

    counts = _count_errors(gt, preds, list(cat_ids), count_threshold, scored)
    per_category = {}
    for cat, k in cat_ids.items():
        per_category[cat] = {
            "AP": _mean_valid(precision[:, :, k - 1, 0, -1]),
            "AP50": _mean_valid(precision[t50, :, k - 1, 0, -1]),
            "AP75": _mean_valid(precision[t75, :, k - 1, 0, -1]),
            "n_gt": len(coco_gt.getAnnIds(catIds=[k])),
            "n_pred": len(coco_dt.getAnnIds(catIds=[k])),
            "count_mae": counts[cat]["mae"],
            "count_rel": counts[cat]["rel"],
        }
    maes = [v["mae"] for v in counts.values() if v["mae"] is not None]
    rels = [v["rel"] for v in counts.values() if v["rel"] is not None]
    return {
        "AP": _mean_valid(precision[:, :, :, 0, -1]),
        "AP50": _mean_valid(precision[t50, :, :, 0, -1]),
        "AP75": _mean_valid(precision[t75, :, :, 0, -1]),
        "AP_size": {lbl: _mean_valid(precision[:, :, :, a, -1]) for a, lbl in enumerate(SIZE_BINS, 1)},
        "AP50_size": {lbl: _mean_valid(precision[t50, :, :, a, -1]) for a, lbl in enumerate(SIZE_BINS, 1)},
        "per_category": per_category,
        "count_mae": float(np.mean(maes)) if maes else None,
        "count_rel": float(np.mean(rels)) if rels else None,
        "count_threshold": count_threshold,
        "n_images": len(gt),
        "n_gt": len(gt_dict["annotations"]),
        "n_pred": len(dt_dict["annotations"]),
    }
