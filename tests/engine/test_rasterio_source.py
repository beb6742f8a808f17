"""RasterioSource on real GeoTIFFs written by rasterio: bands, dtypes, masks, windows, errors."""

import shutil
import warnings

import numpy as np
import pytest
import rasterio
from rasterio.enums import ColorInterp
from rasterio.transform import from_origin

from engine.errors import InvalidRasterError
from engine.io.rasterio_source import RasterioSource
from engine.raster_source import Window


def write_geotiff(path, data, crs="EPSG:32633", transform=None, nodata=None, colorinterp=None, **profile):
    """Write ``data`` (B, H, W) as a GeoTIFF; crs None and transform None give an ungeoreferenced file."""
    count, height, width = data.shape
    kwargs = dict(driver="GTiff", width=width, height=height, count=count, dtype=data.dtype, nodata=nodata, **profile)
    if crs is not None:
        kwargs["crs"] = crs
        kwargs["transform"] = transform if transform is not None else from_origin(500000.0, 4100000.0, 0.5, 0.5)
    elif transform is not None:
        kwargs["transform"] = transform
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(path, "w", **kwargs) as dst:
            dst.write(data)
            if colorinterp is not None:
                dst.colorinterp = colorinterp
    return path


def rgb_scene(height=200, width=240, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, (3, height, width), dtype=np.uint8)


def test_uint8_rgb_reads_exact_window_and_georef(tmp_path):
    data = rgb_scene()
    path = write_geotiff(tmp_path / "rgb.tif", data)
    with RasterioSource(path) as src:
        assert (src.width, src.height) == (240, 200)
        image, valid = src.read(Window(10, 20, 64, 32))
        assert image.dtype == np.float32 and image.shape == (3, 32, 64)
        np.testing.assert_allclose(image, data[:, 20:52, 10:74] / 255.0, atol=1e-6)
        assert valid.all()
        assert src.georef.geotransform == (500000.0, 0.5, 0.0, 4100000.0, 0.0, -0.5)
        assert not src.georef.is_geographic and src.georef.metres_per_unit == 1.0
        assert "32633" in src.georef.crs_wkt


def test_window_past_edge_is_zero_and_invalid(tmp_path):
    data = rgb_scene()
    path = write_geotiff(tmp_path / "rgb.tif", data)
    with RasterioSource(path) as src:
        image, valid = src.read(Window(-8, 190, 32, 20))
    assert image.shape == (3, 20, 32)
    assert not valid[:, :8].any() and not valid[10:].any()
    assert valid[:10, 8:].all()
    assert (image[:, :, :8] == 0).all() and (image[:, 10:] == 0).all()
    np.testing.assert_allclose(image[:, :10, 8:], data[:, 190:200, 0:24] / 255.0, atol=1e-6)


def test_out_shape_averages_when_shrinking(tmp_path):
    data = rgb_scene(64, 64)
    path = write_geotiff(tmp_path / "rgb.tif", data)
    with RasterioSource(path) as src:
        image, valid = src.read(Window(0, 0, 64, 64), out_shape=(32, 32))
    expected = data.astype(np.float64).reshape(3, 32, 2, 32, 2).mean(axis=(2, 4)) / 255.0
    assert image.shape == (3, 32, 32) and valid.shape == (32, 32) and valid.all()
    np.testing.assert_allclose(image, expected, atol=1.0 / 255)


def test_single_band_is_replicated_to_grey(tmp_path):
    grey = rgb_scene()[:1]
    path = write_geotiff(tmp_path / "grey.tif", grey)
    with RasterioSource(path) as src:
        image, _ = src.read(Window(0, 0, 16, 16))
    assert image.shape == (3, 16, 16)
    np.testing.assert_array_equal(image[0], image[2])
    np.testing.assert_allclose(image[1], grey[0, :16, :16] / 255.0, atol=1e-6)


def test_band_choice_and_alpha_band_as_mask(tmp_path):
    data = rgb_scene(64, 64)
    alpha = np.full((1, 64, 64), 255, np.uint8)
    alpha[0, :, :20] = 0
    rgba = np.concatenate([data, alpha])
    path = write_geotiff(tmp_path / "rgba.tif", rgba, colorinterp=[ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha])
    with RasterioSource(path) as src:
        assert src.bands == (1, 2, 3)
        image, valid = src.read(Window(0, 0, 64, 64))
    assert not valid[:, :20].any() and valid[:, 20:].all()
    assert (image[:, :, :20] == 0).all()
    with RasterioSource(path, bands=(3, 2, 1)) as src:
        image, _ = src.read(Window(0, 0, 64, 64))
    np.testing.assert_allclose(image[0, :, 20:], data[2, :, 20:] / 255.0, atol=1e-6)


def test_four_bands_without_alpha_default_to_rgb(tmp_path):
    data = np.concatenate([rgb_scene(32, 32), np.zeros((1, 32, 32), np.uint8)])
    path = write_geotiff(tmp_path / "rgbn.tif", data, photometric="minisblack")  # GDAL would make band 4 alpha
    with RasterioSource(path) as src:
        image, valid = src.read(Window(0, 0, 32, 32))
        assert src.bands == (1, 2, 3)
    assert valid.all()
    np.testing.assert_allclose(image, data[:3] / 255.0, atol=1e-6)


def test_missing_band_is_a_clear_error(tmp_path):
    path = write_geotiff(tmp_path / "rgb.tif", rgb_scene(32, 32))
    with pytest.raises(InvalidRasterError, match="band"):
        RasterioSource(path, bands=(1, 2, 5))


def test_uint16_percentile_stretch_ignores_nodata(tmp_path):
    rng = np.random.default_rng(1)
    data = rng.integers(1000, 3001, (3, 100, 100)).astype(np.uint16)
    data[:, :, :30] = 0  # nodata would drag the 2% percentile to 0 if it were counted
    path = write_geotiff(tmp_path / "u16.tif", data, nodata=0)
    with RasterioSource(path) as src:
        image, valid = src.read(Window(0, 0, 100, 100))
    inside = data[:, :, 30:].astype(np.float64)
    lo, hi = np.percentile(inside.reshape(3, -1), [2, 98], axis=1)
    expected = np.clip((inside - lo[:, None, None]) / (hi - lo)[:, None, None], 0, 1)
    np.testing.assert_allclose(image[:, :, 30:], expected, atol=1e-4)
    assert not valid[:, :30].any() and valid[:, 30:].all()


def test_float_nan_nodata_is_invalid(tmp_path):
    data = np.linspace(0, 1, 3 * 40 * 40, dtype=np.float32).reshape(3, 40, 40)
    data[:, 5, 5] = np.nan
    path = write_geotiff(tmp_path / "f32.tif", data, nodata=np.nan)
    with RasterioSource(path) as src:
        image, valid = src.read(Window(0, 0, 40, 40))
    assert not valid[5, 5] and valid.sum() == 40 * 40 - 1
    assert np.isfinite(image).all() and image.min() >= 0 and image.max() <= 1


def test_geographic_crs_georef(tmp_path):
    path = write_geotiff(tmp_path / "geo.tif", rgb_scene(32, 32), crs="EPSG:4326",
                         transform=from_origin(10.0, 60.0, 1e-5, 1e-5))
    with RasterioSource(path) as src:
        assert src.georef.is_geographic
        x, y = src.georef.to_map(0.0, 32.0)
        assert x == pytest.approx(10.0) and y == pytest.approx(60.0 - 32e-5)


def test_feet_crs_has_metres_per_unit(tmp_path):
    path = write_geotiff(tmp_path / "ft.tif", rgb_scene(32, 32), crs="EPSG:2263",
                         transform=from_origin(980000.0, 200000.0, 1.0, 1.0))
    with RasterioSource(path) as src:
        assert src.georef.metres_per_unit == pytest.approx(0.3048006, rel=1e-6)


def test_no_georeference_gives_none(tmp_path):
    path = write_geotiff(tmp_path / "plain.tif", rgb_scene(32, 32), crs=None)
    with RasterioSource(path) as src:
        assert src.georef is None
        image, valid = src.read(Window(0, 0, 8, 8))
    assert valid.all() and image.shape == (3, 8, 8)


def test_fingerprint_stable_across_copies_and_changes_on_edit(tmp_path):
    data = rgb_scene()
    path = write_geotiff(tmp_path / "a.tif", data)
    (tmp_path / "elsewhere").mkdir()
    copy = shutil.copy(path, tmp_path / "elsewhere" / "b.tif")
    edited = data.copy()
    edited[:, 100:110, 100:110] = 7
    edited_path = write_geotiff(tmp_path / "c.tif", edited)
    with RasterioSource(path) as a, RasterioSource(copy) as b, RasterioSource(edited_path) as c:
        assert a.fingerprint == b.fingerprint
        assert a.fingerprint != c.fingerprint
    with RasterioSource(path, bands=(3, 2, 1)) as swapped:
        assert swapped.fingerprint != a.fingerprint


def test_text_file_named_tif_is_invalid(tmp_path):
    path = tmp_path / "notes.tif"
    path.write_text("this is not a raster\n")
    with pytest.raises(InvalidRasterError, match="notes.tif"):
        RasterioSource(path)


def test_empty_and_missing_files_are_invalid(tmp_path):
    empty = tmp_path / "empty.tif"
    empty.write_bytes(b"")
    with pytest.raises(InvalidRasterError, match="empty"):
        RasterioSource(empty)
    with pytest.raises(InvalidRasterError, match="does not exist"):
        RasterioSource(tmp_path / "missing.tif")


@pytest.mark.parametrize("tiled", [False, True])
def test_truncated_geotiff_is_invalid(tmp_path, tiled):
    extra = dict(tiled=True, blockxsize=64, blockysize=64) if tiled else {}
    path = write_geotiff(tmp_path / "full.tif", rgb_scene(256, 256), compress="deflate", **extra)
    whole = path.read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InvalidRasterError, match="cut.tif"):
        RasterioSource(cut)


def test_all_nodata_scene_is_invalid(tmp_path):
    path = write_geotiff(tmp_path / "nodata.tif", np.zeros((3, 64, 64), np.uint8), nodata=0)
    with pytest.raises(InvalidRasterError, match="nodata"):
        RasterioSource(path)
