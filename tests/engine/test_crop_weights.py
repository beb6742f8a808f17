"""Sampling weights of the training crops: shares against hand-computed values, the draws follow
them, the default keeps the unweighted random stream, and bad weights are refused early."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.training.command import parse_weights
from engine.training.crops import CanonicalImage, CropSampler, sampling_group
from engine.training.datasets import DatasetError
from engine.training.train import TrainConfig, check_weights, train

from test_training_run import toy_records  # noqa: F401  (fixture)


def _image(dataset: str, category: str, n: int) -> CanonicalImage:
    boxes = np.array([[10 + 20 * i, 10, 20 + 20 * i, 20] for i in range(n)], np.float32)
    return CanonicalImage(np.zeros((64, 64 * n, 3), np.uint8), boxes, np.array([category] * n), dataset)


def test_an_image_of_one_category_is_its_group_and_of_several_mixed():
    assert sampling_group(np.array(["ship", "ship"])) == "ship"
    assert sampling_group(np.array(["ship", "vehicle"])) == "mixed"


def _images() -> list[CanonicalImage]:
    # ship: dataset a with 9 objects, dataset b with 4 (sqrt counts 3 : 2); vehicle: dataset c
    return [_image("a", "ship", 9), _image("b", "ship", 4), _image("c", "vehicle", 1)]


def test_shares_follow_the_weights_by_hand():
    plain = CropSampler(_images()).share()
    assert plain == pytest.approx({"a": 0.5 * 3 / 5, "b": 0.5 * 2 / 5, "c": 0.5})
    weighted = CropSampler(_images(), category_weights={"ship": 3}, dataset_weights={"b": 3}).share()
    # ship 3/4 of the draws; within it a : b = 3 : 2*3
    assert weighted == pytest.approx({"a": 0.75 * 3 / 9, "b": 0.75 * 6 / 9, "c": 0.25})


def test_the_draws_follow_the_shares():
    sampler = CropSampler(_images(), category_weights={"ship": 3}, dataset_weights={"b": 3})
    rng = np.random.default_rng(0)
    drawn = [sampler._pick(rng).dataset for _ in range(4000)]
    freq = {k: drawn.count(k) / len(drawn) for k in "abc"}
    for name, share in sampler.share().items():
        assert freq[name] == pytest.approx(share, abs=0.03)


def test_equal_weights_keep_the_unweighted_random_stream():
    """Runs made before the weights existed must draw the same crops when rerun."""
    plain, equal = CropSampler(_images()), CropSampler(_images(), category_weights={"ship": 2, "vehicle": 2})
    assert equal.category_p is None
    r1, r2 = np.random.default_rng(5), np.random.default_rng(5)
    assert [plain._pick(r1).dataset for _ in range(50)] == [equal._pick(r2).dataset for _ in range(50)]


def test_weights_are_parsed_and_malformed_ones_refused():
    assert parse_weights(["ship=2", " sen2ships = 0.5"], "--x") == {"ship": 2.0, "sen2ships": 0.5}
    for bad in ("ship", "ship=", "=2", "ship=0", "ship=-1", "ship=two", "ship=inf", "ship=nan"):
        with pytest.raises(DatasetError, match="NAME=W"):
            parse_weights([bad], "--category-weight")


def test_a_weight_for_data_that_is_not_there_is_refused_with_the_names_that_are(toy_records, tmp_path):  # noqa: F811
    with pytest.raises(DatasetError, match=r"'boat'.*categories are: mixed"):
        check_weights(toy_records, {"boat": 2.0}, {})
    with pytest.raises(DatasetError, match=r"'sen2ships'.*datasets are: toy"):
        check_weights(toy_records, {}, {"sen2ships": 2.0})
    for bad in (0.0, -1.0, float("nan"), float("inf"), "2"):  # TrainConfig built in code skips the CLI's parsing
        with pytest.raises(DatasetError, match="must be a number above 0"):
            check_weights(toy_records, {"mixed": bad}, {})
        with pytest.raises(DatasetError, match="must be a number above 0"):
            check_weights(toy_records, {}, {"toy": bad})
    tc = TrainConfig(out_dir=str(tmp_path / "run"), steps=1, category_weights={"boat": 2.0},
                     model={"backbone": "tiny"}, pretrained=False)
    with pytest.raises(DatasetError):
        train(toy_records, tc, log=lambda *_: None, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "run").exists(), "a refused run writes nothing"


def test_a_weighted_run_logs_its_shares_and_saves_its_weights(toy_records, tmp_path):  # noqa: F811
    group = sorted({sampling_group(r.categories) for r in toy_records})[0]
    tc = TrainConfig(out_dir=str(tmp_path / "run"), steps=1, batch=1, crop=128, warmup=1, threads=1, train_queries=20,
                     pretrained=False, category_weights={group: 2.0}, dataset_weights={"toy": 1.5},
                     model={"backbone": "tiny", "tile_size": 256, "overlap": 32, "num_queries": 50})
    lines: list[str] = []
    train(toy_records, tc, log=lines.append, cache_dir=tmp_path / "cache")
    assert any(line.startswith("crop shares: toy 100%") for line in lines), lines
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["train"]
    assert saved["category_weights"] == {group: 2.0} and saved["dataset_weights"] == {"toy": 1.5}


def test_cli_refuses_a_malformed_weight_before_reading_data(tmp_path, capsys):
    from engine.cli import main

    assert main(["train", "--out", str(tmp_path / "r"), "--category-weight", "ship:2"]) != 0
    assert "--category-weight 'ship:2'" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
