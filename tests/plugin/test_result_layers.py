"""Detection and density layers: geometry in the raster CRS, categorised style, counts, export, heatmap."""

from __future__ import annotations

import json

import numpy as np
import pytest
from osgeo import gdal
from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)

from deal_qgis.categories import CategoryPalette
from deal_qgis.layer_source import layer_georeference
from deal_qgis.result_layers import (
    density_layer,
    detection_layer,
    heat_range,
    store_counts,
    stored_counts,
    style_detections,
    write_density,
)
from deal_qgis.vector_export import export_layer
from engine.errors import OutputError
from engine.feature_table import feature_table
from engine.results import DensityMap, DetectionResult


@pytest.fixture
def result(utm_raster) -> DetectionResult:
    """A hand-made result on the test raster: 3 vehicles and 1 ship, density on 8 px cells."""
    georef = layer_georeference(utm_raster)
    boxes = np.array([[16, 22, 24, 26], [52, 22, 60, 26], [16, 62, 24, 66], [100, 100, 120, 110]], float)
    values = np.zeros((2, 32, 32), np.float32)
    values[0, 3, 2] = 0.9
    values[1, 13, 13] = 0.5
    density = DensityMap(values, ["vehicle", "ship"], 8, georef.scaled(8))
    return DetectionResult(boxes, np.array([0.9, 0.8, 0.7, 0.6], np.float32),
                           np.array(["vehicle", "vehicle", "vehicle", "ship"]), ["vehicle", "ship"], georef, density)


def test_detection_layer_geometry_attributes_style(result, utm_raster):
    layer = detection_layer(feature_table(result), result.georef.crs_wkt, "detections")
    assert layer.crs() == utm_raster.crs()
    assert layer.featureCount() == len(result) == sum(result.counts.values())
    ship = [f for f in layer.getFeatures() if f["category"] == "ship"][0]
    bbox = ship.geometry().boundingBox()
    # pixel box (100, 100)-(120, 110) at 0.5 m from (500000, 5000000)
    assert (bbox.xMinimum(), bbox.xMaximum()) == pytest.approx((500050.0, 500060.0))
    assert (bbox.yMinimum(), bbox.yMaximum()) == pytest.approx((4999945.0, 4999950.0))
    assert ship["length_m"] == pytest.approx(10.0) and ship["width_m"] == pytest.approx(5.0)
    assert ship["area_m2"] == pytest.approx(50.0)
    palette = CategoryPalette()
    style_detections(layer, {c: palette.colour(c) for c in result.category_names})
    renderer = layer.renderer()
    assert isinstance(renderer, QgsCategorizedSymbolRenderer) and renderer.classAttribute() == "category"
    by_value = {c.value(): c.symbol().color().name() for c in renderer.categories()}
    assert by_value == {"vehicle": palette.colour("vehicle").name(), "ship": palette.colour("ship").name()}


def test_counts_in_metadata(result):
    layer = detection_layer(feature_table(result), result.georef.crs_wkt, "detections")
    store_counts(layer, result.counts, {"encoder_calls": 4})
    assert stored_counts(layer) == {"vehicle": 3, "ship": 1}
    assert "vehicle: 3" in layer.metadata().abstract()
    assert layer.metadata().keywords()["DEAL counts"] == ["vehicle=3", "ship=1"]
    assert json.loads(layer.customProperty("deal/stats"))["encoder_calls"] == 4


@pytest.mark.parametrize("name, epsg", [("out.gpkg", 32633), ("out.shp", 32633), ("out.geojson", 4326)])
def test_export_reopens_with_crs(result, tmp_path, name, epsg):
    layer = detection_layer(feature_table(result), result.georef.crs_wkt, "detections")
    path = export_layer(layer, tmp_path / name)
    reopened = QgsVectorLayer(str(path), "reopened", "ogr")
    assert reopened.isValid()
    assert reopened.crs().authid() == f"EPSG:{epsg}"
    assert reopened.featureCount() == 4
    assert sorted(f["category"] for f in reopened.getFeatures()) == ["ship", "vehicle", "vehicle", "vehicle"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    if epsg == 4326:
        lon = reopened.extent().center().x()
        assert 14.9 < lon < 15.1  # near the UTM 33N central meridian


def test_export_unknown_format_refused(result, tmp_path):
    layer = detection_layer(feature_table(result), result.georef.crs_wkt, "detections")
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(OutputError):
        export_layer(layer, folder / "out.kml")
    assert list(folder.iterdir()) == []


def test_density_geotiff_and_heatmap_style(result, tmp_path, utm_raster):
    path = write_density(result.density, tmp_path / "density.tif")
    dataset = gdal.Open(str(path))
    assert dataset.RasterCount == 3 and (dataset.RasterXSize, dataset.RasterYSize) == (32, 32)
    assert [dataset.GetRasterBand(i).GetDescription() for i in (2, 3)] == ["vehicle", "ship"]
    total = dataset.GetRasterBand(1).ReadAsArray()
    np.testing.assert_allclose(total, result.density.values.sum(axis=0))
    assert dataset.GetGeoTransform() == (500000.0, 4.0, 0.0, 5000000.0, 0.0, -4.0)
    dataset = None
    layer = density_layer(path, "density")
    assert layer.crs() == utm_raster.crs()
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleBandPseudoColorRenderer) and renderer.inputBand() == 1
    items = renderer.shader().rasterShaderFunction().colorRampItemList()
    assert items[0].value == 0.0 and items[0].color.alpha() == 0
    assert items[-1].value == pytest.approx(0.9) and items[-1].color.alpha() > 200



def test_heat_range_hides_background():
    sparse = np.zeros((20, 20), np.float32)
    sparse[3, 4], sparse[10, 10] = 0.8, 0.2
    assert heat_range(sparse) == (0.0, pytest.approx(0.8))
    rng = np.random.default_rng(0)
    busy = (0.3 + 0.01 * rng.standard_normal((50, 50))).astype(np.float32)
    busy[25, 25] = 5.0  # one outlier cell must not set the top of the ramp
    low, high = heat_range(busy)
    assert low == pytest.approx(np.median(busy)) and low < high < 0.4
