"""Evaluation runs end to end: images on disk, prompts, detectors, metrics, tables, ``deal eval``, scenes."""

from __future__ import annotations

import json

import numpy as np
import pyogrio
import pytest
import rasterio
from PIL import Image
from rasterio.transform import from_origin

from engine.cli import main as deal_main
from engine.evaluation.harness import SessionDetector, evaluate_scene, format_table, run_eval
from engine.evaluation.ncc_baseline import NCCMatcher
from engine.georef import GeoReference
from engine.prompts import PointPrompt
from engine.training.datasets import ImageRecord

CARS = [(30, 40, 0), (100, 200, 0), (200, 60, 1), (250, 330, 1), (150, 300, 0), (60, 320, 1)]
SHIPS = [(20, 150, 0), (230, 180, 0)]


def _write_scene(path):
    """A 300x400 PNG with six 16x8 'cars' (half turned) and two 10x10 'ships'; returns its boxes and categories."""
    rng = np.random.default_rng(0)
    image = rng.normal(100, 8, (300, 400, 3))
    car = np.full((8, 16, 3), 200.0)
    car[:, 6:9] = 60
    boxes, cats = [], []
    for row, col, turned in CARS:
        obj = car.transpose(1, 0, 2) if turned else car
        image[row:row + obj.shape[0], col:col + obj.shape[1]] = obj
        boxes.append([col, row, col + obj.shape[1], row + obj.shape[0]])
        cats.append("vehicle")
    for row, col, _ in SHIPS:
        image[row:row + 10, col:col + 10] = (20, 20, 160)
        boxes.append([col, row, col + 10, row + 10])
        cats.append("ship")
    Image.fromarray(image.clip(0, 255).astype(np.uint8)).save(path)
    return np.asarray(boxes, np.float32), np.asarray(cats)


@pytest.fixture()
def records(tmp_path):
    out = []
    for i in range(3):
        boxes, cats = _write_scene(tmp_path / f"s{i}.png")
        out.append(ImageRecord(str(tmp_path / f"s{i}.png"), 400, 300, f"g{i}", "toy" if i < 2 else "other",
                               boxes, cats, np.zeros(len(cats), bool)))
    return out


class OracleDetector:
    """Returns the ground truth of the prompted categories, read from the record by image identity."""

    def __init__(self, records):
        self.records = records
        self.calls = []

    def detect(self, image, prompts):
        self.calls.append(prompts)
        wanted = {p.category for p in prompts}
        rec = self.records[0]
        keep = np.isin(rec.categories, list(wanted))
        return rec.boxes_px[keep], np.linspace(0.9, 0.5, int(keep.sum())), rec.categories[keep]


def test_oracle_scores_one_and_single_category_settings_score_only_the_prompted_category(records):
    for setting in (1, 2):
        m = run_eval(OracleDetector(records), records, setting)
        assert m["AP"] == pytest.approx(1.0) and m["n_gt"] == 24 and m["n_images"] == 3
        assert m["count_mae"] == 0.0 and m["setting"] == setting
    for setting in (3, 4):
        oracle = OracleDetector(records)
        m = run_eval(oracle, records, setting, seed=3)
        prompted = [{p.category for p in call} for call in oracle.calls]
        assert all(len(c) == 1 for c in prompted)
        expected_gt = sum(6 if c == {"vehicle"} else 2 for c in prompted)
        assert m["n_gt"] == expected_gt and m["AP"] == pytest.approx(1.0)
    assert set(m["per_dataset"]) == {"toy", "other"} and m["per_dataset"]["toy"]["n_images"] == 2


def test_prompts_depend_on_seed_and_image_index_only(records):
    a, b = OracleDetector(records), OracleDetector(records)
    run_eval(a, records, 1, seed=5, jitter=0.1)
    run_eval(b, records[:2], 1, seed=5, jitter=0.1)
    assert a.calls[:2] == b.calls
    c = OracleDetector(records)
    run_eval(c, records, 1, seed=6, jitter=0.1)
    assert c.calls != a.calls


def test_images_without_objects_are_skipped_and_max_images_is_honoured(records, tmp_path):
    Image.fromarray(np.zeros((20, 20, 3), np.uint8)).save(tmp_path / "empty.png")
    empty = ImageRecord(str(tmp_path / "empty.png"), 20, 20, "e", "toy", np.zeros((0, 4), np.float32),
                        np.zeros(0, str), np.zeros(0, bool))
    seen = []
    m = run_eval(OracleDetector(records), [empty] + records, 2, max_images=2,
                 progress=lambda f, msg: seen.append(f))
    assert m["images_skipped"] == 1 and m["n_images"] == 1
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) == 3


def test_ncc_baseline_end_to_end_and_table(records):
    m = run_eval(NCCMatcher(), records[:1], 1)
    assert m["per_category"]["vehicle"]["AP50"] == pytest.approx(1.0)  # every car ranked above every false match
    table = format_table({"ncc": {"1": m}})
    lines = table.splitlines()
    assert lines[0].startswith("| method | setting | AP | AP50 | AP75 | AP50 ship | AP50 vehicle | AP 2-8")
    assert len(lines) == 3 and lines[2].startswith("| ncc | 1 | ")
    cells = [c.strip() for c in lines[2].strip("|").split("|")]
    assert cells[6] == f"{100 * m['per_category']['vehicle']['AP50']:.1f}"


def _write_dataset(root):
    folder = root / "toy"
    (folder / "images").mkdir(parents=True)
    coco = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "vehicle"}, {"id": 2, "name": "ship"}]}
    for i in range(2):
        boxes, cats = _write_scene(folder / "images" / f"s{i}.png")
        coco["images"].append({"id": i + 1, "file_name": f"s{i}.png", "width": 400, "height": 300, "group": f"g{i}"})
        for b, c in zip(boxes.tolist(), cats):
            coco["annotations"].append({"id": len(coco["annotations"]) + 1, "image_id": i + 1,
                                        "category_id": 1 if c == "vehicle" else 2, "iscrowd": 0,
                                        "bbox": [b[0], b[1], b[2] - b[0], b[3] - b[1]]})
    (folder / "annotations.json").write_text(json.dumps(coco))
    return folder


def test_deal_eval_command_writes_metrics_and_tables_merge(tmp_path, capsys):
    _write_dataset(tmp_path / "data")
    out = tmp_path / "ncc.json"
    code = deal_main(["eval", "--baseline", "ncc", "--data", str(tmp_path / "data"), "--datasets", "toy",
                      "--split", "loso:toy", "--setting", "1", "3", "--out", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert set(report["results"]["ncc"]) == {"1", "3"}
    assert report["results"]["ncc"]["1"]["n_images"] == 2 and report["datasets"] == ["toy"]
    printed = capsys.readouterr().out
    assert "| ncc | 1 |" in printed and "| ncc | 3 |" in printed

    other = tmp_path / "renamed.json"
    other.write_text(json.dumps({"results": {"ncc-copy": report["results"]["ncc"]}}))
    assert deal_main(["eval", "--table", str(out), str(other)]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ncc")]
    assert len(rows) == 4


def test_deal_eval_rejects_an_unknown_split_and_dataset(tmp_path, capsys):
    _write_dataset(tmp_path / "data")
    assert deal_main(["eval", "--baseline", "ncc", "--data", str(tmp_path / "data"), "--datasets", "toy",
                      "--split", "loso:nothing"]) == 2
    assert "known datasets: toy" in capsys.readouterr().err
    assert deal_main(["eval", "--baseline", "ncc", "--data", str(tmp_path / "data"), "--datasets", "toy",
                      "--split", "test"]) == 2
    assert "Unknown split" in capsys.readouterr().err


def test_deal_eval_rejects_an_object_size_out_of_range(tmp_path, capsys):
    _write_dataset(tmp_path / "data")
    out = tmp_path / "never.json"
    assert deal_main(["eval", "--baseline", "ncc", "--data", str(tmp_path / "data"), "--datasets", "toy",
                      "--split", "loso:toy", "--object-px", "0", "--out", str(out)]) == 2
    assert "--object-px must be between 4 and 256" in capsys.readouterr().err
    assert not out.exists()


def test_deal_eval_supervised_baseline_needs_its_model_and_vectors(tmp_path, capsys):
    _write_dataset(tmp_path / "data")
    base = ["eval", "--baseline", "supervised", "--data", str(tmp_path / "data"), "--datasets", "toy", "--split", "loso:toy"]
    assert deal_main(base) == 2
    assert "needs --supervised-model DIR and --class-embeddings NPZ" in capsys.readouterr().err
    bad = tmp_path / "vectors.npz"
    bad.write_bytes(b"not an npz")
    assert deal_main(base + ["--supervised-model", str(tmp_path), "--class-embeddings", str(bad)]) == 2
    assert "is not a class-embeddings file" in capsys.readouterr().err


# --- the DEAL engine as a detector (tiny random model: checks plumbing, not accuracy) ---------

@pytest.fixture(scope="module")
def tiny_model(tiny_model_dir):
    from engine.runtime import load_model
    return load_model(tiny_model_dir, device="cpu")


def test_session_detector_returns_boxes_of_the_prompted_categories(records, tiny_model):
    det = SessionDetector(tiny_model, score_threshold=0.0)
    image = np.asarray(Image.open(records[0].path))
    boxes, scores, cats = det.detect(image, [PointPrompt(48.0, 34.0, "vehicle"), PointPrompt(155.0, 25.0, "ship")])
    assert boxes.shape == (len(scores), 4) and len(cats) == len(scores) > 0
    assert set(np.asarray(cats, str)) <= {"vehicle", "ship"}
    assert (boxes[:, 2] >= boxes[:, 0]).all() and (boxes[:, 3] >= boxes[:, 1]).all()
    m = run_eval(det, records[:1], 1)
    assert m["n_images"] == 1 and 0.0 <= m["AP"] <= 1.0


def test_evaluate_scene_scores_in_map_coordinates_across_crss(tmp_path, tiny_model):
    from engine.crs import reproject_xy
    from engine.io.rasterio_source import RasterioSource
    from engine.session import Session

    _write_scene(tmp_path / "s.png")
    pixels = np.asarray(Image.open(tmp_path / "s.png")).transpose(2, 0, 1)
    transform = from_origin(1_000_000.0, 6_000_000.0, 2.0, 2.0)
    with rasterio.open(tmp_path / "scene.tif", "w", driver="GTiff", width=400, height=300, count=3, dtype="uint8",
                       crs="EPSG:3857", transform=transform) as ds:
        ds.write(pixels)
    prompts = [PointPrompt(48.0, 34.0, "vehicle")]
    # Truth = the engine's own detections, written in another CRS: a perfect score proves that
    # pixel -> map conversion, reprojection and the scene-extent filter line up.
    result = Session(RasterioSource(tmp_path / "scene.tif"), tiny_model).detect(prompts, score_threshold=0.0)
    assert len(result) > 0
    georef = GeoReference(transform.to_gdal(), rasterio.crs.CRS.from_epsg(3857).to_wkt())
    rings = []
    for c0, r0, c1, r1 in result.boxes_px:
        xs, ys = georef.to_map(np.asarray([c0, c1, c1, c0, c0]), np.asarray([r0, r0, r1, r1, r0]))
        lon, lat = reproject_xy(xs, ys, "EPSG:3857", "EPSG:4326")
        rings.append("POLYGON((" + ", ".join(f"{x!r} {y!r}" for x, y in zip(lon, lat)) + "))")
    rings.append("POLYGON((0 0, 0.001 0, 0.001 0.001, 0 0.001, 0 0))")  # far off the scene: must not count
    import shapely
    geoms = shapely.to_wkb(shapely.from_wkt(rings))
    cats = np.asarray(list(result.categories) + ["vehicle"], dtype=object)
    pyogrio.raw.write(tmp_path / "truth.gpkg", geometry=geoms, field_data=[cats], fields=["category"],
                      geometry_type="Polygon", crs="EPSG:4326", driver="GPKG")

    m = evaluate_scene(tmp_path / "scene.tif", tmp_path / "truth.gpkg", prompts, tiny_model, score_threshold=0.0)
    assert m["n_gt"] == len(result)
    assert m["AP50"] == pytest.approx(1.0) and m["AP75"] == pytest.approx(1.0)
    assert m["stats"]["encoder_calls"] >= 1


def test_count_error_at_several_thresholds(records):
    """The oracle scores its objects 0.9 .. 0.5: counting at 0.3 finds all of them, at 0.95 none;
    the first threshold's entry is the reported count error."""
    m = run_eval(OracleDetector(records), records, 1, count_threshold=0.3, more_count_thresholds=(0.95, 0.3))
    assert list(m["count_mae_by_threshold"]) == ["0.3", "0.95"]
    assert m["count_mae_by_threshold"]["0.3"] == m["count_mae"] == 0.0
    assert m["count_mae_by_threshold"]["0.95"] > 0
    assert run_eval(OracleDetector(records), records, 1, count_threshold=0.95)["count_mae"] == m["count_mae_by_threshold"]["0.95"]


def test_deal_eval_prints_the_count_error_per_threshold_and_refuses_bad_ones(tmp_path, capsys):
    _write_dataset(tmp_path / "data")
    args = ["eval", "--baseline", "ncc", "--data", str(tmp_path / "data"), "--datasets", "toy", "--split", "loso:toy", "--setting", "1"]
    assert deal_main(args + ["--count-threshold", "0.3", "0.6"]) == 0
    assert "setting 1, count MAE by threshold: 0.3: " in capsys.readouterr().out
    assert deal_main(args + ["--count-threshold", "1.5"]) != 0
    assert "--count-threshold takes scores between 0 and 1" in capsys.readouterr().err


@pytest.mark.parametrize("option, bad, message, good, key", [
    ("--self-prompt", "40", "--self-prompt takes 0 to 32 detections per category", "3", "self_prompt"),
    ("--views", "0", "--views takes 1 (the image alone) to 8", "2", "views"),
])
def test_deal_eval_run_options_are_recorded_and_bad_values_refused(tmp_path, capsys, tiny_model_dir, option, bad, message, good, key):
    _write_dataset(tmp_path / "data")
    args = ["eval", "--model", str(tiny_model_dir), "--data", str(tmp_path / "data"), "--datasets", "toy",
            "--split", "loso:toy", "--setting", "1", "--device", "cpu"]
    assert deal_main(args + [option, bad]) != 0
    assert message in capsys.readouterr().err
    assert deal_main(args + [option, good, "--max-images", "1", "--out", str(tmp_path / "m.json")]) == 0
    assert json.loads((tmp_path / "m.json").read_text())[key] == int(good)
