"""Synthetic scenes: determinism, object sizes and placement, and real GeoTIFF / vector outputs."""

import json

import numpy as np
import pyogrio
import pyproj
import pytest
import rasterio
import shapely

from engine.georef import GeoReference
from engine.synthetic import (CATEGORIES, choose_clicks, render_scene, scene_georef, write_large_scene,
                              write_sample_scene, write_scene_geotiff, write_truth)

# 0.6 m pixels put a whole district (water, roads, lots, apron) into a small, fast scene
SMALL = dict(width=640, height=640, seed=11, gsd_m=0.6)


@pytest.fixture(scope="module")
def scene():
    return render_scene(**SMALL)


def test_every_category_is_present_with_real_world_sizes(scene):
    assert scene.image.shape == (640, 640, 3) and scene.image.dtype == np.uint8
    assert set(scene.categories) == set(CATEGORIES)
    b = scene.boxes_px
    assert len(b) == len(scene.categories) == len(scene.obb_px)
    # the oriented box gives length and width in metres, whatever the heading
    length = np.linalg.norm(scene.obb_px[:, 0] - scene.obb_px[:, 3], axis=1) * scene.gsd_m
    width = np.linalg.norm(scene.obb_px[:, 0] - scene.obb_px[:, 1], axis=1) * scene.gsd_m
    cats = scene.categories
    car = cats == "vehicle"
    assert np.all((length[car] > 3.8) & (length[car] < 9.0)) and np.all((width[car] > 1.5) & (width[car] < 2.6))
    assert 4.0 < np.median(length[car]) < 5.2
    ship = cats == "ship"
    assert np.all((length[ship] > 9.5) & (length[ship] < 40.5))
    plane = cats == "aircraft"
    assert np.all((width[plane] > 29.5) & (width[plane] < 60.5))  # wing span


def test_boxes_inside_image_and_bound_the_oriented_boxes(scene):
    b = scene.boxes_px
    assert np.all(b[:, 0] >= 0) and np.all(b[:, 1] >= 0) and np.all(b[:, 2] <= 640) and np.all(b[:, 3] <= 640)
    assert np.all(b[:, 2] > b[:, 0]) and np.all(b[:, 3] > b[:, 1])
    lo, hi = scene.obb_px.min(axis=1), scene.obb_px.max(axis=1)
    assert np.all(b[:, :2] >= lo - 1e-6) and np.all(b[:, 2:] <= hi + 1e-6)
    # a car is nearly rectangular: both boxes agree (pointed bows and wings make them differ)
    car = scene.categories == "vehicle"
    np.testing.assert_allclose(b[car, :2], lo[car], atol=0.3)
    np.testing.assert_allclose(b[car, 2:], hi[car], atol=0.3)


def test_objects_do_not_overlap(scene):
    # aircraft are not rectangles (wings), so only vehicles and ships are compared by oriented box
    keep = scene.categories != "aircraft"
    polys = shapely.polygons(scene.obb_px[keep])
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(shapely.intersection(polys[left[pairs]], polys[right[pairs]]))
    # rounded car corners sit inside their oriented box by ~0.1 m
    assert overlap.max(initial=0.0) < 0.05
    # aircraft boxes contain no other object's centre
    centres = shapely.points(((scene.boxes_px[:, :2] + scene.boxes_px[:, 2:]) / 2))
    for i in np.flatnonzero(~keep):
        inside = shapely.contains(shapely.polygons(scene.obb_px[i]), centres)
        assert np.flatnonzero(inside).tolist() == [i]


def test_objects_are_visible_in_the_image(scene):
    """A car's pixels differ from the asphalt around it: the renderer drew something there."""
    img = scene.image.astype(float)
    diffs = []
    for box in scene.boxes_px[scene.categories == "vehicle"][:40]:
        c0, r0, c1, r1 = np.round(box).astype(int)
        inner = img[r0:r1, c0:c1].reshape(-1, 3)
        ring = np.concatenate([img[max(r0 - 3, 0):r0, c0:c1].reshape(-1, 3), img[r1:r1 + 3, c0:c1].reshape(-1, 3)])
        diffs.append(np.abs(inner.mean(0) - ring.mean(0)).max() + inner.std())
    assert np.median(diffs) > 10


def test_same_seed_same_bytes_other_seed_other_scene():
    a = render_scene(320, 256, seed=5, gsd_m=0.6)
    b = render_scene(320, 256, seed=5, gsd_m=0.6)
    c = render_scene(320, 256, seed=6, gsd_m=0.6)
    assert a.image.tobytes() == b.image.tobytes()
    np.testing.assert_array_equal(a.boxes_px, b.boxes_px)
    assert list(a.categories) == list(b.categories)
    assert a.image.tobytes() != c.image.tobytes()


@pytest.mark.parametrize("width,height,gsd_m", [(1, 1, 0.3), (17, 300, 0.3), (64, 64, 2.0), (300, 90, 0.15),
                                                 (60, 60, 5.0)])
def test_any_size_and_pixel_size_renders(width, height, gsd_m):
    s = render_scene(width, height, seed=1, gsd_m=gsd_m)
    assert s.image.shape == (height, width, 3)
    assert s.boxes_px.shape == (len(s.categories), 4)
    if len(s.boxes_px):
        assert s.boxes_px[:, 2].max() <= width and s.boxes_px[:, 3].max() <= height


def test_counts_are_honoured():
    s = render_scene(**SMALL, counts={"vehicle": 25, "ship": 3, "aircraft": 1})
    assert {c: int(np.sum(s.categories == c)) for c in CATEGORIES} == {"vehicle": 25, "ship": 3, "aircraft": 1}
    none = render_scene(**SMALL, counts={"ship": 2})
    assert list(none.categories) == ["ship", "ship"]
    with pytest.raises(ValueError, match="Unknown categories"):
        render_scene(**SMALL, counts={"boat": 1})


def test_geotiff_is_tiled_compressed_georeferenced_and_exact(scene, tmp_path):
    path = write_scene_geotiff(scene, tmp_path / "scene.tif", crs="EPSG:32633", origin_xy=(500000, 5500000))
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32633
        assert src.transform.to_gdal() == (500000.0, 0.6, 0.0, 5500000.0, 0.0, -0.6)
        assert src.block_shapes == [(256, 256)] * 3
        assert src.compression.name.lower() == "deflate"
        assert src.count == 3 and src.dtypes == ("uint8",) * 3
        np.testing.assert_array_equal(src.read().transpose(1, 2, 0), scene.image)
    assert [p.name for p in tmp_path.iterdir()] == ["scene.tif"]  # no temporary left behind


def test_geotiff_from_render_parameters(tmp_path):
    path = write_scene_geotiff(dict(width=96, height=64, seed=2), tmp_path / "p.tif", gsd_m=0.5,
                               origin_xy=(400000, 6000000), crs="EPSG:32632")
    with rasterio.open(path) as src:
        assert (src.width, src.height) == (96, 64)
        assert src.crs.to_epsg() == 32632
        assert src.transform.to_gdal() == (400000.0, 0.5, 0.0, 6000000.0, 0.0, -0.5)
        np.testing.assert_array_equal(src.read().transpose(1, 2, 0),
                                      render_scene(96, 64, seed=2, gsd_m=0.5).image)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_truth_polygons_in_map_coordinates(scene, tmp_path, suffix):
    georef = scene_georef((500000.0, 5500000.0), scene.gsd_m)
    path = write_truth(scene, tmp_path / f"truth{suffix}", georef, "EPSG:32633")
    df = pyogrio.read_dataframe(path) if _has_geopandas() else None
    info = pyogrio.read_info(path)
    assert info["features"] == len(scene.boxes_px)
    assert pyproj.CRS(info["crs"]).to_epsg() == 32633
    _, _, geometry, fields = pyogrio.raw.read(path)
    assert list(fields[0]) == list(scene.categories)
    bounds = shapely.bounds(shapely.from_wkb(geometry))
    x0, y1 = georef.to_map(scene.boxes_px[:, 0], scene.boxes_px[:, 1])
    x1, y0 = georef.to_map(scene.boxes_px[:, 2], scene.boxes_px[:, 3])
    np.testing.assert_allclose(bounds, np.stack([x0, y0, x1, y1], axis=1), atol=1e-6)
    assert df is None or len(df) == len(scene.boxes_px)


def _has_geopandas() -> bool:
    try:
        import geopandas  # noqa: F401
    except ImportError:
        return False
    return True


def test_sample_scene_clicks_hit_objects_of_their_category(tmp_path):
    paths = write_sample_scene(tmp_path / "demo", size=1024, seed=7)
    assert {k: p.name for k, p in paths.items()} == {"scene": "scene.tif", "truth": "truth.gpkg",
                                                      "clicks": "clicks.geojson"}
    with rasterio.open(paths["scene"]) as src:
        assert src.crs.to_epsg() == 32633 and src.width == 1024
        georef = GeoReference(src.transform.to_gdal())
    clicks = json.loads(paths["clicks"].read_text())["features"]
    _, _, geometry, fields = pyogrio.raw.read(paths["truth"])
    truth = shapely.from_wkb(geometry)
    cats = np.asarray(fields[0])
    to_utm = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:32633", always_xy=True)
    assert sorted(f["properties"]["category"] for f in clicks) == sorted(CATEGORIES)
    for f in clicks:
        lon, lat = f["geometry"]["coordinates"]
        assert 14 < lon < 16 and 49 < lat < 50.5  # EPSG:4326 longitude/latitude, UTM 33N
        x, y = to_utm.transform(lon, lat)
        hit = shapely.contains_xy(truth, x, y)
        assert hit.any() and set(cats[hit]) == {f["properties"]["category"]}
        col, row = georef.to_pixel(x, y)
        assert 0 < col < 1024 and 0 < row < 1024


def test_choose_clicks_prefers_typical_objects_away_from_edges(scene):
    clicks = choose_clicks(scene, 640, 640, margin_px=32)
    for cat, (col, row) in clicks.items():
        assert 32 < col < 608 and 32 < row < 608
        b = scene.boxes_px
        inside = (b[:, 0] <= col) & (col <= b[:, 2]) & (b[:, 1] <= row) & (row <= b[:, 3])
        assert cat in set(scene.categories[inside])


def test_large_scene_written_block_by_block(tmp_path):
    truth = write_large_scene(tmp_path / "large.tif", 700, 520, seed=3, block=256, gsd_m=0.6)
    with rasterio.open(tmp_path / "large.tif") as src:
        assert (src.width, src.height) == (700, 520)
        assert src.crs.to_epsg() == 32633 and src.block_shapes[0] == (256, 256)
        image = src.read().transpose(1, 2, 0).astype(float)
    assert len(truth.boxes_px) > 10 and set(truth.categories) <= set(CATEGORIES)
    b = truth.boxes_px
    # no object crosses a block edge
    assert np.all(np.floor(b[:, 0] / 256) == np.floor((b[:, 2] - 1e-6) / 256))
    assert np.all(np.floor(b[:, 1] / 256) == np.floor((b[:, 3] - 1e-6) / 256))
    # the ground joins across block edges: a seam is no stronger than ordinary neighbour differences
    seam = np.abs(image[:, 255] - image[:, 256]).mean()
    usual = np.abs(image[:, 100:250] - image[:, 101:251]).mean()
    assert seam < 2.0 * usual + 2.0
    # same seed, same file
    again = write_large_scene(tmp_path / "again.tif", 700, 520, seed=3, block=256, gsd_m=0.6)
    np.testing.assert_array_equal(again.boxes_px, truth.boxes_px)
    with rasterio.open(tmp_path / "again.tif") as src:
        np.testing.assert_array_equal(src.read().transpose(1, 2, 0), image)
