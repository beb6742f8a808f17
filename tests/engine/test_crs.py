"""CRS parsing and map -> pixel prompt conversion, against pyproj-computed and hand-computed positions."""

import logging

import numpy as np
import pyproj
import pytest

from engine.crs import describe_crs, map_to_pixel_prompts, parse_crs, parse_point_arg
from engine.errors import MissingGeoreferenceError, PromptError, PromptOutsideRasterError, UnknownCRSError
from engine.georef import GeoReference

UTM33 = pyproj.CRS.from_epsg(32633)
# 0.5 m pixels, top-left corner at (500000, 4100000), 400 x 300 pixels
UTM_GEOREF = GeoReference((500000.0, 0.5, 0.0, 4100000.0, 0.0, -0.5), UTM33.to_wkt(), False, 1.0)
SIZE = (400, 300)


@pytest.mark.parametrize("text", ["EPSG:4326", "4326", " epsg:4326 ", pyproj.CRS.from_epsg(4326).to_wkt(),
                                  "+proj=longlat +datum=WGS84 +no_defs"])
def test_parse_crs_accepts_codes_wkt_and_proj(text):
    assert parse_crs(text).equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True)


@pytest.mark.parametrize("text", ["EPSG:999999", "not a crs", "WGS 84 / nowhere"])
def test_unknown_crs_names_the_string(text):
    with pytest.raises(UnknownCRSError) as info:
        parse_crs(text)
    assert text in str(info.value)


def test_describe_crs_names_epsg():
    assert describe_crs(UTM33.to_wkt()) == "WGS 84 / UTM zone 33N (EPSG:32633)"


def test_point_in_raster_crs():
    prompt = parse_point_arg("500050.25,4099900:car", UTM_GEOREF, SIZE)
    assert (prompt.col_px, prompt.row_px, prompt.category) == (100.5, 200.0, "car")


def test_point_in_lonlat_is_reprojected():
    lon, lat = pyproj.Transformer.from_crs(UTM33, "EPSG:4326", always_xy=True).transform(500080.0, 4099950.0)
    prompt = parse_point_arg(f"{lon!r},{lat!r}@EPSG:4326:small ship", UTM_GEOREF, SIZE)
    assert prompt.category == "small ship"
    assert prompt.col_px == pytest.approx(160.0, abs=1e-3)
    assert prompt.row_px == pytest.approx(100.0, abs=1e-3)


def test_pixel_point_keeps_col_row():
    prompt = parse_point_arg("12.5,7@pixel:car", UTM_GEOREF, SIZE)
    assert (prompt.col_px, prompt.row_px) == (12.5, 7.0)


def test_category_missing_after_crs_is_reported():
    with pytest.raises(PromptError, match="no category"):
        parse_point_arg("10.5,59.9@EPSG:4326", UTM_GEOREF, SIZE)
    with pytest.raises(PromptError, match="no category"):
        parse_point_arg("500050,4099900", UTM_GEOREF, SIZE)


def test_malformed_point_is_reported():
    with pytest.raises(PromptError, match="X,Y"):
        parse_point_arg("500050;4099900:car", UTM_GEOREF, SIZE)


def test_unknown_crs_in_point():
    with pytest.raises(UnknownCRSError, match="EPSG:1"):
        parse_point_arg("1,2@EPSG:1:car", UTM_GEOREF, SIZE)


def test_point_outside_raster_names_point_extent_and_crs():
    with pytest.raises(PromptOutsideRasterError) as info:
        parse_point_arg("500300,4099900:car", UTM_GEOREF, SIZE)  # x = 500300 is col 600 > 400
    message = str(info.value)
    assert "500300,4099900:car" in message
    assert "x 500000 .. 500200, y 4099850 .. 4100000" in message
    assert "EPSG:32633" in message


def test_pixel_point_outside_raster():
    with pytest.raises(PromptOutsideRasterError, match="pixel columns 0 .. 400"):
        parse_point_arg("10,300@pixel:car", UTM_GEOREF, SIZE)


def test_map_prompt_on_raster_without_georef_asks_for_pixels():
    with pytest.raises(MissingGeoreferenceError, match="@pixel"):
        parse_point_arg("500050,4099900:car", None, SIZE)
    with pytest.raises(MissingGeoreferenceError, match="@pixel"):
        parse_point_arg("10.5,59.9@EPSG:4326:car", None, SIZE)


def test_pixel_prompt_on_raster_without_georef_warns_and_works(caplog):
    with caplog.at_level(logging.WARNING, logger="engine.crs"):
        prompt = parse_point_arg("20,30@pixel:car", None, SIZE)
    assert (prompt.col_px, prompt.row_px) == (20.0, 30.0)
    assert any("no georeference" in r.getMessage() for r in caplog.records)


def test_other_crs_on_raster_without_crs_but_with_geotransform():
    georef = GeoReference(UTM_GEOREF.geotransform, None, False, 1.0)
    assert parse_point_arg("500050.25,4099900:car", georef, SIZE).col_px == 100.5
    with pytest.raises(MissingGeoreferenceError, match="no CRS"):
        parse_point_arg("10.5,59.9@EPSG:4326:car", georef, SIZE)


def test_map_to_pixel_prompts_geographic_raster_from_utm():
    # a 1e-5 degree raster at 60N; points given in UTM 33N
    georef = GeoReference((15.0, 1e-5, 0.0, 60.0, 0.0, -1e-5), pyproj.CRS.from_epsg(4326).to_wkt(), True, 1.0)
    lonlat = np.array([[15.0005, 59.9998], [15.0001, 59.9999]])
    x, y = pyproj.Transformer.from_crs("EPSG:4326", UTM33, always_xy=True).transform(lonlat[:, 0], lonlat[:, 1])
    prompts = map_to_pixel_prompts(np.column_stack([x, y]), "EPSG:32633", georef, ["a", "b"], size_px=(100, 100))
    assert [p.category for p in prompts] == ["a", "b"]
    np.testing.assert_allclose([[p.col_px, p.row_px] for p in prompts], [[50, 20], [10, 10]], atol=1e-4)
