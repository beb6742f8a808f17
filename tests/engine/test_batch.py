"""`deal batch` on a real Dask LocalCluster (2 worker processes) with a tiny exported model.

The batch must give each scene the detections a single-process Session gives it, keep
finished scenes so a rerun skips them, and report failing scenes without stopping the others.
"""

import csv
import json
import logging
import os
import shutil
import warnings
from collections import Counter
from dataclasses import replace

import numpy as np
import pyogrio
import pyogrio.raw
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from engine.batch.parts import exemplars_digest, part_name, parts_folder, read_part, write_part
from engine.batch.runner import expand_inputs, run_batch
from engine.batch.worker import DetectSettings, SceneResult
from engine.cli import main
from engine.errors import DealError
from engine.exemplars import ExemplarSet
from engine.feature_table import feature_table
from engine.io.rasterio_source import RasterioSource
from engine.prompts import PointPrompt
from engine.runtime import load_model
from engine.session import Session

SIZE = 512
SCENES = {  # name -> (CRS, top-left corner): two UTM zones, so the merge must reproject
    "harbour.tif": ("EPSG:32633", (500000.0, 5500000.0)),
    "airport.tif": ("EPSG:32633", (501000.0, 5500000.0)),
    "east.tif": ("EPSG:32634", (300000.0, 5510000.0)),
}
CLICKS = [PointPrompt(100.5, 120.5, "car"), PointPrompt(300.5, 260.5, "ship")]


def write_scene(path, seed, crs, origin):
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (3, SIZE, SIZE), dtype=np.uint8)
    kwargs = dict(driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8")
    if crs is not None:
        kwargs.update(crs=crs, transform=from_origin(*origin, 0.3, 0.3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path, "w", **kwargs) as dst:
            dst.write(data)
    return path


@pytest.fixture(scope="module")
def model_dir(tiny_model_dir):
    return tiny_model_dir  # shared with the other engine tests (tests/engine/conftest.py)


@pytest.fixture(scope="module")
def model(model_dir):
    return load_model(model_dir, device="cpu", threads=1)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scenes")
    paths = [write_scene(folder / name, seed, crs, origin) for seed, (name, (crs, origin)) in enumerate(SCENES.items())]
    (folder / "corrupt.tif").write_bytes(b"II*\x00" + b"\x13" * 200)
    no_crs = write_scene(folder / "no_crs.tif", 9, None, None)
    return {"good": paths, "corrupt": folder / "corrupt.tif", "no_crs": no_crs}


@pytest.fixture(scope="module")
def exemplars(scenes, model):
    with RasterioSource(scenes["good"][0]) as source:
        return Session(source, model, scale=1.0).exemplars(CLICKS)


@pytest.fixture(scope="module")
def settings(model_dir):
    # score 0 keeps every query, so the comparison covers hundreds of boxes per scene
    return DetectSettings(model_path=str(model_dir), device="cpu", model_threads=1, score_threshold=0.0)


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, scenes, exemplars, settings, cluster):
    """The three good scenes plus a corrupt file and a scene without CRS, into one GeoPackage."""
    out = tmp_path_factory.mktemp("batch_out") / "found.gpkg"
    inputs = [scenes["good"][0], scenes["corrupt"], *scenes["good"][1:], scenes["no_crs"]]
    return run_batch(inputs, exemplars, out, settings, scheduler=cluster), inputs, out


def read_layer(path):
    meta, _, wkb, fields = pyogrio.raw.read(path)
    columns = dict(zip(meta["fields"], fields))
    return meta, shapely.from_wkb(wkb), columns


def single_process(scene, model, exemplars):
    with RasterioSource(scene) as source:
        return Session(source, model).detect_with_exemplars(exemplars, 0.0)


def test_batch_gives_each_scene_its_single_process_detections(first_run, scenes, model, exemplars):
    _, _, out = first_run
    meta, geoms, columns = read_layer(out)
    target = pyproj.CRS.from_user_input(meta["crs"])
    assert target.equals(pyproj.CRS.from_epsg(32633))  # the first scene's CRS
    scene_column = np.asarray(columns["scene"], dtype=str)
    for scene in scenes["good"]:
        expected = single_process(scene, model, exemplars)
        table = feature_table(expected)
        got = scene_column == str(scene)
        assert got.sum() == len(expected) > 50
        order_got = np.argsort(-columns["score"][got], kind="stable")
        np.testing.assert_allclose(columns["score"][got][order_got], np.sort(table["score"])[::-1], rtol=1e-5, atol=1e-6)
        rings = shapely.get_coordinates(geoms[got][order_got]).reshape(-1, 5, 2)
        want = table["rings_map"][np.argsort(-table["score"], kind="stable")]
        src = pyproj.CRS.from_wkt(expected.georef.crs_wkt)
        if not src.equals(target):
            x, y = pyproj.Transformer.from_crs(src, target, always_xy=True).transform(want[..., 0], want[..., 1])
            want = np.stack([x, y], axis=-1)
        np.testing.assert_allclose(rings, want, atol=1e-3)  # metres
        got_cats = Counter(np.asarray(columns["category"], dtype=str)[got])
        assert got_cats == Counter(expected.counts)


def test_each_worker_loads_the_model_once(first_run):
    report = first_run[0]
    tasks_per_worker = Counter(entry["pid"] for entry in report.computed)
    assert len(report.computed) == 3 and max(tasks_per_worker.values()) >= 2
    assert all(entry["model_loads"] == 1 for entry in report.computed)


def test_failing_scenes_are_reported_and_the_others_finish(first_run, scenes):
    report, _, out = first_run
    failed = {f["scene"]: f["error"] for f in report.failed}
    assert set(failed) == {str(scenes["corrupt"]), str(scenes["no_crs"])}
    assert "not a raster" in failed[str(scenes["corrupt"])]
    assert "no CRS" in failed[str(scenes["no_crs"])]
    saved = json.loads(report.report_path.read_text())
    assert {f["scene"] for f in saved["failed"]} == set(failed)
    assert sorted(saved["computed"][i]["scene"] for i in range(3)) == sorted(str(s) for s in scenes["good"])
    _, _, columns = read_layer(out)
    assert set(np.asarray(columns["scene"], dtype=str)) == {str(s) for s in scenes["good"]}


def test_counts_csv_has_one_row_per_scene_and_category(first_run):
    report, _, out = first_run
    _, _, columns = read_layer(out)
    with open(report.counts_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 * 2
    layer_counts = Counter(zip(np.asarray(columns["scene"], dtype=str), np.asarray(columns["category"], dtype=str)))
    for row in rows:
        assert int(row["count"]) == layer_counts[(row["scene"], row["category"])]
        assert float(row["estimated_count"]) > 0


def test_rerun_skips_finished_scenes_and_recomputes_changed_ones(first_run, exemplars, settings, cluster):
    report, inputs, out = first_run
    before = read_layer(out)[2]["score"]
    again = run_batch(inputs, exemplars, out, settings, scheduler=cluster)
    assert again.computed == []
    assert again.skipped == [str(s) for s in inputs if str(s) not in {f["scene"] for f in again.failed}]
    assert len(again.skipped) == 3
    np.testing.assert_array_equal(read_layer(out)[2]["score"], before)

    changed = inputs[2]
    stat = os.stat(changed)
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    third = run_batch(inputs, exemplars, out, settings, scheduler=cluster)
    assert [c["scene"] for c in third.computed] == [str(changed)]
    assert len(third.skipped) == 2


def test_finished_parts_merge_into_geojson_and_a_chosen_crs_without_computing(first_run, scenes, exemplars, settings, tmp_path):
    _, _, first_out = first_run
    _, first_geoms, first_columns = read_layer(first_out)
    for name, crs, expected in [("all.geojson", None, 4326), ("mercator.gpkg", "EPSG:3857", 3857)]:
        out = tmp_path / name
        shutil.copytree(parts_folder(first_out), parts_folder(out))
        report = run_batch(scenes["good"], exemplars, out, settings, crs=crs)  # no scheduler: none is started
        assert report.computed == [] and len(report.skipped) == 3
        meta, geoms, columns = read_layer(out)
        assert pyproj.CRS.from_user_input(meta["crs"]).equals(pyproj.CRS.from_epsg(expected))
        assert len(geoms) == len(first_geoms)
        np.testing.assert_allclose(np.sort(columns["score"]), np.sort(first_columns["score"]), rtol=1e-6)
        centre = shapely.get_coordinates(shapely.centroid(geoms[:1]))[0]
        back = pyproj.Transformer.from_crs(expected, 32633, always_xy=True).transform(*centre)
        first_centre = shapely.get_coordinates(shapely.centroid(first_geoms[first_columns["scene"] == columns["scene"][0]]))
        assert np.min(np.hypot(*(first_centre - np.array(back)).T)) < 0.05  # metres (GeoJSON keeps 7 decimals of degrees)


@pytest.mark.parametrize("name", ["none.gpkg", "none.geojson", "none.shp"])
def test_scenes_without_detections_give_an_empty_layer_with_schema_and_crs(name, scenes, exemplars, settings, tmp_path):
    out = tmp_path / name
    folder = parts_folder(out)
    folder.mkdir()
    empty = {"rings_map": np.zeros((0, 5, 2)), "category": np.array([], dtype=str)}
    empty.update({k: np.zeros(0) for k in ("score", "cx_map", "cy_map", "length_m", "width_m", "area_m2")})
    for scene in scenes["good"]:
        with rasterio.open(scene) as ds:
            wkt = ds.crs.to_wkt()
        write_part(folder / part_name(scene, exemplars_digest(exemplars), settings),
                   SceneResult(str(scene), empty, wkt, {"car": 0, "ship": 0}, {"car": 0.1, "ship": 0.0}))
    report = run_batch(scenes["good"], exemplars, out, settings)
    assert report.computed == [] and report.detections == 0
    info = pyogrio.read_info(out)
    assert info["features"] == 0
    assert pyproj.CRS.from_user_input(info["crs"]).equals(pyproj.CRS.from_epsg(4326 if name.endswith("json") else 32633))
    if not name.endswith("json"):  # GeoJSON cannot store a schema or geometry type without features
        assert info["geometry_type"] == "Polygon"
        assert list(info["fields"]) == ["scene", "category", "score", "cx", "cy", "length_m", "width_m", "area_m2"]
    with open(report.counts_path, newline="") as f:
        assert [int(r["count"]) for r in csv.DictReader(f)] == [0] * 6


def test_parts_are_keyed_by_scene_exemplars_and_settings(scenes, exemplars, settings, tmp_path):
    scene = scenes["good"][0]
    digest = exemplars_digest(exemplars)
    name = part_name(scene, digest, settings)
    assert name.startswith("harbour-") and name.endswith(".npz")
    assert part_name(scene, digest, settings) == name
    assert part_name(scene, digest, replace(settings, score_threshold=0.5)) != name
    assert part_name(scene, digest, replace(settings, views=4)) != name  # a run with mirror views has its own parts
    assert part_name(scene, digest, replace(settings, views=1)) == name
    other = ExemplarSet({"car": exemplars.embeddings["car"] + 1e-3}, {"car": 1.0}, exemplars.model_id)
    assert part_name(scene, exemplars_digest(other), settings) != name
    bracketed = replace(exemplars, bracket=(ExemplarSet({"car": exemplars.embeddings["car"]}, {"car": 0.5}, exemplars.model_id),))
    assert exemplars_digest(bracketed) != digest  # a bracketed run's parts are its own

    table = {"rings_map": np.zeros((2, 5, 2)), "category": np.array(["car", "ship"], dtype=object),
             "score": np.array([0.9, 0.4]), "cx_map": np.array([1.0, 2.0]), "cy_map": np.array([3.0, 4.0]),
             "length_m": np.array([4.5, 30.0]), "width_m": np.array([1.8, 8.0]), "area_m2": np.array([8.1, 240.0])}
    write_part(tmp_path / name, SceneResult("x.tif", table, "WKT", {"car": 1, "ship": 1}, {"car": 1.2, "ship": 0.8}, 2.5))
    back = read_part(tmp_path / name)
    assert list(back.table["category"]) == ["car", "ship"]
    np.testing.assert_array_equal(back.table["area_m2"], table["area_m2"])
    assert back.counts == {"car": 1, "ship": 1} and back.crs_wkt == "WKT"
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not a zip")
    assert read_part(tmp_path / "broken.npz") is None


def test_a_scene_with_mirror_views_gives_the_single_process_detections(scenes, model, exemplars, settings):
    from engine.batch.worker import detect_scene

    scene = scenes["good"][0]
    outcome = detect_scene(str(scene), exemplars, replace(settings, views=2))
    assert outcome.error is None
    with RasterioSource(scene) as source:
        alone = Session(source, model, views=2).detect_with_exemplars(exemplars, 0.0)
        one_view = Session(source, model).detect_with_exemplars(exemplars, 0.0)
    assert alone.stats["views"] == 2 and alone.stats["encoder_calls"] == 2 * one_view.stats["encoder_calls"]
    assert outcome.counts == alone.counts
    np.testing.assert_allclose(np.sort(outcome.table["score"]), np.sort(alone.scores), rtol=1e-5)


def test_cli_exemplars_save_then_batch_exits_3_when_a_scene_fails(scenes, model_dir, model, tmp_path, capsys):
    ex_path = tmp_path / "clicks.npz"
    code = main(["exemplars", "save", "--scene", str(scenes["good"][0]), "--point", "100.5,120.5@pixel:car",
                 "--scale", "1", "--model", str(model_dir), "--device", "cpu", "-o", str(ex_path)])
    assert code == 0 and "car" in capsys.readouterr().out
    saved = ExemplarSet.load(ex_path)
    with RasterioSource(scenes["good"][0]) as source:
        direct = Session(source, model, scale=1.0).exemplars(CLICKS[:1])
    np.testing.assert_allclose(saved.embeddings["car"], direct.embeddings["car"], rtol=1e-5, atol=1e-6)
    assert saved.scales == {"car": 1.0} and saved.model_id == model.model_id

    out = tmp_path / "cars.gpkg"
    code = main(["batch", "--exemplars", str(ex_path), str(scenes["good"][1]), str(scenes["corrupt"]), "-o", str(out),
                 "--model", str(model_dir), "--workers", "1", "--score", "0", "-q"])  # its own LocalCluster
    captured = capsys.readouterr()
    assert code == 3
    assert "corrupt.tif" in captured.err and "Traceback" not in captured.err
    assert "1 computed" in captured.out and "1 failed" in captured.out
    _, _, columns = read_layer(out)
    assert set(np.asarray(columns["scene"], dtype=str)) == {str(scenes["good"][1])}


def test_cli_clicks_on_a_reference_scene_give_the_saved_exemplars_so_parts_are_reused(first_run, scenes, model_dir,
                                                                                     tmp_path, capsys):
    first_out = first_run[2]
    out = tmp_path / "clicked.gpkg"
    shutil.copytree(parts_folder(first_out), parts_folder(out))
    points = [f"{p.col_px},{p.row_px}@pixel:{p.category}" for p in CLICKS]
    code = main(["batch", "--scene", str(scenes["good"][0]), "--point", points[0], "--point", points[1], "--scale", "1",
                 str(scenes["good"][0]), "-o", str(out), "--model", str(model_dir), "--score", "0", "-q"])
    assert code == 0, capsys.readouterr().err
    assert "0 computed, 1 finished earlier" in capsys.readouterr().out
    report = json.loads((tmp_path / "clicked.report.json").read_text())
    assert report["skipped"] == [str(scenes["good"][0])]


def test_unknown_crs_is_reported_before_any_scene_runs(scenes, exemplars, settings, tmp_path):
    out = tmp_path / "never.gpkg"
    with pytest.raises(DealError, match="Unknown CRS 'EPSG:99999'"):
        run_batch(scenes["good"], exemplars, out, settings, crs="EPSG:99999")
    assert list(tmp_path.iterdir()) == []


def test_folders_expand_to_their_rasters_once(tmp_path):
    for name in ("b.tif", "a.TIFF", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "empty").mkdir()
    assert expand_inputs([tmp_path / "b.tif", tmp_path]) == [tmp_path / "b.tif", tmp_path / "a.TIFF"]
    with pytest.raises(DealError, match="no .tif"):
        expand_inputs([tmp_path / "empty"])


def test_cli_refuses_exemplars_of_another_model_before_running(scenes, model_dir, exemplars, tmp_path, capsys):
    foreign = tmp_path / "foreign.npz"
    ExemplarSet(exemplars.embeddings, exemplars.scales, "deal-other-1.0-abc").save(foreign)
    out = tmp_path / "never.gpkg"
    code = main(["batch", "--exemplars", str(foreign), str(scenes["good"][0]), "-o", str(out), "--model", str(model_dir)])
    err = capsys.readouterr().err
    assert code == 2 and "deal-other-1.0-abc" in err
    assert not out.exists() and not (tmp_path / "never.gpkg.parts").exists()


@pytest.mark.parametrize("argv, phrase", [
    (["--exemplars", "x.npz", "--scene", "a.tif"], "either --exemplars"),
    ([], "either --exemplars"),
    (["--exemplars", "x.npz", "--point", "1,1:car"], "need --scene"),
    (["--exemplars", "x.npz", "--bracket"], "need --scene"),
    (["--exemplars", "x.npz", "--views", "9"], "views are 1 (the scene alone) to 8"),
    (["--exemplars", "x.npz", "--scheduler", "tcp://h:8786", "--workers", "2"], "with --scheduler"),
])
def test_cli_batch_usage_errors(argv, phrase, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["batch", "scene.tif", "-o", str(tmp_path / "o.gpkg"), *argv])
    assert info.value.code == 2
    assert phrase in capsys.readouterr().err
