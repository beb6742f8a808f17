"""A new prompt head trained on an exported model's frozen encoder (``deal train --from-model``),
then exported beside that unchanged encoder graph."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.errors import ModelError  # noqa: E402
from engine.model.export import ENCODER_FILE, export_onnx  # noqa: E402
from engine.training.frozen_encoder import FrozenEncoder, head_from_model  # noqa: E402
from engine.training.train import TrainConfig, train  # noqa: E402

from test_recover import _trained_like  # noqa: E402
from test_training_run import toy_records  # noqa: E402,F401  (fixture)


@pytest.fixture()
def exported(tmp_path):
    cfg, enc, head = _trained_like(5)
    export_onnx(enc, head, cfg, tmp_path / "base")
    return tmp_path / "base", cfg, enc, head


def _weights(path):
    import onnx
    from onnx import numpy_helper

    return {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer}


def test_frozen_encoder_computes_the_exported_encoders_features(exported):
    folder, _, enc, _ = exported
    image = torch.rand(2, 3, 128, 160)
    got = FrozenEncoder(folder, threads=1)(image)
    with torch.no_grad():
        want = [torch.cat(parts) for parts in zip(*(enc.eval()(im[None]) for im in image))]
    assert [tuple(g.shape) for g in got] == [tuple(w.shape) for w in want] and not got[0].requires_grad
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w.numpy(), atol=1e-4)


def test_a_lighter_head_starts_from_the_models_weights_where_the_shapes_agree(exported):
    folder, cfg, _, head = exported
    new_cfg, light, fresh = head_from_model(folder, {"decoder_layers": 2, "dense_context": False})
    assert new_cfg.decoder_layers == 2 and not new_cfg.dense_context and new_cfg.backbone == cfg.backbone
    assert len(light.decoder.layers) == 2 and isinstance(light.density.heat[0], torch.nn.Identity)
    old, new = head.state_dict(), light.state_dict()
    for key in ("decoder.layers.1.ffn.0.weight", "correlation.gate.weight", "density.heat.1.weight", "decoder.box_heads.1.layers.0.weight"):
        torch.testing.assert_close(new[key], old[key])
    # the graph scores only the last layer: the new last layer takes the old last layer's score head
    torch.testing.assert_close(new["decoder.score_heads.1.weight"], old["decoder.score_heads.2.weight"])
    assert "decoder.score_heads.0.weight" in fresh and "decoder.score_heads.1.weight" not in fresh
    assert not any(k.startswith("density.heat.0") or k.startswith("correlation.fuse.1") for k in new)
    with pytest.raises(ModelError, match="backbone"):
        head_from_model(folder, {"backbone": "mobilenet_v2"})


def test_the_cosine_context_is_added_to_a_lighter_head_without_changing_what_it_computes(exported, tmp_path):
    """``--cos-context`` on a lighter head: the fusion's new inputs start at zero weight (the head
    computes exactly what it did), its other weights are the old ones, the context conv is new."""
    folder, cfg, enc, head = exported
    _, light, _ = head_from_model(folder, {"dense_context": False})
    export_onnx(enc, light.eval(), dataclasses.replace(cfg, dense_context=False), tmp_path / "light")
    new_cfg, with_context, fresh = head_from_model(tmp_path / "light", {"cos_context": True})
    assert new_cfg.cos_context and not new_cfg.dense_context
    assert {"correlation.cos_context.weight", "correlation.cos_context.bias"} <= set(fresh)
    assert "correlation.fuse.0.0.weight" not in fresh
    weight = with_context.state_dict()["correlation.fuse.0.0.weight"]
    assert weight.shape[1] == cfg.dim + 2 + 8 and float(weight[:, cfg.dim + 2:].abs().max()) == 0.0
    image = torch.rand(1, 3, 128, 160)
    ex, mask = torch.randn(2, 3, cfg.dim), torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    with torch.no_grad():
        p8, p16, p32, _ = enc.eval()(image)
        before = head_from_model(tmp_path / "light", {})[1].eval()(p8, p16, p32, ex, mask)
        after = with_context.eval()(p8, p16, p32, ex, mask)
    torch.testing.assert_close(after["heat_logit"], before["heat_logit"], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(after["layers"][-1][0], before["layers"][-1][0], atol=1e-5, rtol=1e-5)
    with torch.no_grad():  # once trained (non-zero weights), the context changes the heat map
        with_context.correlation.fuse[0][0].weight[:, cfg.dim + 2:].normal_()
        moved = with_context(p8, p16, p32, ex, mask)["heat_logit"]
    assert float((moved - before["heat_logit"]).abs().max()) > 1e-3


def test_a_head_with_fewer_sampling_points_and_no_heat_context_starts_from_the_models_weights(exported):
    """``--points 2 --no-heat-context``: the decoder keeps evenly spaced sampling points of the old
    four (offsets and weights of points 0 and 3 of every head and level), the heat map loses its
    3 x 3 context while the correlation keeps its own."""
    folder, cfg, _, head = exported
    new_cfg, fewer, fresh = head_from_model(folder, {"points": 2, "heat_context": False})
    assert new_cfg.points == 2 and new_cfg.dense_context and not new_cfg.heat_context
    assert isinstance(fewer.density.heat[0], torch.nn.Identity) and not isinstance(fewer.correlation.fuse[1], torch.nn.Identity)
    old, new = head.state_dict(), fewer.state_dict()
    assert not any(".cross." in k for k in fresh)
    levels = 3
    for layer in range(cfg.decoder_layers):
        key = f"decoder.layers.{layer}.cross"
        old_off = old[f"{key}.offsets.weight"].reshape(cfg.heads, levels, cfg.points, 2, -1)
        torch.testing.assert_close(new[f"{key}.offsets.weight"], old_off[:, :, [0, 3]].reshape(-1, cfg.dim))
        old_w = old[f"{key}.weights.bias"].reshape(cfg.heads, levels, cfg.points)
        torch.testing.assert_close(new[f"{key}.weights.bias"], old_w[:, :, [0, 3]].reshape(-1))
    torch.testing.assert_close(new["density.heat.1.weight"], old["density.heat.1.weight"])
    recovered = head_from_model(folder, {})[1].state_dict()  # convs with batch norms come back folded
    torch.testing.assert_close(new["correlation.fuse.1.1.0.weight"], recovered["correlation.fuse.1.1.0.weight"])
    with torch.no_grad():  # and it runs
        p8, p16, p32 = torch.randn(1, cfg.dim, 16, 16), torch.randn(1, cfg.dim, 8, 8), torch.randn(1, cfg.dim, 4, 4)
        out = fewer.eval()(p8, p16, p32, torch.randn(1, 2, cfg.dim), torch.ones(1, 2))
    assert torch.isfinite(out["layers"][-1][0]).all()


def test_head_training_on_a_frozen_encoder_exports_beside_that_encoder(exported, toy_records, tmp_path):  # noqa: F811
    from engine.model.export_command import run as export_run
    from engine.prompts import PointPrompt
    from engine.raster_source import ArraySource
    from engine.runtime import load_model
    from engine.session import Session
    from engine.training.checkpoint import load_weights

    folder, cfg, _, head = exported
    tc = TrainConfig(out_dir=str(tmp_path / "run"), steps=3, batch=2, crop=128, warmup=1, checkpoint_every=3, log_every=1,
                     threads=1, train_queries=20, from_model=str(folder), model={"decoder_layers": 2, "dense_context": False})
    lines = []
    ckpt = train(toy_records, tc, log=lines.append, cache_dir=tmp_path / "cache")
    assert any("frozen" in str(line) for line in lines)
    saved_cfg, extra = load_weights(ckpt, None, None)
    assert saved_cfg.decoder_layers == 2 and extra["frozen_encoder"]["folder"] == str(folder)
    from safetensors import safe_open

    with safe_open(str(ckpt), "pt") as f:
        keys = list(f.keys())
    assert keys and all(k.startswith("head.") for k in keys)  # the encoder is not copied into the checkpoint
    _, trained = head_from_model(folder, {"decoder_layers": 2, "dense_context": False})[:2]
    load_weights(ckpt, None, trained)
    moved = trained.state_dict()["decoder.layers.0.ffn.0.weight"] - head.state_dict()["decoder.layers.0.ffn.0.weight"]
    assert float(moved.abs().max()) > 0  # the head was trained
    start = head_from_model(folder, {"decoder_layers": 2, "dense_context": False})[1].state_dict()
    for key, value in trained.state_dict().items():  # batch norms kept their recovered (folded) statistics
        if key.endswith("running_mean") or key.endswith("running_var"):
            torch.testing.assert_close(value, start[key])

    args = type("A", (), dict(checkpoint=str(ckpt), out=str(tmp_path / "light"), untrained=False, tiny=False, min_queries=None,
                              model_version="0.3.0", head_source="decoder", encoder_from=None, score_threshold=None))
    assert export_run(args) == 0
    base_w, new_w = _weights(folder / ENCODER_FILE), _weights(tmp_path / "light" / ENCODER_FILE)
    from engine.model.export import PREP_PREFIX

    def encoder_part(weights: dict) -> dict:  # the encoder graph ends with its head's preparation, which changed
        return {k: v for k, v in weights.items() if not k.startswith(PREP_PREFIX)}

    base_w, new_w = encoder_part(base_w), encoder_part(new_w)
    assert base_w and base_w.keys() == new_w.keys() and all(np.array_equal(base_w[k], new_w[k]) for k in base_w)
    prepared_by = {k for k in _weights(tmp_path / "light" / ENCODER_FILE) if k.startswith(PREP_PREFIX)}
    assert "prep/head.prompt_encoder.cross_attn.k.bias" in prepared_by  # the new head's keys, computed once per tile
    light = load_model(tmp_path / "light", device="cpu")
    base = load_model(folder, device="cpu")
    assert light.metadata.version == "0.3.0" and light.model_id != base.model_id
    image = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(toy_records[0].path))
    result = Session(ArraySource(image), light, scale=1.0).detect([PointPrompt(48.0, 34.0, "vehicle")], score_threshold=0.0)
    assert len(result.boxes_px) > 0 and set(result.categories) == {"vehicle"}
    from engine.model.recover import recover_head

    again_cfg, _ = recover_head(tmp_path / "light")  # the lighter layout's graph can be recovered in turn
    assert again_cfg.decoder_layers == 2 and not again_cfg.dense_context
    from engine.model.export import encoder_hash

    assert encoder_hash(tmp_path / "light") == encoder_hash(folder)  # same encoder weights, however many heads later

    # the wrong encoder folder is refused before anything is written
    other_cfg, other_enc, other_head = _trained_like(6)
    export_onnx(other_enc, other_head, other_cfg, tmp_path / "other")
    args.encoder_from, args.out = str(tmp_path / "other"), str(tmp_path / "wrong")
    with pytest.raises(ModelError, match="not the encoder this head was trained on"):
        export_run(args)
    assert not (tmp_path / "wrong").exists()


def test_cli_refuses_a_frozen_encoder_with_another_backbone_or_no_model(tmp_path, capsys):
    from engine.cli import main

    assert main(["train", "--out", str(tmp_path / "r"), "--from-model", str(tmp_path), "--tiny", "--steps", "1"]) == 2
    assert "--from-model" in capsys.readouterr().err and not (tmp_path / "r").exists()
    assert main(["train", "--out", str(tmp_path / "r"), "--from-model", str(tmp_path / "nowhere"), "--steps", "1"]) == 2
    assert "encoder.onnx not found" in capsys.readouterr().err and not (tmp_path / "r").exists()
    assert main(["train", "--out", str(tmp_path / "r"), "--tiny", "--points", "0", "--steps", "1"]) == 2
    assert "--points must be between 1 and 8, got 0" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_models_exported_before_the_lighter_head_keep_their_dense_context():
    from engine.model.config import ModelConfig

    old = json.loads(ModelConfig().to_json())
    del old["dense_context"]
    assert ModelConfig.from_json(json.dumps(old)).dense_context is True
