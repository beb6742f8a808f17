"""Export DEAL to two ONNX graphs (encoder, prompt head) with the engine's settings in their metadata."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import torch

from ..errors import ModelError
from .config import ModelConfig
from .deal import PREPARED, DealEncoder, DealPromptHead, PromptHeadGraph, TilePreparation

ENCODER_FILE = "encoder.onnx"
HEAD_FILE = "prompt_head.onnx"
FORMAT_VERSION = "2"  # 2: the encoder graph also computes the head's prompt-independent part (PREPARED)
OPSET = 17
PREP_PREFIX = "prep/"
"""Names of the encoder graph's nodes and constants that belong to the head's preparation
(:class:`~engine.model.deal.TilePreparation`), so that a new head can replace them."""
BASE_OUTPUTS = ("p8", "p16", "p32", "size")
_PREPARED_AXES = {"inv_norm8": {1: "hw8"}, "context_k": {2: "hw32"}, "context_v": {2: "hw32"}, "level_rows": {0: "rows"}}


def encoder_hash(model_dir: str | Path) -> str:
    """What identifies the weights of the folder's ``encoder.onnx``: its ``encoder_content_hash`` (a
    model whose head was trained on a frozen encoder) or else its ``content_hash``."""
    import onnx

    path = Path(model_dir) / ENCODER_FILE
    if not path.is_file():
        raise ModelError(f"{path} not found; give a model folder written by `deal export`")
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    if "content_hash" not in meta:
        raise ModelError(f"{path} has no content_hash in its metadata; it was not written by `deal export`")
    return meta.get("encoder_content_hash") or meta["content_hash"]


INFERENCE_SETTINGS = ("score_threshold", "views_score_threshold")
"""Metadata keys that set how the engine uses a model's outputs, not what the graphs compute."""


def set_inference_settings(model_dir: str | Path, out_dir: str | Path, settings: dict[str, float]) -> Path:
    """Copy the model folder ``model_dir`` to ``out_dir`` (the same folder: in place) with ``settings``
    (keys of :data:`INFERENCE_SETTINGS`) written into both graphs' metadata; graphs, weights and
    content hash unchanged. Each file is written beside its target and renamed into place."""
    import onnx

    src, out = Path(model_dir), Path(out_dir)
    unknown = sorted(set(settings) - set(INFERENCE_SETTINGS))
    if unknown:
        raise ValueError(f"not inference settings: {', '.join(unknown)}; these are: {', '.join(INFERENCE_SETTINGS)}")
    for name in (ENCODER_FILE, HEAD_FILE):
        if not (src / name).is_file():
            raise ModelError(f"{src} is missing {name}; give a model folder written by `deal export`")
    out.mkdir(parents=True, exist_ok=True)
    for name in (ENCODER_FILE, HEAD_FILE):
        meta = {p.key: p.value for p in onnx.load(str(src / name), load_external_data=False).metadata_props}
        if "content_hash" not in meta:
            raise ModelError(f"{src / name} has no DEAL metadata; it was not written by `deal export`")
        tmp = out / (name + ".settings.tmp")
        shutil.copyfile(src / name, tmp)
        try:
            _add_metadata(tmp, {**meta, **{k: json.dumps(v) for k, v in settings.items()}})
            os.replace(tmp, out / name)
        finally:
            tmp.unlink(missing_ok=True)
    for extra in sorted(src.iterdir()):  # the model card and anything else that travels with the graphs
        if extra.is_file() and extra.name not in (ENCODER_FILE, HEAD_FILE) and not (out / extra.name).exists():
            shutil.copyfile(extra, out / extra.name)
    return out


def _add_metadata(path: Path, meta: dict[str, str]) -> None:
    import onnx

    model = onnx.load(str(path))
    del model.metadata_props[:]
    for key, value in meta.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    tmp = path.with_name(path.name + ".meta.tmp")
    onnx.save(model, str(tmp))
    os.replace(tmp, path)


def export_onnx(encoder: DealEncoder, head: DealPromptHead, cfg: ModelConfig, out_dir: str | Path, extra_meta: dict | None = None,
                head_source: str = "decoder") -> Path:
    """Write ``encoder.onnx`` and ``prompt_head.onnx`` into ``out_dir`` (atomically, as a pair).

    The encoder graph ends with the head's prompt-independent part (:class:`TilePreparation`:
    its outputs :data:`PREPARED` are the prompt head graph's inputs besides p8), so that a new
    click runs only what depends on it. Dynamic axes: tile height/width (multiples of 32), number
    of prompt sets K and points M. Metadata (both graphs): ``deal_format``, ``config`` (ModelConfig JSON), ``content_hash``
    (sha256 of both graphs' weights, identifying the model for caches), plus ``extra_meta``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    encoder.eval(); head.eval()
    tmp_enc, tmp_head = out / (ENCODER_FILE + ".tmp"), out / (HEAD_FILE + ".tmp")
    _export_graphs(encoder, head, cfg, tmp_enc, tmp_head, head_source)
    digest = hashlib.sha256()
    for module in (encoder, head):
        _hash_state(digest, module)
    return _finish(out, cfg, digest, head_source, extra_meta or {})


def _hash_state(digest, module) -> None:
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())


def _finish(out: Path, cfg: ModelConfig, digest, head_source: str, extra_meta: dict) -> Path:
    """Stamp the metadata on both temporary graphs of ``out`` and move them in place."""
    digest.update(head_source.encode())
    digest.update(f"format:{FORMAT_VERSION}".encode())  # the encoder's outputs differ between formats
    meta = {"deal_format": FORMAT_VERSION, "config": cfg.to_json(), "content_hash": digest.hexdigest()[:16], "head_source": head_source,
            **{k: json.dumps(v) if not isinstance(v, str) else v for k, v in extra_meta.items()}}
    tmp_enc, tmp_head = out / (ENCODER_FILE + ".tmp"), out / (HEAD_FILE + ".tmp")
    for tmp, kind in ((tmp_enc, "encoder"), (tmp_head, "prompt_head")):
        _add_metadata(tmp, {**meta, "graph": kind})
    os.replace(tmp_enc, out / ENCODER_FILE)
    os.replace(tmp_head, out / HEAD_FILE)
    return out


def _export_graphs(encoder, head, cfg: ModelConfig, tmp_enc: Path, tmp_head: Path, head_source: str) -> None:
    image = torch.rand(1, 3, 256, 256)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(encoder, (image,), str(tmp_enc), input_names=["image"], output_names=list(BASE_OUTPUTS),
                          dynamic_axes={"image": {2: "H", 3: "W"}, "p8": {2: "h8", 3: "w8"}, "p16": {2: "h16", 3: "w16"},
                                        "p32": {2: "h32", 3: "w32"}, "size": {2: "h8", 3: "w8"}},
                          opset_version=OPSET, dynamo=False)
        p8, p16, p32, _ = encoder(image)
    _attach_preparation(tmp_enc, head)
    _export_head_graph(head, cfg, (p8, p16, p32), tmp_head, head_source)


def _attach_preparation(encoder_path: Path, head: DealPromptHead) -> None:
    """Append the head's prompt-independent part (:class:`TilePreparation`) to the encoder graph at
    ``encoder_path``, replacing one attached before: its nodes and constants are renamed under
    :data:`PREP_PREFIX` and its outputs (:data:`PREPARED`) join p8, p16, p32 and size."""
    import onnx

    dim = head.cfg.dim
    feats = (torch.rand(1, dim, 32, 32), torch.rand(1, dim, 16, 16), torch.rand(1, dim, 8, 8))
    with tempfile.TemporaryDirectory() as tmp, torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prep_path = Path(tmp) / "prep.onnx"
        torch.onnx.export(TilePreparation(head).eval(), feats, str(prep_path), input_names=["p8", "p16", "p32"],
                          output_names=list(PREPARED),
                          dynamic_axes={"p8": {2: "h8", 3: "w8"}, "p16": {2: "h16", 3: "w16"}, "p32": {2: "h32", 3: "w32"},
                                        **_PREPARED_AXES},
                          opset_version=OPSET, dynamo=False)
        prep = onnx.load(str(prep_path)).graph
    model = onnx.load(str(encoder_path))
    graph = model.graph
    _strip_preparation(graph)
    keep = {"", *(i.name for i in prep.input), *PREPARED}  # the names shared with the encoder graph

    def rename(name: str) -> str:
        return name if name in keep else PREP_PREFIX + name

    for i, node in enumerate(prep.node):
        node.name = PREP_PREFIX + (node.name or f"node{i}")
        inputs, outputs = [rename(n) for n in node.input], [rename(n) for n in node.output]
        del node.input[:], node.output[:]
        node.input.extend(inputs)
        node.output.extend(outputs)
    for item in (*prep.initializer, *prep.value_info):
        item.name = rename(item.name)
    graph.node.extend(prep.node)
    graph.initializer.extend(prep.initializer)
    graph.value_info.extend(prep.value_info)
    graph.output.extend(prep.output)
    onnx.checker.check_model(model)
    onnx.save(model, str(encoder_path))


def _strip_preparation(graph) -> None:
    """Remove a head preparation attached by :func:`_attach_preparation` (nothing when there is none)."""
    for field in (graph.node, graph.initializer, graph.value_info):
        kept = [x for x in field if not x.name.startswith(PREP_PREFIX)]
        del field[:]
        field.extend(kept)
    kept = [o for o in graph.output if o.name not in PREPARED]
    del graph.output[:]
    graph.output.extend(kept)


def _export_head_graph(head, cfg: ModelConfig, feats: tuple, tmp_head: Path, head_source: str) -> None:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = head.eval().prepare(*feats)
        ex = torch.randn(2, 3, cfg.dim)
        mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
        torch.onnx.export(PromptHeadGraph(head, head_source).eval(), (feats[0], *(prepared[n] for n in PREPARED), ex, mask), str(tmp_head),
                          input_names=["p8", *PREPARED, "exemplars", "exemplar_mask"],
                          output_names=["density", "count_density", "boxes", "scores", "valid", "count"],
                          dynamic_axes={"p8": {2: "h8", 3: "w8"}, **_PREPARED_AXES,
                                        "exemplars": {0: "K", 1: "M"}, "exemplar_mask": {0: "K", 1: "M"},
                                        "density": {0: "K", 1: "h8", 2: "w8"}, "count_density": {0: "K", 1: "h8", 2: "w8"},
                                        "boxes": {0: "K", 1: "Q"}, "scores": {0: "K", 1: "Q"}, "valid": {0: "K", 1: "Q"}, "count": {0: "K"}},
                          opset_version=OPSET, dynamo=False)


def export_head_on_encoder(head: DealPromptHead, cfg: ModelConfig, encoder_dir: str | Path, out_dir: str | Path,
                           extra_meta: dict | None = None, head_source: str = "decoder") -> Path:
    """Write a model folder whose encoder is ``encoder_dir``'s ``encoder.onnx`` (unchanged weights) and whose
    prompt head is ``head``: a head trained on that frozen encoder (``deal train --from-model``).

    The encoder graph keeps the source's weights (any head preparation attached to it is replaced
    by ``head``'s). The content hash covers the encoder's own hash and the new head, so feature
    caches of the old model are not reused for a different head's model id.
    """
    import numpy as np
    import onnxruntime as ort

    src, out = Path(encoder_dir) / ENCODER_FILE, Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    head.eval()
    session = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    base_hash = encoder_hash(encoder_dir)
    image = np.random.default_rng(0).random((1, 3, 256, 256), dtype=np.float32)
    feats = tuple(torch.from_numpy(a) for a in session.run(["p8", "p16", "p32"], {"image": image}))
    tmp_enc, tmp_head = out / (ENCODER_FILE + ".tmp"), out / (HEAD_FILE + ".tmp")
    shutil.copyfile(src, tmp_enc)
    _attach_preparation(tmp_enc, head)  # the encoder's weights unchanged, the new head's preparation after them
    _export_head_graph(head, cfg, feats, tmp_head, head_source)
    digest = hashlib.sha256(f"encoder:{base_hash}".encode())
    _hash_state(digest, head)
    return _finish(out, cfg, digest, head_source, {"encoder_content_hash": base_hash, **(extra_meta or {})})
