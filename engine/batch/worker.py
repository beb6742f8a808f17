"""What runs on a Dask worker: one task = one scene, detected with exemplars taken elsewhere.

The model is loaded once per worker process and kept in a module-level cache (Dask keeps a
worker's Python process, and so this module, alive across tasks). A task returns plain numpy
arrays and numbers, never a file: the driver writes the results, so workers need to read the
scenes and the model but not the output folder.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..errors import DealError, MissingGeoreferenceError
from ..exemplars import ExemplarSet
from ..runtime import DealModel, load_model

log = logging.getLogger(__name__)

FEATURE_MEMORY_BYTES = 256 * 2**20
"""Encoded-tile memory per task: each tile is used once per scale, so nothing needs to spill."""

ModelKey = tuple[str, str, int | None]
_models: dict[ModelKey, DealModel] = {}
_loads: Counter[ModelKey] = Counter()
"""Times each model was loaded in this process: 1 however many scenes it ran (reported per scene)."""
_models_lock = threading.Lock()  # a worker with several threads runs several tasks at once


@dataclass(frozen=True)
class DetectSettings:
    """How every scene of a batch is detected.

    ``model_path`` None means the bundled model, resolved on the worker; ``tile_size`` and
    ``overlap`` in model pixels (None: the model's); ``bands`` 1-based (None: the first three);
    ``views``: test-time views (``engine.views``; 1 = the scene alone).
    """

    model_path: str | None = None
    device: str = "auto"
    model_threads: int | None = None
    tile_size: int | None = None
    overlap: int | None = None
    score_threshold: float | None = None
    bands: tuple[int, ...] | None = None
    views: int = 1


@dataclass
class SceneResult:
    """One scene's detections in its own CRS, or the error that stopped it.

    ``table`` holds :func:`~engine.feature_table.feature_table`'s arrays (``rings_map (N,5,2)``
    in ``crs_wkt``, category, score, cx_map, cy_map, length_m, width_m, area_m2).
    ``counts`` / ``estimated_counts`` are per prompted category.
    """

    scene: str
    table: dict[str, np.ndarray] = field(default_factory=dict)
    crs_wkt: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    estimated_counts: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    pid: int = 0
    model_loads: int = 0
    error: str | None = None


def _model_key(settings: DetectSettings) -> ModelKey:
    return (str(settings.model_path), settings.device, settings.model_threads)


def cached_model(settings: DetectSettings) -> DealModel:
    """The model of ``settings``, loaded on the first call in this process and kept."""
    key = _model_key(settings)
    with _models_lock:
        if key not in _models:
            _models[key] = load_model(settings.model_path, device=settings.device, threads=settings.model_threads)
            _loads[key] += 1
        return _models[key]


def detect_scene(scene: str, exemplars: ExemplarSet, settings: DetectSettings) -> SceneResult:
    """Detect ``exemplars``' categories in one scene; errors come back in ``SceneResult.error``.

    A scene without a CRS fails: a batch puts every scene into one map layer, which needs to
    know where each scene lies.
    """
    from ..feature_cache import FeatureCache
    from ..feature_table import feature_table
    from ..io.rasterio_source import RasterioSource
    from ..session import Session

    t0 = time.perf_counter()
    outcome = SceneResult(scene=scene, pid=os.getpid())
    try:
        model = cached_model(settings)
        with RasterioSource(scene, bands=settings.bands) as source:
            if source.georef is None or not source.georef.has_crs:
                raise MissingGeoreferenceError(
                    f"Raster {scene} has no CRS, so its detections cannot be placed in the batch's map layer. "
                    "Assign one (e.g. gdal_edit.py -a_srs EPSG:32633 FILE) or run `deal detect` on it alone.")
            with FeatureCache(max_memory_bytes=FEATURE_MEMORY_BYTES, max_disk_bytes=0) as cache:
                try:
                    session = Session(source, model, tile_size=settings.tile_size, overlap=settings.overlap, cache=cache,
                                      views=settings.views)
                except ValueError as exc:  # tile size / overlap the model cannot use
                    raise DealError(f"--tile/--overlap: {exc}") from None
                result = session.detect_with_exemplars(exemplars, settings.score_threshold)
        outcome.table = feature_table(result)
        outcome.crs_wkt = result.georef.crs_wkt
        outcome.counts = result.counts
        outcome.estimated_counts = {k: float(v) for k, v in result.estimated_counts.items()}
    except DealError as exc:
        outcome.error = str(exc)
    except Exception as exc:  # any other failure of one scene must not stop the batch
        log.exception("unexpected failure on %s", scene)  # the traceback, in the worker's log
        outcome.error = f"unexpected {type(exc).__name__}: {exc}"
    outcome.seconds = time.perf_counter() - t0
    outcome.model_loads = _loads[_model_key(settings)]
    return outcome
