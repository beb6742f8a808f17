"""Runs an exported DEAL model with onnxruntime (CUDA when available). Never imports torch.

A model is a folder holding ``encoder.onnx`` and ``prompt_head.onnx`` whose metadata carries the
settings the engine needs (:class:`ModelMetadata`).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DeviceError, ModelError

ENCODER_FILE = "encoder.onnx"
HEAD_FILE = "prompt_head.onnx"
SUPPORTED_FORMATS = ("1", "2")  # 2: the encoder graph also runs the head's prompt-independent part
DEFAULT_SCORE_THRESHOLD = 0.3  # for models exported without their own (every model before 0.3)


def default_model_path() -> Path:
    """The model bundled with the project (``resources/model``; inside the plugin zip, beside the engine)."""
    env = os.environ.get("DEAL_MODEL")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "resources" / "model", here / "model_files"):
        if (candidate / ENCODER_FILE).exists():
            return candidate
    return here.parent / "resources" / "model"


def tile_multiple(backbone: str) -> int:
    """Tile sides must be multiples of this: 32 (the coarsest stride), 256 for Swin backbones
    (stride 32 times their 8-cell attention window, see ``engine/model/swin.py``)."""
    return 256 if backbone.startswith("swin") else 32


@dataclass(frozen=True)
class ModelMetadata:
    """Settings read from the ONNX metadata.

    ``target_object_px``: object size (model pixels) the model works best at; ``stride``: pixels
    per cell of the feature/density maps; ``content_hash`` identifies the weights (cache keys);
    ``score_threshold``: the score from which a detection is kept and counted unless the caller
    says otherwise (``deal export --score-threshold``, set where the counts come out right on
    training data; 0.3 for models exported without one). ``views_score_threshold``: the same for
    test-time views, whose fused scores are means over the views (``deal export
    --views-score-threshold``; None: ``score_threshold``). :meth:`threshold` picks between them.
    """

    name: str
    version: str
    dim: int
    stride: int
    tile_size: int
    overlap: int
    target_object_px: float
    bands: tuple[int, ...]
    gsd_m: float
    categories_seen: tuple[str, ...]
    content_hash: str
    trained: bool
    num_queries: int
    tile_multiple: int = 32  # tile sides must be multiples of this (see tile_multiple)
    score_threshold: float = DEFAULT_SCORE_THRESHOLD
    views_score_threshold: float | None = None

    def threshold(self, views: int = 1) -> float:
        """The score from which a detection is kept and counted by default when the scene is searched
        in ``views`` views (fused scores, ``engine.views``, are on a scale of their own)."""
        return self.views_score_threshold if views > 1 and self.views_score_threshold is not None else self.score_threshold

    @staticmethod
    def from_onnx(meta: dict[str, str], path: Path) -> "ModelMetadata":
        fmt = meta.get("deal_format")
        if fmt is None or "config" not in meta:
            raise ModelError(f"{path} is an ONNX graph but not a DEAL model (no DEAL metadata); pick a folder exported by `deal export`")
        if fmt not in SUPPORTED_FORMATS:
            raise ModelError(f"{path} is a DEAL model of format {fmt}, this engine reads format(s) {', '.join(SUPPORTED_FORMATS)}: "
                             "update the plugin/engine or re-export the model")
        cfg = json.loads(meta["config"])
        threshold = _score_setting(meta, "score_threshold", path, DEFAULT_SCORE_THRESHOLD)
        views_threshold = _score_setting(meta, "views_score_threshold", path, None)
        return ModelMetadata(
            name=cfg["name"], version=cfg["version"], dim=int(cfg["dim"]), stride=int(cfg["stride"]),
            tile_size=int(cfg["tile_size"]), overlap=int(cfg["overlap"]), target_object_px=float(cfg["target_object_px"]),
            bands=tuple(cfg.get("bands", (1, 2, 3))), gsd_m=float(cfg.get("gsd_m", 0.3)),
            categories_seen=tuple(cfg.get("categories_seen", ())), content_hash=meta.get("content_hash", "unknown"),
            trained=json.loads(meta.get("trained", "false")), num_queries=int(cfg.get("num_queries", 300)),
            tile_multiple=tile_multiple(str(cfg.get("backbone", "mobilenet_v2"))), score_threshold=threshold,
            views_score_threshold=views_threshold)


def _score_setting(meta: dict[str, str], key: str, path: Path, default: float | None) -> float | None:
    """The score in ``meta[key]`` (``default`` where the key is absent); a ModelError where it is not
    a score between 0 and 1."""
    if key not in meta:
        return default
    try:
        value = float(json.loads(meta[key]))
    except (ValueError, TypeError):
        value = -1.0
    if not 0.0 < value < 1.0:
        raise ModelError(f"{path}: its {key} metadata ({meta[key]!r}) is not a score between 0 and 1; "
                         f"set it again with `deal export --{key.replace('_', '-')}`")
    return value


@dataclass
class TileFeatures:
    """Encoder outputs of one tile: p8 ``(1,C,h8,w8)`` float32 (exemplars are sampled from it), size
    ``(1,2,h8,w8)`` log px (the scale probe reads it), and ``extra``: the other outputs the prompt
    head reads, by name (format 2: the head's prompt-independent part, ``engine.model.deal.PREPARED``;
    format 1: p16, p32)."""

    p8: np.ndarray
    size: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def as_dict(self) -> dict[str, np.ndarray]:
        return {"p8": self.p8, "size": self.size, **self.extra}

    @staticmethod
    def from_dict(d: dict[str, np.ndarray], names: tuple[str, ...]) -> "TileFeatures":
        """From :meth:`as_dict`'s dict (which may hold more, as the engine's cache entries do); ``names``: the extra ones."""
        return TileFeatures(d["p8"], d["size"], {k: d[k] for k in names})


@dataclass
class HeadOutput:
    """Prompt-head outputs for K prompt sets on one tile.

    density (K,h8,w8) object-centre likelihood; count_density (K,h8,w8) objects per cell;
    boxes (K,Q,4) xyxy tile px; scores (K,Q); valid (K,Q) bool (density-guided query count); count (K,).
    """

    density: np.ndarray
    count_density: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray
    valid: np.ndarray
    count: np.ndarray

    def select(self, k: int) -> "HeadOutput":
        """Prompt set ``k`` alone (K=1), its queries cut to the valid ones."""
        keep = self.valid[k]
        return HeadOutput(self.density[k:k + 1], self.count_density[k:k + 1], self.boxes[k:k + 1, keep],
                          self.scores[k:k + 1, keep], self.valid[k:k + 1, keep], self.count[k:k + 1])

    @staticmethod
    def stack(parts: list["HeadOutput"]) -> "HeadOutput":
        """Prompt sets from separate runs as one output; Q differs between runs (it follows the
        density), so shorter ones are padded with invalid queries."""
        q = max(p.boxes.shape[1] for p in parts)

        def pad(a: np.ndarray, fill) -> np.ndarray:
            extra = q - a.shape[1]
            return a if not extra else np.concatenate([a, np.full((a.shape[0], extra, *a.shape[2:]), fill, a.dtype)], 1)

        return HeadOutput(np.concatenate([p.density for p in parts]), np.concatenate([p.count_density for p in parts]),
                          np.concatenate([pad(p.boxes, 0) for p in parts]), np.concatenate([pad(p.scores, 0) for p in parts]),
                          np.concatenate([pad(p.valid, False) for p in parts]), np.concatenate([p.count for p in parts]))


def _providers(device: str) -> list[str]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device == "cuda":
        if "CUDAExecutionProvider" not in available:
            raise DeviceError("the CUDA device was asked for, but this onnxruntime has no CUDA support "
                              f"(providers: {', '.join(available)}); install onnxruntime-gpu on a machine with a CUDA GPU, "
                              "or choose the 'auto' or 'cpu' device")
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device == "auto":
        return (["CUDAExecutionProvider"] if "CUDAExecutionProvider" in available else []) + ["CPUExecutionProvider"]
    raise DeviceError(f"unknown device {device!r}: use auto, cpu or cuda")


class DealModel:
    """The two ONNX graphs in onnxruntime sessions. ``encode`` per tile, ``predict`` per prompt batch."""

    def __init__(self, folder: Path, device: str = "auto", threads: int | None = None):
        import onnxruntime as ort

        self.folder = folder
        providers = _providers(device)
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
        # The encoder and the head alternate tile by tile, each with its own thread pool: a pool
        # left spinning after its run steals the cores from the other (measured: +28 ms per tile
        # on 2 cores, ~17% of the encoder). Threads still spin within a run, where it pays.
        opts.add_session_config_entry("session.force_spinning_stop", "1")
        self._ort, self._providers = ort, providers
        self._encoder, self._head = (self._open(folder / name, opts) for name in (ENCODER_FILE, HEAD_FILE))
        self._head_single = None  # one-thread head, opened on first use (see predict_parallel)
        self._head_single_lock = threading.Lock()
        self._head_inputs = [i.name for i in self._head.get_inputs()]
        self.feature_names = tuple(n for n in self._head_inputs if n not in ("p8", "exemplars", "exemplar_mask"))
        missing = sorted(set(self.feature_names) - {o.name for o in self._encoder.get_outputs()})
        if missing:
            raise ModelError(f"{folder}: prompt_head.onnx reads {', '.join(missing)}, which encoder.onnx does not compute; "
                             "the two graphs come from different exports: re-export the model folder")
        self._encoder_outputs = ["p8", "size", *self.feature_names]
        meta_enc = self._encoder.get_modelmeta().custom_metadata_map
        meta_head = self._head.get_modelmeta().custom_metadata_map
        self.metadata = ModelMetadata.from_onnx(meta_enc, folder / ENCODER_FILE)
        if meta_head.get("content_hash") != meta_enc.get("content_hash"):
            raise ModelError(f"{folder}: encoder.onnx and prompt_head.onnx come from different exports; re-export the model folder")
        self.device = "cuda" if "CUDAExecutionProvider" in self._encoder.get_providers() else "cpu"
        self.encoder_calls = 0
        # Prompt heads of different tiles run side by side, one thread each, on the CPU: the head's
        # small operators scale poorly over threads (measured on 2 cores: 14.2 ms per tile with
        # two threads in one call, 10.5 ms with two one-thread calls side by side).
        cores = os.cpu_count() or 1
        self.head_workers = 1 if self.device == "cuda" or threads == 1 else min(cores, threads or cores, 4)

    def _open(self, path: Path, opts):
        try:
            return self._ort.InferenceSession(str(path), opts, providers=self._providers)
        except Exception as exc:  # onnxruntime raises its own types for corrupt files
            raise ModelError(f"cannot load {path}: the file is corrupt or not an ONNX model ({str(exc).splitlines()[0][:200]}); "
                             "re-export it with `deal export` or reinstall the plugin") from None

    @property
    def model_id(self) -> str:
        return f"{self.metadata.name}-{self.metadata.version}-{self.metadata.content_hash}"

    def encode(self, image: np.ndarray) -> TileFeatures:
        """``image (3,H,W)`` float32 RGB in [0,1], H and W multiples of 32 -> features."""
        self.encoder_calls += 1
        p8, size, *extra = self._encoder.run(self._encoder_outputs, {"image": np.ascontiguousarray(image[None], dtype=np.float32)})
        return TileFeatures(p8, size, dict(zip(self.feature_names, extra)))

    def predict(self, feats: TileFeatures, exemplars: np.ndarray, mask: np.ndarray) -> HeadOutput:
        """``exemplars (K,M,C)``, ``mask (K,M)`` (1 = real point) -> :class:`HeadOutput`."""
        return self._run_head(self._head, feats, exemplars, mask)

    def predict_parallel(self, feats: TileFeatures, exemplars: np.ndarray, mask: np.ndarray) -> HeadOutput:
        """As :meth:`predict`, on a one-thread session: for up to ``head_workers`` calls at once
        from different threads (the session is thread-safe; onnxruntime releases the GIL)."""
        with self._head_single_lock:
            if self._head_single is None:
                opts = self._ort.SessionOptions()
                opts.log_severity_level = 3
                opts.intra_op_num_threads = 1
                self._head_single = self._open(self.folder / HEAD_FILE, opts)
        return self._run_head(self._head_single, feats, exemplars, mask)

    def _run_head(self, session, feats: TileFeatures, exemplars: np.ndarray, mask: np.ndarray) -> HeadOutput:
        feed = {"p8": feats.p8, **feats.extra, "exemplars": exemplars.astype(np.float32), "exemplar_mask": mask.astype(np.float32)}
        out = session.run(None, {k: feed[k] for k in self._head_inputs})
        density, count_density, boxes, scores, valid, count = out
        return HeadOutput(density, count_density, boxes, scores, valid > 0.5, count)


def load_model(path: str | os.PathLike | None = None, device: str = "auto", threads: int | None = None) -> DealModel:
    """Open a model folder (default: the bundled model). Raises ModelError / DeviceError with a remedy."""
    folder = Path(path) if path else default_model_path()
    if folder.is_file() and folder.name in (ENCODER_FILE, HEAD_FILE):
        folder = folder.parent
    if not folder.is_dir():
        raise ModelError(f"model folder not found: {folder}; give a folder containing {ENCODER_FILE} and {HEAD_FILE} "
                         "(the bundled one is resources/model)")
    for name in (ENCODER_FILE, HEAD_FILE):
        if not (folder / name).is_file():
            raise ModelError(f"{folder} is missing {name}; a DEAL model folder holds {ENCODER_FILE} and {HEAD_FILE}")
    return DealModel(folder, device, threads)
