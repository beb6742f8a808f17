"""QgsLayerSource reads real GeoTIFFs through QGIS's GDAL: values, masks, resampling, georeference."""

from __future__ import annotations

import numpy as np
import pytest
from qgis.core import QgsRasterLayer

from deal_qgis.layer_source import QgsLayerSource, layer_georeference
from engine.raster_source import Window

from plugin_rasters import scene_with_objects, write_geotiff


def test_rgb_byte_window_matches_file(utm_raster):
    source = QgsLayerSource(utm_raster)
    image, _ = scene_with_objects(256)
    got, valid = source.read(Window(30, 40, 64, 32))
    assert got.shape == (3, 32, 64) and got.dtype == np.float32
    np.testing.assert_allclose(got, image[:, 40:72, 30:94] / 255.0, atol=1e-6)
    assert valid.all()
    assert (source.width, source.height) == (256, 256)


def test_window_past_edge_is_zero_and_invalid(utm_raster):
    source = QgsLayerSource(utm_raster)
    got, valid = source.read(Window(240, -10, 32, 32))
    assert not valid[:10].any() and not valid[:, 16:].any()
    assert valid[10:, :16].all()
    assert (got[:, :10] == 0).all() and (got[:, :, 16:] == 0).all()


def test_shrinking_averages(utm_raster):
    source = QgsLayerSource(utm_raster)
    image, _ = scene_with_objects(256)
    got, valid = source.read(Window(0, 0, 256, 256), out_shape=(64, 64))
    expected = image.reshape(3, 64, 4, 64, 4).mean(axis=(2, 4)) / 255.0
    assert got.shape == (3, 64, 64) and valid.all()
    assert np.abs(got - expected).max() < 2.0 / 255


def test_georeference_from_layer(utm_raster):
    georef = layer_georeference(utm_raster)
    assert georef.geotransform == (500000.0, 0.5, 0.0, 5000000.0, 0.0, -0.5)
    assert "32633" in georef.crs_wkt or "UTM zone 33N" in georef.crs_wkt
    assert not georef.is_geographic and georef.metres_per_unit == 1.0
    assert QgsLayerSource(utm_raster).georef == georef


def test_uint16_percentile_stretch_and_nodata(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.integers(1000, 3000, (3, 128, 128)).astype(np.uint16)
    data[:, :16, :16] = 0
    path = write_geotiff(tmp_path / "u16.tif", 32633, (500000.0, 5000000.0), 1.0, data, nodata=0)
    source = QgsLayerSource(QgsRasterLayer(str(path), "u16", "gdal"))
    image, valid = source.read(Window(0, 0, 128, 128))
    assert not valid[:16, :16].any() and valid[16:, 16:].all()
    assert image.min() >= 0.0 and image.max() <= 1.0
    inside = image[0][valid]
    # a 2..98 percentile stretch clips about 2 % of valid pixels at each end
    assert 0.01 < np.mean(inside == 0.0) < 0.04 and 0.01 < np.mean(inside == 1.0) < 0.04


def test_grey_band_repeated_and_geographic_crs(tmp_path):
    data = np.arange(64 * 64, dtype=np.uint8).reshape(1, 64, 64)
    path = write_geotiff(tmp_path / "grey.tif", 4326, (15.0, 45.0), 1e-5, data)
    source = QgsLayerSource(QgsRasterLayer(str(path), "grey", "gdal"))
    image, _ = source.read(Window(0, 0, 64, 64))
    assert source.bands == [1, 1, 1]
    np.testing.assert_allclose(image[0], image[2])
    assert source.georef.is_geographic


def test_feet_crs_metres_per_unit(tmp_path):
    image, _ = scene_with_objects(64)
    path = write_geotiff(tmp_path / "feet.tif", 2263, (980000.0, 200000.0), 1.0, image)
    georef = layer_georeference(QgsRasterLayer(str(path), "feet", "gdal"))
    assert georef.metres_per_unit == pytest.approx(1200 / 3937, rel=1e-6)


def test_fingerprint_changes_with_content(tmp_path):
    a, _ = scene_with_objects(64, seed=1)
    b, _ = scene_with_objects(64, seed=2)
    pa = write_geotiff(tmp_path / "a.tif", 32633, (500000.0, 5000000.0), 1.0, a)
    pb = write_geotiff(tmp_path / "b.tif", 32633, (500000.0, 5000000.0), 1.0, b)
    fa = QgsLayerSource(QgsRasterLayer(str(pa), "a", "gdal")).fingerprint
    assert fa == QgsLayerSource(QgsRasterLayer(str(pa), "a", "gdal")).fingerprint
    assert fa != QgsLayerSource(QgsRasterLayer(str(pb), "b", "gdal")).fingerprint
