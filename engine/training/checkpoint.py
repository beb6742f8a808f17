"""Checkpoints: model weights in safetensors (loading never runs code), optimiser state via weights_only torch.load."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..model.config import ModelConfig


def save_weights(path: Path, encoder: nn.Module | None, head: nn.Module, cfg: ModelConfig, extra: dict | None = None) -> None:
    """Write ``encoder.*`` and ``head.*`` tensors plus the config (in the safetensors metadata), atomically.

    ``encoder=None``: a head trained on a frozen exported encoder (``extra["frozen_encoder"]`` names it)."""
    tensors = {f"encoder.{k}": v.detach().contiguous() for k, v in (encoder.state_dict().items() if encoder is not None else ())}
    tensors.update({f"head.{k}": v.detach().contiguous() for k, v in head.state_dict().items()})
    meta = {"config": cfg.to_json(), **{k: json.dumps(v) for k, v in (extra or {}).items()}}
    tmp = path.with_name(path.name + ".tmp")
    save_file(tensors, str(tmp), metadata=meta)
    os.replace(tmp, path)


def load_weights(path: Path, encoder: nn.Module | None = None, head: nn.Module | None = None) -> tuple[ModelConfig, dict]:
    """Load weights into the given modules (either may be None); returns (config, extra metadata)."""
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    tensors = load_file(str(path))
    for prefix, module in (("encoder.", encoder), ("head.", head)):
        if module is not None:
            state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
            module.load_state_dict(state)
    cfg = ModelConfig.from_json(meta["config"])
    extra = {k: json.loads(v) for k, v in meta.items() if k != "config"}
    return cfg, extra


def save_optimizer(path: Path, optimizer: torch.optim.Optimizer) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(optimizer.state_dict(), tmp)
    os.replace(tmp, path)


def load_optimizer(path: Path, optimizer: torch.optim.Optimizer) -> None:
    optimizer.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
