"""TileGrid: full-size windows, cores that partition the scene, point and window look-ups."""

import numpy as np
import pytest

from engine.raster_source import Window
from engine.tiling import TileGrid


def _coverage(grid: TileGrid, attr: str) -> np.ndarray:
    counts = np.zeros((grid.height, grid.width), np.int32)
    for tile in grid:
        w = getattr(tile, attr)
        counts[max(w.row_off, 0):w.row_end, max(w.col_off, 0):w.col_end] += 1
    return counts


@pytest.mark.parametrize("width,height,tile_px,overlap_px", [
    (1000, 700, 256, 64), (256, 256, 256, 32), (257, 100, 256, 32), (50, 30, 256, 64),
    (1025, 1024, 512, 0), (999, 1001, 100, 49),
])
def test_cores_partition_scene_and_windows_are_full_size(width, height, tile_px, overlap_px):
    grid = TileGrid(width, height, tile_px, overlap_px)
    assert np.all(_coverage(grid, "core") == 1)
    assert np.all(_coverage(grid, "window") >= 1)
    for tile in grid:
        w, c = tile.window, tile.core
        assert (w.width, w.height) == (tile_px, tile_px)
        assert w.col_off <= c.col_off and c.col_end <= w.col_end
        assert w.row_off <= c.row_off and c.row_end <= w.row_end
        assert c.width > 0 and c.height > 0
        # no tile lies wholly outside the scene
        assert w.col_off < width and w.row_off < height
    assert [t.index for t in grid] == list(range(len(grid)))


def test_small_raster_gives_one_tile():
    grid = TileGrid(50, 30, 256, 64)
    assert len(grid) == 1
    tile = grid[0]
    assert tile.window == Window(0, 0, 256, 256)
    assert tile.core == Window(0, 0, 50, 30)


def test_layout_row_major_with_core_boundaries_mid_overlap():
    grid = TileGrid(1000, 700, 256, 64)  # stride 192
    assert (grid.n_cols, grid.n_rows) == (5, 4)
    assert len(grid) == 20
    t = grid[6]  # row 1, col 1
    assert t.window == Window(192, 192, 256, 256)
    # the overlap of tiles 0 and 1 is [192, 256): its middle is 224
    assert grid[0].core.col_end == 224 and grid[1].core.col_off == 224
    assert t.core == Window(224, 224, 192, 192)
    assert grid[4].window.col_end > 1000  # padded edge tile
    assert grid[4].core.col_end == 1000


def test_tile_for_point_returns_core_owner():
    grid = TileGrid(1000, 700, 256, 64)
    rng = np.random.default_rng(0)
    for col, row in rng.uniform([0, 0], [1000, 700], size=(200, 2)):
        tile = grid.tile_for_point(col, row)
        c = tile.core
        assert c.col_off <= col < c.col_end and c.row_off <= row < c.row_end
    assert grid.tile_for_point(223.9, 0).index == 0
    assert grid.tile_for_point(224.0, 0).index == 1
    assert grid.tile_for_point(999.5, 699.5).index == len(grid) - 1
    with pytest.raises(ValueError, match="outside the raster"):
        grid.tile_for_point(1000, 5)
    with pytest.raises(ValueError, match="outside the raster"):
        grid.tile_for_point(-0.1, 5)


def test_tiles_intersecting_matches_brute_force():
    grid = TileGrid(1000, 700, 256, 64)
    rng = np.random.default_rng(1)
    windows = [Window(int(c), int(r), int(w), int(h)) for c, r, w, h in
               zip(rng.integers(-100, 1000, 60), rng.integers(-100, 700, 60),
                   rng.integers(1, 400, 60), rng.integers(1, 400, 60))]
    windows.append(Window(2000, 0, 10, 10))
    for win in windows:
        expected = [t.index for t in grid
                    if t.window.col_off < win.col_end and win.col_off < t.window.col_end
                    and t.window.row_off < win.row_end and win.row_off < t.window.row_end]
        assert [t.index for t in grid.tiles_intersecting(win)] == expected


def test_internal_edges():
    grid = TileGrid(1000, 700, 256, 64)
    assert grid.internal_edges(grid[0]) == (False, False, True, True)
    assert grid.internal_edges(grid[6]) == (True, True, True, True)
    assert grid.internal_edges(grid[len(grid) - 1]) == (True, True, False, False)
    small = TileGrid(50, 30, 256, 64)
    assert small.internal_edges(small[0]) == (False, False, False, False)


@pytest.mark.parametrize("args,message", [
    ((100, 100, 256, 128), "less than half"),
    ((100, 100, 256, -1), "negative"),
    ((100, 100, 0, 0), "at least 1"),
    ((0, 100, 256, 32), "no pixels"),
])
def test_invalid_parameters_raise_clear_errors(args, message):
    with pytest.raises(ValueError, match=message):
        TileGrid(*args)
