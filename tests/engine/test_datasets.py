"""Dataset readers on small files written here, and the shared data as it lies beside the repo."""

import hashlib
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import rasterio
from PIL import Image
from rasterio.transform import from_origin

from engine.training.datasets import (
    DEFAULT_CLASS_MAP, DatasetError, ImageRecord, leave_one_source_out, load_coco, load_dota,
    load_shared, load_yolo, read_image, split_by_group,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _png(path: Path, width: int, height: int, seed: int = 0) -> np.ndarray:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return pixels


def test_load_coco_reads_boxes_categories_groups_and_skips_crowd(tmp_path):
    (tmp_path / "images").mkdir()
    _png(tmp_path / "images" / "a.png", 40, 30)
    _png(tmp_path / "images" / "b.png", 20, 20)
    coco = {
        "images": [{"id": 7, "file_name": "a.png", "width": 40, "height": 30, "group": "seq1"},
                   {"id": 9, "file_name": "b.png", "width": 20, "height": 20}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 2, "bbox": [1, 2, 10, 5], "area": 50, "iscrowd": 0},
            {"id": 2, "image_id": 7, "category_id": 1, "bbox": [20, 10, 4, 4], "area": 16, "iscrowd": 1},
            {"id": 3, "image_id": 7, "category_id": 1, "bbox": [5, 5, 3, 6], "area": 18, "iscrowd": 0, "difficult": 1},
        ],
        "categories": [{"id": 1, "name": "vehicle"}, {"id": 2, "name": "ship"}],
    }
    (tmp_path / "ann.json").write_text(json.dumps(coco))
    a, b = load_coco(tmp_path / "ann.json", tmp_path / "images", "toy")
    assert (a.width, a.height, a.group, a.dataset) == (40, 30, "seq1", "toy")
    assert a.path == str(tmp_path / "images" / "a.png")
    np.testing.assert_allclose(a.boxes_px, [[1, 2, 11, 7], [5, 5, 8, 11]])
    assert a.boxes_px.dtype == np.float32
    assert list(a.categories) == ["ship", "vehicle"]
    assert list(a.difficult) == [False, True]
    assert len(b) == 0 and b.boxes_px.shape == (0, 4) and b.group == "b"

    coco["annotations"][0]["category_id"] = 9
    (tmp_path / "ann.json").write_text(json.dumps(coco))
    with pytest.raises(DatasetError, match=r"category ids \[9\]"):
        load_coco(tmp_path / "ann.json", tmp_path / "images", "toy")


def test_load_dota_turns_quadrilaterals_into_enclosing_boxes(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labelTxt").mkdir()
    _png(tmp_path / "images" / "P1.png", 100, 80)
    _png(tmp_path / "images" / "P2.png", 10, 10)
    (tmp_path / "labelTxt" / "P1.txt").write_text(
        "imagesource:GoogleEarth\ngsd:0.25\n"
        "10 20 30 10 40 30 20 40 ship 0\n"
        "90 70 110 70 110 90 90 90 small-vehicle 1\n"
        "1 1 5 1 5 5 1 5 harbor 0\n")
    records = load_dota(tmp_path / "labelTxt", tmp_path / "images", "dota", class_map=DEFAULT_CLASS_MAP)
    p1, p2 = records
    np.testing.assert_allclose(p1.boxes_px, [[10, 10, 40, 40], [90, 70, 100, 80]])  # second clipped to image
    assert list(p1.categories) == ["ship", "vehicle"] and list(p1.difficult) == [False, True]
    assert (p1.width, p1.height, p1.group) == (100, 80, "P1")
    assert len(p2) == 0  # no label file
    raw = load_dota(tmp_path / "labelTxt", tmp_path / "images", "dota")
    assert list(raw[0].categories) == ["ship", "small-vehicle", "harbor"]


def test_load_dota_rejects_malformed_line(tmp_path):
    (tmp_path / "images").mkdir()
    _png(tmp_path / "images" / "P1.png", 10, 10)
    (tmp_path / "P1.txt").write_text("1 2 3 ship\n")
    with pytest.raises(DatasetError, match="line 1"):
        load_dota(tmp_path, tmp_path / "images", "dota")


def test_load_yolo_denormalises_centre_size(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    Image.fromarray(np.zeros((50, 200, 3), np.uint8)).save(tmp_path / "images" / "f1.jpg")
    _png(tmp_path / "images" / "f2.png", 8, 8)
    (tmp_path / "labels" / "f1.txt").write_text("1 0.5 0.5 0.1 0.2\n0 0.05 0.1 0.2 0.2\n")
    f1, f2 = load_yolo(tmp_path / "labels", tmp_path / "images", ["car", "bus"], "yolo")
    np.testing.assert_allclose(f1.boxes_px, [[90, 20, 110, 30], [0, 0, 30, 10]], atol=1e-4)
    assert list(f1.categories) == ["bus", "car"] and not f1.difficult.any()
    assert (f1.width, f1.height) == (200, 50) and len(f2) == 0
    (tmp_path / "labels" / "f2.txt").write_text("3 0.5 0.5 0.1 0.1\n")
    with pytest.raises(DatasetError, match="class index"):
        load_yolo(tmp_path / "labels", tmp_path / "images", ["car", "bus"], "yolo")


def test_read_image_png_and_geotiff_rgb(tmp_path):
    pixels = _png(tmp_path / "a.png", 12, 9, seed=3)
    rec = ImageRecord(str(tmp_path / "a.png"), 12, 9, "g", "d", np.zeros((0, 4), np.float32),
                      np.zeros(0, str), np.zeros(0, bool))
    np.testing.assert_array_equal(read_image(rec), pixels)

    bands = np.random.default_rng(1).integers(0, 256, (3, 9, 12), dtype=np.uint8)
    with rasterio.open(tmp_path / "s.tif", "w", driver="GTiff", width=12, height=9, count=3, dtype="uint8",
                       crs="EPSG:3857", transform=from_origin(1000, 2000, 10, 10)) as ds:
        ds.write(bands)
    tif = ImageRecord(str(tmp_path / "s.tif"), 12, 9, "g", "d", rec.boxes_px, rec.categories, rec.difficult)
    out = read_image(tif)
    assert out.dtype == np.uint8 and out.shape == (9, 12, 3)
    np.testing.assert_array_equal(out, bands.transpose(1, 2, 0))


def _rec(dataset: str, group: str, n_ships: int = 0) -> ImageRecord:
    return ImageRecord(f"{dataset}/{group}.png", 10, 10, group, dataset, np.zeros((n_ships, 4), np.float32),
                       np.asarray(["ship"] * n_ships, dtype=str), np.zeros(n_ships, bool))


def test_split_keeps_groups_whole_and_replaces_a_city_with_few_ships():
    airbus = [_rec("airbus-aircraft", f"plane{i}") for i in range(30)]
    records = airbus + [_rec("kit-cars", "MOS74-93"), _rec("kit-cars", "MOS74-93"), _rec("kit-cars", "MOS155-179"),
                        _rec("sen2ships", "athens", 3), _rec("sen2ships", "busan", 20), _rec("sen2ships", "gdynia", 16),
                        _rec("dota-harbor", "P0706", 5)]
    train, val = split_by_group(records)
    assert len(train) + len(val) == len(records)
    assert {r.group for r in train}.isdisjoint({r.group for r in val})
    expected_airbus = sorted((r.group for r in airbus), key=lambda g: hashlib.sha1(g.encode()).hexdigest())[:19]
    assert sorted(r.group for r in val if r.dataset == "airbus-aircraft") == sorted(expected_airbus)
    assert [r.group for r in val if r.dataset == "kit-cars"] == ["MOS74-93", "MOS74-93"]
    assert sorted(r.group for r in val if r.dataset == "sen2ships") == ["busan", "gdynia"]
    assert all(r.dataset != "dota-harbor" for r in val)
    assert split_by_group(list(reversed(records)))[1] == list(reversed(val))


def test_leave_one_source_out():
    records = [_rec("a", "1"), _rec("b", "2"), _rec("a", "3")]
    train, val = leave_one_source_out(records, "a")
    assert [r.group for r in val] == ["1", "3"] and [r.group for r in train] == ["2"]
    with pytest.raises(DatasetError, match="known datasets: a, b"):
        leave_one_source_out(records, "c")


def test_shared_data_loads_with_documented_counts():
    if not SHARED.is_dir():
        pytest.skip("shared data not present beside the repository")
    records = load_shared(SHARED)
    images = Counter(r.dataset for r in records)
    objects = Counter()
    for r in records:
        objects[r.dataset] += len(r)
        assert Path(r.path).is_file()
        assert r.boxes_px.shape == (len(r), 4) and len(r.categories) == len(r) == len(r.difficult)
        assert (r.boxes_px[:, 2:] > r.boxes_px[:, :2]).all()
        assert (r.boxes_px[:, 2] <= r.width + 1e-3).all() and (r.boxes_px[:, 3] <= r.height + 1e-3).all()
    assert images == {"airbus-aircraft": 95, "kit-cars": 45, "drone-cars": 56, "cats-drone-cars": 140,
                      "dota-harbor": 1, "sen2ships": 7}
    assert objects == {"airbus-aircraft": 3054, "kit-cars": 1847, "drone-cars": 735, "cats-drone-cars": 624,
                       "dota-harbor": 531, "sen2ships": 219}
    assert sum(int(r.difficult.sum()) for r in records) == 6
    assert not any("rgb16" in r.path for r in records)

    train, val = split_by_group(records)
    val_groups = {(r.dataset, r.group) for r in val}
    assert val_groups.isdisjoint({(r.dataset, r.group) for r in train})
    assert {g for d, g in val_groups if d == "sen2ships"} == {"athens", "gdynia"}
    assert {g for d, g in val_groups if d == "cats-drone-cars"} == {"1", "5"}
    assert sum(d == "airbus-aircraft" for d, _ in val_groups) == 19
    assert not any(r.dataset == "dota-harbor" for r in val)

    sen = next(r for r in records if r.dataset == "sen2ships")
    pixels = read_image(sen)
    assert pixels.shape == (sen.height, sen.width, 3) and pixels.dtype == np.uint8 and pixels.std() > 0
