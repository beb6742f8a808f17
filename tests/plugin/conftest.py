"""Plugin test fixtures: a small real GeoTIFF loaded as a QGIS layer in a fresh project."""

from __future__ import annotations

from pathlib import Path

import pytest
from qgis.core import QgsProject, QgsRasterLayer

from plugin_rasters import scene_with_objects, write_geotiff


@pytest.fixture
def utm_raster(tmp_path: Path, qgis_new_project) -> QgsRasterLayer:
    """A 256 px RGB scene at 0.5 m in EPSG:32633 (near 15 E, 45 N), added to the project."""
    image, _ = scene_with_objects(256)
    path = write_geotiff(tmp_path / "scene_utm.tif", 32633, (500000.0, 5000000.0), 0.5, image)
    layer = QgsRasterLayer(str(path), "scene", "gdal")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    return layer
