"""feature_table against hand-computed geometry and sizes (UTM and EPSG:4326 rasters)."""

import numpy as np
import pyproj
import pytest

from engine.feature_table import feature_table
from engine.georef import GeoReference
from engine.results import DetectionResult

UTM_GEOREF = GeoReference((500000.0, 0.5, 0.0, 4100000.0, 0.0, -0.5), pyproj.CRS.from_epsg(32633).to_wkt(), False, 1.0)
LONLAT_GEOREF = GeoReference((15.0, 1e-5, 0.0, 60.0005, 0.0, -1e-5), pyproj.CRS.from_epsg(4326).to_wkt(), True, 1.0)


def result_of(boxes_px, categories, scores, georef):
    categories = np.array(categories, dtype=str)
    return DetectionResult(np.array(boxes_px, dtype=np.float64).reshape(-1, 4), np.array(scores, dtype=np.float32),
                           categories, sorted(set(categories.tolist())), georef)


def ring_signed_area(ring):
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * np.sum(x[:-1] * y[1:] - x[1:] * y[:-1])


def test_utm_box_geometry_and_sizes():
    table = feature_table(result_of([[10, 20, 30, 28], [0, 0, 4, 12]], ["car", "truck"], [0.9, 0.4], UTM_GEOREF))
    # box 1: 20 x 8 px of 0.5 m -> 10 m x 4 m, centre pixel (20, 24) -> (500010, 4099988)
    assert table["rings_map"].shape == (2, 5, 2)
    ring = table["rings_map"][0]
    np.testing.assert_array_equal(ring[0], ring[-1])
    assert {tuple(p) for p in ring[:4]} == {(500005.0, 4099990.0), (500015.0, 4099990.0), (500015.0, 4099986.0), (500005.0, 4099986.0)}
    assert ring_signed_area(ring) == pytest.approx(40.0)  # counter-clockwise, 10 m x 4 m
    assert table["cx_map"][0] == 500010.0 and table["cy_map"][0] == 4099988.0
    assert table["length_m"].tolist() == [10.0, 6.0]
    assert table["width_m"].tolist() == [4.0, 2.0]
    assert table["area_m2"].tolist() == [40.0, 12.0]
    assert table["category"].tolist() == ["car", "truck"]
    assert table["score"] == pytest.approx([0.9, 0.4])


def test_lonlat_box_sizes_are_geodesic():
    # 20 x 5 pixels of 1e-5 degrees near 60 N: about 11.2 m east-west and 5.6 m north-south
    table = feature_table(result_of([[100, 40, 120, 45]], ["ship"], [0.8], LONLAT_GEOREF))
    lon0, lat_c = 15.0 + 100e-5, 60.0005 - 42.5e-5
    geod = pyproj.Geod(ellps="WGS84")
    ew = geod.inv(lon0, lat_c, lon0 + 20e-5, lat_c)[2]
    ns = geod.inv(lon0 + 10e-5, lat_c - 2.5e-5, lon0 + 10e-5, lat_c + 2.5e-5)[2]
    assert ew / 20 == pytest.approx(0.557, abs=0.002)  # one pixel of 1e-5 deg longitude at 60 N
    assert table["length_m"][0] == pytest.approx(ew, rel=1e-3)
    assert table["width_m"][0] == pytest.approx(ns, rel=1e-3)
    assert table["area_m2"][0] == pytest.approx(ew * ns, rel=2e-3)
    assert table["cx_map"][0] == pytest.approx(lon0 + 10e-5) and table["cy_map"][0] == pytest.approx(lat_c)
    assert ring_signed_area(table["rings_map"][0]) > 0


def test_empty_result_has_empty_columns():
    table = feature_table(result_of(np.empty((0, 4)), [], [], UTM_GEOREF))
    assert table["rings_map"].shape == (0, 5, 2)
    assert all(len(table[k]) == 0 for k in ("category", "score", "cx_map", "cy_map", "length_m", "width_m", "area_m2"))


def test_no_crs_gives_pixel_rings_and_unknown_sizes():
    table = feature_table(result_of([[2, 3, 6, 5]], ["car"], [0.5], GeoReference.identity()))
    assert {tuple(p) for p in table["rings_map"][0]} == {(2.0, 3.0), (6.0, 3.0), (6.0, 5.0), (2.0, 5.0)}
    assert np.isnan(table["length_m"][0]) and np.isnan(table["area_m2"][0])
    assert ring_signed_area(table["rings_map"][0]) == pytest.approx(8.0)
