"""The prompt head's torch weights rebuilt from its exported ONNX graph (engine.model.recover)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from engine.errors import ModelError  # noqa: E402
from engine.model.config import ModelConfig  # noqa: E402
from engine.model.deal import build  # noqa: E402
from engine.model.export import export_onnx  # noqa: E402
from engine.model.recover import recover_head  # noqa: E402
from engine.runtime import load_model  # noqa: E402


def _trained_like(seed: int, **head: object):
    """A tiny model whose head weights and batch-norm statistics are all distinct (as a trained one's);
    ``head``: config fields of the head's layout."""
    torch.manual_seed(seed)
    cfg = ModelConfig(backbone="tiny", name="deal-tiny-recover", tile_size=256, overlap=32, num_queries=60, min_queries=20, **head)
    enc, head = build(cfg, pretrained=False)
    with torch.no_grad():
        for p in head.parameters():
            p.mul_(1.0 + 0.5 * torch.rand_like(p)).add_(0.05 * torch.randn_like(p))
        for m in head.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    return cfg, enc, head


@pytest.mark.parametrize("layout", [{}, {"dense_context": False, "cos_context": True}, {"heat_context": False, "points": 2}],
                         ids=["shipped", "light-cos-context", "no-heat-context-2-points"])
def test_recovered_head_re_exports_to_a_graph_with_the_same_outputs(tmp_path, layout):
    cfg, enc, head = _trained_like(3, **layout)
    export_onnx(enc, head, cfg, tmp_path / "original")
    got_cfg, recovered = recover_head(tmp_path / "original")
    assert got_cfg == cfg and not recovered.training
    export_onnx(enc, recovered, cfg, tmp_path / "recovered")
    a, b = load_model(tmp_path / "original", device="cpu"), load_model(tmp_path / "recovered", device="cpu")
    image = np.random.default_rng(0).random((3, 256, 320), dtype=np.float32)
    feats = a.encode(image)
    exemplars = np.random.default_rng(1).normal(size=(2, 3, cfg.dim)).astype(np.float32)
    mask = np.array([[1, 1, 1], [1, 0, 0]], np.float32)
    out_a, out_b = a.predict(feats, exemplars, mask), b.predict(feats, exemplars, mask)
    np.testing.assert_allclose(out_b.density, out_a.density, atol=1e-5)
    np.testing.assert_allclose(out_b.count, out_a.count, rtol=1e-5)
    np.testing.assert_allclose(out_b.scores, out_a.scores, atol=1e-5)
    np.testing.assert_allclose(out_b.boxes, out_a.boxes, atol=1e-3)
    # the torch head itself computes what the graphs do (its preparation: at the end of the encoder graph)
    from engine.model.deal import PromptHeadExport

    with torch.no_grad():
        _, p16, p32, _ = enc.eval()(torch.from_numpy(image)[None])
        prepared = recovered.prepare(torch.from_numpy(feats.p8), p16, p32)
        for name, value in prepared.items():
            np.testing.assert_allclose(feats.extra[name], value.numpy(), atol=1e-4, rtol=1e-4)
        t = PromptHeadExport(recovered)(*(torch.from_numpy(x) for x in (feats.p8,)), p16, p32, *(torch.from_numpy(x) for x in (exemplars, mask)))
    np.testing.assert_allclose(t[0].numpy(), out_a.density, atol=1e-4)
    np.testing.assert_allclose(t[5].numpy(), out_a.count, rtol=1e-4)


def test_recovery_refuses_a_graph_of_another_layout(tmp_path):
    import onnx

    cfg, enc, head = _trained_like(4)
    export_onnx(enc, head, cfg, tmp_path)
    path = tmp_path / "prompt_head.onnx"
    model = onnx.load(str(path))
    for prop in model.metadata_props:  # claim a config whose head has one decoder layer less
        if prop.key == "config":
            prop.value = ModelConfig.from_json(prop.value).__class__(**{**ModelConfig.from_json(prop.value).__dict__, "decoder_layers": 2}).to_json()
    onnx.save(model, str(path))
    with pytest.raises(ModelError, match="another layout"):
        recover_head(tmp_path)
    with pytest.raises(ModelError, match="not found"):
        recover_head(tmp_path / "nowhere")


def test_recovery_matches_anonymous_constants_renumbered_by_another_code_version(tmp_path):
    """A graph exported before some operation was added elsewhere in the code numbers its anonymous
    constants differently (``onnx::MatMul_2231`` then, ``onnx::MatMul_2281`` now): they are matched in
    export order, and the recovered head computes what the graph does."""
    import onnx

    cfg, enc, head = _trained_like(5)
    export_onnx(enc, head, cfg, tmp_path / "original")
    path = tmp_path / "original" / "prompt_head.onnx"
    model = onnx.load(str(path))
    renamed = {}
    for init in model.graph.initializer:
        stem, _, number = init.name.rpartition("_")
        if init.name.startswith("onnx::") and number.isdigit():
            renamed[init.name] = f"{stem}_{int(number) + 1000}"
            init.name = renamed[init.name]
    assert renamed, "the export has anonymous constants"
    for node in model.graph.node:
        node.input[:] = [renamed.get(name, name) for name in node.input]
    onnx.save(model, str(path))
    _, recovered = recover_head(tmp_path / "original")
    export_onnx(enc, recovered, cfg, tmp_path / "recovered")
    a, b = load_model(tmp_path / "original", device="cpu"), load_model(tmp_path / "recovered", device="cpu")
    feats = a.encode(np.random.default_rng(2).random((3, 256, 256), dtype=np.float32))
    exemplars = np.random.default_rng(3).normal(size=(1, 2, cfg.dim)).astype(np.float32)
    mask = np.ones((1, 2), np.float32)
    out_a, out_b = a.predict(feats, exemplars, mask), b.predict(feats, exemplars, mask)
    np.testing.assert_allclose(out_b.density, out_a.density, atol=1e-5)
    np.testing.assert_allclose(out_b.scores, out_a.scores, atol=1e-5)
