"""Test-time views: mirrored reads, clicks and boxes mapped both ways, boxes fused (engine.views)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import SettingsError
from engine.prompts import PointPrompt
from engine.raster_source import ArraySource, Window
from engine.session import Session
from engine.synthetic import render_scene
from engine.views import VIEWS, ViewSource, boxes_to_scene, check_views, fuse_views, prompts_to_view


def _ramp(h: int = 7, w: int = 9) -> ArraySource:
    image = np.arange(3 * h * w, dtype=np.float32).reshape(3, h, w) / (3 * h * w)
    valid = np.ones((h, w), bool)
    valid[0, 0] = False  # a nodata pixel in the top-left corner
    return ArraySource(image, valid=valid)


def _as_seen(array: np.ndarray, view) -> np.ndarray:
    """The scene array (..., h, w) as ``view`` shows it: transposed first, then mirrored."""
    transpose, flip_x, flip_y = view
    if transpose:
        array = np.swapaxes(array, -1, -2)
    return array[..., ::-1 if flip_y else 1, ::-1 if flip_x else 1]


@pytest.mark.parametrize("view", VIEWS[1:])
def test_view_source_reads_the_view_inside_and_past_the_edges(view):
    source = _ramp()
    whole, valid = source.read(Window(0, 0, 9, 7))
    seen, seen_valid = _as_seen(whole, view), _as_seen(valid, view)
    v = ViewSource(source, view)
    assert (v.width, v.height, v.georef) == ((7, 9) if view[0] else (9, 7)) + (None,)
    assert v.fingerprint != source.fingerprint
    assert len({ViewSource(source, other).fingerprint for other in VIEWS[1:]}) == len(VIEWS) - 1
    image, ok = v.read(Window(2, 1, 4, 3))
    np.testing.assert_array_equal(image, seen[:, 1:4, 2:6])
    np.testing.assert_array_equal(ok, seen_valid[1:4, 2:6])
    image, ok = v.read(Window(-2, v.height - 2, 6, 4))  # past the left and bottom edges: zeros, invalid
    assert image.shape == (3, 4, 6) and not ok[:, :2].any() and not ok[2:].any()
    np.testing.assert_array_equal(image[:, :2, 2:], seen[:, -2:, 0:4])
    image, _ = v.read(Window(0, 0, v.width, v.height), out_shape=(3, 3))  # resampled reads too
    np.testing.assert_allclose(image, _as_seen(source.read(Window(0, 0, 9, 7), (3, 3))[0], view), atol=1e-6)
    # the nodata corner moves with the image
    rows, cols = np.nonzero(~seen_valid)
    assert not v.read(Window(int(cols[0]), int(rows[0]), 1, 1))[1][0, 0]


@pytest.mark.parametrize("view", VIEWS)
def test_clicks_and_boxes_map_to_each_view_and_back(view):
    """A click lands on the view's pixel showing the scene pixel clicked; a box around a scene
    pixel, found around that pixel in the view, maps back to the scene box."""
    scene = np.arange(63).reshape(7, 9)
    seen = _as_seen(scene, view)
    clicks = [PointPrompt(0.0, 0.0, "car"), PointPrompt(3.5, 6.25, "ship"), PointPrompt(8.5, 2.5, "car")]
    moved = prompts_to_view(clicks, view, 9, 7)
    for click, m in zip(clicks, moved):
        assert m.category == click.category
        assert 0 <= m.col_px < seen.shape[1] and 0 <= m.row_px < seen.shape[0]  # the first pixel stays on the raster
        assert seen[int(m.row_px), int(m.col_px)] == scene[int(click.row_px), int(click.col_px)]
    if view == VIEWS[0]:
        assert moved == clicks
    box = np.array([[1.0, 2.0, 4.0, 3.0]])  # scene pixels columns 1-3 of row 2
    mask = np.zeros((7, 9), bool)
    mask[2, 1:4] = True
    rows, cols = np.nonzero(_as_seen(mask, view))
    in_view = np.array([[cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]], float)
    np.testing.assert_allclose(boxes_to_scene(in_view, view, 9, 7), box)


def test_fuse_views_averages_an_objects_boxes_and_its_scores_over_the_views():
    boxes = [np.array([[0, 0, 10, 10], [50, 50, 60, 60]], float),   # view 0: a car, a ship
             np.array([[1, 1, 11, 11], [0, 0, 10, 10.5]], float),   # view 1: the car, and a ship box where the car is
             np.array([[100, 100, 110, 110]], float)]               # view 2: a car no other view sees
    scores = [np.array([0.8, 0.9]), np.array([0.6, 0.3]), np.array([0.9])]
    cats = [np.array(["car", "ship"]), np.array(["car", "ship"]), np.array(["car"])]
    b, s, c = fuse_views(boxes, scores, cats)
    by = {(str(cat), round(float(x0))): (box, score) for box, score, cat, x0 in zip(b, s, c, b[:, 0])}
    box, score = by[("car", 0)]
    np.testing.assert_allclose(box, (0.8 * np.array([0, 0, 10, 10]) + 0.6 * np.array([1, 1, 11, 11])) / 1.4)
    assert score == pytest.approx((0.8 + 0.6 + 0.0) / 3)
    assert by[("car", 100)][1] == pytest.approx(0.9 / 3)
    assert by[("ship", 50)][1] == pytest.approx(0.9 / 3)   # categories are never fused together
    assert by[("ship", 0)][1] == pytest.approx(0.3 / 3)
    assert len(b) == 4 and list(s) == sorted(s, reverse=True)
    # two boxes of one view in one object: the view counts once, with its best score
    b, s, _ = fuse_views([np.array([[0, 0, 10, 10], [0, 0, 10, 11]], float)], [np.array([0.5, 0.7])], [np.array(["car", "car"])])
    assert len(b) == 1 and s[0] == pytest.approx(0.7)
    np.testing.assert_allclose(b[0], [0, 0, 10, (0.5 * 10 + 0.7 * 11) / 1.2])
    empty = fuse_views([np.zeros((0, 4))] * 2, [np.zeros(0)] * 2, [np.zeros(0, str)] * 2)
    assert [len(x) for x in empty] == [0, 0, 0]


def test_bad_clicks_are_refused_as_given_before_any_mirror_image_is_searched(tiny_model_dir):
    from engine.errors import PromptOutsideRasterError
    from engine.runtime import load_model

    session = Session(_ramp(300, 260), load_model(tiny_model_dir, device="cpu"), views=4)
    with pytest.raises(PromptOutsideRasterError, match=r"at pixel \(5.0, 400.0\)"):
        session.detect([PointPrompt(5.0, 400.0, "car")])
    assert session.encoder_calls == 0 and not session._views


@pytest.mark.parametrize("bad", [0, 9, -1, 2.5, "4", True])
def test_views_outside_one_to_eight_are_refused(bad):
    with pytest.raises(SettingsError, match="views must be a whole number from 1"):
        check_views(bad)


def test_session_with_four_views_finds_the_cars_and_reuses_every_views_tiles(bundled):
    """With the trained model on a synthetic car park: four views find the cars one view finds,
    boxes as tight; a new click encodes nothing (each view's tiles are cached)."""
    scene = render_scene(768, 768, seed=11, gsd_m=0.15)
    cars = scene.boxes_px[np.asarray(scene.categories) == "vehicle"]
    c = (cars[0, :2] + cars[0, 2:]) / 2
    click = [PointPrompt(float(c[0]), float(c[1]), "vehicle")]
    one = Session(ArraySource(scene.image), bundled).detect(click)
    session = Session(ArraySource(scene.image), bundled, views=4)
    four = session.detect(click)
    assert four.stats["views"] == 4 and four.stats["encoder_calls"] == 4 * one.stats["encoder_calls"]
    assert abs(len(four) - len(one)) <= max(2, 0.1 * len(one))

    def matched_iou(result) -> np.ndarray:  # each car's best IoU with a detection
        b = result.boxes_px[None]
        t = cars[:, None]
        inter = (np.clip(np.minimum(b[..., 2], t[..., 2]) - np.maximum(b[..., 0], t[..., 0]), 0, None)
                 * np.clip(np.minimum(b[..., 3], t[..., 3]) - np.maximum(b[..., 1], t[..., 1]), 0, None))
        area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
        return (inter / (area(b) + area(t) - inter)).max(1)

    assert np.mean(matched_iou(four) >= 0.5) >= np.mean(matched_iou(one) >= 0.5) - 0.05
    assert four.density is not None and set(four.estimated_counts) == {"vehicle"}
    c2 = (cars[1, :2] + cars[1, 2:]) / 2
    again = session.detect([PointPrompt(float(c2[0]), float(c2[1]), "vehicle")])
    if again.scales == four.scales:
        assert again.stats["encoder_calls"] == 0
    # saved exemplars (deal batch) search the mirror images too, at their own factors
    taken = session.exemplars(click)
    reused = session.detect_with_exemplars(taken)
    assert reused.stats["views"] == 4 and reused.scales == taken.scales
    assert abs(len(reused) - len(four)) <= max(2, 0.1 * len(four))
    session.views = 1
    np.testing.assert_allclose(session.detect(click).boxes_px, one.boxes_px)
    with pytest.raises(SettingsError, match="views"):
        Session(ArraySource(scene.image), bundled, views=9)
