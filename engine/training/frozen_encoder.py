"""Training a new prompt head on an exported model's frozen encoder.

The training checkpoints of the shipped model are not kept; its two ONNX graphs are. The
encoder graph computes the features exactly as the engine will at inference, and the prompt
head's torch weights come back from its graph (:func:`engine.model.recover.recover_head`).
So a head of another layout (fewer decoder layers, no dense context convs) can start from
the shipped head's weights wherever the shapes agree and be fine-tuned on the very features it
will see, without the 2.6 CPU-hours an encoder needs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from ..errors import ModelError
from ..model.config import ModelConfig
from ..model.deal import DealPromptHead
from ..model.export import BASE_OUTPUTS, ENCODER_FILE, encoder_hash

# Config fields a new head may change; the rest describe the encoder and how the engine feeds it.
HEAD_FIELDS = ("decoder_layers", "dense_context", "cos_context", "heat_context", "head_act", "num_queries", "min_queries", "points", "name", "version")


class FrozenEncoder:
    """``encoder.onnx`` of a model folder as a callable on training batches.

    ``__call__(images (B,3,H,W) float in [0,1]) -> (p8, p16, p32, size)`` torch tensors without
    gradient, computed by onnxruntime image by image (the graph takes one tile at a time).
    """

    def __init__(self, model_dir: str | Path, threads: int = 2):
        import onnxruntime as ort

        self.folder = Path(model_dir)
        self.content_hash = encoder_hash(model_dir)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(self.folder / ENCODER_FILE), opts, providers=["CPUExecutionProvider"])

    def record(self) -> dict:
        """What a checkpoint records of this encoder (``deal export`` checks it)."""
        return {"folder": str(self.folder), "content_hash": self.content_hash}

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        names = list(BASE_OUTPUTS)  # by name: a format-2 graph also outputs its head's preparation
        outs = [self.session.run(names, {"image": np.ascontiguousarray(im[None].numpy(), dtype=np.float32)}) for im in images]
        return tuple(torch.from_numpy(np.concatenate([o[i] for o in outs])) for i in range(4))


def head_from_model(model_dir: str | Path, overrides: dict) -> tuple[ModelConfig, DealPromptHead, list[str]]:
    """``(config, head, fresh)``: a head of the model's config changed by ``overrides`` (only the
    head's fields, :data:`HEAD_FIELDS`), holding the model's recovered head weights wherever a
    parameter has the same name and shape; ``fresh`` names the parameters left at their
    initialisation (new or reshaped)."""
    from ..model.recover import recover_head

    bad = sorted(set(overrides) - set(HEAD_FIELDS))
    if bad:
        raise ModelError(f"a head trained on a frozen encoder can change only {', '.join(HEAD_FIELDS)}; "
                         f"not {', '.join(bad)} (they shape the encoder: train the whole model instead)")
    base, old = recover_head(model_dir)
    cfg = dataclasses.replace(base, **overrides)
    head = DealPromptHead(cfg)
    old_state = old.state_dict()
    # The graph scores only the last decoder layer (the inner score heads came back random): the new
    # last layer starts from the old last layer's score head, the new inner ones from their prior.
    last_old, last_new = base.decoder_layers - 1, cfg.decoder_layers - 1

    def source(name: str) -> str | None:
        if not name.startswith("decoder.score_heads."):
            return name
        layer, part = int(name.split(".")[2]), name.rsplit(".", 1)[1]
        if layer == last_new:
            return f"decoder.score_heads.{last_old}.{part}"
        return None if layer < last_old else name

    state = head.state_dict()
    fresh = []
    for name, value in state.items():
        src = source(name)
        if src in old_state and old_state[src].shape == value.shape:
            state[name] = old_state[src].clone()
        elif src in old_state and (".cross.offsets." in name or ".cross.weights." in name) and cfg.points < base.points:
            # fewer sampling points per level: the new ones start as evenly spaced old ones
            state[name] = _fewer_points(old_state[src], base, cfg.points, ".cross.offsets." in name).clone()
        elif name == "correlation.fuse.0.0.weight" and src in old_state and _widened(old_state[src], value):
            # inputs added to the fusion (the cosine context): the old inputs keep their weights, the
            # new ones start at zero, so the head starts as the old one's function
            state[name] = torch.zeros_like(value)
            state[name][:, :old_state[src].shape[1]] = old_state[src]
        elif not name.endswith("num_batches_tracked"):
            fresh.append(name)
    head.load_state_dict(state)
    return cfg, head, sorted(fresh)


def _widened(old: torch.Tensor, new: torch.Tensor) -> bool:
    """Whether ``new`` is ``old`` with more input channels (dimension 1), all else equal."""
    return old.dim() == new.dim() and old.shape[0] == new.shape[0] and old.shape[2:] == new.shape[2:] and old.shape[1] < new.shape[1]


def _fewer_points(old: torch.Tensor, base: ModelConfig, points: int, offsets: bool) -> torch.Tensor:
    """A sampling attention's offsets (``offsets=True``: x, y per point) or weights laid out
    (head, level, point[, xy]) along dimension 0, cut to ``points`` of ``base.points`` per level,
    evenly spaced and ending with the last (the widest at initialisation)."""
    keep = torch.linspace(base.points - 1, 0, points).round().long().flip(0).unique()
    per = 2 if offsets else 1
    grid = old.reshape(base.heads, -1, base.points, per, *old.shape[1:])
    return grid[:, :, keep].reshape(-1, *old.shape[1:])
