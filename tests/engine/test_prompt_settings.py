"""The paper's four prompt settings on a hand-made image record."""

import numpy as np
import pytest

from engine.evaluation.prompt_settings import make_prompts
from engine.training.datasets import ImageRecord

BOXES = np.asarray([[0, 0, 10, 20], [30, 30, 40, 36], [50, 10, 70, 30], [80, 80, 100, 100], [5, 60, 15, 64]],
                   np.float32)
CATS = np.asarray(["vehicle", "ship", "vehicle", "aircraft", "ship"])


def _record(boxes=BOXES, cats=CATS) -> ImageRecord:
    return ImageRecord("x.png", 100, 100, "g", "d", boxes, cats, np.zeros(len(cats), bool))


def _centres(idx):
    b = BOXES[idx]
    return np.stack([(b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2], 1)


def _xy(prompts):
    return np.asarray([[p.col_px, p.row_px] for p in prompts])


def test_setting_1_one_instance_per_category_at_box_centre():
    seen = set()
    for seed in range(20):
        out = make_prompts(_record(), 1, np.random.default_rng(seed))
        assert [p.category for p in out.prompts] == ["aircraft", "ship", "vehicle"]
        assert out.categories == ["aircraft", "ship", "vehicle"]
        assert list(CATS[out.indices]) == out.categories
        np.testing.assert_allclose(_xy(out.prompts), _centres(out.indices))
        seen.add(tuple(out.indices))
    assert len(seen) > 1  # the instance is drawn at random


def test_setting_2_every_instance():
    out = make_prompts(_record(), 2, np.random.default_rng(0))
    assert sorted(out.indices) == list(range(5))
    np.testing.assert_allclose(_xy(out.prompts), _centres(out.indices))
    assert sorted(out.categories) == ["aircraft", "ship", "vehicle"]


def test_setting_3_one_category_one_instance_and_setting_4_all_of_one_category():
    cats3, cats4 = set(), set()
    for seed in range(30):
        out3 = make_prompts(_record(), 3, np.random.default_rng(seed))
        assert len(out3.prompts) == 1 and out3.categories == [out3.prompts[0].category]
        cats3.add(out3.categories[0])
        out4 = make_prompts(_record(), 4, np.random.default_rng(seed))
        (cat,) = out4.categories
        assert sorted(out4.indices) == list(np.flatnonzero(CATS == cat))
        assert all(p.category == cat for p in out4.prompts)
        cats4.add(cat)
    assert cats3 == cats4 == {"vehicle", "ship", "aircraft"}


def test_same_seed_same_prompts():
    a = make_prompts(_record(), 3, np.random.default_rng(7), jitter=0.2)
    b = make_prompts(_record(), 3, np.random.default_rng(7), jitter=0.2)
    assert a.prompts == b.prompts


def test_jitter_stays_within_the_fraction_of_box_size_and_inside_the_image():
    offsets = []
    for seed in range(50):
        out = make_prompts(_record(), 2, np.random.default_rng(seed), jitter=0.5)
        xy = _xy(out.prompts)
        b = BOXES[out.indices]
        off = (xy - _centres(out.indices)) / ((b[:, 2:] - b[:, :2]) / 2)
        offsets.append(off)
        assert (xy >= 0).all() and (xy < 100).all()
    offsets = np.concatenate(offsets)
    assert np.abs(offsets).max() <= 0.5 + 1e-9
    assert np.abs(offsets).max() > 0.4  # uniform over the full range, not a fixed shift
    assert (np.sign(offsets) < 0).any() and (np.sign(offsets) > 0).any()


def test_image_without_objects_gets_no_prompts_and_bad_setting_raises():
    empty = _record(np.zeros((0, 4), np.float32), np.zeros(0, str))
    out = make_prompts(empty, 1, np.random.default_rng(0))
    assert out.prompts == [] and out.categories == []
    with pytest.raises(ValueError):
        make_prompts(_record(), 5, np.random.default_rng(0))


def test_jittered_click_on_a_box_at_the_image_edge_stays_inside():
    edge = _record(np.asarray([[96, 96, 100, 100]], np.float32), np.asarray(["ship"]))
    xy = np.concatenate([_xy(make_prompts(edge, 2, np.random.default_rng(s), jitter=1.0).prompts) for s in range(40)])
    assert (xy < 100).all() and (xy >= 96).all()
    assert xy.max() > 99.9  # some clicks were pushed past the edge and clipped back
