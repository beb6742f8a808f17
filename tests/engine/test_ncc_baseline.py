"""The training-free NCC baseline on synthetic scenes of repeated objects."""

import numpy as np
import pytest

from engine.evaluation.ncc_baseline import SCALES, NCCMatcher, estimate_object_size
from engine.prompts import PointPrompt


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x0 = np.maximum(a[:, None, 0], b[None, :, 0]); y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2]); y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda z: (z[:, 2] - z[:, 0]) * (z[:, 3] - z[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None] - inter)


def _scene(seed=0):
    """A noisy 300x400 scene with six 16x8 'cars' (a dark stripe across), half turned by 90 degrees."""
    rng = np.random.default_rng(seed)
    image = rng.normal(100, 8, (300, 400, 3))
    car = np.full((8, 16, 3), 200.0)
    car[:, 6:9] = 60
    truth = []
    for row, col, turned in [(30, 40, 0), (100, 200, 0), (200, 60, 1), (250, 330, 1), (150, 300, 0), (60, 320, 1)]:
        obj = car.transpose(1, 0, 2) if turned else car
        image[row:row + obj.shape[0], col:col + obj.shape[1]] = obj
        truth.append([col, row, col + obj.shape[1], row + obj.shape[0]])
    return image.clip(0, 255).astype(np.uint8), np.asarray(truth, float)


def test_size_estimate_covers_the_whole_object_when_clicking_on_a_part():
    image, truth = _scene()
    # the click lands on the dark stripe; the estimate must be the whole car, not the stripe
    assert estimate_object_size(image, 48.0, 34.0) == pytest.approx((16, 8), abs=2)
    assert estimate_object_size(image, 64.0, 208.0) == pytest.approx((8, 16), abs=2)


def test_one_click_finds_every_copy_in_both_orientations():
    image, truth = _scene()
    boxes, scores, cats = NCCMatcher().detect(image, [PointPrompt(48.0, 34.0, "car")])
    assert boxes.shape[1] == 4 and len(boxes) == len(scores) == len(cats)
    assert set(cats) == {"car"}
    assert np.all(np.diff(scores) <= 0) and scores.min() >= 0 and scores.max() <= 1
    top = boxes[:6]
    iou = _iou(truth, top)
    assert (iou.max(axis=1) > 0.7).all()  # each car is one of the six best detections, well boxed
    assert scores[5] > scores[6:].max(initial=0) + 0.1  # and clearly above anything else


def test_fixed_patch_size_and_two_categories():
    image, truth = _scene(1)
    disk = np.hypot(*np.mgrid[-6:7, -6:7]) <= 6
    centres = [(250, 150), (40, 250), (280, 40)]
    for r, c in centres:
        image[r - 6:r + 7, c - 6:c + 7][disk] = (30, 30, 220)
    prompts = [PointPrompt(48.0, 34.0, "car"), PointPrompt(150.5, 250.5, "ring")]
    boxes, scores, cats = NCCMatcher(patch_px=13, threshold=0.5).detect(image, prompts)
    assert set(cats) == {"car", "ring"}
    ring = boxes[cats == "ring"][:3]
    expected = np.asarray([[c - 6, r - 6, c + 7, r + 7] for r, c in centres], float)
    assert (_iou(expected, ring).max(axis=1) > 0.6).all()
    sides = np.concatenate([ring[:, 2] - ring[:, 0], ring[:, 3] - ring[:, 1]])
    assert np.isin(np.round(sides, 3), np.round(13 * np.asarray(SCALES), 3)).all()  # round: no growth when turned


def test_no_prompts_no_detections():
    image, _ = _scene()
    boxes, scores, cats = NCCMatcher().detect(image, [])
    assert boxes.shape == (0, 4) and scores.shape == (0,) and cats.shape == (0,)
