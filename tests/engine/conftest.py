"""Fixtures shared by engine tests: a tiny exported model (fast), synthetic scenes."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random-init DEAL exported to ONNX (tile 256): exercises the real graphs in seconds."""
    torch = pytest.importorskip("torch")
    from engine.model.config import ModelConfig
    from engine.model.deal import build
    from engine.model.export import export_onnx

    torch.manual_seed(0)
    cfg = ModelConfig(backbone="tiny", name="deal-tiny-test", tile_size=256, overlap=32, num_queries=100)
    enc, head = build(cfg, pretrained=False)
    return export_onnx(enc, head, cfg, tmp_path_factory.mktemp("tiny_model"), {"trained": False})


@pytest.fixture(scope="session")
def bundled():
    """The bundled (trained) model, resources/model; skips where it is the untrained placeholder."""
    from engine.runtime import load_model

    model = load_model(device="cpu")
    if not model.metadata.trained:
        pytest.skip("the bundled model is the untrained placeholder")
    return model
