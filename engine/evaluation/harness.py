"""Evaluation runs: prompt each image under a prompt setting, detect, score; and result tables.

A detector is anything with ``detect(image uint8 (H, W, 3), prompts) -> (boxes (N, 4) xyxy px,
scores (N,), categories (N,) str)``: :class:`SessionDetector` (the DEAL engine) or the NCC
baseline.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import PromptError
from ..prompts import PointPrompt
from ..training.datasets import ImageRecord, read_image
from .metrics import SIZE_BINS, count_mae, evaluate_detections
from .prompt_settings import SINGLE_CATEGORY_SETTINGS, make_prompts

EVAL_SCORE_THRESHOLD = 0.05
"""Detections kept for scoring: AP ranks by score, so low-confidence boxes still count."""


class Detector(Protocol):
    def detect(self, image: np.ndarray, prompts: list[PointPrompt]) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


class SessionDetector:
    """The DEAL engine as a detector: one :class:`engine.session.Session` per image, held in memory.

    Args:
        model: from :func:`engine.runtime.load_model`.
        score_threshold: lowest score returned (low, since AP ranks by score).
        tile_size, overlap: None uses the model's own settings.
    """

    def __init__(self, model, score_threshold: float = EVAL_SCORE_THRESHOLD,
                 tile_size: int | None = None, overlap: int | None = None, object_px: float | None = None,
                 bracket: bool = False, self_prompts: int = 0, views: int = 1):
        self.model = model
        self.views = views
        self.bracket = bracket
        self.self_prompts = self_prompts
        self.score_threshold = score_threshold
        self.tile_size = tile_size
        self.overlap = overlap
        self.object_px = object_px

    def _session(self, image: np.ndarray):
        from ..raster_source import ArraySource
        from ..session import Session

        return Session(ArraySource(image), self.model, tile_size=self.tile_size, overlap=self.overlap,
                       object_px=self.object_px, bracket=self.bracket, self_prompts=self.self_prompts,
                       views=self.views)

    def detect(self, image: np.ndarray, prompts: list[PointPrompt]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        result = self._session(image).detect(prompts, score_threshold=self.score_threshold)
        return result.boxes_px, result.scores, result.categories


class SupervisedDetector(SessionDetector):
    """The no-prompt baseline: the same network, but each category is found with the vector it
    learned in ``deal train --supervised`` instead of the clicked exemplars.

    The clicks still set the working scale (the engine's scale probe at the click), exactly as
    for DEAL, so both methods see objects at the same size; only the exemplars differ.
    """

    def __init__(self, model, class_embeddings: dict[str, np.ndarray], **kwargs):
        super().__init__(model, **kwargs)
        self.class_embeddings = class_embeddings

    def detect(self, image: np.ndarray, prompts: list[PointPrompt]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from ..exemplars import ExemplarSet

        session = self._session(image)
        clicked = session.exemplars(prompts)
        missing = [c for c in clicked.categories if c not in self.class_embeddings]
        if missing:
            raise PromptError(f"the supervised baseline knows only {sorted(self.class_embeddings)}, not {missing}")
        def learned_at(taken: ExemplarSet) -> ExemplarSet:  # the learned vectors at the factors the clicks chose
            return ExemplarSet({c: self.class_embeddings[c][None].astype(np.float32) for c in taken.categories},
                               dict(taken.scales), taken.model_id, dict(taken.sizes_px))

        learned = learned_at(clicked)
        learned.bracket = tuple(learned_at(b) for b in clicked.bracket)
        result = session.detect_with_exemplars(learned, score_threshold=self.score_threshold)
        return result.boxes_px, result.scores, result.categories


def _keep(categories: np.ndarray, wanted: Sequence[str]) -> np.ndarray:
    return np.isin(np.asarray(categories, dtype=str), list(wanted))


def _summary(metrics: dict) -> dict:
    return {k: metrics[k] for k in ("AP", "AP50", "AP75", "count_mae", "count_rel", "n_images", "n_gt", "n_pred")}


def run_eval(detector: Detector, records: Sequence[ImageRecord], setting: int, seed: int = 0, jitter: float = 0.0,
             max_images: int | None = None, progress: Callable[[float, str], None] | None = None,
             count_threshold: float = 0.3, more_count_thresholds: Sequence[float] = ()) -> dict:
    """Prompt, detect and score every record (the first ``max_images``) under one prompt setting.

    Prompts for image i come from ``numpy.random.default_rng([seed, i])``, so every method
    sees the same clicks. Images without objects get no prompts and are skipped. Under the
    single-category settings (3, 4), ground truth and detections are restricted to the
    prompted category.

    ``more_count_thresholds``: the count error is also reported at these scores
    (``count_mae_by_threshold``, with ``count_threshold``'s): how a model's counting threshold is chosen.

    Returns :func:`evaluate_detections`'s dict plus ``setting``, ``seed``, ``jitter``,
    ``images_skipped``, ``seconds_per_image`` (detector time) and ``per_dataset`` (summary
    scores per dataset).
    """
    records = list(records)[:max_images]
    gt, preds, scored, datasets = [], [], [], []
    seconds, skipped = 0.0, 0
    for i, record in enumerate(records):
        if progress is not None:
            progress(i / len(records), f"image {i + 1}/{len(records)}")
        prompting = make_prompts(record, setting, np.random.default_rng([seed, i]), jitter)
        if not prompting.prompts:
            skipped += 1
            continue
        image = read_image(record)
        start = time.perf_counter()
        boxes, scores, cats = detector.detect(image, prompting.prompts)
        seconds += time.perf_counter() - start
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        scores, cats = np.asarray(scores, np.float64).reshape(-1), np.asarray(cats, dtype=str).reshape(-1)
        gt_boxes, gt_cats = record.boxes_px, record.categories
        if setting in SINGLE_CATEGORY_SETTINGS:
            keep_gt, keep_pred = _keep(gt_cats, prompting.categories), _keep(cats, prompting.categories)
            gt_boxes, gt_cats = gt_boxes[keep_gt], gt_cats[keep_gt]
            boxes, scores, cats = boxes[keep_pred], scores[keep_pred], cats[keep_pred]
        gt.append((gt_boxes, gt_cats))
        preds.append((boxes, scores, cats))
        scored.append(prompting.categories)
        datasets.append(record.dataset)
    if progress is not None:
        progress(1.0, f"{len(records)} images")

    categories = sorted({c for _, cats in gt for c in cats.tolist()})
    metrics = evaluate_detections(gt, preds, categories, count_threshold=count_threshold, scored=scored)
    metrics["count_mae_by_threshold"] = {f"{t:g}": count_mae(gt, preds, categories, t, scored)
                                         for t in dict.fromkeys([count_threshold, *more_count_thresholds])}
    per_dataset = {}
    for name in sorted(set(datasets)):
        idx = [k for k, d in enumerate(datasets) if d == name]
        sub = evaluate_detections([gt[k] for k in idx], [preds[k] for k in idx], categories,
                                  count_threshold=count_threshold, scored=[scored[k] for k in idx])
        per_dataset[name] = _summary(sub)
    metrics.update(setting=setting, seed=seed, jitter=jitter, images_skipped=skipped,
                   seconds_per_image=seconds / max(len(gt), 1), per_dataset=per_dataset)
    return metrics


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_table(results: dict[str, dict]) -> str:
    """A markdown table: one row per method and prompt setting.

    Args:
        results: ``{method: {setting: metrics from run_eval}}``.

    AP values are percentages (as in the paper); count MAE is objects per image.
    """
    categories = sorted({c for per_setting in results.values() for m in per_setting.values()
                         for c, v in m["per_category"].items() if v["AP50"] is not None})
    header = (["method", "setting", "AP", "AP50", "AP75"] + [f"AP50 {c}" for c in categories]
              + [f"AP {b}" for b in SIZE_BINS] + ["count MAE", "count rel", "images"])
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for method, per_setting in results.items():
        for setting, m in per_setting.items():
            row = [method, str(setting), _pct(m["AP"]), _pct(m["AP50"]), _pct(m["AP75"])]
            row += [_pct(m["per_category"].get(c, {}).get("AP50")) for c in categories]
            row += [_pct(m["AP_size"][b]) for b in SIZE_BINS]
            row += [_num(m["count_mae"]), _num(m["count_rel"]), str(m["n_images"])]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _pixel_size(georef) -> np.ndarray:
    """(px_w, px_h, px_w, px_h) in map units, to divide xyxy map bounds by."""
    _, a, b, _, d, e = georef.geotransform
    return np.asarray([math.hypot(a, d), math.hypot(b, e)] * 2)


def _map_boxes_px_units(boxes_px: np.ndarray, georef) -> np.ndarray:
    """Scene-pixel boxes -> map-coordinate bounds, expressed in pixel-sized map units."""
    cols = boxes_px[:, [0, 2, 2, 0]]
    rows = boxes_px[:, [1, 1, 3, 3]]
    xs, ys = georef.to_map(cols, rows)
    bounds = np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], 1) if len(boxes_px) else np.zeros((0, 4))
    return bounds / _pixel_size(georef)


def _truth_boxes(truth_vector_path: str | Path, georef, width: int, height: int, category_field: str,
                 where: str | None) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of the truth polygons (in the scene's CRS) whose centre lies on the scene, and their categories."""
    import pyogrio
    import shapely

    from ..crs import reproject_xy

    meta, _, wkb, fields = pyogrio.raw.read(truth_vector_path, where=where)
    names = list(meta["fields"])
    if category_field not in names:
        raise ValueError(f"{truth_vector_path} has no field {category_field!r} (fields: {', '.join(names)})")
    geoms = shapely.from_wkb(wkb)
    cats = np.asarray(fields[names.index(category_field)], dtype=str)
    if meta.get("crs") and georef.crs_wkt:
        geoms = shapely.transform(geoms, lambda xy: np.stack(reproject_xy(xy[:, 0], xy[:, 1], meta["crs"],
                                                                          georef.crs_wkt), 1))
    bounds = shapely.bounds(geoms).reshape(-1, 4)
    col, row = georef.to_pixel((bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2)
    inside = (col >= 0) & (col < width) & (row >= 0) & (row < height)
    return bounds[inside] / _pixel_size(georef), cats[inside]


def evaluate_scene(scene_path: str | Path, truth_vector_path: str | Path, prompts: list[PointPrompt], model,
                   category_field: str = "category", where: str | None = None,
                   score_threshold: float = EVAL_SCORE_THRESHOLD, count_threshold: float = 0.3) -> dict:
    """Run the whole pipeline on a georeferenced scene and score it in map coordinates.

    The scene is read with :class:`engine.io.rasterio_source.RasterioSource`, detected with a
    :class:`engine.session.Session`; predicted boxes go to map coordinates through the
    result's georeference and are compared with the bounds of the truth polygons (reprojected
    to the scene's CRS when needed; only those centred on the scene count; ``where`` filters
    features with an OGR SQL expression). Map lengths are divided by the pixel size so the size
    bins stay in pixels. Only the prompted categories are scored.

    Returns :func:`evaluate_detections`'s dict plus ``seconds`` and the result's ``stats``.
    """
    from ..io.rasterio_source import RasterioSource
    from ..prompts import group_by_category
    from ..session import Session

    source = RasterioSource(scene_path)
    start = time.perf_counter()
    result = Session(source, model).detect(prompts, score_threshold=score_threshold)
    seconds = time.perf_counter() - start
    categories = list(group_by_category(prompts))
    pred_boxes = _map_boxes_px_units(np.asarray(result.boxes_px, np.float64).reshape(-1, 4), result.georef)
    gt_boxes, gt_cats = _truth_boxes(truth_vector_path, result.georef, source.width, source.height,
                                     category_field, where)
    # a whole scene is one "image" holding thousands of objects: score every detection, not COCO's first N
    metrics = evaluate_detections([(gt_boxes, gt_cats)], [(pred_boxes, result.scores, result.categories)],
                                  categories, count_threshold=count_threshold, max_dets=max(1000, len(result)))
    metrics.update(seconds=seconds, stats=dict(result.stats))
    return metrics
