"""Self-prompting: the surest detections of a first pass join the clicks (engine.self_prompting)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.errors import SettingsError
from engine.prompts import PointPrompt
from engine.raster_source import ArraySource
from engine.self_prompting import SELF_PROMPT_MIN_SCORE, surest_detections
from engine.session import PROBE_CLICKS, Session
from engine.synthetic import render_scene


def test_surest_detections_per_category_skip_the_clicked_object_and_unsure_ones():
    boxes = np.array([[0, 0, 10, 10],      # car 0.95: holds the car click
                      [20, 20, 30, 30],    # car 0.90
                      [40, 40, 50, 50],    # car 0.80
                      [60, 60, 70, 70],    # car 0.50: below the minimum
                      [80, 80, 90, 90],    # ship 0.99
                      [0, 0, 10, 10],      # truck 0.99: nobody clicked trucks
                      [100, 100, 110, 120]], float)  # ship 0.85
    scores = np.array([0.95, 0.90, 0.80, 0.50, 0.99, 0.99, 0.85])
    cats = np.array(["car", "car", "car", "car", "ship", "truck", "ship"])
    clicks = [PointPrompt(5.0, 5.0, "car"), PointPrompt(300.0, 300.0, "ship")]
    got = surest_detections(boxes, scores, cats, clicks, per_category=2)
    assert got == [PointPrompt(25.0, 25.0, "car"), PointPrompt(45.0, 45.0, "car"),
                   PointPrompt(85.0, 85.0, "ship"), PointPrompt(105.0, 110.0, "ship")]
    assert surest_detections(boxes, scores, cats, clicks, per_category=1) == [PointPrompt(25.0, 25.0, "car"),
                                                                              PointPrompt(85.0, 85.0, "ship")]
    assert SELF_PROMPT_MIN_SCORE > 0.5  # the 0.50 car is never taken
    assert surest_detections(boxes, scores, cats, clicks, per_category=9)[:3] == got[:2] + [got[2]]
    assert surest_detections(boxes, scores, cats, clicks, per_category=0) == []
    assert surest_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, str), clicks, per_category=3) == []


def test_self_prompting_adds_real_objects_as_clicks(bundled):
    """With the trained model on a synthetic car park: the second pass takes the clicked car plus
    the first pass's surest cars (all of them real cars) as its clicks; where the factor they
    give is the first pass's, no tile is encoded again."""
    scene = render_scene(1024, 1024, seed=7, gsd_m=0.15)
    cats = np.asarray(scene.categories)
    cars = scene.boxes_px[cats == "vehicle"]
    sizes = np.sqrt(np.prod(cars[:, 2:] - cars[:, :2], 1))
    typical = cars[np.argsort(np.abs(sizes - np.median(sizes)))[0]]
    c = (typical[:2] + typical[2:]) / 2
    click = [PointPrompt(float(c[0]), float(c[1]), "vehicle")]

    session = Session(ArraySource(scene.image), bundled, self_prompts=4)
    first = session.detect_with_exemplars(session.exemplars(click), score_threshold=SELF_PROMPT_MIN_SCORE)
    encoded = session.encoder_calls
    extra = surest_detections(first.boxes_px, first.scores, first.categories, click, 4)
    assert len(extra) == 4
    for p in extra:  # each added point is the centre of a real car
        assert ((cars[:, 0] <= p.col_px) & (p.col_px <= cars[:, 2]) & (cars[:, 1] <= p.row_px) & (p.row_px <= cars[:, 3])).any()
    result = session.detect(click)
    assert result.stats["self_prompts"] == {"vehicle": 4}
    # what the second pass clicks, every point probed for the scale
    again = Session(ArraySource(scene.image), bundled).exemplars(click + extra, probe_clicks=PROBE_CLICKS + 4)
    assert result.scales == again.scales
    if result.scales == first.scales:
        assert session.encoder_calls == encoded  # both passes on the same encoded tiles
    plain = Session(ArraySource(scene.image), bundled).detect(click)
    assert "self_prompts" not in plain.stats and len(result) > 0
    with pytest.raises(SettingsError, match="self-prompting"):
        Session(ArraySource(scene.image), bundled, self_prompts=-1)
