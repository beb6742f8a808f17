"""Hard negatives: the places where a trained model finds objects that are not there.

A model is run on the training images the way the evaluation runs it (setting 1: one click on
one random object per category), and every detection it keeps (at its own score threshold, or
``score``) that overlaps no ground-truth box (IoU below ``iou``) is kept as a hard negative of
that image. Training crops
are then centred on them now and then (``CropSampler(negative_prob=...)``), so that the loss
sees the look-alikes the model fires on (for aircraft: terminal roofs and jet bridges) far more
often than a crop centred on an object would show them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from .datasets import DatasetError, ImageRecord, read_image
from .matcher import box_iou_and_giou

FILE_NAME = "hard_negatives.json"


def record_key(record: ImageRecord) -> str:
    """How a record is named in a hard-negatives file."""
    return f"{record.dataset}:{record.path}"


def max_iou(boxes: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """For each of ``boxes (n,4)`` xyxy its largest IoU with ``truth (m,4)`` (0 without truth)."""
    if not len(truth) or not len(boxes):
        return np.zeros(len(boxes))
    iou, _ = box_iou_and_giou(torch.as_tensor(boxes, dtype=torch.float64), torch.as_tensor(truth, dtype=torch.float64))
    return iou.amax(1).numpy()


def mine(records: Sequence[ImageRecord], model_dir: str | Path, score: float | None = None, iou: float = 0.1, seed: int = 0,
         progress: Callable[[int, int], None] | None = None) -> dict[str, list[list[float]]]:
    """``{record_key: [[x0, y0, x1, y1, score], ...]}`` in image pixels: the model's false detections."""
    from ..evaluation.harness import SessionDetector
    from ..evaluation.prompt_settings import make_prompts
    from ..runtime import load_model

    model = load_model(model_dir)
    detector = SessionDetector(model, score_threshold=model.metadata.score_threshold if score is None else score)
    found: dict[str, list[list[float]]] = {}
    for i, record in enumerate(records):
        if progress is not None:
            progress(i, len(records))
        prompting = make_prompts(record, 1, np.random.default_rng([seed, i]))
        if not prompting.prompts:
            continue
        boxes, scores, _ = detector.detect(read_image(record), prompting.prompts)
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        false = max_iou(boxes, record.boxes_px.astype(np.float64)) < iou
        if false.any():
            found[record_key(record)] = [[round(float(v), 1) for v in b] + [round(float(s), 3)]
                                         for b, s in zip(boxes[false], np.asarray(scores)[false])]
    return found


def save(path: str | Path, negatives: dict, source: str) -> None:
    """Write a hard-negatives file atomically; ``source`` says which model mined it."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"mined_with": source, "images": negatives}, indent=0))
    os.replace(tmp, path)


def load(path: str | Path) -> dict[str, np.ndarray]:
    """``{record_key: centres (n, 2)}`` in image pixels from a hard-negatives file."""
    try:
        images = json.loads(Path(path).read_text())["images"]
        return {k: np.asarray(v, np.float32).reshape(-1, 5)[:, :4].reshape(-1, 2, 2).mean(1) for k, v in images.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"cannot read hard negatives from {path}: {exc}; mine them again with "
                           "`deal train --hard-negatives-from MODEL_DIR`") from None
