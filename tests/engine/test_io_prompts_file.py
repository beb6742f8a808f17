"""read_prompts: point files in other CRSs written with pyogrio, and the errors for bad prompt files."""

import logging

import numpy as np
import pyogrio.raw
import pyproj
import pytest
import shapely

from engine.errors import MissingGeoreferenceError, NoPromptsError, PromptError, PromptOutsideRasterError
from engine.georef import GeoReference
from engine.io.vector_io import read_prompts

UTM33 = pyproj.CRS.from_epsg(32633)
UTM_GEOREF = GeoReference((500000.0, 0.5, 0.0, 4100000.0, 0.0, -0.5), UTM33.to_wkt(), False, 1.0)
SIZE = (400, 300)


def write_points(path, geoms, fields, crs, driver=None):
    names = list(fields)
    values = [v if isinstance(v, np.ndarray) else np.asarray(v, dtype=object) for v in fields.values()]
    geometry = np.asarray(shapely.to_wkb(np.asarray(geoms, dtype=object)) if len(geoms) else np.empty(0, object), dtype=object)
    gtype = shapely.get_type_id(geoms[0]) if len(geoms) else 0
    pyogrio.raw.write(path, geometry=geometry, field_data=values, fields=names, driver=driver, crs=crs,
                      geometry_type={0: "Point", 3: "Polygon", 4: "MultiPoint"}[gtype])
    return path


def lonlat(x_utm, y_utm):
    return pyproj.Transformer.from_crs(UTM33, "EPSG:4326", always_xy=True).transform(x_utm, y_utm)


@pytest.mark.parametrize("name", ["prompts.gpkg", "prompts.shp", "prompts.geojson"])
def test_points_in_lonlat_are_reprojected(tmp_path, name):
    # pixel (100, 200) and (30, 40) of the UTM raster, stored in EPSG:4326
    pts = [shapely.Point(*lonlat(500050.0, 4099900.0)), shapely.Point(*lonlat(500015.0, 4099980.0))]
    path = write_points(tmp_path / name, pts, {"kind": ["car", "ship"]}, "EPSG:4326")
    prompts = read_prompts(path, "kind", UTM_GEOREF, size_px=SIZE)
    assert [p.category for p in prompts] == ["car", "ship"]
    np.testing.assert_allclose([[p.col_px, p.row_px] for p in prompts], [[100, 200], [30, 40]], atol=1e-3)


def test_multipoint_gives_one_prompt_per_part_and_numeric_categories(tmp_path):
    mp = shapely.MultiPoint([(500050.0, 4099900.0), (500060.0, 4099900.0)])
    path = write_points(tmp_path / "mp.gpkg", [mp], {"cls": np.array([3.0])}, "EPSG:32633")
    prompts = read_prompts(path, "cls", UTM_GEOREF)
    assert [(p.col_px, p.row_px, p.category) for p in prompts] == [(100.0, 200.0, "3"), (120.0, 200.0, "3")]


def test_missing_field_lists_available_fields(tmp_path):
    path = write_points(tmp_path / "p.gpkg", [shapely.Point(500050.0, 4099900.0)], {"kind": ["car"], "note": ["x"]}, "EPSG:32633")
    with pytest.raises(PromptError) as info:
        read_prompts(path, "category", UTM_GEOREF)
    assert "'category'" in str(info.value) and "kind, note" in str(info.value)


def test_polygons_are_rejected(tmp_path):
    poly = shapely.box(500000, 4099900, 500010, 4099910)
    path = write_points(tmp_path / "poly.gpkg", [poly], {"kind": ["car"]}, "EPSG:32633")
    with pytest.raises(PromptError, match="Polygon, not a point"):
        read_prompts(path, "kind", UTM_GEOREF)


def test_zero_features(tmp_path):
    path = write_points(tmp_path / "none.gpkg", [], {"kind": np.array([], dtype=object)}, "EPSG:32633")
    with pytest.raises(NoPromptsError, match="no features"):
        read_prompts(path, "kind", UTM_GEOREF)


def test_empty_category_value(tmp_path):
    path = write_points(tmp_path / "p.gpkg", [shapely.Point(500050.0, 4099900.0)], {"kind": [""]}, "EPSG:32633")
    with pytest.raises(PromptError, match="empty 'kind'"):
        read_prompts(path, "kind", UTM_GEOREF)


def test_point_outside_raster(tmp_path):
    path = write_points(tmp_path / "p.gpkg", [shapely.Point(500050.0, 4099900.0), shapely.Point(600000.0, 4099900.0)],
                        {"kind": ["car", "car"]}, "EPSG:32633")
    with pytest.raises(PromptOutsideRasterError, match="feature 2 of p.gpkg"):
        read_prompts(path, "kind", UTM_GEOREF, size_px=SIZE)


def test_raster_without_georef(tmp_path):
    path = write_points(tmp_path / "p.gpkg", [shapely.Point(500050.0, 4099900.0)], {"kind": ["car"]}, "EPSG:32633")
    with pytest.raises(MissingGeoreferenceError):
        read_prompts(path, "kind", None)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_file_without_crs_is_taken_in_raster_crs(tmp_path, caplog):
    path = write_points(tmp_path / "p.shp", [shapely.Point(500050.0, 4099900.0)], {"kind": ["car"]}, None)
    with caplog.at_level(logging.WARNING, logger="engine.io.vector_io"):
        prompts = read_prompts(path, "kind", UTM_GEOREF)
    assert (prompts[0].col_px, prompts[0].row_px) == (100.0, 200.0)
    assert any("no CRS" in r.getMessage() for r in caplog.records)


def test_unreadable_file(tmp_path):
    path = tmp_path / "points.gpkg"
    path.write_text("not a geopackage")
    with pytest.raises(PromptError, match="points.gpkg"):
        read_prompts(path, "kind", UTM_GEOREF)
