"""The paper's four point-prompt settings (DEAL, section VI-A), built from an image's ground truth.

(1) one random instance per category present; (2) every instance; (3) one random category and
one random instance of it; (4) one random category and all of its instances. The click is the
centre of the instance's box, optionally moved by a uniform jitter to mimic a human's aim.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..prompts import PointPrompt
from ..training.datasets import ImageRecord

SETTINGS = (1, 2, 3, 4)
SINGLE_CATEGORY_SETTINGS = (3, 4)


class Prompting(NamedTuple):
    """Clicks for one image and the categories they ask for (in the order first prompted).

    ``indices`` are the ground-truth instances clicked (rows of ``record.boxes_px``).
    """

    prompts: list[PointPrompt]
    categories: list[str]
    indices: np.ndarray


def _pick(record: ImageRecord, setting: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the instances to click, grouped by category in sorted category order."""
    present = sorted(set(record.categories.tolist()))
    by_cat = {c: np.flatnonzero(record.categories == c) for c in present}
    if not present:
        return np.zeros(0, int)
    if setting == 1:
        return np.asarray([rng.choice(by_cat[c]) for c in present], int)
    if setting == 2:
        return np.concatenate([by_cat[c] for c in present])
    chosen = by_cat[present[int(rng.integers(len(present)))]]
    return np.asarray([rng.choice(chosen)], int) if setting == 3 else chosen


def make_prompts(record: ImageRecord, setting: int, rng: np.random.Generator, jitter: float = 0.0) -> Prompting:
    """Clicks for ``record`` under prompt setting 1-4 (an image without objects gets none).

    Each click is its box's centre in image pixels, moved by up to ``jitter * w / 2`` and
    ``jitter * h / 2`` (uniform), then kept inside the image.
    """
    if setting not in SETTINGS:
        raise ValueError(f"prompt setting must be one of {SETTINGS}, not {setting}")
    if jitter < 0:
        raise ValueError("jitter must be >= 0")
    idx = _pick(record, setting, rng)
    boxes = record.boxes_px[idx].astype(np.float64).reshape(-1, 4)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    if jitter > 0 and len(idx):
        half = (boxes[:, 2:] - boxes[:, :2]) / 2 * jitter
        centre = centre + rng.uniform(-1, 1, centre.shape) * half
    eps = 1e-3  # a click on the far edge would fall outside the last pixel
    centre[:, 0] = centre[:, 0].clip(0, record.width - eps)
    centre[:, 1] = centre[:, 1].clip(0, record.height - eps)
    cats = record.categories[idx].tolist()
    prompts = [PointPrompt(float(x), float(y), c) for (x, y), c in zip(centre, cats)]
    return Prompting(prompts, list(dict.fromkeys(cats)), idx)
