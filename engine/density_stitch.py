"""Stitching per-tile density maps into one scene-wide map on a coarse grid.

Tiles overlap, and the model sees less context near a tile's edge, so each tile's
contribution is weighted by a ramp that falls towards its edges; overlaps then blend
smoothly. Only the coarse output grid is held in memory.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .georef import GeoReference
from .raster_source import Window
from .results import DensityMap

# weight of a cell right at a window edge; > 0 so the scene's own edges, seen by one
# tile only, still get a value
_MIN_WEIGHT = 1e-3


def _axis_sampling(n_cells: int, cell_px: int, extent: int, off: int, length: int, n_src: int,
                   ramp_fraction: float):
    """Along one axis: which output cells a window covers, where to sample the source, and the ramp.

    Each cell is sampled at the centre of its part inside the scene, so the last, partial
    cell is sampled inside the scene too.

    Returns:
        ``(cells, i0, i1, frac, weight)``: output cell indices covered, the two source
        indices to interpolate between, the interpolation fraction and the ramp weight.
    """
    starts = np.arange(n_cells, dtype=np.float64) * cell_px
    centres = (starts + np.minimum(starts + cell_px, extent)) / 2
    cells = np.flatnonzero((centres >= off) & (centres < off + length))
    pos = centres[cells] - off
    src = np.clip(pos * n_src / length - 0.5, 0, n_src - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_src - 1)
    u = pos / length
    weight = np.clip(np.minimum(u, 1 - u) / ramp_fraction, _MIN_WEIGHT, 1.0)
    return cells, i0, i1, src - i0, weight


class DensityAccumulator:
    """Weighted average of tile density maps on a grid of ``cell_px`` scene-pixel cells.

    Cell ``(i, j)`` covers scene columns ``[j*cell_px, (j+1)*cell_px)``, rows likewise, so the
    grid is aligned to the scene's origin. Memory: two ``(K, ceil(H/cell), ceil(W/cell))``
    float32 arrays (weighted sum and weight; weights are per category because categories
    may be detected with different tilings).
    """

    def __init__(self, scene_width: int, scene_height: int, cell_px: int, categories: list[str],
                 georef: GeoReference | None, ramp_fraction: float = 0.25):
        if cell_px < 1:
            raise ValueError(f"Density cell size must be at least 1 pixel, got {cell_px}.")
        if not 0 < ramp_fraction <= 0.5:
            raise ValueError(f"ramp_fraction must be in (0, 0.5], got {ramp_fraction}.")
        self.scene_width = int(scene_width)
        self.scene_height = int(scene_height)
        self.cell_px = int(cell_px)
        self.categories = list(categories)
        self.georef = georef if georef is not None else GeoReference.identity()
        self.ramp_fraction = ramp_fraction
        shape = (len(self.categories), math.ceil(self.scene_height / cell_px), math.ceil(self.scene_width / cell_px))
        self._sum = np.zeros(shape, np.float32)
        self._weight = np.zeros(shape, np.float32)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(K, rows, cols)`` of the output grid."""
        return self._sum.shape

    def add(self, window: Window, density: np.ndarray, channels: Sequence[int] | None = None) -> None:
        """Blend one tile's density in.

        Args:
            window: the tile's window in scene pixels (may reach past the scene).
            density: float ``(k, h, w)`` covering ``window`` uniformly (pixel ``(r, c)`` covers
                ``window.width / w`` scene pixels per column step, likewise rows).
            channels: the output category index of each of the k bands; all K in order if None.
        """
        density = np.asarray(density, dtype=np.float32)
        if density.ndim != 3:
            raise ValueError(f"density must be (k, h, w), got shape {density.shape}")
        channels = list(range(self.shape[0])) if channels is None else list(channels)
        if len(channels) != density.shape[0]:
            raise ValueError(f"{density.shape[0]} density bands but {len(channels)} channels given")
        _, n_rows, n_cols = self.shape
        rows, r0, r1, fy, wy = _axis_sampling(n_rows, self.cell_px, self.scene_height, window.row_off,
                                              window.height, density.shape[1], self.ramp_fraction)
        cols, c0, c1, fx, wx = _axis_sampling(n_cols, self.cell_px, self.scene_width, window.col_off,
                                              window.width, density.shape[2], self.ramp_fraction)
        if rows.size == 0 or cols.size == 0:
            return
        fx = fx.astype(np.float32)[None, None, :]
        fy = fy.astype(np.float32)[None, :, None]
        top = density[:, r0]
        bottom = density[:, r1]
        top = top[:, :, c0] * (1 - fx) + top[:, :, c1] * fx
        bottom = bottom[:, :, c0] * (1 - fx) + bottom[:, :, c1] * fx
        values = top * (1 - fy) + bottom * fy
        weight = (wy[:, None] * wx[None, :]).astype(np.float32)
        rs, cs = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)
        for band, ch in enumerate(channels):
            self._sum[ch, rs, cs] += values[band] * weight
            self._weight[ch, rs, cs] += weight

    def result(self) -> DensityMap:
        """The blended map: weighted mean where any tile contributed, 0 elsewhere."""
        values = np.divide(self._sum, self._weight, out=np.zeros_like(self._sum), where=self._weight > 0)
        return DensityMap(values=values, categories=list(self.categories), cell_px=self.cell_px,
                          georef=self.georef.scaled(self.cell_px))
