"""deal:detect refuses bad inputs with the analyst's message, before any model work, and places
WGS 84 clicks on the right pixels of a UTM raster."""

from __future__ import annotations

import shutil

import processing
import pytest
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsCoordinateTransformContext,
    QgsProcessingContext,
    QgsProcessingException,
    QgsRasterLayer,
    QgsVectorLayer,
)

from deal_qgis import dependencies
from deal_qgis.layer_source import QgsLayerSource
from deal_qgis.processing.prompt_points import prompts_from_points
from deal_qgis.processing.scene_parameters import scene_settings
from engine.errors import ModelError
from engine.runtime import load_model

from deal_scene_files import pixel_to_lonlat, write_points


def _run(params: dict) -> dict:
    return processing.run("deal:detect", {"OUTPUT": "TEMPORARY_OUTPUT", **params})


def test_provider_lists_both_algorithms_with_help(deal_provider):
    ids = {alg.id() for alg in deal_provider.algorithms()}
    assert ids == {"deal:detect", "deal:encode"}
    for alg in deal_provider.algorithms():
        help_html = alg.shortHelpString()
        for parameter in alg.parameterDefinitions():
            assert parameter.description(), parameter.name()
            assert parameter.help(), parameter.name()
            assert parameter.name() in help_html


def test_wgs84_clicks_land_on_their_utm_pixels(deal_provider, scene_data, tmp_path):
    lonlat = pixel_to_lonlat(100.5, 37.25)
    clicks = QgsVectorLayer(str(write_points(tmp_path / "one.gpkg", [lonlat], ["ship"])), "clicks", "ogr")
    raster = QgsRasterLayer(scene_data["scene"], "scene", "gdal")
    source = QgsLayerSource(raster)
    prompts = prompts_from_points(clicks, "cat", raster.crs(), source.georef, (source.width, source.height),
                                  QgsCoordinateTransformContext())
    assert len(prompts) == 1
    assert prompts[0].category == "ship"
    assert prompts[0].col_px == pytest.approx(100.5, abs=1e-3)
    assert prompts[0].row_px == pytest.approx(37.25, abs=1e-3)


def test_no_prompts(deal_provider, scene_data, tmp_path):
    empty = write_points(tmp_path / "empty.gpkg", [], [])
    with pytest.raises(QgsProcessingException, match="holds no points"):
        _run({"INPUT": scene_data["scene"], "PROMPTS": str(empty), "CATEGORY_FIELD": "cat"})


def test_prompt_outside_raster(deal_provider, scene_data, tmp_path):
    far = write_points(tmp_path / "far.gpkg", [pixel_to_lonlat(10, 10), (15.5, 46.0)], ["vehicle", "vehicle"])
    with pytest.raises(QgsProcessingException, match=r"Prompt point\(s\) 2 lie outside the raster"):
        _run({"INPUT": scene_data["scene"], "PROMPTS": str(far), "CATEGORY_FIELD": "cat"})


def test_empty_category_names_the_point(deal_provider, scene_data, tmp_path):
    unnamed = write_points(tmp_path / "unnamed.gpkg", [pixel_to_lonlat(10, 10), pixel_to_lonlat(50, 50)],
                           ["vehicle", None])
    with pytest.raises(QgsProcessingException, match=r"Field 'cat' is empty for prompt point\(s\) 2\."):
        _run({"INPUT": scene_data["scene"], "PROMPTS": str(unnamed), "CATEGORY_FIELD": "cat"})


def test_category_field_not_in_layer(deal_provider, scene_data):
    with pytest.raises(QgsProcessingException, match="has no field 'kind'"):
        _run({"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"], "CATEGORY_FIELD": "kind"})


def test_raster_without_crs(deal_provider, scene_data, tmp_path):
    bare = tmp_path / "no_crs.tif"
    shutil.copy(scene_data["scene"], bare)
    dataset = gdal.Open(str(bare), gdal.GA_Update)
    dataset.SetProjection("")
    dataset = None
    assert not QgsRasterLayer(str(bare), "bare", "gdal").crs().isValid()
    with pytest.raises(QgsProcessingException, match="has no CRS"):
        _run({"INPUT": str(bare), "PROMPTS": scene_data["clicks"], "CATEGORY_FIELD": "cat"})


def test_missing_model_folder_reports_the_engine_message(deal_provider, scene_data, tmp_path):
    missing = tmp_path / "no_model_here"
    with pytest.raises(ModelError) as engine_error:
        load_model(str(missing))
    with pytest.raises(QgsProcessingException) as processing_error:
        _run({"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"], "CATEGORY_FIELD": "cat",
              "MODEL": str(missing)})
    assert str(engine_error.value) in str(processing_error.value)


def test_overlap_of_half_a_tile_is_refused(deal_provider, scene_data):
    with pytest.raises(QgsProcessingException, match="The tiling cannot be used: .*half the tile size"):
        _run({"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"], "CATEGORY_FIELD": "cat",
              "TILE_SIZE": 256, "OVERLAP": 128})


@pytest.mark.parametrize("text, bands", [("3,2,1", [3, 2, 1]), ("1 2 3", [1, 2, 3]), ("2", [2, 2, 2])])
def test_bands_in_the_order_given(deal_provider, scene_data, text, bands):
    algorithm = QgsApplication.processingRegistry().createAlgorithmById("deal:detect")
    settings = scene_settings(algorithm, {"INPUT": scene_data["scene"], "BANDS": text}, QgsProcessingContext())
    assert settings.source.bands == bands


@pytest.mark.parametrize("text, message", [("1,2", r"Bands '1,2' cannot be used"),
                                           ("red,green,blue", r"Bands 'red,green,blue' cannot be used"),
                                           ("1,2,9", r"Band 9 does not exist")])
def test_unusable_bands(deal_provider, scene_data, text, message):
    with pytest.raises(QgsProcessingException, match=message):
        _run({"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"], "CATEGORY_FIELD": "cat", "BANDS": text})


def test_missing_onnxruntime_says_how_to_install_it(deal_provider, scene_data, monkeypatch):
    real_import = dependencies.import_module

    def without_onnxruntime(name):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name)

    monkeypatch.setattr(dependencies, "import_module", without_onnxruntime)
    with pytest.raises(QgsProcessingException, match=r"needs the Python package\(s\) onnxruntime.*pip install"):
        _run({"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"], "CATEGORY_FIELD": "cat"})


def test_cuda_without_a_cuda_onnxruntime_is_refused(deal_provider, scene_data):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this onnxruntime can use CUDA")
    with pytest.raises(QgsProcessingException, match="no CUDA support"):
        _run({"INPUT": scene_data["scene"], "PROMPTS": scene_data["clicks"], "CATEGORY_FIELD": "cat",
              "DEVICE": "cuda"})
