"""Encoded rasters and loaded models kept between Processing runs in one QGIS process.

Encoding is the expensive step; a second run on the same raster with new prompts (another
click, another category, a batch row) should only run the prompt head. Each run gets a new
engine Session on a new raster source, but the pool hands it the loaded model and the
feature cache of earlier runs with the same key, so every tile they encoded is a cache hit.

The pool keeps caches, not Sessions, on purpose: a Session holds its raster source and the
source's open GDAL datasets, which must not outlive the run (QGIS shuts GDAL down before
Python, and a dataset closed after that crashes the process).
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import Iterator

from qgis.core import QgsProcessingException

from engine.errors import SettingsError
from engine.feature_cache import FeatureCache
from engine.runtime import DealModel, load_model
from engine.session import Session

from .. import dependencies
from ..translation import tr
from .scene_parameters import SceneSettings

_CAPACITY = 2
"""Feature caches kept (each bounded by its memory budget, the rest spilled to disk)."""

_caches: OrderedDict[tuple, FeatureCache] = OrderedDict()
_models: dict[tuple[str, str], DealModel] = {}
# One DEAL run at a time: runs would only compete for the same CPU or GPU, and one lock keeps
# two runs from filling the same cache at once.
_RUN_LOCK = threading.Lock()


def _model(settings: SceneSettings) -> DealModel:
    missing = dependencies.missing_dependencies()
    if missing:
        raise QgsProcessingException(tr(
            "DEAL needs the Python package(s) {0}, which this QGIS cannot import. Install them from the DEAL panel "
            "(Plugins > DEAL), or run: {1}").format(", ".join(missing),
                                                    " ".join(dependencies.install_command(missing))))
    key = (settings.model_dir, settings.device)
    if key not in _models:
        _models[key] = load_model(settings.model_dir, device=settings.device)
    return _models[key]


def _cache(settings: SceneSettings) -> tuple[FeatureCache, bool]:
    """(the cache for ``settings``, whether it already holds encoded tiles), most recent last."""
    key = settings.session_key()
    cache = _caches.pop(key, None)
    reused = cache is not None and len(cache) > 0
    if cache is None:
        cache = settings.feature_cache()
    _caches[key] = cache
    while len(_caches) > _CAPACITY:
        _caches.popitem(last=False)[1].close()
    return cache, reused


@contextlib.contextmanager
def pooled_session(settings: SceneSettings) -> Iterator[tuple[Session, bool]]:
    """Yield ``(session, reused)``: a Session on ``settings.source`` with the pooled model and
    cache; ``reused`` tells whether the cache holds tiles encoded by earlier runs."""
    with _RUN_LOCK:
        model = _model(settings)
        cache, reused = _cache(settings)
        try:
            session = Session(settings.source, model, tile_size=settings.tile_size, overlap=settings.overlap,
                              cache=cache)
        except SettingsError as error:  # the engine's check of tile size and overlap
            raise QgsProcessingException(tr("The tiling cannot be used: {}. Change the tile size or overlap, "
                                            "or leave them unset to use the model's own.").format(error)) from None
        yield session, reused


def forget_encodings() -> None:
    """Drop every pooled cache and model (frees their memory; cache folders on disk stay)."""
    with _RUN_LOCK:
        while _caches:
            _caches.popitem()[1].close()
        _models.clear()
