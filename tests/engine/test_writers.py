"""Writers: detections (GPKG, Shapefile, GeoJSON), density GeoTIFF, counts; atomicity and unwritable paths."""

import csv
import json

import numpy as np
import pyogrio
import pyogrio.raw
import pyproj
import pytest
import rasterio
import shapely

from engine.errors import OutputError
from engine.georef import GeoReference
from engine.io.atomic import atomic_path, check_writable
from engine.io.counts import write_counts
from engine.io.geotiff import write_density
from engine.io.vector_io import write_detections
from engine.results import DensityMap, DetectionResult

UTM_WKT = pyproj.CRS.from_epsg(32633).to_wkt()
UTM_GEOREF = GeoReference((500000.0, 0.5, 0.0, 4100000.0, 0.0, -0.5), UTM_WKT, False, 1.0)


def detections(georef=UTM_GEOREF, n=3):
    boxes = np.array([[10, 20, 30, 28], [100, 50, 104, 62], [200, 200, 210, 210]], np.float64)[:n]
    categories = np.array(["car", "car", "ship"][:n], dtype=str)
    density = DensityMap(np.arange(2 * 6 * 8, dtype=np.float32).reshape(2, 6, 8) / 100, ["car", "ship"], 32, georef.scaled(32))
    return DetectionResult(boxes, np.array([0.9, 0.7, 0.5][:n], np.float32), categories, ["car", "ship"], georef,
                           density=density, estimated_counts={"car": 2.4, "ship": 0.8})


def read_layer(path, **kwargs):
    meta, _, wkb, fields = pyogrio.raw.read(path, **kwargs)
    return meta, shapely.from_wkb(wkb), dict(zip(meta["fields"], fields))


@pytest.mark.parametrize("name", ["out.gpkg", "out.shp"])
def test_vector_in_raster_crs(tmp_path, name):
    path = write_detections(detections(), tmp_path / name)
    meta, geoms, fields = read_layer(path)
    assert pyproj.CRS.from_user_input(meta["crs"]).to_epsg() == 32633
    assert list(meta["fields"]) == ["category", "score", "cx", "cy", "length_m", "width_m", "area_m2"]
    assert fields["category"].tolist() == ["car", "car", "ship"]
    assert fields["length_m"].tolist() == [10.0, 6.0, 5.0]
    assert fields["area_m2"].tolist() == [40.0, 12.0, 25.0]
    assert fields["cx"][0] == 500010.0 and fields["cy"][0] == 4099988.0
    assert geoms[0].bounds == (500005.0, 4099986.0, 500015.0, 4099990.0)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_vector_without_crs_is_in_pixels(tmp_path):
    path = write_detections(detections(GeoReference.identity()), tmp_path / "px.gpkg")
    meta, geoms, fields = read_layer(path)
    assert meta["crs"] is None
    assert geoms[0].bounds == (10.0, 20.0, 30.0, 28.0)
    assert np.isnan(fields["length_m"]).all()


def test_geojson_without_crs_is_refused(tmp_path):
    with pytest.raises(OutputError, match="longitude/latitude"):
        write_detections(detections(GeoReference.identity()), tmp_path / "px.geojson")
    assert list(tmp_path.iterdir()) == []


def test_gpkg_layer_name(tmp_path):
    write_detections(detections(), tmp_path / "out.gpkg", layer="cars")
    assert pyogrio.list_layers(tmp_path / "out.gpkg")[:, 0].tolist() == ["cars"]


def test_geojson_is_lonlat_rfc7946(tmp_path):
    path = write_detections(detections(), tmp_path / "out.geojson")
    doc = json.loads(path.read_text())
    lon, lat = pyproj.Transformer.from_crs(UTM_WKT, "EPSG:4326", always_xy=True).transform(500010.0, 4099988.0)
    first = doc["features"][0]
    ring = np.array(first["geometry"]["coordinates"][0])
    assert ring.shape == (5, 2)
    assert ring[:4, 0].mean() == pytest.approx(lon, abs=1e-6) and ring[:4, 1].mean() == pytest.approx(lat, abs=1e-6)
    assert first["properties"]["cx"] == pytest.approx(lon, abs=1e-7)
    assert first["properties"]["length_m"] == 10.0
    assert 14 < lon < 16 and 37 < lat < 38  # UTM 33N near x=500000 is 15 E


def test_single_detection_geojson(tmp_path):
    path = write_detections(detections(n=1), tmp_path / "one.json")
    assert len(json.loads(path.read_text())["features"]) == 1


@pytest.mark.parametrize("name", ["empty.gpkg", "empty.shp"])
def test_empty_result_gives_empty_layer_with_schema_and_crs(tmp_path, name):
    path = write_detections(detections(n=0), tmp_path / name)
    info = pyogrio.read_info(path)
    assert info["features"] == 0
    assert list(info["fields"]) == ["category", "score", "cx", "cy", "length_m", "width_m", "area_m2"]
    assert pyproj.CRS.from_user_input(info["crs"]).to_epsg() == 32633
    assert info["geometry_type"] == "Polygon"


def test_overwrites_existing_shapefile_and_drops_stale_sidecars(tmp_path):
    write_detections(detections(), tmp_path / "out.shp")
    (tmp_path / "out.qix").write_bytes(b"old spatial index")
    write_detections(detections(n=1), tmp_path / "out.shp")
    assert pyogrio.read_info(tmp_path / "out.shp")["features"] == 1
    assert not (tmp_path / "out.qix").exists()


def test_unknown_vector_extension(tmp_path):
    with pytest.raises(OutputError, match=r"\.gpkg"):
        write_detections(detections(), tmp_path / "out.kml")


@pytest.mark.parametrize("bad", ["/proc/deal-test/x.gpkg", "/proc/x.gpkg"])
def test_unwritable_output_is_an_output_error(bad):
    with pytest.raises(OutputError, match="x.gpkg"):
        write_detections(detections(), bad)


def test_missing_folder_suggests_mkdir(tmp_path):
    with pytest.raises(OutputError, match="mkdir"):
        check_writable(tmp_path / "no" / "such" / "out.gpkg")


def test_folder_as_output_path(tmp_path):
    with pytest.raises(OutputError, match="folder"):
        check_writable(tmp_path)


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    final = tmp_path / "out.gpkg"
    final.write_bytes(b"previous result")
    with pytest.raises(RuntimeError):
        with atomic_path(final) as tmp:
            tmp.write_bytes(b"half written")
            raise RuntimeError("detection failed")
    assert final.read_bytes() == b"previous result"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.gpkg"]


def test_density_geotiff(tmp_path):
    result = detections()
    path = write_density(result.density, tmp_path / "density.tif")
    with rasterio.open(path) as src:
        assert src.count == 2 and src.dtypes == ("float32", "float32")
        assert src.descriptions == ("car", "ship")
        assert src.crs.to_epsg() == 32633
        assert src.transform.to_gdal() == (500000.0, 16.0, 0.0, 4100000.0, 0.0, -16.0)
        assert src.nodata is None
        assert src.compression.value.lower() == "deflate"
        np.testing.assert_array_equal(src.read(), result.density.values)


def test_density_without_crs(tmp_path):
    density = DensityMap(np.ones((1, 4, 4), np.float32), ["car"], 8, GeoReference.identity().scaled(8))
    with rasterio.open(write_density(density, tmp_path / "d.tif")) as src:
        assert src.crs is None and src.descriptions == ("car",)


def test_counts_csv_and_json(tmp_path):
    result = detections()
    with open(write_counts(result, tmp_path / "counts.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == [{"category": "car", "count": "2", "estimated_count": "2.4"},
                    {"category": "ship", "count": "1", "estimated_count": "0.8"}]
    data = json.loads(write_counts(result, tmp_path / "counts.json").read_text())
    assert data == [{"category": "car", "count": 2, "estimated_count": 2.4},
                    {"category": "ship", "count": 1, "estimated_count": 0.8}]


def test_counts_unknown_extension(tmp_path):
    with pytest.raises(OutputError, match=r"\.csv"):
        write_counts(detections(), tmp_path / "counts.xlsx")
    assert list(tmp_path.iterdir()) == []
