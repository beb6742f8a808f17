"""Test-time views: the scene searched as it is, mirrored and transposed, each object's boxes fused.

A small object's box is off by a pixel or two, differently when the image is mirrored or
transposed. Searching the scene in several of the eight symmetries of its pixel grid
(:data:`VIEWS`: as it is, mirrored left-right, top-bottom and both, then the same four transposed),
mapping every box back to the scene and averaging each object's boxes weighted by their scores
tightens the boxes (AP75) and, because an object's score becomes its mean over the views, ranks the
objects every view agrees on above those one view alone finds (model card, "Test-time views").

:class:`ViewSource` presents a raster as a view sees it, so that a view is an ordinary
:class:`engine.session.Session` on it (its own encoded tiles in the shared feature cache, its own
scale probe); :func:`fuse_views` merges the views' detections.
"""

from __future__ import annotations

import numpy as np

from .errors import SettingsError
from .merge import nms, overlapping_pairs
from .prompts import PointPrompt
from .raster_source import RasterSource, Window

VIEWS = ((False, False, False), (False, True, False), (False, False, True), (False, True, True),
         (True, False, False), (True, True, False), (True, False, True), (True, True, True))
"""(transposed, mirrored left-right, mirrored top-bottom) of each view, the scene as it is first:
the three mirror images, then the scene transposed (rows as columns) and its three mirror images
-- the eight symmetries of the pixel grid. A view is transposed first, then mirrored."""
MAX_VIEWS = len(VIEWS)
VIEW_IOU = 0.55
"""Boxes of two views overlapping more than this are the same object."""
VIEW_THRESHOLD_FACTOR = 0.25
"""Each view keeps detections from this fraction of the score threshold: an object's fused score is
its mean over the views, so a view's weaker boxes still count (a box left out lowers an object's
fused score by less than this fraction of the threshold over the number of views)."""

View = tuple[bool, bool, bool]


def check_views(views: int) -> int:
    """``views`` as an int in 1 .. :data:`MAX_VIEWS`, else a SettingsError saying so."""
    if isinstance(views, bool) or not isinstance(views, (int, np.integer)) or not 1 <= views <= MAX_VIEWS:
        raise SettingsError(f"views must be a whole number from 1 (the scene alone) to {MAX_VIEWS} "
                            f"(the scene, mirrored and transposed every way), got {views!r}")
    return int(views)


def view_size(view: View, width: int, height: int) -> tuple[int, int]:
    """(width, height) of the scene ``width`` x ``height`` seen in ``view``."""
    return (height, width) if view[0] else (width, height)


class ViewSource:
    """``source`` seen in ``view`` (:data:`VIEWS`): transposed and/or mirrored left-right and/or
    top-bottom; a :class:`~engine.raster_source.RasterSource` without georeference (results are
    mapped back to the scene with :func:`boxes_to_scene`) and with its own fingerprint (its encoded
    tiles are not the scene's)."""

    def __init__(self, source: RasterSource, view: View):
        self.source, self.view = source, tuple(bool(v) for v in view)
        self.width, self.height = view_size(self.view, source.width, source.height)
        self.georef = None
        transpose, flip_x, flip_y = self.view
        self.fingerprint = f"{source.fingerprint}:view{'-t' if transpose else ''}{'-x' if flip_x else ''}{'-y' if flip_y else ''}"

    def read(self, window: Window, out_shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        transpose, flip_x, flip_y = self.view
        col = self.width - window.col_end if flip_x else window.col_off
        row = self.height - window.row_end if flip_y else window.row_off
        if transpose:  # the unmirrored window of the transposed scene is the scene's window transposed
            shape = None if out_shape is None else (out_shape[1], out_shape[0])
            image, valid = self.source.read(Window(row, col, window.height, window.width), shape)
            image, valid = image.transpose(0, 2, 1), valid.T
        else:
            image, valid = self.source.read(Window(col, row, window.width, window.height), out_shape)
        if flip_x:
            image, valid = image[:, :, ::-1], valid[:, ::-1]
        if flip_y:
            image, valid = image[:, ::-1], valid[::-1]
        return np.ascontiguousarray(image), np.ascontiguousarray(valid)


def prompts_to_view(prompts: list[PointPrompt], view: View, width: int, height: int) -> list[PointPrompt]:
    """Clicks on the ``width`` x ``height`` scene as clicks on its ``view`` (a click on the first
    column or row stays on the raster)."""
    transpose, flip_x, flip_y = view
    vw, vh = view_size(view, width, height)

    def mirror(v: float, size: int, flip: bool) -> float:
        return min(size - v, float(np.nextafter(size, 0))) if flip else v

    out = []
    for p in prompts:
        x, y = (p.row_px, p.col_px) if transpose else (p.col_px, p.row_px)
        out.append(PointPrompt(mirror(x, vw, flip_x), mirror(y, vh, flip_y), p.category))
    return out


def boxes_to_scene(boxes: np.ndarray, view: View, width: int, height: int) -> np.ndarray:
    """Boxes ``(N, 4)`` xyxy found on ``view`` of the ``width`` x ``height`` scene, in the scene's pixel grid."""
    transpose, flip_x, flip_y = view
    vw, vh = view_size(view, width, height)
    out = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    if flip_x:
        out[:, [0, 2]] = vw - out[:, [2, 0]]
    if flip_y:
        out[:, [1, 3]] = vh - out[:, [3, 1]]
    if transpose:
        out = out[:, [1, 0, 3, 2]]
    return out


def fuse_views(boxes: list[np.ndarray], scores: list[np.ndarray], categories: list[np.ndarray],
               iou: float = VIEW_IOU) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One detection per object from the detections of ``len(boxes)`` views of one scene.

    Per category, the boxes of all views are grouped around the surest ones (greedy non-maximum
    suppression at ``iou``; a suppressed box joins the kept box it overlaps most). An object's box
    is the score-weighted mean of its group's boxes; its score is the mean over the views of each
    view's best score in the group (0 for a view without one), so it is at most 1 and an object
    found by one view of four scores a quarter of that view's score.

    Args:
        boxes, scores, categories: per view, ``(N_v, 4)`` xyxy, ``(N_v,)``, ``(N_v,)`` names.
    Returns: ``(boxes (M, 4) float64, scores (M,) float32, categories (M,) object)``, surest first.
    """
    n_views = len(boxes)
    if n_views == 0:
        raise ValueError("fuse_views needs the detections of at least one view")
    all_boxes = np.concatenate([np.asarray(b, np.float64).reshape(-1, 4) for b in boxes])
    all_scores = np.concatenate([np.asarray(s, np.float64).reshape(-1) for s in scores])
    all_cats = np.concatenate([np.asarray(c, dtype=object).reshape(-1) for c in categories])
    view = np.concatenate([np.full(len(s), v) for v, s in enumerate(scores)])
    out_boxes, out_scores, out_cats = [], [], []
    for name in dict.fromkeys(all_cats.tolist()):
        idx = np.flatnonzero(all_cats == name)
        b, s, v = all_boxes[idx], all_scores[idx], view[idx]
        kept = nms(b, s, iou)
        group = _groups(b, kept, iou)
        weight = np.bincount(group, s, kept.size)
        fused = np.stack([np.bincount(group, s * b[:, k], kept.size) for k in range(4)], 1) / np.maximum(weight, 1e-12)[:, None]
        best = np.zeros((kept.size, n_views))
        np.maximum.at(best, (group, v), s)
        out_boxes.append(fused)
        out_scores.append(best.mean(1))
        out_cats.append(np.full(kept.size, name, dtype=object))
    if not out_boxes:
        return np.zeros((0, 4)), np.zeros(0, np.float32), np.zeros(0, dtype=object)
    fused_scores = np.concatenate(out_scores)
    order = np.argsort(-fused_scores, kind="stable")
    return np.concatenate(out_boxes)[order], fused_scores[order].astype(np.float32), np.concatenate(out_cats)[order]


def _groups(boxes: np.ndarray, kept: np.ndarray, iou: float) -> np.ndarray:
    """For every box, the index into ``kept`` of the kept box it belongs to: itself when kept,
    else the kept box it overlaps most (every box NMS suppressed overlaps a kept one above ``iou``)."""
    slot = np.full(boxes.shape[0], -1, np.int64)
    slot[kept] = np.arange(kept.size)
    group = slot.copy()
    area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    members, heads, overlaps = [], [], []
    for i, j, inter in overlapping_pairs(boxes):
        overlap = inter / np.maximum(area[i] + area[j] - inter, 1e-12)
        for member, head in ((i, j), (j, i)):  # a pair in either order: member loose, head kept
            ok = (slot[member] < 0) & (slot[head] >= 0) & (overlap > iou)
            members.append(member[ok]); heads.append(slot[head[ok]]); overlaps.append(overlap[ok])
    if members:
        member, head, overlap = np.concatenate(members), np.concatenate(heads), np.concatenate(overlaps)
        order = np.lexsort((-overlap, member))  # by member, the largest overlap first
        first = np.unique(member[order], return_index=True)[1]
        group[member[order][first]] = head[order][first]
    return group
