"""deal:detect and deal:encode on a real GeoTIFF with the bundled model: outputs, CRS, counts,
cancel, and reuse of encoded tiles within a process and across processes (CACHE_DIR)."""

from __future__ import annotations

import time
from collections import Counter

import processing
import pytest
from osgeo import gdal, osr
from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QCoreApplication

from deal_qgis.processing.session_pool import forget_encodings
from deal_scene_files import PIXEL_M, SCENE_EPSG, SCENE_ORIGIN, SCENE_PX


@pytest.fixture
def fresh_pool():
    """Nothing encoded kept from earlier tests: the run starts as in a new QGIS process."""
    forget_encodings()
    yield
    forget_encodings()


def _detect(scene_data: dict, **params) -> dict:
    return processing.run("deal:detect", {"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"],
                                          "CATEGORY_FIELD": "cat", "DEVICE": "cpu", "OUTPUT": "TEMPORARY_OUTPUT",
                                          **params})


def test_outputs_in_raster_crs_with_consistent_counts(deal_provider, scene_data, tmp_path, fresh_pool):
    # threshold 0 keeps every proposal, so there are detections to count whatever the model's training
    result = _detect(scene_data, SCORE_THRESHOLD=0.0, OUTPUT=str(tmp_path / "objects.gpkg"),
                     DENSITY=str(tmp_path / "density.tif"), COUNTS=str(tmp_path / "counts.gpkg"))

    objects = QgsVectorLayer(result["OUTPUT"], "objects", "ogr")
    assert objects.isValid()
    assert objects.crs().authid() == f"EPSG:{SCENE_EPSG}"
    assert {"category", "score", "length_m", "width_m", "area_m2"} <= set(objects.fields().names())
    assert objects.featureCount() == result["DETECTIONS"] > 0
    per_category = Counter(f["category"] for f in objects.getFeatures())
    scene_extent = (SCENE_ORIGIN[0], SCENE_ORIGIN[1] - SCENE_PX * PIXEL_M, SCENE_ORIGIN[0] + SCENE_PX * PIXEL_M,
                    SCENE_ORIGIN[1])
    for feature in objects.getFeatures():
        box = feature.geometry().boundingBox()
        assert scene_extent[0] - 1 <= box.xMinimum() and box.xMaximum() <= scene_extent[2] + 1
        assert scene_extent[1] - 1 <= box.yMinimum() and box.yMaximum() <= scene_extent[3] + 1
        assert feature["area_m2"] == pytest.approx(feature["length_m"] * feature["width_m"])

    counts = QgsVectorLayer(result["COUNTS"], "counts", "ogr")
    assert counts.isValid() and not counts.isSpatial()
    rows = {f["category"]: (f["count"], f["estimated_count"]) for f in counts.getFeatures()}
    assert set(rows) == {"vehicle"}
    assert {name: n for name, (n, _) in rows.items()} == dict(per_category)
    assert sum(n for n, _ in rows.values()) == result["DETECTIONS"]

    density = gdal.Open(result["DENSITY"])
    srs = osr.SpatialReference(wkt=density.GetProjection())
    assert srs.GetAuthorityCode(None) == str(SCENE_EPSG)
    x0, px_w, _, y0, _, _ = density.GetGeoTransform()
    assert (x0, y0) == pytest.approx(SCENE_ORIGIN)
    assert density.RasterXSize * px_w == pytest.approx(SCENE_PX * PIXEL_M, rel=0.2)
    assert density.GetRasterBand(1).GetDescription() == "vehicle"
    # the density raster counts objects per cell, so it sums to the table's estimate
    assert float(density.GetRasterBand(1).ReadAsArray().sum()) == pytest.approx(rows["vehicle"][1], rel=0.05)
    assert result["ENCODED_TILES"] > 0


def test_bracket_parameter_detects_at_more_scales(deal_provider, scene_data, tmp_path, fresh_pool):
    plain = _detect(scene_data, SCORE_THRESHOLD=0.0, OUTPUT=str(tmp_path / "plain.gpkg"))
    bracketed = _detect(scene_data, SCORE_THRESHOLD=0.0, BRACKET=True, OUTPUT=str(tmp_path / "bracketed.gpkg"))
    # the same clicks: the scene's tiles at the click's scale are reused, the neighbouring scales encoded
    assert bracketed["ENCODED_TILES"] > 0 and bracketed["DETECTIONS"] > 0
    assert QgsVectorLayer(bracketed["OUTPUT"], "b", "ogr").featureCount() == bracketed["DETECTIONS"]
    again = _detect(scene_data, SCORE_THRESHOLD=0.0, OUTPUT=str(tmp_path / "again.gpkg"))
    assert again["ENCODED_TILES"] == 0 and again["DETECTIONS"] == plain["DETECTIONS"]


def test_self_prompt_parameter_searches_again_on_the_encoded_tiles(deal_provider, scene_data, tmp_path, fresh_pool):
    class Log(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.lines = []

        def pushInfo(self, info):  # noqa: N802 (Qt's name)
            self.lines.append(info)

    plain = _detect(scene_data, SCORE_THRESHOLD=0.0, OUTPUT=str(tmp_path / "plain.gpkg"))
    log = Log()
    refined = processing.run("deal:detect", {"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"],
                                             "CATEGORY_FIELD": "cat", "DEVICE": "cpu", "SCORE_THRESHOLD": 0.0,
                                             "SELF_PROMPT": True, "OUTPUT": str(tmp_path / "refined.gpkg")}, feedback=log)
    # both passes run on the tiles the plain run encoded (what gets added: tests/engine/test_self_prompting.py)
    assert plain["ENCODED_TILES"] > 0 and refined["ENCODED_TILES"] == 0 and refined["DETECTIONS"] > 0
    assert QgsVectorLayer(refined["OUTPUT"], "r", "ogr").featureCount() == refined["DETECTIONS"]
    added = [line for line in log.lines if line.startswith("Self-prompting")]
    assert len(added) == 1 and "vehicle" in added[0], log.lines


def test_mirror_views_parameter_encodes_the_other_views(deal_provider, scene_data, tmp_path, fresh_pool):
    plain = _detect(scene_data, SCORE_THRESHOLD=0.0, OUTPUT=str(tmp_path / "plain.gpkg"))
    viewed = _detect(scene_data, SCORE_THRESHOLD=0.0, MIRROR_VIEWS=True, OUTPUT=str(tmp_path / "viewed.gpkg"))
    # the scene's own tiles are reused; each mirrored or transposed view is encoded (its click's scale probed anew)
    assert plain["ENCODED_TILES"] > 0 and viewed["ENCODED_TILES"] >= plain["ENCODED_TILES"]
    assert viewed["DETECTIONS"] > 0
    assert QgsVectorLayer(viewed["OUTPUT"], "v", "ogr").featureCount() == viewed["DETECTIONS"]
    again = _detect(scene_data, SCORE_THRESHOLD=0.0, MIRROR_VIEWS=True, OUTPUT=str(tmp_path / "again.gpkg"))
    assert again["ENCODED_TILES"] == 0 and again["DETECTIONS"] == viewed["DETECTIONS"]


def test_second_run_and_new_process_reuse_encoded_tiles(deal_provider, scene_data, tmp_path, fresh_pool):
    cache = tmp_path / "features"
    first = _detect(scene_data, CACHE_DIR=str(cache))
    assert first["ENCODED_TILES"] > 0
    assert len(list(cache.glob("*.npz"))) == first["ENCODED_TILES"]

    second = _detect(scene_data, CACHE_DIR=str(cache))
    assert second["ENCODED_TILES"] == 0
    assert second["CACHED_TILES"] > first["CACHED_TILES"]

    forget_encodings()  # what a new QGIS process starts with: only the cache folder survives
    third = _detect(scene_data, CACHE_DIR=str(cache))
    assert third["ENCODED_TILES"] == 0
    assert third["CACHED_TILES"] == second["CACHED_TILES"]
    assert third["DETECTIONS"] == first["DETECTIONS"]


def test_encode_with_prompts_prepares_what_detect_needs(deal_provider, scene_data, tmp_path, fresh_pool):
    cache = tmp_path / "features"
    encoded = processing.run("deal:encode", {"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"],
                                             "CATEGORY_FIELD": "cat", "DEVICE": "cpu", "CACHE_DIR": str(cache)})
    assert encoded["ENCODED_TILES"] > 0
    assert len(list(cache.glob("*.npz"))) == encoded["ENCODED_TILES"]
    forget_encodings()
    detected = _detect(scene_data, CACHE_DIR=str(cache))
    assert detected["ENCODED_TILES"] == 0
    assert detected["CACHED_TILES"] > 0


def test_encode_without_prompts_covers_the_raster_once(deal_provider, scene_data, fresh_pool):
    first = processing.run("deal:encode", {"INPUT": scene_data["scene"], "DEVICE": "cpu"})
    again = processing.run("deal:encode", {"INPUT": scene_data["scene"], "DEVICE": "cpu"})
    assert first["ENCODED_TILES"] > 0
    assert again["ENCODED_TILES"] == 0
    assert again["CACHED_TILES"] == first["ENCODED_TILES"] + first["CACHED_TILES"]


def test_unwritable_density_path_writes_no_output(deal_provider, scene_data, tmp_path):
    output = tmp_path / "objects.gpkg"
    with pytest.raises(QgsProcessingException, match="does not exist"):
        _detect(scene_data, OUTPUT=str(output), DENSITY=str(tmp_path / "no_such_folder" / "density.tif"))
    assert list(tmp_path.iterdir()) == []


def test_cancel_writes_nothing(deal_provider, scene_data, tmp_path, fresh_pool):
    feedback = QgsProcessingFeedback()
    feedback.cancel()
    output = tmp_path / "objects.gpkg"
    with pytest.raises(QgsProcessingException, match="(?i)cancel"):
        processing.run("deal:detect", {"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"],
                                       "CATEGORY_FIELD": "cat", "DEVICE": "cpu", "OUTPUT": str(output),
                                       "DENSITY": str(tmp_path / "density.tif")}, feedback=feedback)
    assert list(tmp_path.iterdir()) == []


def test_runs_in_a_background_task_as_the_dialog_runs_it(deal_provider, scene_data, tmp_path, fresh_pool):
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("deal:detect")
    context = QgsProcessingContext()
    feedback = QgsProcessingFeedback()
    output = tmp_path / "objects.gpkg"
    task = QgsProcessingAlgRunnerTask(algorithm, {"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"],
                                                  "CATEGORY_FIELD": "cat", "DEVICE": "cpu", "SCORE_THRESHOLD": 0.0,
                                                  "OUTPUT": str(output)}, context, feedback)
    finished = {}
    task.executed.connect(lambda ok, results: finished.update(ok=ok, results=results))
    QgsApplication.taskManager().addTask(task)
    deadline = time.monotonic() + 120
    while not finished and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.05)
    assert finished["ok"], feedback.textLog()
    assert QgsVectorLayer(str(output), "objects", "ogr").featureCount() == finished["results"]["DETECTIONS"] > 0
    assert feedback.progress() == pytest.approx(100.0)
