"""`deal detect` argument parsing and error paths: exit code 2, a message, no traceback, no output file."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import pyproj
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from engine.cli import COMMANDS, main
from test_rasterio_source import rgb_scene, write_geotiff

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scene(tmp_path):
    """A 0.5 m UTM 33N RGB scene of 240 x 200 px; top-left corner (500000, 4100000)."""
    return write_geotiff(tmp_path / "scene.tif", rgb_scene(), crs="EPSG:32633",
                         transform=from_origin(500000.0, 4100000.0, 0.5, 0.5))


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code, err, *phrases):
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("deal: error: ")
    for phrase in phrases:
        assert phrase in err


def test_top_level_help_lists_detect(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "detect" in out and COMMANDS["detect"][1] in out


def test_detect_help_teaches_with_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["detect", "--help"])
    out = capsys.readouterr().out
    assert info.value.code == 0
    for phrase in ("--point", "@EPSG:4326", "@pixel", "--prompts", "--category-field", "examples:", "deal detect scene.tif"):
        assert phrase in out


def test_no_command_prints_help_and_fails(capsys):
    code, _, err = run_cli(capsys)
    assert code == 2 and "detect" in err


@pytest.mark.parametrize("argv, phrase", [
    (["--bands", "1,2"], "give 3 band numbers"),
    (["--score", "1.5"], "between 0 and 1"),
    (["--tile", "-3"], "above 0"),
    (["--device", "tpu"], "invalid choice"),
    (["--self-prompt", "-1"], "adds 0 to 32 detections"),
    (["--self-prompt", "many"], "adds 0 to 32 detections"),
    (["--views", "9"], "views are 1 (the scene alone) to 8"),
    (["--views", "two"], "views are 1 (the scene alone) to 8"),
])
def test_bad_option_values_are_usage_errors(capsys, scene, tmp_path, argv, phrase):
    with pytest.raises(SystemExit) as info:
        main(["detect", str(scene), "--point", "10,10@pixel:car", "-o", str(tmp_path / "o.gpkg"), *argv])
    assert info.value.code == 2
    assert phrase in capsys.readouterr().err


def test_unwritable_output_is_reported_before_reading_the_scene(capsys, tmp_path):
    code, _, err = run_cli(capsys, "detect", tmp_path / "missing.tif", "--point", "1,1@pixel:car", "-o", "/proc/deal/x.gpkg")
    assert_user_error(code, err, "/proc/deal/x.gpkg")
    assert "missing.tif" not in err


def test_unknown_output_format(capsys, scene, tmp_path):
    code, _, err = run_cli(capsys, "detect", scene, "--point", "1,1@pixel:car", "-o", tmp_path / "out.kml")
    assert_user_error(code, err, ".gpkg")


def test_density_must_be_geotiff_and_outputs_distinct(capsys, scene, tmp_path):
    out = tmp_path / "out.gpkg"
    code, _, err = run_cli(capsys, "detect", scene, "--point", "1,1@pixel:car", "-o", out, "--density", tmp_path / "d.png")
    assert_user_error(code, err, ".tif")
    code, _, err = run_cli(capsys, "detect", scene, "--point", "1,1@pixel:car", "-o", out, "--counts", tmp_path / "c.txt")
    assert_user_error(code, err, ".csv")
    assert list(tmp_path.iterdir()) == [scene]


def test_not_a_raster(capsys, tmp_path):
    fake = tmp_path / "scene.tif"
    fake.write_text("hello, I am text\n")
    code, _, err = run_cli(capsys, "detect", fake, "--point", "1,1@pixel:car", "-o", tmp_path / "out.gpkg")
    assert_user_error(code, err, "scene.tif", "not a raster")
    assert not (tmp_path / "out.gpkg").exists()


def test_truncated_raster(capsys, scene, tmp_path):
    whole = write_geotiff(tmp_path / "big.tif", rgb_scene(256, 256), compress="deflate").read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(whole[: len(whole) // 2])
    code, _, err = run_cli(capsys, "detect", cut, "--point", "1,1@pixel:car", "-o", tmp_path / "out.gpkg")
    assert_user_error(code, err, "cut.tif", "truncated")


def test_all_nodata_scene(capsys, tmp_path):
    blank = write_geotiff(tmp_path / "blank.tif", np.zeros((3, 50, 50), np.uint8), nodata=0)
    code, _, err = run_cli(capsys, "detect", blank, "--point", "1,1@pixel:car", "-o", tmp_path / "out.gpkg")
    assert_user_error(code, err, "nodata")


def test_zero_prompts(capsys, scene, tmp_path):
    code, _, err = run_cli(capsys, "detect", scene, "-o", tmp_path / "out.gpkg")
    assert_user_error(code, err, "No prompts", "--point")
    assert not (tmp_path / "out.gpkg").exists()


def test_unknown_crs_in_point(capsys, scene, tmp_path):
    code, _, err = run_cli(capsys, "detect", scene, "--point", "15,37@EPSG:999999:car", "-o", tmp_path / "out.gpkg")
    assert_user_error(code, err, "EPSG:999999")


def test_point_outside_raster(capsys, scene, tmp_path):
    code, _, err = run_cli(capsys, "detect", scene, "--point", "600000,4099950:car", "-o", tmp_path / "out.gpkg")
    assert_user_error(code, err, "600000,4099950:car", "outside", "EPSG:32633")


def test_negative_coordinates_with_equals_sign(capsys, scene, tmp_path):
    code, _, err = run_cli(capsys, "detect", scene, "--point=-73.985,40.748@EPSG:4326:car", "-o", tmp_path / "out.gpkg")
    assert_user_error(code, err, "'-73.985,40.748@EPSG:4326:car'", "outside")


def test_map_point_on_raster_without_georef(capsys, tmp_path):
    plain = write_geotiff(tmp_path / "plain.tif", rgb_scene(64, 64), crs=None)
    code, _, err = run_cli(capsys, "detect", plain, "--point", "500010,4099990:car", "-o", tmp_path / "out.gpkg")
    assert_user_error(code, err, "no georeference", "@pixel")


def test_prompts_file_missing_category_field(capsys, scene, tmp_path):
    points = tmp_path / "clicks.gpkg"
    pyogrio.raw.write(points, geometry=np.array([shapely.to_wkb(shapely.Point(500010.0, 4099990.0))], dtype=object),
                      field_data=[np.array(["car"], dtype=object)], fields=["kind"], crs="EPSG:32633", geometry_type="Point")
    code, _, err = run_cli(capsys, "detect", scene, "--prompts", points, "-o", tmp_path / "out.gpkg")
    assert_user_error(code, err, "no field 'category'", "kind")


def test_module_entry_point_exits_2_without_traceback(tmp_path):
    fake = tmp_path / "scene.tif"
    fake.write_text("not a raster")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "engine.cli", "detect", str(fake), "--point", "1,1@pixel:car",
                           "-o", str(tmp_path / "out.gpkg")], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=120)
    assert proc.returncode == 2
    assert "not a raster" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out.gpkg").exists()


# --- end to end, with the bundled model --------------------------------------------------------

SCENE_ORIGIN = (500000.0, 5500000.0)  # top-left corner in EPSG:32633
SCENE_GSD = 0.3
SMALL_TILES = ("--tile", "256", "--overlap", "32")  # keeps the CPU run to seconds


@pytest.fixture(scope="module")
def synthetic_scene(tmp_path_factory):
    """A 384 px UTM scene: grey asphalt with 12 bright 'vehicles' (6 x 14 px); the map and pixel
    position of one vehicle's centre."""
    rng = np.random.default_rng(5)
    image = rng.normal(90, 6, (3, 384, 384)).clip(0, 255).astype(np.uint8)
    centres = [(40 + 100 * (i % 4), 50 + 120 * (i // 4)) for i in range(12)]
    for col, row in centres:
        image[:, row - 3:row + 3, col - 7:col + 7] = np.array([220, 40, 40], np.uint8)[:, None, None]
    path = write_geotiff(tmp_path_factory.mktemp("scene") / "scene.tif", image, crs="EPSG:32633",
                         transform=from_origin(*SCENE_ORIGIN, SCENE_GSD, SCENE_GSD))
    col, row = centres[5]
    return path, (SCENE_ORIGIN[0] + col * SCENE_GSD, SCENE_ORIGIN[1] - row * SCENE_GSD), (col, row)


@pytest.mark.parametrize("extra", [[], ["--bracket"], ["--self-prompt"], ["--views"]])
def test_detect_end_to_end_writes_consistent_outputs(capsys, synthetic_scene, tmp_path, extra):
    scene, (x, y), _ = synthetic_scene
    out, counts, density = tmp_path / "found.gpkg", tmp_path / "counts.csv", tmp_path / "density.tif"
    code, stdout, err = run_cli(capsys, "detect", scene, "--point", f"{x:.2f},{y:.2f}:vehicle", "-o", out,
                                "--counts", counts, "--density", density, "--device", "cpu", "-q", *SMALL_TILES, *extra)
    assert code == 0, err
    info = pyogrio.read_info(out)
    assert pyproj.CRS.from_user_input(info["crs"]).to_epsg() == 32633
    with open(counts, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["category"] for r in rows] == ["vehicle"]
    assert int(rows[0]["count"]) == info["features"]
    assert f"vehicle  {info['features']:>6}" in stdout and str(out) in stdout
    with rasterio.open(density) as src:
        assert src.descriptions == ("vehicle",) and src.crs.to_epsg() == 32633
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.csv", "density.tif", "found.gpkg"]


def test_detect_on_raster_without_georef_with_pixel_click(capsys, synthetic_scene, tmp_path):
    scene, _, (col, row) = synthetic_scene
    with rasterio.open(scene) as src:
        plain = write_geotiff(tmp_path / "plain.tif", src.read(), crs=None)
    out = tmp_path / "found.gpkg"
    code, _, err = run_cli(capsys, "detect", plain, "--point", f"{col:.1f},{row:.1f}@pixel:vehicle", "-o", out,
                           "--device", "cpu", "-q", *SMALL_TILES)
    assert code == 0, err
    assert "no georeference" in err
    meta, _, wkb, _ = pyogrio.raw.read(out)
    assert meta["crs"] is None
    if len(wkb):  # pixel coordinates: every polygon inside the 384 px image
        assert shapely.total_bounds(shapely.from_wkb(wkb))[2] <= 384 + 1e-6


def test_geojson_from_raster_without_crs_is_refused(capsys, tmp_path):
    plain = write_geotiff(tmp_path / "plain.tif", rgb_scene(64, 64), crs=None)
    code, _, err = run_cli(capsys, "detect", plain, "--point", "10,10@pixel:car", "-o", tmp_path / "out.geojson")
    assert_user_error(code, err, "GeoJSON", ".gpkg")
    assert not (tmp_path / "out.geojson").exists()


@pytest.mark.parametrize("argv, phrase", [
    (["--tile", "100"], "multiple of 32"),
    (["--object-px", "1"], "object size must be between 4 and"),
])
def test_settings_the_model_cannot_use_are_usage_errors(capsys, scene, tmp_path, argv, phrase):
    with pytest.raises(SystemExit) as info:
        main(["detect", str(scene), "--point", "10,10@pixel:car", "-o", str(tmp_path / "o.gpkg"), *argv, "--device", "cpu"])
    assert info.value.code == 2
    assert phrase in capsys.readouterr().err
    assert not (tmp_path / "o.gpkg").exists()
