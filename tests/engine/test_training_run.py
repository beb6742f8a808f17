"""The training entry point end to end on a toy dataset: DEAL and the supervised baseline, resume,
export, and the baseline's detector on the exported graphs."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.training.datasets import ImageRecord  # noqa: E402
from engine.training.train import TrainConfig, train  # noqa: E402

from test_eval_harness import _write_scene  # noqa: E402


@pytest.fixture()
def toy_records(tmp_path):
    out = []
    for i in range(2):
        boxes, cats = _write_scene(tmp_path / f"s{i}.png")
        out.append(ImageRecord(str(tmp_path / f"s{i}.png"), 400, 300, f"g{i}", "toy", np.asarray(boxes, np.float32),
                               np.asarray(cats), np.zeros(len(cats), bool)))
    return out


def _config(out, steps: int, supervised: bool) -> TrainConfig:
    return TrainConfig(out_dir=str(out), steps=steps, batch=2, crop=128, warmup=1, checkpoint_every=2, log_every=1,
                       threads=1, train_queries=20, pretrained=False, supervised=supervised,
                       model={"backbone": "tiny", "tile_size": 256, "overlap": 32, "num_queries": 50})


def test_supervised_baseline_trains_resumes_and_detects_through_the_exported_graphs(toy_records, tmp_path):
    from engine.class_embeddings import FILE_NAME, load_class_embeddings
    from engine.evaluation.harness import SupervisedDetector
    from engine.model.deal import build
    from engine.model.export import export_onnx
    from engine.prompts import PointPrompt
    from engine.runtime import load_model
    from engine.training.checkpoint import load_weights

    run = tmp_path / "sup"
    train(toy_records, _config(run, 2, True), log=lambda *_: None, cache_dir=tmp_path / "cache")
    first = load_class_embeddings(run / FILE_NAME)
    assert set(first) == {"vehicle", "ship", "aircraft"} and first["vehicle"].shape == (64,)
    train(toy_records, _config(run, 4, True), resume=True, log=lambda *_: None, cache_dir=tmp_path / "cache")
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2, 3]  # resumed at step 2, not from scratch
    second = load_class_embeddings(run / FILE_NAME)
    assert not np.allclose(first["vehicle"], second["vehicle"])  # the vectors are learned
    assert json.loads((run / "config.json").read_text())["train"]["supervised"] is True

    cfg, extra = load_weights(run / "last.safetensors", None, None)
    enc, head = build(cfg, pretrained=False)
    load_weights(run / "last.safetensors", enc, head)
    model = load_model(export_onnx(enc, head, cfg, tmp_path / "model", extra), device="cpu")
    image = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(toy_records[0].path))
    boxes, scores, cats = SupervisedDetector(model, second, score_threshold=0.0).detect(image, [PointPrompt(48.0, 34.0, "vehicle")])
    assert len(boxes) == len(scores) == len(cats) > 0 and set(cats) == {"vehicle"}
    with pytest.raises(Exception, match="knows only"):
        SupervisedDetector(model, second).detect(image, [PointPrompt(48.0, 34.0, "wind turbine")])


def test_deal_training_run_writes_checkpoints_and_a_config(toy_records, tmp_path):
    run = tmp_path / "deal"
    ckpt = train(toy_records, _config(run, 2, False), log=lambda *_: None, cache_dir=tmp_path / "cache")
    assert ckpt.exists() and (run / "last.optim.pt").exists()
    assert json.loads((run / "last.state.json").read_text()) == {"step": 2}
    assert not (run / "class_embeddings.npz").exists()


def test_supervised_training_refuses_categories_the_model_has_no_vector_for(toy_records, tmp_path):
    from engine.training.datasets import DatasetError

    import dataclasses

    first = toy_records[0]
    toy_records[0] = dataclasses.replace(first, categories=np.asarray(["wind turbine", *first.categories[1:]]))
    run = tmp_path / "sup"
    with pytest.raises(DatasetError, match="wind turbine"):
        train(toy_records, _config(run, 2, True), log=lambda *_: None, cache_dir=tmp_path / "cache")
    assert not run.exists()  # nothing written


def test_export_refuses_bad_settings_and_writes_good_ones_into_the_graph(tmp_path, capsys):
    from engine.cli import main

    assert main(["export", "--untrained", "--tiny", "--min-queries", "0", "--out", str(tmp_path / "m")]) == 2
    assert "--min-queries must be between 1 and 300" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    assert main(["export", "--untrained", "--tiny", "--model-version", "0.3", "--out", str(tmp_path / "m")]) == 2
    assert "--model-version must look like 1.2.3" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    assert main(["export", "--untrained", "--tiny", "--min-queries", "40", "--model-version", "9.8.7",
                 "--out", str(tmp_path / "m")]) == 0
    from engine.runtime import load_model

    model = load_model(tmp_path / "m", device="cpu")
    assert model.metadata.version == "9.8.7" and "9.8.7" in model.model_id
    image = np.full((3, 256, 256), 0.5, np.float32)
    feats = model.encode(image)
    out = model.predict(feats, feats.p8[0, :, 3, 3][None, None].copy(), np.ones((1, 1), np.float32))
    assert out.boxes.shape[1] >= 40  # the lower bound is in the graph
