"""Density stitching: smooth blending across overlaps, right cell and map position, right grid."""

import math

import numpy as np
import pytest

from engine.density_stitch import DensityAccumulator
from engine.georef import GeoReference
from engine.raster_source import Window
from engine.tiling import TileGrid

GEOREF = GeoReference((500000.0, 0.5, 0.0, 5500000.0, 0.0, -0.5), "EPSG:32633 (wkt stand-in)")


def _blob_density(window: Window, h: int, w: int, x_px: float, y_px: float, sigma: float) -> np.ndarray:
    """A Gaussian at scene point (x_px, y_px), sampled at the centres of a (h, w) density grid over window."""
    xs = window.col_off + (np.arange(w) + 0.5) * window.width / w
    ys = window.row_off + (np.arange(h) + 0.5) * window.height / h
    return np.exp(-((xs[None, :] - x_px) ** 2 + (ys[:, None] - y_px) ** 2) / (2 * sigma ** 2))[None].astype(np.float32)


@pytest.mark.parametrize("cell_px,stride", [(8, 4), (16, 4), (5, 8)])
def test_constant_density_stays_constant_across_overlaps(cell_px, stride):
    grid = TileGrid(700, 450, 256, 64)
    acc = DensityAccumulator(700, 450, cell_px, ["car", "ship"], GEOREF)
    for tile in grid:
        d = np.empty((2, 256 // stride, 256 // stride), np.float32)
        d[0], d[1] = 0.3, 0.7
        acc.add(tile.window, d)
    dm = acc.result()
    assert dm.values.shape == (2, math.ceil(450 / cell_px), math.ceil(700 / cell_px))
    np.testing.assert_allclose(dm.values[0], 0.3, rtol=1e-5)
    np.testing.assert_allclose(dm.values[1], 0.7, rtol=1e-5)


def test_blend_is_smooth_where_tiles_disagree():
    """Two tiles with different constant values: the map goes from one to the other without jumps."""
    acc = DensityAccumulator(448, 64, 4, ["car"], GEOREF)
    acc.add(Window(0, 0, 256, 256), np.full((1, 64, 64), 1.0, np.float32))
    acc.add(Window(192, 0, 256, 256), np.full((1, 64, 64), 0.0, np.float32))
    row = acc.result().values[0, 0]
    assert row[0] == pytest.approx(1.0) and row[-1] == pytest.approx(0.0)
    steps = np.abs(np.diff(row))
    assert steps.max() < 0.1  # a hard seam would jump by 1.0
    assert np.all(np.diff(row) <= 1e-6)  # monotone fade


def test_blob_lands_at_right_cell_and_map_coordinate():
    width, height, cell = 900, 640, 8
    x_px, y_px = 503.0, 221.0  # inside the overlap of two tile columns
    grid = TileGrid(width, height, 256, 64)
    acc = DensityAccumulator(width, height, cell, ["car"], GEOREF)
    for tile in grid:
        acc.add(tile.window, _blob_density(tile.window, 64, 64, x_px, y_px, sigma=6.0))
    dm = acc.result()
    row, col = np.unravel_index(np.argmax(dm.values[0]), dm.values[0].shape)
    assert (row, col) == (int(y_px // cell), int(x_px // cell))
    x_map, y_map = dm.georef.to_map(col + 0.5, row + 0.5)
    want_x, want_y = GEOREF.to_map(x_px, y_px)
    assert abs(x_map - want_x) <= cell * 0.5 / 2 + 1e-9
    assert abs(y_map - want_y) <= cell * 0.5 / 2 + 1e-9
    # everywhere, the stitched map follows the true blob at the cell centres
    xs = (np.arange(dm.values.shape[2]) + 0.5) * cell
    ys = (np.arange(dm.values.shape[1]) + 0.5) * cell
    truth = np.exp(-((xs[None, :] - x_px) ** 2 + (ys[:, None] - y_px) ** 2) / (2 * 6.0 ** 2))
    np.testing.assert_allclose(dm.values[0], truth, atol=0.12)


def test_grid_size_georef_and_single_padded_tile():
    width, height, cell = 100, 70, 8
    acc = DensityAccumulator(width, height, cell, ["a"], GEOREF)
    ramp = np.linspace(0, 1, 64, dtype=np.float32)[None, None, :].repeat(64, axis=1)
    acc.add(Window(0, 0, 128, 128), ramp)  # one tile reaching past the scene
    dm = acc.result()
    assert dm.values.shape == (1, 9, 13)
    assert dm.values.dtype == np.float32
    assert dm.cell_px == cell and dm.categories == ["a"]
    assert dm.georef.geotransform == (500000.0, 4.0, 0.0, 5500000.0, 0.0, -4.0)
    assert dm.georef.crs_wkt == GEOREF.crs_wkt
    # the value of each cell is the ramp at the cell centre; weights are > 0 everywhere
    centres = (np.arange(13) * cell + np.minimum(np.arange(13) * cell + cell, width)) / 2
    np.testing.assert_allclose(dm.values[0, 0], np.clip(centres / 2 - 0.5, 0, 63) / 63, atol=1e-5)
    assert np.all(acc._weight > 0)


def test_channels_and_uncovered_cells():
    acc = DensityAccumulator(64, 64, 4, ["car", "ship"], None)
    acc.add(Window(0, 0, 32, 32), np.full((1, 8, 8), 0.5, np.float32), channels=[1])
    dm = acc.result()
    assert np.all(dm.values[0] == 0)
    assert np.allclose(dm.values[1, :8, :8], 0.5) and np.all(dm.values[1, 8:, :] == 0)
    assert dm.georef.geotransform == (0.0, 4.0, 0.0, 0.0, 0.0, 4.0)
    with pytest.raises(ValueError, match="channels"):
        acc.add(Window(0, 0, 32, 32), np.zeros((2, 8, 8), np.float32), channels=[0])
