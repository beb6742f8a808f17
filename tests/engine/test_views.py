"""Test-time views: mirrored reads, clicks and boxes mapped both ways, boxes fused (engine.views)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import SettingsError
from engine.prompts import PointPrompt
from engine.raster_source import ArraySource, Window
from engine.session import Session
from engine.synthetic import render_scene
from engine.views import FlippedSource, check_views, flip_prompts, fuse_views, unflip_boxes


def _ramp(h: int = 7, w: int = 9) -> ArraySource:
    image = np.arange(3 * h * w, dtype=np.float32).reshape(3, h, w) / (3 * h * w)
    valid = np.ones((h, w), bool)
    valid[0, 0] = False  # a nodata pixel in the top-left corner
    return ArraySource(image, valid=valid)


@pytest.mark.parametrize("flip_x, flip_y", [(True, False), (False, True), (True, True)])
def test_flipped_source_reads_the_mirror_image_inside_and_past_the_edges(flip_x, flip_y):
    source = _ramp()
    whole, valid = source.read(Window(0, 0, 9, 7))
    mirrored = whole[:, ::-1 if flip_y else 1, ::-1 if flip_x else 1]
    mirrored_valid = valid[::-1 if flip_y else 1, ::-1 if flip_x else 1]
    view = FlippedSource(source, flip_x, flip_y)
    assert (view.width, view.height, view.georef) == (9, 7, None)
    assert view.fingerprint != source.fingerprint
    image, ok = view.read(Window(2, 1, 4, 3))
    np.testing.assert_array_equal(image, mirrored[:, 1:4, 2:6])
    np.testing.assert_array_equal(ok, mirrored_valid[1:4, 2:6])
    image, ok = view.read(Window(-2, 5, 6, 4))  # past the left and bottom edges: zeros, invalid
    assert image.shape == (3, 4, 6) and not ok[:, :2].any() and not ok[2:].any()
    np.testing.assert_array_equal(image[:, :2, 2:], mirrored[:, 5:7, 0:4])
    # the nodata corner moves with the image
    corner_row, corner_col = (6 if flip_y else 0), (8 if flip_x else 0)
    assert not view.read(Window(corner_col, corner_row, 1, 1))[1][0, 0]


def test_clicks_and_boxes_map_to_the_mirror_image_and_back():
    clicks = [PointPrompt(0.0, 0.0, "car"), PointPrompt(3.5, 6.25, "ship")]
    flipped = flip_prompts(clicks, True, True, 9, 7)
    assert flipped[1] == PointPrompt(5.5, 0.75, "ship")
    assert 0 <= flipped[0].col_px < 9 and 0 <= flipped[0].row_px < 7  # a click on the first pixel stays on the raster
    assert flip_prompts(clicks, False, False, 9, 7) == clicks
    boxes = np.array([[1.0, 2.0, 4.0, 3.0]])
    np.testing.assert_allclose(unflip_boxes(boxes, True, False, 9, 7), [[5.0, 2.0, 8.0, 3.0]])
    np.testing.assert_allclose(unflip_boxes(boxes, False, True, 9, 7), [[1.0, 4.0, 4.0, 5.0]])
    np.testing.assert_allclose(unflip_boxes(unflip_boxes(boxes, True, True, 9, 7), True, True, 9, 7), boxes)


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


@pytest.mark.parametrize("bad", [0, 5, -1, 2.5, "4", True])
def test_views_outside_one_to_four_are_refused(bad):
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
        Session(ArraySource(scene.image), bundled, views=5)
