"""Processing test fixtures: the DEAL provider registered in a headless QGIS, a small UTM scene
and two WGS 84 clicks on it."""

from __future__ import annotations

import pytest
from qgis.core import QgsApplication

from deal_scene_files import PIXEL_M, SCENE_EPSG, SCENE_ORIGIN, SCENE_PX, pixel_to_lonlat, write_points
from tests.plugin.plugin_rasters import scene_with_objects, write_geotiff


@pytest.fixture(scope="session")
def deal_provider(qgis_processing):
    """The DEAL provider in QGIS's Processing registry, added and removed as the plugin does."""
    from deal_qgis.processing.provider import DealProvider

    registry = QgsApplication.processingRegistry()
    if registry.providerById("deal") is not None:  # left by a plugin test that loaded the whole plugin
        registry.removeProvider("deal")
    provider = DealProvider()
    assert registry.addProvider(provider)
    yield provider
    registry.removeProvider(provider)


@pytest.fixture(scope="session")
def scene_data(tmp_path_factory) -> dict:
    """Paths (str) of a 256 px RGB GeoTIFF at 0.5 m in EPSG:32633 with bright 'vehicles' ("scene")
    and a GeoPackage of two WGS 84 clicks on vehicles, category field ``cat`` ("clicks")."""
    folder = tmp_path_factory.mktemp("scene")
    image, centres = scene_with_objects(SCENE_PX)
    scene = write_geotiff(folder / "scene.tif", SCENE_EPSG, SCENE_ORIGIN, PIXEL_M, image)
    clicks = write_points(folder / "clicks.gpkg", [pixel_to_lonlat(c, r) for c, r in (centres[0], centres[7])],
                          ["vehicle"] * 2)
    return {"scene": str(scene), "clicks": str(clicks)}
