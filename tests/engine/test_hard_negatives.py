"""Hard negatives: mined with a real exported model on real image files, written and read back,
and crops centred on them."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.training import hard_negatives as hn
from engine.training.crops import CanonicalImage, CropSampler
from engine.training.datasets import DatasetError

from test_training_run import toy_records  # noqa: F401  (fixture)


def test_max_iou_against_hand_computed_overlaps():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [100, 100, 110, 110]], float)
    truth = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(hn.max_iou(boxes, truth), [1.0, 50 / 150, 0.0])
    assert hn.max_iou(boxes, np.zeros((0, 4))).tolist() == [0, 0, 0]


def test_mining_keeps_only_detections_that_match_no_object(tiny_model_dir, toy_records, tmp_path):  # noqa: F811
    found = hn.mine(toy_records, tiny_model_dir, score=0.0, iou=0.1)  # score 0: an untrained model's every guess
    assert found, "an untrained tiny model finds something that is not there"
    by_key = {hn.record_key(r): r for r in toy_records}
    for key, rows in found.items():
        rows = np.asarray(rows)
        assert rows.shape[1] == 5 and key in by_key
        assert (hn.max_iou(rows[:, :4], by_key[key].boxes_px.astype(float)) < 0.1).all()
    path = tmp_path / hn.FILE_NAME
    hn.save(path, found, str(tiny_model_dir))
    assert json.loads(path.read_text())["mined_with"] == str(tiny_model_dir)
    centres = hn.load(path)
    key = next(iter(found))
    first = np.asarray(found[key][0][:4])
    np.testing.assert_allclose(centres[key][0], [(first[0] + first[2]) / 2, (first[1] + first[3]) / 2], atol=0.05)


def test_a_broken_file_is_refused_with_a_remedy(tmp_path):
    bad = tmp_path / hn.FILE_NAME
    bad.write_text("{not json")
    with pytest.raises(DatasetError, match="mine them again"):
        hn.load(bad)
    with pytest.raises(DatasetError, match="cannot read"):
        hn.load(tmp_path / "missing.json")


def test_crops_are_centred_on_hard_negatives_when_asked():
    """With negative_prob 1 every plain crop is centred near the image's hard negative (here far
    from both objects, so the crops hold none); with 0 the sampler draws exactly as without
    negatives (same random sequence, crops around the objects)."""
    image = np.random.default_rng(0).integers(0, 255, (1000, 1000, 3), dtype=np.uint8)
    boxes = np.array([[100, 100, 130, 130], [800, 800, 830, 830]], np.float32)
    cats = np.array(["aircraft", "aircraft"])
    with_negative = CanonicalImage(image, boxes, cats, "toy", negatives=np.array([[500.0, 500.0]], np.float32))
    without = CanonicalImage(image, boxes, cats, "toy")
    on = CropSampler([with_negative], crop=200, scale_jitter=(1.0, 1.0), mosaic_prob=0.0, negative_prob=1.0)
    off = CropSampler([with_negative], crop=200, scale_jitter=(1.0, 1.0), mosaic_prob=0.0, negative_prob=0.0)
    before = CropSampler([without], crop=200, scale_jitter=(1.0, 1.0), mosaic_prob=0.0)
    for seed in range(20):
        # the crop's centre within a quarter span (50 px) of (500, 500): both objects lie outside its 200 px
        assert len(on._crop(np.random.default_rng(seed), 200)[1]) == 0  # noqa: SLF001
        a, b = (s._crop(np.random.default_rng(seed), 200) for s in (off, before))  # noqa: SLF001
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and len(a[1]) >= 1


def test_training_places_the_mined_negatives_on_its_canonical_images(tiny_model_dir, toy_records, tmp_path):  # noqa: F811
    pytest.importorskip("torch")
    from engine.training.train import TrainConfig, train

    path = tmp_path / hn.FILE_NAME
    hn.save(path, hn.mine(toy_records, tiny_model_dir, score=0.0), str(tiny_model_dir))
    mined = sum(len(v) for v in hn.load(path).values())
    tc = TrainConfig(out_dir=str(tmp_path / "run"), steps=2, batch=2, crop=128, warmup=1, checkpoint_every=2, log_every=1,
                     threads=1, train_queries=20, pretrained=False, hard_negatives=str(path), negative_prob=0.5,
                     model={"backbone": "tiny", "tile_size": 256, "overlap": 32, "num_queries": 50})
    lines: list[str] = []
    train(toy_records, tc, log=lines.append, cache_dir=tmp_path / "cache")
    assert f"hard negatives from {path}: {mined} in the training images" in lines
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["hard_negatives"] == str(path)


def test_cli_checks_the_mining_model_and_share_before_reading_data(tiny_model_dir, tmp_path, capsys):
    from engine.cli import main

    assert main(["train", "--out", str(tmp_path / "r"), "--hard-negatives-from", str(tmp_path / "nowhere")]) != 0
    assert "not found" in capsys.readouterr().err
    assert main(["train", "--out", str(tmp_path / "r"), "--hard-negatives-from", str(tiny_model_dir), "--negative-prob", "1.5"]) != 0
    assert "--negative-prob must be in (0, 1]" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
