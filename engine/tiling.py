"""Cutting a scene into overlapping square tiles whose cores partition it.

Everything here is in SCENE pixels. Tile windows are always ``tile_px`` square; tiles at
the right and bottom edges reach past the raster (the raster source fills the outside
with invalid zeros) so no part of the scene is dropped and no tile is resized. Each tile
also owns a *core*: cores split the scene exactly, with boundaries in the middle of
each overlap, so a detection is reported by the tile whose core holds its centre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from .raster_source import Window


@dataclass(frozen=True)
class Tile:
    """One tile: ``window`` is what gets read (may reach past the scene), ``core`` is the
    part of the scene this tile is responsible for (always inside the scene and the window)."""

    index: int
    window: Window
    core: Window


def _core_bounds(n: int, extent: int, stride: int, overlap: int) -> np.ndarray:
    """Core boundaries along one axis: ``n + 1`` increasing offsets from 0 to ``extent``."""
    inner = (np.arange(1, n) * stride + overlap // 2).astype(np.int64)
    return np.concatenate([[0], inner, [extent]])


class TileGrid:
    """A row-major grid of ``tile_px`` square tiles overlapping by ``overlap_px``.

    Tile ``(tile_row, tile_col)`` has window offset ``(tile_col * stride, tile_row * stride)``
    with ``stride = tile_px - overlap_px``; a raster smaller than one tile gets one tile.
    """

    def __init__(self, width: int, height: int, tile_px: int, overlap_px: int):
        if width < 1 or height < 1:
            raise ValueError(f"The raster has no pixels ({width} x {height}); choose a raster with data.")
        if tile_px < 1:
            raise ValueError(f"Tile size must be at least 1 pixel, got {tile_px}.")
        if overlap_px < 0:
            raise ValueError(f"Tile overlap cannot be negative, got {overlap_px}.")
        if 2 * overlap_px >= tile_px:
            raise ValueError(
                f"Tile overlap ({overlap_px} px) must be less than half the tile size ({tile_px} px); "
                "use a smaller overlap or larger tiles.")
        self.width = int(width)
        self.height = int(height)
        self.tile_px = int(tile_px)
        self.overlap_px = int(overlap_px)
        self.stride = self.tile_px - self.overlap_px
        self.n_cols = self._count(self.width)
        self.n_rows = self._count(self.height)
        self._col_bounds = _core_bounds(self.n_cols, self.width, self.stride, self.overlap_px)
        self._row_bounds = _core_bounds(self.n_rows, self.height, self.stride, self.overlap_px)

    def _count(self, extent: int) -> int:
        if extent <= self.tile_px:
            return 1
        return math.ceil((extent - self.overlap_px) / self.stride)

    def __len__(self) -> int:
        return self.n_cols * self.n_rows

    def __iter__(self) -> Iterator[Tile]:
        for i in range(len(self)):
            yield self[i]

    def __getitem__(self, index: int) -> Tile:
        if not 0 <= index < len(self):
            raise IndexError(f"tile index {index} out of range 0..{len(self) - 1}")
        tile_row, tile_col = divmod(index, self.n_cols)
        window = Window(tile_col * self.stride, tile_row * self.stride, self.tile_px, self.tile_px)
        c0, c1 = self._col_bounds[tile_col], self._col_bounds[tile_col + 1]
        r0, r1 = self._row_bounds[tile_row], self._row_bounds[tile_row + 1]
        core = Window(int(c0), int(r0), int(c1 - c0), int(r1 - r0))
        return Tile(index, window, core)

    def tile_for_point(self, col_px: float, row_px: float) -> Tile:
        """The tile whose core holds the scene point ``(col_px, row_px)``."""
        if not (0 <= col_px < self.width and 0 <= row_px < self.height):
            raise ValueError(
                f"Point ({col_px}, {row_px}) lies outside the raster (0..{self.width}, 0..{self.height}).")
        tile_col = int(np.searchsorted(self._col_bounds, col_px, side="right")) - 1
        tile_row = int(np.searchsorted(self._row_bounds, row_px, side="right")) - 1
        return self[tile_row * self.n_cols + tile_col]

    def tiles_intersecting(self, window: Window) -> list[Tile]:
        """Tiles whose window shares at least one pixel with ``window``, in row-major order."""
        col0 = max(window.col_off, 0)
        row0 = max(window.row_off, 0)
        col1 = min(window.col_end, (self.n_cols - 1) * self.stride + self.tile_px)
        row1 = min(window.row_end, (self.n_rows - 1) * self.stride + self.tile_px)
        if col1 <= col0 or row1 <= row0:
            return []
        first_col, last_col = self._tile_range(col0, col1, self.n_cols)
        first_row, last_row = self._tile_range(row0, row1, self.n_rows)
        return [self[r * self.n_cols + c]
                for r in range(first_row, last_row + 1) for c in range(first_col, last_col + 1)]

    def _tile_range(self, start: int, end: int, n: int) -> tuple[int, int]:
        """Indices of the first and last tile along one axis whose span meets [start, end)."""
        # tile k spans [k*stride, k*stride + tile_px): it meets [start, end) iff
        # k*stride < end and k*stride + tile_px > start
        first = max(0, (start - self.tile_px) // self.stride + 1)
        last = min(n - 1, (end - 1) // self.stride)
        return first, last

    def internal_edges(self, tile: Tile) -> tuple[bool, bool, bool, bool]:
        """Which window edges (left, top, right, bottom) lie inside the scene, i.e. face a neighbour."""
        w = tile.window
        return w.col_off > 0, w.row_off > 0, w.col_end < self.width, w.row_end < self.height

    def __repr__(self) -> str:
        return (f"TileGrid({self.width}x{self.height} px, tile {self.tile_px}, overlap {self.overlap_px}: "
                f"{self.n_cols}x{self.n_rows} tiles)")
