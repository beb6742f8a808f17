"""Training crops: images resampled to a canonical object size, category-balanced sampling, mosaics.

Each image is resampled once so its median object measures ``target_px`` (the size the model
works at; the engine resamples scenes the same way at inference), then crops are cut with a
scale jitter around it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from .augment import augment
from .datasets import ImageRecord, read_image


@dataclass
class CanonicalImage:
    image: np.ndarray  # uint8 (H, W, 3)
    boxes: np.ndarray  # float32 (n, 4) xyxy
    categories: np.ndarray  # (n,) str
    dataset: str
    negatives: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))  # hard-negative centres (x, y)


def canonical_scale(record: ImageRecord, target_px: float, lo: float = 0.2, hi: float = 3.0) -> float:
    """Factor that brings the image's median object size (sqrt(w*h)) to ``target_px``."""
    wh = record.boxes_px[:, 2:] - record.boxes_px[:, :2]
    size = float(np.median(np.sqrt(np.maximum(wh[:, 0] * wh[:, 1], 1.0)))) if len(wh) else target_px
    return float(np.clip(target_px / size, lo, hi))


def load_canonical(record: ImageRecord, target_px: float, cache_dir: Path | None) -> CanonicalImage:
    """The record's image resampled to the canonical scale (cached as .npy when ``cache_dir`` is set)."""
    s = canonical_scale(record, target_px)
    w, h = max(1, round(record.width * s)), max(1, round(record.height * s))
    key = hashlib.sha1(f"{record.path}|{w}x{h}".encode()).hexdigest()[:20]
    cached = cache_dir / f"{key}.npy" if cache_dir else None
    if cached and cached.exists():
        image = np.load(cached)
    else:
        image = np.asarray(Image.fromarray(read_image(record)).resize((w, h), Image.BILINEAR if s > 1 else Image.BOX))
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp.npy")
            np.save(tmp, image)
            tmp.replace(cached)
    sx, sy = w / record.width, h / record.height
    boxes = record.boxes_px.astype(np.float32) * np.array([sx, sy, sx, sy], np.float32)
    return CanonicalImage(image, boxes, np.asarray(record.categories), record.dataset)


def sampling_group(categories: np.ndarray) -> str:
    """The sampler's group of an image: its category when it holds one, else ``mixed``."""
    kinds = np.unique(categories)
    return str(kinds[0]) if len(kinds) == 1 else "mixed"


class CropSampler:
    """Draws training crops ``(image uint8 (S,S,3), boxes (n,4) xyxy, categories (n,))``.

    Datasets are drawn so that each category gets an equal share; within a category, datasets
    by the square root of their object count; images by the square root of theirs.
    ``category_weights`` and ``dataset_weights`` (name -> factor, default 1) scale those shares:
    ``{"ship": 2}`` draws ship images twice as often as each other category's.
    """

    def __init__(self, images: list[CanonicalImage], crop: int = 320, scale_jitter: tuple[float, float] = (0.6, 1.6),
                 mosaic_prob: float = 0.4, negative_prob: float = 0.0,
                 category_weights: dict[str, float] | None = None, dataset_weights: dict[str, float] | None = None):
        self.images = [im for im in images if len(im.boxes)]
        self.crop = crop
        self.negative_prob = negative_prob  # share of an image's crops centred on one of its hard negatives
        self.scale_jitter = scale_jitter
        self.mosaic_prob = mosaic_prob
        by_cat: dict[str, dict[str, list[int]]] = {}
        for i, im in enumerate(self.images):
            by_cat.setdefault(sampling_group(im.categories), {}).setdefault(im.dataset, []).append(i)
        category_weights, dataset_weights = category_weights or {}, dataset_weights or {}
        self.plan = []  # per category: [(dataset weight, image indices, image weights)]
        cat_w = []
        for cat, datasets in sorted(by_cat.items()):
            entries = []
            for name, idx in sorted(datasets.items()):
                counts = np.array([len(self.images[i].boxes) for i in idx], float)
                entries.append((np.sqrt(counts.sum()) * dataset_weights.get(name, 1.0), idx, np.sqrt(counts) / np.sqrt(counts).sum()))
            self.plan.append(entries)
            cat_w.append(category_weights.get(cat, 1.0))
        # equal shares keep the plain uniform draw (the random stream of runs made before the weights existed)
        self.category_p = None if len(set(cat_w)) <= 1 else np.array(cat_w) / sum(cat_w)

    def share(self) -> dict[str, float]:
        """Expected share of the drawn crops per dataset (before mosaics mix them)."""
        cp = self.category_p if self.category_p is not None else np.full(len(self.plan), 1 / max(len(self.plan), 1))
        out: dict[str, float] = {}
        for pc, entries in zip(cp, self.plan):
            dw = np.array([e[0] for e in entries])
            for w, (_, idx, _) in zip(dw / dw.sum(), entries):
                name = self.images[idx[0]].dataset
                out[name] = out.get(name, 0.0) + float(pc * w)
        return out

    def _pick(self, rng: np.random.Generator) -> CanonicalImage:
        k = rng.integers(len(self.plan)) if self.category_p is None else rng.choice(len(self.plan), p=self.category_p)
        entries = self.plan[k]
        dw = np.array([e[0] for e in entries])
        _, idx, iw = entries[rng.choice(len(entries), p=dw / dw.sum())]
        return self.images[idx[rng.choice(len(idx), p=iw)]]

    def _crop(self, rng: np.random.Generator, size: int):
        im = self._pick(rng)
        s = float(np.exp(rng.uniform(*np.log(self.scale_jitter))))
        span = size / s
        if self.negative_prob > 0 and len(im.negatives) and rng.random() < self.negative_prob:
            c = im.negatives[rng.integers(len(im.negatives))] + rng.uniform(-0.25, 0.25, 2) * span
        else:
            centre_obj = im.boxes[rng.integers(len(im.boxes))]
            c = (centre_obj[:2] + centre_obj[2:]) / 2 + rng.uniform(-0.4, 0.4, 2) * span
        x0, y0 = c - span / 2
        region = (x0, y0, x0 + span, y0 + span)
        pil = Image.fromarray(im.image).transform((size, size), Image.EXTENT, region, Image.BILINEAR)
        b = (im.boxes - np.array([x0, y0, x0, y0], np.float32)) * s
        clipped = np.clip(b, 0, size)
        area = np.prod(np.maximum(b[:, 2:] - b[:, :2], 1e-3), 1)
        vis = np.prod(np.maximum(clipped[:, 2:] - clipped[:, :2], 0), 1) / area
        keep = (vis >= 0.5) & (np.min(clipped[:, 2:] - clipped[:, :2], 1) >= 2)
        return np.asarray(pil), clipped[keep], im.categories[keep]

    def sample(self, rng: np.random.Generator):
        """One augmented crop with at least one object."""
        for _ in range(20):
            if rng.random() < self.mosaic_prob:
                image, boxes, cats = self._mosaic(rng)
            else:
                image, boxes, cats = self._crop(rng, self.crop)
            if len(boxes):
                return augment(image, boxes, cats, rng)
        return augment(image, boxes, cats, rng)

    def _mosaic(self, rng: np.random.Generator):
        half = self.crop // 2
        canvas = np.zeros((self.crop, self.crop, 3), np.uint8)
        all_boxes, all_cats = [], []
        for qi in range(4):
            img, boxes, cats = self._crop(rng, half)
            oy, ox = (qi // 2) * half, (qi % 2) * half
            canvas[oy:oy + half, ox:ox + half] = img
            all_boxes.append(boxes + np.array([ox, oy, ox, oy], np.float32))
            all_cats.append(cats)
        return canvas, np.concatenate(all_boxes), np.concatenate(all_cats)
