"""Training targets built from ground-truth boxes: heat map, count density, centre-cell box targets.

All maps live on the stride-``s`` grid of F; boxes are xyxy in crop pixels.
"""

from __future__ import annotations

import numpy as np


def gaussian_sigma_cells(boxes_px: np.ndarray, stride: int) -> np.ndarray:
    """Per-box Gaussian radius in cells: a third of the half-size, at least half a cell."""
    wh = (boxes_px[:, 2:] - boxes_px[:, :2]) / stride
    return np.maximum(0.5, np.sqrt(wh[:, 0] * wh[:, 1]) / 6.0)


def heat_and_count_targets(boxes_px: np.ndarray, h: int, w: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """``(heat (h,w) peak 1 at each centre, count (h,w) normalised Gaussians summing to len(boxes))``."""
    heat = np.zeros((h, w), np.float32)
    count = np.zeros((h, w), np.float32)
    if len(boxes_px) == 0:
        return heat, count
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    centres = (boxes_px[:, :2] + boxes_px[:, 2:]) / 2 / stride - 0.5  # in cell-index coordinates
    sig = gaussian_sigma_cells(boxes_px, stride)
    for (cx, cy), s in zip(centres, sig):
        r = int(np.ceil(3 * s)) + 1
        x0, x1 = max(0, int(cx) - r), min(w, int(cx) + r + 2)
        y0, y1 = max(0, int(cy) - r), min(h, int(cy) + r + 2)
        if x1 <= x0 or y1 <= y0:
            continue
        g = np.exp(-((xs[y0:y1, x0:x1] - cx) ** 2 + (ys[y0:y1, x0:x1] - cy) ** 2) / (2 * s * s))
        heat[y0:y1, x0:x1] = np.maximum(heat[y0:y1, x0:x1], g)
        total = g.sum()
        if total > 0:
            count[y0:y1, x0:x1] += g / total
        iy, ix = int(np.clip(round(cy), 0, h - 1)), int(np.clip(round(cx), 0, w - 1))
        heat[iy, ix] = 1.0
    return heat, count


def centre_cells(boxes_px: np.ndarray, h: int, w: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """``(cell index (n,) into h*w, raw box target (n,4) = dx, dy, log w, log h in cells)`` per box.

    Boxes whose centre lies outside the grid are dropped (index -1 filtered out by the caller).
    """
    if len(boxes_px) == 0:
        return np.zeros(0, np.int64), np.zeros((0, 4), np.float32)
    c = (boxes_px[:, :2] + boxes_px[:, 2:]) / 2 / stride
    j = np.floor(c[:, 0]).astype(np.int64)
    i = np.floor(c[:, 1]).astype(np.int64)
    inside = (j >= 0) & (j < w) & (i >= 0) & (i < h)
    wh = np.maximum(boxes_px[:, 2:] - boxes_px[:, :2], 1.0) / stride
    raw = np.stack([c[:, 0] - j - 0.5, c[:, 1] - i - 0.5, np.log(wh[:, 0]), np.log(wh[:, 1])], 1).astype(np.float32)
    index = np.where(inside, i * w + j, -1)
    return index, raw
