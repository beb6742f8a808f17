"""The Session: encode once, detect many times; errors; cancel; the inference path without torch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from engine.errors import CancelledError, NoPromptsError, PromptError, PromptOnNodataError, PromptOutsideRasterError
from engine.feature_cache import FeatureCache
from engine.georef import GeoReference
from engine.prompts import PointPrompt
from engine.raster_source import ArraySource
from engine.runtime import load_model
from engine.session import Session

ROOT = Path(__file__).resolve().parents[2]


def _scene(seed: int = 0, size: int = 600) -> ArraySource:
    rng = np.random.default_rng(seed)
    img = rng.random((3, size, size), dtype=np.float32) * 0.3 + 0.3
    for k in range(40):
        x, y = rng.integers(10, size - 40, 2)
        img[:, y:y + 12, x:x + 26] = 0.9
    georef = GeoReference((500000.0, 0.5, 0.0, 5400000.0, 0.0, -0.5), 'PROJCS["WGS 84 / UTM zone 33N"]')
    return ArraySource(img, georef)


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return load_model(tiny_model_dir, device="cpu")


def test_second_detect_with_new_clicks_never_reruns_the_encoder(model):
    session = Session(_scene(), model, scale=1.0)
    first = session.detect([PointPrompt(100.5, 100.5, "vehicle")], score_threshold=0.0)
    n_tiles = len(session.grid(1.0))
    assert n_tiles > 1
    assert first.stats["encoder_calls"] == n_tiles == session.encoder_calls
    second = session.detect([PointPrompt(300.5, 420.5, "vehicle"), PointPrompt(50.5, 500.5, "wind turbine")], score_threshold=0.0)
    assert second.stats["encoder_calls"] == 0
    assert session.encoder_calls == n_tiles
    assert second.stats["cache_hits"] >= n_tiles
    assert second.category_names == ["vehicle", "wind turbine"]  # a category never seen in training
    assert set(second.counts) == {"vehicle", "wind turbine"}


def test_encode_then_detect_reuses_tiles(model):
    session = Session(_scene(), model, scale=1.0)
    n = session.encode()
    assert session.encoder_calls == n
    result = session.detect([PointPrompt(10.5, 10.5, "ship")])
    assert result.stats["encoder_calls"] == 0


def test_exemplars_from_one_tile_apply_to_every_tile_and_to_other_scenes(model):
    a = Session(_scene(1), model, scale=1.0)
    ex = a.exemplars([PointPrompt(20.5, 20.5, "vehicle")])
    assert a.grid(1.0).tile_for_point(20.5, 20.5).index == 0
    b = Session(_scene(2, size=500), model, scale=1.0)
    calls = []
    original = model.predict

    def spy(feats, exemplars, mask):
        calls.append(exemplars.copy())
        return original(feats, exemplars, mask)

    model.predict = model.predict_parallel = spy  # re-prompts run heads side by side, the first pass one by one
    try:
        result = b.detect_with_exemplars(ex, score_threshold=0.0)
    finally:
        del model.predict, model.predict_parallel
    assert len(calls) == len(b.grid(1.0)) > 1
    for used in calls:  # the very same embedding drives every tile of the other scene
        np.testing.assert_array_equal(used[0, 0], ex.embeddings["vehicle"][0])
    assert result.georef == b.georef


def test_exemplar_set_round_trips_through_a_file(model, tmp_path):
    session = Session(_scene(), model, scale=1.0)
    ex = session.exemplars([PointPrompt(20.5, 20.5, "vehicle"), PointPrompt(200.5, 20.5, "ship")])
    path = tmp_path / "ex.npz"
    ex.save(path)
    from engine.exemplars import ExemplarSet

    back = ExemplarSet.load(path)
    assert back.categories == ["vehicle", "ship"] and back.model_id == model.model_id
    np.testing.assert_array_equal(back.embeddings["ship"], ex.embeddings["ship"])
    with pytest.raises(PromptError):
        ExemplarSet.load(tmp_path)  # a folder is not an exemplar file


def test_bad_prompts_raise_clear_errors(model):
    valid = np.ones((600, 600), bool)
    valid[:, :50] = False
    src = ArraySource(np.random.default_rng(0).random((3, 600, 600), dtype=np.float32), None, valid)
    session = Session(src, model, scale=1.0)
    with pytest.raises(NoPromptsError):
        session.detect([])
    with pytest.raises(PromptOutsideRasterError, match="outside the raster"):
        session.detect([PointPrompt(700, 10, "vehicle")])
    with pytest.raises(PromptOnNodataError, match="nodata"):
        session.detect([PointPrompt(10.5, 10.5, "vehicle")])
    with pytest.raises(PromptError, match="no category"):
        session.detect([PointPrompt(100.5, 10.5, " ")])


def test_exemplars_of_another_model_are_refused(model):
    session = Session(_scene(), model, scale=1.0)
    ex = session.exemplars([PointPrompt(20.5, 20.5, "vehicle")])
    ex.model_id = "someone-else"
    with pytest.raises(PromptError, match="model"):
        session.detect_with_exemplars(ex)


def test_cancel_stops_within_one_tile_and_progress_is_monotonic(model):
    session = Session(_scene(), model, scale=1.0)
    seen = []
    with pytest.raises(CancelledError):
        session.detect([PointPrompt(20.5, 20.5, "vehicle")], progress=lambda f, m: seen.append(f),
                       cancel=lambda: session.encoder_calls >= 2)
    assert session.encoder_calls == 2
    fractions = []
    session.detect([PointPrompt(20.5, 20.5, "vehicle")], progress=lambda f, m: fractions.append(f))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_density_map_is_aligned_to_the_scene_grid(model):
    session = Session(_scene(), model, scale=1.0)
    result = session.detect([PointPrompt(20.5, 20.5, "vehicle")])
    d = result.density
    assert d.values.shape == (1, int(np.ceil(600 / d.cell_px)), int(np.ceil(600 / d.cell_px)))
    x0, y0 = d.georef.to_map(0, 0)
    assert (x0, y0) == session.georef.to_map(0, 0)
    assert d.georef.geotransform[1] == pytest.approx(0.5 * d.cell_px)
    assert np.all(np.isfinite(d.values)) and np.all(d.values >= 0)
    # the density raster sums to the model's estimated count
    assert d.values.sum() == pytest.approx(result.estimated_counts["vehicle"], rel=0.05)


def test_feature_cache_bound_spills_without_changing_results(model):
    small = FeatureCache(max_memory_bytes=2 * 2**20)
    a = Session(_scene(), model, scale=1.0, cache=small)
    r1 = a.detect([PointPrompt(20.5, 20.5, "vehicle")], score_threshold=0.0)
    assert small.stats()["spills"] > 0
    r2 = a.detect([PointPrompt(20.5, 20.5, "vehicle")], score_threshold=0.0)
    assert r2.stats["encoder_calls"] == 0
    np.testing.assert_allclose(r1.scores, r2.scores)
    small.close()


def test_inference_path_never_imports_torch(tiny_model_dir):
    code = textwrap.dedent(f"""
        import sys
        import numpy as np
        from engine.session import Session
        from engine.runtime import load_model
        from engine.raster_source import ArraySource
        from engine.prompts import PointPrompt
        from engine.io import vector_io, geotiff, counts, rasterio_source
        from engine import feature_table, crs, cli
        s = Session(ArraySource(np.random.default_rng(0).random((3, 300, 300), dtype=np.float32)), load_model({str(tiny_model_dir)!r}), scale=1.0)
        s.detect([PointPrompt(10.5, 10.5, "vehicle")])
        bad = [m for m in sys.modules if m == "torch" or m.startswith("torch.")]
        assert not bad, bad
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_auto_scale_probes_small_windows_only_and_remembers_them(model):
    from engine.session import PROBE_SCALES

    session = Session(_scene(), model)  # scale="auto"
    click = PointPrompt(300.5, 300.5, "vehicle")
    first = session.detect([click])
    scale = first.scales["vehicle"]
    assert scale in PROBE_SCALES
    assert session.probe_calls == len(PROBE_SCALES)  # one small window per candidate factor (no population correction here)
    tiles_needed = len(session.grid(scale))
    assert first.stats["encoder_calls"] <= tiles_needed
    # the same object clicked again under another name: no probe, no tile re-encoded
    again = session.detect([PointPrompt(300.5, 300.5, "car")])
    assert session.probe_calls == len(PROBE_SCALES)
    assert again.stats["encoder_calls"] == 0 and again.scales["car"] == scale


def test_a_new_click_in_one_category_reruns_only_that_category(model):
    session = Session(_scene(), model, scale=1.0)
    base = [PointPrompt(20.5, 20.5, "vehicle"), PointPrompt(300.5, 300.5, "ship")]
    first = session.detect(base, score_threshold=0.0)
    sets_seen = []
    original = model.predict

    def spy(feats, exemplars, mask):
        sets_seen.append(exemplars.shape[0])
        return original(feats, exemplars, mask)

    model.predict = model.predict_parallel = spy
    try:
        again = session.detect(base + [PointPrompt(400.5, 100.5, "ship")], score_threshold=0.0)
        same = session.detect(base, score_threshold=0.0)
    finally:
        del model.predict, model.predict_parallel
    n_tiles = len(session.grid(1.0))
    assert sets_seen[:n_tiles] == [1] * n_tiles  # only the changed 'ship' set ran, on every tile
    assert len(sets_seen) == n_tiles  # the unchanged prompts ran nothing at all
    np.testing.assert_array_equal(same.boxes_px, first.boxes_px)
    assert (again.categories == "vehicle").sum() == (first.categories == "vehicle").sum()


def test_head_outputs_of_runs_with_different_query_counts_stack():
    """The decoder's query count follows each run's density, so cached sets of one tile can have
    different Q: stacking pads with invalid queries and keeps each set's own detections."""
    from engine.runtime import HeadOutput

    def run(k: int, q: int, n_valid: int, seed: int) -> HeadOutput:
        rng = np.random.default_rng(seed)
        valid = np.zeros((k, q), bool)
        valid[:, :n_valid] = True
        return HeadOutput(rng.random((k, 4, 4), dtype=np.float32), rng.random((k, 4, 4), dtype=np.float32),
                          rng.random((k, q, 4), dtype=np.float32), rng.random((k, q), dtype=np.float32), valid,
                          rng.random(k, dtype=np.float32))

    a, b = run(2, 30, 12, 0), run(1, 17, 17, 1)
    one = a.select(1)
    assert one.boxes.shape == (1, 12, 4) and one.valid.all()
    np.testing.assert_array_equal(one.scores[0], a.scores[1, :12])
    both = HeadOutput.stack([one, b])
    assert both.boxes.shape == (2, 17, 4) and both.scores.shape == (2, 17) and both.density.shape == (2, 4, 4)
    assert both.valid.sum(1).tolist() == [12, 17]
    np.testing.assert_array_equal(both.boxes[0][both.valid[0]], a.boxes[1, :12])
    np.testing.assert_array_equal(both.boxes[1][both.valid[1]], b.boxes[0])


def test_read_ahead_reads_each_tile_once_and_changes_nothing(model):
    """The next tile is read on a helper thread while the current one is encoded: every tile is
    still read exactly once, in grid order, and the encoded features are those of a plain loop."""
    import threading

    class Recording(ArraySource):
        def __init__(self, *a):
            super().__init__(*a)
            self.reads, self.threads = [], set()

        def read(self, window, out_shape=None):
            self.reads.append((window.col_off, window.row_off, window.width, window.height))
            self.threads.add(threading.current_thread().name)
            return super().read(window, out_shape)

    base = _scene()
    source = Recording(base._image, base.georef)
    session = Session(source, model, scale=1.0)
    grid = session.grid(1.0)
    streamed = [(t, f) for t, f in session.features(grid, 1.0)]
    windows = [(t.window.col_off, t.window.row_off, t.window.width, t.window.height) for t in grid]
    assert source.reads == windows  # once each, in order
    assert any(name.startswith("deal-read") for name in source.threads)
    plain = Session(base, model, scale=1.0)
    for (tile, feats), other in zip(streamed, grid):
        np.testing.assert_array_equal(feats["p8"], plain.tile_features(other, 1.0)["p8"])
    again = [(t, f) for t, f in session.features(grid, 1.0)]  # all cached now: nothing read
    assert len(source.reads) == len(windows) and len(again) == len(grid)


def test_reprompt_heads_side_by_side_give_the_one_by_one_results(tiny_model_dir):
    """Once every tile is encoded, the heads of several tiles run at once on one-thread sessions:
    same detections as one tile at a time (to float rounding between thread counts), all on
    worker threads, and a cancel still stops the run."""
    import threading

    side = load_model(tiny_model_dir, device="cpu", threads=2)
    alone = load_model(tiny_model_dir, device="cpu", threads=1)
    assert side.head_workers == 2 and alone.head_workers == 1
    prompts = [PointPrompt(100.5, 100.5, "vehicle")]
    results = {}
    for name, m in (("side", side), ("alone", alone)):
        session = Session(_scene(), m, scale=1.0)
        session.encode()
        threads = set()
        original = m.predict_parallel

        def spy(*args, _original=original):
            threads.add(threading.current_thread().name)
            return _original(*args)

        m.predict_parallel = spy
        try:
            results[name] = session.detect(prompts, score_threshold=0.0)
        finally:
            del m.predict_parallel
        assert results[name].stats["encoder_calls"] == 0
        assert (all(t.startswith("deal-head") for t in threads) and threads) if name == "side" else not threads
    a, b = results["side"], results["alone"]
    assert len(a) == len(b) > 0
    np.testing.assert_allclose(a.boxes_px, b.boxes_px, atol=1e-2)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-4)
    np.testing.assert_allclose(a.density.values, b.density.values, rtol=1e-4, atol=1e-6)
    session = Session(_scene(), side, scale=1.0)
    session.encode()
    seen = []
    with pytest.raises(CancelledError):
        session.detect([PointPrompt(300.5, 300.5, "ship")], progress=lambda f, m: seen.append(f), cancel=lambda: len(seen) >= 2)
    assert len(seen) == 2


def test_population_step_moves_towards_the_typical_object_found():
    from engine.session import population_step

    assert population_step(np.array([14.0, 13.0, 15.0, 14.0, 60.0]), 28.0) == 2  # median 14: x2 = two sqrt(2) steps
    assert population_step(np.array([20.0] * 5), 28.0) == 1  # 2*log2(1.4) = 0.97 -> 1
    assert population_step(np.array([28.0] * 5), 28.0) == 0
    assert population_step(np.array([56.0] * 5), 28.0) == -2
    assert population_step(np.array([400.0] * 5), 28.0) == -2  # at most two steps per correction
    assert population_step(np.array([400.0] * 5), 28.0, most=4) == -4  # log2(400/28) = 3.8 -> 8 steps, capped at 4
    assert population_step(np.array([7.0, 7.0, 7.0]), 28.0) == 0  # too few objects: the click decides
    assert population_step(np.array([7.0, 7.0, 7.0, 0.0, 0.0]), 28.0) == 0  # degenerate boxes do not count


def test_population_is_read_from_a_wider_window_only_when_few_large_objects_fill_the_probe():
    from engine.session import PROBE_SCALES, population_sizes

    step = PROBE_SCALES[1] / PROBE_SCALES[0]  # sqrt(2)
    probes = {6: np.array([80.0, 90.0]), 5: np.array([60.0, 0.0]), 4: np.array([40.0, 44.0, 46.0, 50.0, 0.0])}
    asked = []

    def found_at(j):
        asked.append(j)
        return probes.get(j, np.zeros(0))

    # two aircraft of 80-90 px at factor 6: factor 5 still holds too few, factor 4 (two steps down) enough
    np.testing.assert_allclose(population_sizes(found_at, 6, 33.0), np.array([40.0, 44.0, 46.0, 50.0]) * step ** 2)
    assert asked == [6, 5, 4]
    # enough objects at the factor itself: they are the population, no wider window is read
    asked.clear()
    np.testing.assert_allclose(population_sizes(found_at, 4, 33.0), [40.0, 44.0, 46.0, 50.0])
    assert asked == [4]
    # a few objects no larger than the working size: a sparse scene, left as it is
    sparse = {9: np.array([32.0, 33.0]), 8: np.array([20.0] * 6)}
    np.testing.assert_allclose(population_sizes(lambda j: sparse.get(j, np.zeros(0)), 9, 33.0), [32.0, 33.0])
    # nothing found, or no wider window within reach holding enough: what the factor itself found
    assert population_sizes(lambda j: np.zeros(0), 6, 33.0).shape == (0,)
    np.testing.assert_allclose(population_sizes(found_at, 6, 33.0, wider=1), [80.0, 90.0])
    np.testing.assert_allclose(population_sizes(lambda j: probes[6] if j == 0 else np.zeros(0), 0, 33.0), [80.0, 90.0])


def test_bracket_merge_keeps_the_surest_box_per_object_and_the_main_factors_counts():
    from engine.georef import GeoReference
    from engine.results import DetectionResult
    from engine.session import BRACKET_WEIGHT, merge_bracket

    def result(boxes, scores, cats, scale, count):
        return DetectionResult(np.array(boxes, float).reshape(-1, 4), np.array(scores, np.float32), np.array(cats, dtype=object),
                               ["car", "ship"], GeoReference.identity(), None, {"car": count, "ship": 0.0},
                               {"car": scale, "ship": scale}, {"tiles": 1})

    main = result([[0, 0, 10, 10], [50, 50, 60, 60]], [0.6, 0.9], ["car", "car"], 1.0, 2.0)
    lower = result([[1, 1, 11, 11], [100, 100, 110, 110], [52, 52, 57, 57], [0, 0, 10, 10]],
                   [0.8, 0.5, 0.4, 0.7], ["car", "car", "car", "ship"], 0.707, 9.0)
    merged = merge_bracket([main, lower])
    # the other factor's detections count half (BRACKET_WEIGHT): the car at (0, 0) seen at both
    # keeps the own factor's box (0.6 > 0.8 * 0.5); the part inside the car at (50, 50) goes;
    # the car and the ship seen only at the other factor stay, at half their scores
    assert BRACKET_WEIGHT == 0.5
    assert sorted((c, round(float(v), 3)) for c, v in zip(merged.categories, merged.scores)) == \
        [("car", 0.25), ("car", 0.6), ("car", 0.9), ("ship", 0.35)]
    np.testing.assert_allclose(merged.boxes_px[merged.scores == np.float32(0.6)], [[0, 0, 10, 10]])
    assert list(merged.scores) == sorted(merged.scores, reverse=True)
    assert merged.estimated_counts == {"car": 2.0, "ship": 0.0} and merged.scales["car"] == 1.0
    assert merged.stats["bracket_scales"]["car"] == [0.707, 1.0]


def test_bracketed_exemplars_survive_a_save_and_load(model, tmp_path):
    from engine.exemplars import ExemplarSet

    session = Session(_scene(), model, bracket=True)
    ex = session.exemplars([PointPrompt(300.5, 300.5, "vehicle")])
    assert len(ex.bracket) == 2 and all(b.categories == ["vehicle"] for b in ex.bracket)
    factors = sorted([ex.scales["vehicle"]] + [b.scales["vehicle"] for b in ex.bracket])
    np.testing.assert_allclose(np.diff(np.log2(factors)), 0.5)  # the factor and its sqrt(2) neighbours
    result = session.detect_with_exemplars(ex, score_threshold=0.004)  # the tiny untrained model scores low
    assert result.stats["bracket_scales"]["vehicle"] == factors
    assert len(result) and result.scores.min() >= 0.004  # the other factors' halved scores respect the threshold too
    assert result.stats["tiles"] == sum(len(session.grid(f)) for f in factors)
    ex.save(tmp_path / "ex.npz")
    back = ExemplarSet.load(tmp_path / "ex.npz")
    assert [b.scales for b in back.bracket] == [b.scales for b in ex.bracket]
    for b, b2 in zip(ex.bracket, back.bracket):
        np.testing.assert_array_equal(b.embeddings["vehicle"], b2.embeddings["vehicle"])
    # one factor only: by default, and with a fixed scale
    assert Session(_scene(), model).exemplars([PointPrompt(300.5, 300.5, "vehicle")]).bracket == ()
    assert Session(_scene(), model, scale=1.0, bracket=True).exemplars([PointPrompt(300.5, 300.5, "vehicle")]).bracket == ()


def test_box_sizes_are_geometric_means_of_width_and_height():
    from engine.session import box_sizes

    got = box_sizes(np.array([[0, 0, 4, 9], [10, 10, 10, 30], [5, 5, 3, 3]], np.float32))
    np.testing.assert_allclose(got, [6.0, 0.0, 0.0])
    assert box_sizes(np.zeros((0, 4))).shape == (0,)


def test_population_correction_probes_again_only_at_new_factors(model):
    from engine.session import POPULATION_ROUNDS, PROBE_SCALES

    session = Session(_scene(), model)
    result = session.detect([PointPrompt(300.5, 300.5, "vehicle")], score_threshold=0.0)
    assert result.scales["vehicle"] in PROBE_SCALES
    # every candidate factor once, plus at most one probe per correction round at a factor not yet probed
    assert len(PROBE_SCALES) <= session.probe_calls <= len(PROBE_SCALES) + POPULATION_ROUNDS
    assert len(session._probes) == session.probe_calls  # never the same window twice


def test_object_size_the_probe_aims_at_defaults_to_the_model_and_can_be_set(model):
    from engine.errors import SettingsError
    from engine.session import OBJECT_ZOOM

    assert Session(_scene(), model).object_px == pytest.approx(model.metadata.target_object_px * OBJECT_ZOOM)
    assert Session(_scene(), model, object_px=40).object_px == 40.0
    with pytest.raises(SettingsError, match="object size must be between 4 and"):
        Session(_scene(), model, object_px=2)
    # a larger aim picks a larger factor for the same click (the size map grows with the factor)
    click = [PointPrompt(300.5, 300.5, "vehicle")]
    small = Session(_scene(), model, object_px=8).exemplars(click).scales["vehicle"]
    large = Session(_scene(), model, object_px=64).exemplars(click).scales["vehicle"]
    assert large > small
