"""Merging per-tile detections into one scene-wide set without duplicates or cut-off boxes.

Boxes are ``(col0, row0, col1, row1)`` in SCENE pixels throughout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tiling import Tile, TileGrid

# pairs examined at once by the overlap sweep; bounds the sweep's memory (~100 MB)
_PAIR_CHUNK = 2_000_000
# from this many boxes the overlap search cuts the scene into strips first (see overlapping_pairs)
_STRIP_MIN_BOXES = 2048


@dataclass
class TileDetections:
    """What the model found in one tile.

    Attributes:
        tile: the tile the detections come from.
        boxes_px: float ``(n, 4)`` xyxy in SCENE pixels (already offset by the tile window).
        scores: float ``(n,)``.
        category_idx: int ``(n,)`` index into the run's category list.
    """

    tile: Tile
    boxes_px: np.ndarray
    scores: np.ndarray
    category_idx: np.ndarray


def _sweep_pairs(lo: np.ndarray, hi: np.ndarray):
    """Order, pair counts and first partners of a sweep along one axis.

    After sorting by ``lo``, sorted box i overlaps (on this axis) exactly the sorted boxes
    ``i+1 .. end[i]-1`` among those after it.
    """
    order = np.argsort(lo, kind="stable")
    lo_s, hi_s = lo[order], hi[order]
    end = np.searchsorted(lo_s, hi_s, side="left")
    counts = np.maximum(end - np.arange(1, lo.size + 1), 0)
    return order, counts


def overlapping_pairs(boxes: np.ndarray):
    """Yield chunks ``(i, j, intersection area)`` of the index pairs of boxes whose x and y ranges
    both overlap, each pair once.

    A sweep along one axis of a whole scene meets, for every box, all boxes in the same columns
    (hundreds of millions of candidates for 10^5 boxes of a large scene); so many boxes are first
    cut into strips along y as tall as the tallest box: two boxes overlap only within one strip
    or two neighbouring ones, and each strip with the next is swept on its own.
    """
    n = boxes.shape[0]
    height = float(np.max(boxes[:, 3] - boxes[:, 1])) if n else 0.0
    if n < _STRIP_MIN_BOXES or not height > 0:
        yield from _swept_pairs(boxes)
        return
    strip = np.floor((boxes[:, 1] - boxes[:, 1].min()) / height).astype(np.int64)
    order = np.argsort(strip, kind="stable")
    bounds = np.searchsorted(strip[order], np.arange(int(strip.max()) + 3))
    for s in range(int(strip.max()) + 1):
        members = order[bounds[s]:bounds[s + 2]]  # strips s and s + 1
        if members.size < 2:
            continue
        for i, j, inter in _swept_pairs(boxes[members]):
            own = np.minimum(strip[members[i]], strip[members[j]]) == s  # a pair within s + 1 is that strip's
            yield members[i[own]], members[j[own]], inter[own]


def _swept_pairs(boxes: np.ndarray):
    """:func:`overlapping_pairs` by one sweep along whichever axis gives fewer candidate pairs,
    in bounded-size chunks, so memory stays small whatever the number of candidates."""
    sweeps = [_sweep_pairs(boxes[:, 0], boxes[:, 2]), _sweep_pairs(boxes[:, 1], boxes[:, 3])]
    order, counts = min(sweeps, key=lambda s: int(s[1].sum()))
    cum = np.concatenate([[0], np.cumsum(counts)])
    start = 0
    n = counts.size
    while start < n:
        stop = int(np.searchsorted(cum, cum[start] + _PAIR_CHUNK, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        c = counts[start:stop]
        total = int(c.sum())
        if total:
            first = np.repeat(np.arange(start, stop), c)
            offsets = np.arange(total) - np.repeat(cum[start:stop] - cum[start], c)
            i, j = order[first], order[first + 1 + offsets]
            inter_w = np.minimum(boxes[i, 2], boxes[j, 2]) - np.maximum(boxes[i, 0], boxes[j, 0])
            inter_h = np.minimum(boxes[i, 3], boxes[j, 3]) - np.maximum(boxes[i, 1], boxes[j, 1])
            hit = (inter_w > 0) & (inter_h > 0)
            yield i[hit], j[hit], inter_w[hit] * inter_h[hit]
        start = stop


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float,
        ios_threshold: float | None = None) -> np.ndarray:
    """Greedy non-maximum suppression.

    A box is suppressed by a kept, higher-scoring box when their IoU exceeds
    ``iou_threshold`` or, if given, their intersection over the smaller box's area exceeds
    ``ios_threshold`` (this catches a partial box lying inside a whole one).

    Args:
        boxes: ``(N, 4)`` xyxy.
        scores: ``(N,)``.
    Returns:
        int64 indices of the kept boxes, highest score first (ties: lower index first).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    n = boxes.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    order = np.lexsort((np.arange(n), -scores))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)

    winners, losers = [], []
    for i, j, inter in overlapping_pairs(boxes):
        iou = inter / np.maximum(area[i] + area[j] - inter, 1e-12)
        suppress = iou > iou_threshold
        if ios_threshold is not None:
            suppress |= inter / np.maximum(np.minimum(area[i], area[j]), 1e-12) > ios_threshold
        ri, rj = rank[i[suppress]], rank[j[suppress]]
        winners.append(np.minimum(ri, rj))
        losers.append(np.maximum(ri, rj))
    suppressed = np.zeros(n, bool)
    if winners:
        win = np.concatenate(winners)
        lose = np.concatenate(losers)
        by_winner = np.argsort(win, kind="stable")
        win, lose = win[by_winner], lose[by_winner]
        heads, starts = np.unique(win, return_index=True)
        ends = np.append(starts[1:], win.size)
        # greedy order matters: a box only suppresses others if it survived itself
        for head, s, e in zip(heads.tolist(), starts.tolist(), ends.tolist()):
            if not suppressed[head]:
                suppressed[lose[s:e]] = True
    return order[~suppressed]


def _edge_cuts(boxes: np.ndarray, tile: Tile, grid: TileGrid, edge_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Which boxes a tile edge inside the scene cuts, and which of those a neighbour sees whole.

    Returns:
        ``cut`` bool ``(n, 4)``: the box touches (within ``edge_px``) the window's left, top,
        right, bottom edge where that edge faces a neighbour; ``redundant`` bool ``(n,)``: a cut
        box lying within the overlap beside that edge, so the neighbour's window holds all of it.
    """
    w = tile.window
    internal = np.array(grid.internal_edges(tile))
    o = grid.overlap_px
    x0, y0, x1, y1 = boxes.T
    cut = np.stack([x0 <= w.col_off + edge_px, y0 <= w.row_off + edge_px,
                    x1 >= w.col_end - edge_px, y1 >= w.row_end - edge_px], axis=1) & internal[None, :]
    inside_overlap = np.stack([x1 <= w.col_off + o, y1 <= w.row_off + o,
                               x0 >= w.col_end - o, y0 >= w.row_end - o], axis=1)
    return cut, np.any(cut & inside_overlap, axis=1)


def _find(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = int(parent[i])
    return i


def _fuse_pieces(boxes: np.ndarray, cats: np.ndarray, cut: np.ndarray, tile_rc: np.ndarray) -> np.ndarray:
    """Group labels joining the pieces of objects larger than the overlap, cut by tile edges.

    Two pieces join when they come from neighbouring tiles, are cut at the edges facing each
    other, have the same category and overlap along the shared border by half the shorter one.
    """
    n = boxes.shape[0]
    parent = np.arange(n)
    by_tile: dict[tuple[int, int], np.ndarray] = {}
    for key in {tuple(rc) for rc in tile_rc.tolist()}:
        by_tile[key] = np.flatnonzero((tile_rc[:, 0] == key[0]) & (tile_rc[:, 1] == key[1]))
    # (row step, col step, side cut in the first tile, side cut in the second, interval columns along the border)
    for d_row, d_col, side_a, side_b, lo, hi in ((0, 1, 2, 0, 1, 3), (1, 0, 3, 1, 0, 2)):
        for (row, col), first in by_tile.items():
            second = by_tile.get((row + d_row, col + d_col))
            if second is None:
                continue
            a = first[cut[first, side_a]]
            b = second[cut[second, side_b]]
            if a.size == 0 or b.size == 0:
                continue
            inter = (np.minimum(boxes[a, hi][:, None], boxes[b, hi][None, :])
                     - np.maximum(boxes[a, lo][:, None], boxes[b, lo][None, :]))
            shorter = np.minimum((boxes[a, hi] - boxes[a, lo])[:, None], (boxes[b, hi] - boxes[b, lo])[None, :])
            match = (inter > 0.5 * shorter) & (cats[a][:, None] == cats[b][None, :])
            for i, j in zip(*np.nonzero(match)):
                parent[_find(parent, int(a[i]))] = _find(parent, int(b[j]))
    return np.array([_find(parent, i) for i in range(n)], np.int64)


def merge_tile_detections(parts: list[TileDetections], grid: TileGrid, margin_px: float,
                          iou_threshold: float = 0.5, ios_threshold: float = 0.8,
                          edge_px: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Combine every tile's detections into one scene-wide set.

    Per tile: a box cut by an internal tile edge (within ``edge_px``) is dropped when it lies
    within the overlap, so the neighbour sees the object whole. Objects larger than the
    overlap are cut in every tile: their pieces from neighbouring tiles are joined into one
    box. Any other box is kept only if its centre lies in the tile's core grown by
    ``margin_px``. Then class-aware NMS (IoU, and intersection over the smaller box) across
    tiles removes the duplicates left in the overlaps. Boxes are clipped to the scene.

    Returns:
        ``(boxes (M, 4) float64 scene px xyxy, scores (M,) float32, category_idx (M,) int64)``,
        highest score first.
    """
    whole, pieces = [], []
    for part in parts:
        boxes = np.asarray(part.boxes_px, dtype=np.float64).reshape(-1, 4)
        if boxes.shape[0] == 0:
            continue
        scores = np.asarray(part.scores, dtype=np.float32).reshape(-1)
        cats = np.asarray(part.category_idx, dtype=np.int64).reshape(-1)
        cut, redundant = _edge_cuts(boxes, part.tile, grid, edge_px)
        core = part.tile.core
        cx = (boxes[:, 0] + boxes[:, 2]) / 2
        cy = (boxes[:, 1] + boxes[:, 3]) / 2
        in_core = ((cx >= core.col_off - margin_px) & (cx < core.col_end + margin_px)
                   & (cy >= core.row_off - margin_px) & (cy < core.row_end + margin_px))
        uncut = ~cut.any(axis=1)
        whole.append((boxes[uncut & in_core], scores[uncut & in_core], cats[uncut & in_core]))
        piece = ~uncut & ~redundant
        tile_rc = np.tile(divmod(part.tile.index, grid.n_cols), (int(piece.sum()), 1))
        pieces.append((boxes[piece], scores[piece], cats[piece], cut[piece], tile_rc, in_core[piece]))

    if pieces:
        p_boxes, p_scores, p_cats, p_cut, p_rc, p_core = (np.concatenate(x) for x in zip(*pieces))
        group = _fuse_pieces(p_boxes, p_cats, p_cut, p_rc)
        heads, inverse, sizes = np.unique(group, return_inverse=True, return_counts=True)
        fused = np.tile([np.inf, np.inf, -np.inf, -np.inf], (heads.size, 1))
        np.minimum.at(fused[:, 0], inverse, p_boxes[:, 0])
        np.minimum.at(fused[:, 1], inverse, p_boxes[:, 1])
        np.maximum.at(fused[:, 2], inverse, p_boxes[:, 2])
        np.maximum.at(fused[:, 3], inverse, p_boxes[:, 3])
        f_scores = np.zeros(heads.size, np.float32)
        np.maximum.at(f_scores, inverse, p_scores)
        f_cats = np.zeros(heads.size, np.int64)
        f_cats[inverse] = p_cats
        # a lone piece (its neighbour missed the rest) obeys the core rule like any box
        lone_ok = np.zeros(heads.size, bool)
        lone_ok[inverse] = p_core
        keep = (sizes > 1) | lone_ok
        whole.append((fused[keep], f_scores[keep], f_cats[keep]))
    if not whole:
        return np.zeros((0, 4)), np.zeros(0, np.float32), np.zeros(0, np.int64)
    boxes = np.concatenate([w[0] for w in whole])
    scores = np.concatenate([w[1] for w in whole])
    cats = np.concatenate([w[2] for w in whole])
    boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, grid.width)
    boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, grid.height)
    valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    boxes, scores, cats = boxes[valid], scores[valid], cats[valid]

    keep = np.concatenate([np.flatnonzero(cats == c)[nms(boxes[cats == c], scores[cats == c],
                                                          iou_threshold, ios_threshold)]
                           for c in np.unique(cats)]) if cats.size else np.zeros(0, np.int64)
    keep = keep[np.lexsort((keep, -scores[keep]))]
    return boxes[keep], scores[keep], cats[keep]
