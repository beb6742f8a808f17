"""What a detection run returns: boxes, scores, categories, counts and the density map."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .georef import GeoReference


@dataclass
class DensityMap:
    """Per-category object density on a coarse grid aligned to the scene's pixel grid.

    Attributes:
        values: float32 ``(K, h, w)``, one band per category, the model's density (object
            likelihood, 0..1) blended across tile overlaps.
        categories: the K category names, in band order.
        cell_px: size of one density cell in scene pixels (cell (i, j) covers scene pixels
            cols [j*cell_px, (j+1)*cell_px), rows likewise).
        georef: georeference of the density grid (the scene's, scaled by ``cell_px``).
    """

    values: np.ndarray
    categories: list[str]
    cell_px: int
    georef: GeoReference


@dataclass
class DetectionResult:
    """Every object found in a scene.

    Attributes:
        boxes_px: float64 ``(N, 4)`` axis-aligned boxes ``(col0, row0, col1, row1)`` in scene pixels.
        scores: float32 ``(N,)`` confidence in [0, 1].
        categories: ``(N,)`` array of category names (str).
        category_names: every prompted category, in prompt order (also those with 0 detections).
        georef: the scene's georeference (identity when the scene has none).
        density: stitched density map.
        estimated_counts: per category, the integral of the density map (the paper's N = ΣD).
        scales: per category, the resampling factor used (model pixels per scene pixel).
        stats: timings and work counters (``encoder_calls``, ``tiles``, ``cache_hits``, seconds).
    """

    boxes_px: np.ndarray
    scores: np.ndarray
    categories: np.ndarray
    category_names: list[str]
    georef: GeoReference
    density: DensityMap | None = None
    estimated_counts: dict[str, float] = field(default_factory=dict)
    scales: dict[str, float] = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        """Number of detections per prompted category (0 for categories with none)."""
        return {c: int(np.sum(self.categories == c)) for c in self.category_names}

    def __len__(self) -> int:
        return int(self.boxes_px.shape[0])
