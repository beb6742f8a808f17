"""NMS and cross-tile merging: every object once, whole, across vertical, horizontal and corner borders."""

import time

import numpy as np
import pytest

from engine.merge import TileDetections, merge_tile_detections, nms
from engine.tiling import TileGrid


def _reference_nms(boxes, scores, iou_thr, ios_thr=None):
    """Plain O(N^2) greedy NMS to check the fast one against."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    for i in order:
        ok = True
        for k in keep:
            iw = min(boxes[i, 2], boxes[k, 2]) - max(boxes[i, 0], boxes[k, 0])
            ih = min(boxes[i, 3], boxes[k, 3]) - max(boxes[i, 1], boxes[k, 1])
            if iw <= 0 or ih <= 0:
                continue
            inter = iw * ih
            if inter / (area[i] + area[k] - inter) > iou_thr or (
                    ios_thr is not None and inter / min(area[i], area[k]) > ios_thr):
                ok = False
                break
        if ok:
            keep.append(i)
    return np.array(keep, np.int64)


def _random_boxes(rng, n, extent, size):
    xy = rng.uniform(0, extent, size=(n, 2))
    wh = rng.uniform(size / 2, size * 1.5, size=(n, 2))
    return np.hstack([xy, xy + wh])


@pytest.mark.parametrize("ios", [None, 0.8])
def test_nms_matches_reference(ios):
    rng = np.random.default_rng(3)
    boxes = _random_boxes(rng, 600, 300, 20)
    scores = rng.uniform(size=600).round(2)  # rounded: ties are exercised too
    got = nms(boxes, scores, 0.5, ios)
    want = _reference_nms(boxes, scores, 0.5, ios)
    assert 0 < len(want) < 600
    np.testing.assert_array_equal(got, want)


def test_nms_ios_removes_partial_box_inside_whole_one():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 4, 10], [20, 20, 30, 30]], float)
    scores = np.array([0.9, 0.95, 0.5])
    # IoU of the partial and whole box is 0.4: IoU alone keeps both
    assert sorted(nms(boxes, scores, 0.5).tolist()) == [0, 1, 2]
    assert sorted(nms(boxes, scores, 0.5, ios_threshold=0.8).tolist()) == [1, 2]


def test_nms_empty_and_single():
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)
    assert nms(np.array([[1, 1, 2, 2.0]]), np.array([0.3]), 0.5).tolist() == [0]


def test_nms_20k_boxes_is_fast():
    rng = np.random.default_rng(4)
    boxes = _random_boxes(rng, 20000, 20000, 15)
    # a duplicate of every fourth box, slightly shifted, must go
    dup = boxes[::4] + 1.0
    all_boxes = np.vstack([boxes, dup])
    scores = np.concatenate([rng.uniform(0.5, 1, 20000), np.full(len(dup), 0.1)])
    t0 = time.perf_counter()
    keep = nms(all_boxes, scores, 0.5)
    elapsed = time.perf_counter() - t0
    assert elapsed < 3.0, f"NMS of 25k boxes took {elapsed:.1f} s"
    assert not np.any(keep >= 20000)
    assert len(keep) >= 19000


def test_nms_column_of_boxes_sweeps_other_axis():
    # all boxes share one x range: sweeping along x would make N^2 pairs
    ys = np.arange(5000, dtype=float) * 12
    boxes = np.stack([np.zeros_like(ys), ys, np.full_like(ys, 10), ys + 10], axis=1)
    t0 = time.perf_counter()
    keep = nms(boxes, np.linspace(1, 0, 5000), 0.5)
    assert time.perf_counter() - t0 < 2.0
    assert len(keep) == 5000


def test_overlap_pairs_by_strips_are_the_sweeps_pairs_each_once():
    from engine.merge import _STRIP_MIN_BOXES, _swept_pairs, overlapping_pairs

    rng = np.random.default_rng(5)
    boxes = _random_boxes(rng, 3 * _STRIP_MIN_BOXES, 2000, 12)
    boxes[:3, 2:] += 150  # a few tall boxes: strips as tall as they are
    def pairs(found):
        out = {}
        for i, j, inter in found:
            for a, b, x in zip(i.tolist(), j.tolist(), inter.tolist()):
                assert (min(a, b), max(a, b)) not in out  # each pair once
                out[min(a, b), max(a, b)] = x
        return out
    by_strips = pairs(overlapping_pairs(boxes))
    assert len(by_strips) > 1000 and by_strips == pairs(_swept_pairs(boxes))


def test_nms_of_a_large_dense_scene_is_fast():
    """2·10^5 boxes over an 8192² scene (what four views of a packed car park give): the strips keep
    the overlap search to neighbours instead of every box in the same columns."""
    rng = np.random.default_rng(6)
    boxes = _random_boxes(rng, 200_000, 8192, 15)
    t0 = time.perf_counter()
    keep = nms(boxes, rng.uniform(size=len(boxes)), 0.5)
    assert time.perf_counter() - t0 < 2.5  # one sweep over whole columns: ~5 s here
    assert 0.8 * len(boxes) < len(keep) < len(boxes)


# --- cross-tile merging -------------------------------------------------------------------

GRID = TileGrid(600, 600, 256, 64)  # stride 192: tile borders at 192, 256, 384, 448


def _simulate(grid, truth, cats, rng, truncated_score=0.99):
    """A perfect detector seen through each tile: objects cut by the window come out cut,
    with a higher score than whole ones (the worst case for NMS), plus sub-pixel jitter."""
    parts = []
    for tile in grid:
        w = tile.window
        clipped = truth.copy()
        clipped[:, [0, 2]] = np.clip(clipped[:, [0, 2]], w.col_off, w.col_end)
        clipped[:, [1, 3]] = np.clip(clipped[:, [1, 3]], w.row_off, w.row_end)
        seen = (clipped[:, 2] - clipped[:, 0] > 1) & (clipped[:, 3] - clipped[:, 1] > 1)
        whole = np.all(clipped == truth, axis=1)
        boxes = clipped[seen] + rng.uniform(-0.4, 0.4, size=(int(seen.sum()), 4))
        scores = np.where(whole[seen], 0.8, truncated_score)
        parts.append(TileDetections(tile, boxes, scores, cats[seen]))
    return parts


def _match(truth, boxes):
    """For each true box, the merged boxes within 1 px on every side."""
    return [np.flatnonzero(np.all(np.abs(boxes - t) <= 1.0, axis=1)) for t in truth]


@pytest.mark.parametrize("margin_px", [4, 8, 32])
def test_objects_across_borders_come_out_once_and_whole(margin_px):
    truth = np.array([
        [210, 60, 240, 75],     # across the vertical overlap of tiles 0 and 1
        [60, 200, 78, 250],     # across the horizontal overlap of tiles 0 and 3
        [205, 205, 245, 240],   # in the 4-tile corner
        [188, 190, 200, 196],   # astride the core corner itself
        [10, 10, 25, 20],       # inside one tile only
        [0, 300, 12, 320],      # on the scene's left edge
        [580, 590, 600, 600],   # in the scene's bottom-right corner (padded tiles)
        [430, 100, 470, 130],   # across the second vertical overlap
        [236, 400, 266, 420],   # across tile 0's right window edge
        [400, 236, 420, 266],   # across tile 0's bottom window edge
        [236, 236, 266, 266],   # across both
    ], float)
    cats = np.zeros(len(truth), np.int64)
    rng = np.random.default_rng(5)
    parts = _simulate(GRID, truth, cats, rng)
    boxes, scores, out_cats = merge_tile_detections(parts, GRID, margin_px=margin_px)
    matches = _match(truth, boxes)
    assert [len(m) for m in matches] == [1] * len(truth)
    assert len(boxes) == len(truth)
    assert np.all(scores[:-1] >= scores[1:])
    assert np.all(out_cats == 0)


def test_overlapping_objects_of_different_categories_are_both_kept():
    truth = np.array([[200, 200, 240, 240], [202, 202, 238, 238], [50, 50, 70, 70], [52, 52, 70, 70]], float)
    cats = np.array([0, 1, 0, 0])
    rng = np.random.default_rng(6)
    boxes, _, out_cats = merge_tile_detections(_simulate(GRID, truth, cats, rng), GRID, margin_px=8)
    assert sorted(out_cats.tolist()) == [0, 0, 1]  # the two same-category boxes merge
    m = _match(truth[:2], boxes)
    assert out_cats[m[0]].tolist() == [0] and out_cats[m[1]].tolist() == [1]


def test_without_truncation_rule_cut_boxes_would_win():
    """The truncated copies score higher; only the edge rule keeps them out."""
    # crosses tile 0's right window edge (256); with a wide margin tile 0's cut copy
    # [236, 256] has its centre inside tile 0's grown core
    truth = np.array([[236, 60, 266, 75]], float)
    rng = np.random.default_rng(7)
    parts = _simulate(GRID, truth, np.zeros(1, np.int64), rng)
    boxes, _, _ = merge_tile_detections(parts, GRID, margin_px=32, edge_px=-1e9)
    assert len(boxes) == 1 and not np.all(np.abs(boxes[0] - truth[0]) <= 1.0)
    boxes, _, _ = merge_tile_detections(parts, GRID, margin_px=32)
    assert len(boxes) == 1
    assert np.all(np.abs(boxes[0] - truth[0]) <= 1.0)


def test_many_random_objects_each_found_once():
    rng = np.random.default_rng(8)
    grid = TileGrid(1000, 900, 256, 64)
    xy = rng.uniform(0, [990, 890], size=(400, 2))
    wh = rng.uniform(6, 40, size=(400, 2))
    truth = np.hstack([xy, np.minimum(xy + wh, [1000, 900])])
    # keep objects apart so the truth itself has no NMS-worthy overlaps
    keep = nms(truth, np.ones(len(truth)), 0.0)
    truth = truth[np.sort(keep)]
    cats = rng.integers(0, 2, len(truth))
    boxes, _, out_cats = merge_tile_detections(_simulate(grid, truth, cats, rng), grid, margin_px=8)
    assert [len(m) for m in _match(truth, boxes)] == [1] * len(truth)
    assert len(boxes) == len(truth)


def test_objects_larger_than_the_overlap_are_joined_from_their_pieces():
    truth = np.array([
        [150, 40, 300, 80],      # 150 px wide across the vertical border of tiles 0 and 1 (overlap 64)
        [30, 150, 70, 300],      # 150 px tall across the horizontal border of tiles 0 and 3
        [150, 150, 300, 300],    # cut into four by the corner
        [100, 400, 500, 440],    # wider than a tile: three pieces in a row
        [200, 330, 350, 360],    # inside tile 1's window, crossing only tile 0's right edge
    ], float)
    rng = np.random.default_rng(9)
    parts = _simulate(GRID, truth, np.zeros(len(truth), np.int64), rng)
    boxes, _, _ = merge_tile_detections(parts, GRID, margin_px=8)
    assert [len(m) for m in _match(truth, boxes)] == [1] * len(truth)
    assert len(boxes) == len(truth)


def test_pieces_of_different_categories_are_not_joined():
    truth = np.array([[150, 40, 300, 80], [150, 40, 300, 80]], float)
    rng = np.random.default_rng(10)
    parts = _simulate(GRID, truth, np.array([0, 1]), rng)
    boxes, _, cats = merge_tile_detections(parts, GRID, margin_px=8)
    assert sorted(cats.tolist()) == [0, 1]
    assert [len(m) for m in _match(truth[:1], boxes)] == [2]


def test_empty_parts():
    boxes, scores, cats = merge_tile_detections([], GRID, margin_px=4)
    assert boxes.shape == (0, 4) and scores.shape == (0,) and cats.shape == (0,)
