"""Rebuild the torch prompt head from an exported ``prompt_head.onnx``.

Training checkpoints are not shipped, only the two ONNX graphs; work on the prompt head (fine-
tuning it on the frozen encoder, changing how it is computed) needs its weights back in torch.
The export keeps most of them under their parameter names; the others became anonymous constants:
linear weights transposed into MatMuls, convolutions with their batch norm folded in, and the
correlation's batch norm folded into its fusion. Those are identified by exporting a head of the
same configuration with random weights and matching each anonymous constant to the one
expression of the random head's parameters that produced it. Folded batch norms come back as
identity statistics carrying the folded scale and shift (the same function in eval mode).

Parameters the exported graph does not use (the score heads of the decoder's inner layers) keep
random values. :func:`recover_head` re-exports the result and checks that every constant of the
graph comes back (``verify``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ModelError
from .config import ModelConfig
from .deal import DealPromptHead, build
from .export import ENCODER_FILE, HEAD_FILE, PREP_PREFIX, export_onnx
from .point_prompt import bn_affine

_PREFIX = "head."


def _initializers(path: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    return ({i.name: numpy_helper.to_array(i) for i in model.graph.initializer},
            {p.key: p.value for p in model.metadata_props})


def _head_constants(folder: Path) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The constants of a model folder's prompt head: its graph's, plus those of the head's preparation
    at the end of the encoder graph (named ``prep/...``), and the head graph's metadata."""
    constants, meta = _initializers(folder / HEAD_FILE)
    encoder_constants, _ = _initializers(folder / ENCODER_FILE)
    constants.update({k: v for k, v in encoder_constants.items() if k.startswith(PREP_PREFIX)})
    return constants, meta


def _export_head(head: DealPromptHead, cfg: ModelConfig, head_source: str) -> dict[str, np.ndarray]:
    """The constants of ``head``'s export (the encoder exported beside it is random and discarded)."""
    enc, _ = build(cfg, pretrained=False)
    with tempfile.TemporaryDirectory() as tmp:
        export_onnx(enc, head, cfg, tmp, head_source=head_source)
        return _head_constants(Path(tmp))[0]


def _candidates(head: DealPromptHead) -> dict[tuple[str, str], np.ndarray]:
    """Every expression of the head's parameters an anonymous export constant can be."""
    out: dict[tuple[str, str], np.ndarray] = {}
    with torch.no_grad():
        for name, m in head.named_modules():
            if isinstance(m, nn.Linear):
                out[("linear", name)] = m.weight.numpy().T
            elif isinstance(m, nn.Conv2d) and m.kernel_size == (1, 1):
                out[("conv_matrix", name)] = m.weight[:, :, 0, 0].numpy()
            elif isinstance(m, nn.BatchNorm2d):
                scale, shift = bn_affine(m)
                out[("bn_scale_col", name)] = scale.numpy()[:, None]
                out[("bn_scale_mid", name)] = scale.numpy()[None, :, None]
                out[("bn_shift_col", name)] = shift.numpy()[:, None]
            if isinstance(m, nn.Sequential) and len(m) >= 2 and isinstance(m[0], nn.Conv2d) and isinstance(m[1], nn.BatchNorm2d):
                scale, shift = bn_affine(m[1])
                bias = m[0].bias * scale if m[0].bias is not None else 0.0
                out[("fused_weight", name)] = (m[0].weight * scale[:, None, None, None]).numpy()
                out[("fused_bias", name)] = (shift + bias).numpy()
    return out


def _anonymous_order(name: str) -> tuple[int, str] | None:
    """``onnx::MatMul_2231`` -> ``(2231, "onnx::MatMul")``; None for a constant that keeps a parameter's name."""
    stem, _, number = name.rpartition("_")
    return (int(number), stem) if name.startswith("onnx::") and number.isdigit() else None


def _align_anonymous(shipped: dict[str, np.ndarray], fresh: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``shipped`` with its anonymous constants renamed to ``fresh``'s, matched in export order.

    The exporter numbers anonymous constants after the graph's values, so a code change that adds
    or removes an operation anywhere (without touching the head's layout) shifts every number. The
    order and the shapes stay: where both lists have the same operator kinds and shapes in the same
    order, the i-th shipped constant is the i-th fresh one. Otherwise ``shipped`` is returned as it is.
    """
    def ordered(consts: dict[str, np.ndarray]) -> list[str]:
        names = [k for k in consts if _anonymous_order(k.removeprefix(PREP_PREFIX)) is not None]
        return sorted(names, key=lambda k: (k.startswith(PREP_PREFIX), _anonymous_order(k.removeprefix(PREP_PREFIX))))

    old, new = ordered(shipped), ordered(fresh)
    if len(old) != len(new) or old == new:
        return shipped
    for a, b in zip(old, new):
        kind_a = _anonymous_order(a.removeprefix(PREP_PREFIX))[1]
        kind_b = _anonymous_order(b.removeprefix(PREP_PREFIX))[1]
        if kind_a != kind_b or shipped[a].shape != fresh[b].shape or a.startswith(PREP_PREFIX) != b.startswith(PREP_PREFIX):
            return shipped
    anonymous = set(old)
    renamed = {k: v for k, v in shipped.items() if k not in anonymous}
    renamed.update({b: shipped[a] for a, b in zip(old, new)})
    return renamed


def _randomised(cfg: ModelConfig) -> DealPromptHead:
    """A head with random parameters and batch-norm statistics, so that no two expressions coincide."""
    gen = torch.Generator().manual_seed(1234)
    _, head = build(cfg, pretrained=False)
    with torch.no_grad():
        for p in head.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
        for m in head.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
    return head.eval()


def recover_head(model_dir: str | Path, verify: bool = True) -> tuple[ModelConfig, DealPromptHead]:
    """``(config, head)`` of the model folder's ``prompt_head.onnx``, the head in eval mode.

    Raises :class:`~engine.errors.ModelError` when the graph was exported by code whose head has
    another layout (the random head's export does not have the same constants), or when a
    constant matches no expression or several.
    """
    path = Path(model_dir) / HEAD_FILE
    for needed in (path, Path(model_dir) / ENCODER_FILE):
        if not needed.is_file():
            raise ModelError(f"{needed} not found; give a model folder holding {HEAD_FILE} and {ENCODER_FILE}")
    shipped, meta = _head_constants(Path(model_dir))
    if "config" not in meta:
        raise ModelError(f"{path} has no DEAL config in its metadata; it was not written by `deal export`")
    cfg = ModelConfig.from_json(meta["config"])
    head_source = meta.get("head_source", "decoder")
    random_head = _randomised(cfg)
    fresh = _export_head(random_head, cfg, head_source)
    shipped = _align_anonymous(shipped, fresh)
    if {k: v.shape for k, v in fresh.items()} != {k: v.shape for k, v in shipped.items()}:
        raise ModelError(f"{path} was exported by a prompt head of another layout than this code's; "
                         "recover it with the project version that exported it")
    candidates = _candidates(random_head)
    modules = dict(random_head.named_modules())
    state = {k: v.clone() for k, v in random_head.state_dict().items()}
    folded: dict[str, dict[str, np.ndarray]] = {}  # batch norm -> its folded scale / shift
    for key, value in shipped.items():
        named = key[len(PREP_PREFIX):] if key.startswith(PREP_PREFIX) else key
        if named.startswith(_PREFIX) and named[len(_PREFIX):] in state:
            state[named[len(_PREFIX):]] = torch.from_numpy(value.copy())
            continue
        hits = [c for c, a in candidates.items() if a.shape == fresh[key].shape and np.allclose(a, fresh[key], rtol=1e-4, atol=1e-6)]
        if len(hits) != 1:
            raise ModelError(f"{path}: cannot tell which weights the constant {key} holds ({len(hits)} candidates)")
        kind, name = hits[0]
        if kind == "linear":
            state[f"{name}.weight"] = torch.from_numpy(value.T.copy())
        elif kind == "conv_matrix":
            state[f"{name}.weight"] = torch.from_numpy(value[:, :, None, None].copy())
        elif kind == "fused_weight":
            state[f"{name}.0.weight"] = torch.from_numpy(value.copy())
            if modules[name][0].bias is not None:
                state[f"{name}.0.bias"] = torch.zeros_like(state[f"{name}.0.bias"])
        elif kind == "fused_bias":
            folded.setdefault(f"{name}.1", {}).update(scale=np.ones_like(value), shift=value)
        else:  # the correlation's batch norm, folded in its graph
            folded.setdefault(name, {})["shift" if kind == "bn_shift_col" else "scale"] = value.reshape(-1)
    for bn_name, parts in folded.items():
        if set(parts) != {"scale", "shift"}:
            raise ModelError(f"{path}: only part of the batch norm {bn_name} was found")
        bn = modules[bn_name]
        state[f"{bn_name}.weight"] = torch.from_numpy(parts["scale"].astype(np.float32))
        state[f"{bn_name}.bias"] = torch.from_numpy(parts["shift"].astype(np.float32))
        state[f"{bn_name}.running_mean"] = torch.zeros_like(state[f"{bn_name}.running_mean"])
        state[f"{bn_name}.running_var"] = torch.full_like(state[f"{bn_name}.running_var"], 1.0 - bn.eps)
    _, head = build(cfg, pretrained=False)
    head.load_state_dict(state)
    head.eval()
    if verify:
        again = _export_head(head, cfg, head_source)
        worst = max(float(np.abs(again[k] - v).max() / (np.abs(v).max() + 1e-12)) if v.size else 0.0 for k, v in shipped.items())
        if worst > 1e-5:
            raise ModelError(f"{path}: the recovered head re-exports with constants off by {worst:.1e} (relative)")
    return cfg, head
