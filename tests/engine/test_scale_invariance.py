"""Scale-aware prompting with the bundled (trained) model: one scene at three resolutions, one
click each, the same number of objects found (within 5%)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.georef import GeoReference
from engine.prompts import PointPrompt
from engine.raster_source import ArraySource
from engine.session import Session
from engine.synthetic import render_scene


def test_same_scene_at_three_resolutions_gives_the_same_count(bundled):
    base = render_scene(1536, 1536, seed=21, gsd_m=0.15)  # cars ~30 x 12 px: still >= 20 px long at x0.75
    cats = np.asarray(base.categories)
    vehicles = base.boxes_px[cats == "vehicle"]
    assert len(vehicles) > 50
    # click the vehicle nearest the median size, at its centre
    sizes = np.sqrt(np.prod(vehicles[:, 2:] - vehicles[:, :2], 1))
    click = vehicles[np.argsort(np.abs(sizes - np.median(sizes)))[0]]
    counts = {}
    scales = {}
    for factor in (0.75, 1.0, 1.5):
        side = round(1536 * factor)
        image = np.asarray(Image.fromarray(base.image).resize((side, side), Image.BILINEAR if factor > 1 else Image.BOX))
        georef = GeoReference((0.0, 0.15 / factor, 0.0, 0.0, 0.0, -0.15 / factor))
        session = Session(ArraySource(image, georef), bundled)
        c = (click[:2] + click[2:]) / 2 * factor
        result = session.detect([PointPrompt(float(c[0]), float(c[1]), "vehicle")])
        counts[factor] = result.counts["vehicle"]
        scales[factor] = result.scales["vehicle"]
    print("counts", counts, "scales", scales, "truth", len(vehicles))
    ref = counts[1.0]
    assert ref > 0.5 * len(vehicles), (counts, len(vehicles))
    for factor, n in counts.items():
        assert abs(n - ref) <= 0.05 * ref, (counts, scales, len(vehicles))
    # the engine resampled each version towards the same object size: a finer image never gets a larger factor
    assert scales[1.5] <= scales[1.0] <= scales[0.75], scales


@pytest.mark.parametrize("seed, pick", [(21, "smallest"), (5, "largest")])
def test_an_atypical_click_is_pulled_towards_the_typical_objects_factor(bundled, monkeypatch, seed, pick):
    """Clicking the smallest (or largest) vehicle of a car park: alone, the clicked object sets
    another factor than a typical car gets; the objects found around the click pull the factor
    towards the typical one (all the way, or a step of the way)."""
    import engine.session as session_module

    scene = render_scene(1536, 1536, seed=seed, gsd_m=0.15)
    vehicles = scene.boxes_px[np.asarray(scene.categories) == "vehicle"]
    sizes = np.sqrt(np.prod(vehicles[:, 2:] - vehicles[:, :2], 1))
    typical = vehicles[np.argsort(np.abs(sizes - np.median(sizes)))[0]]
    odd = vehicles[np.argmax(sizes) if pick == "largest" else np.argmin(sizes)]

    def factor(box) -> float:
        c = (box[:2] + box[2:]) / 2
        session = Session(ArraySource(scene.image), bundled)
        return session.exemplars([PointPrompt(float(c[0]), float(c[1]), "vehicle")]).scales["vehicle"]

    want = factor(typical)
    corrected = factor(odd)
    monkeypatch.setattr(session_module, "POPULATION_ROUNDS", 0)
    # a typical click needs at most one sqrt(2) step of correction (0.4.0: none; 0.4.1's head probes
    # this scene's typical car one step low on its own, model card)
    assert abs(np.log2(factor(typical) / want)) <= 0.5 + 1e-9
    alone = factor(odd)
    assert alone != want  # the clicked object alone sets another factor
    assert abs(np.log(corrected / want)) < abs(np.log(alone / want)), (alone, corrected, want)
