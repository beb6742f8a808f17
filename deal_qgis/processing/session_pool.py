"""Encoded scenes kept between Processing runs in one QGIS process.

Encoding is the expensive step; a second run on the same scene with new prompts (another
click, another category, a batch row) should only run the prompt head. The pool keeps the
last few engine Sessions (``SessionCache``), keyed by everything that changes the features.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from qgis.core import QgsProcessingException

from engine.runtime import load_model
from engine.session import Session

from ..session_cache import SessionCache, SessionEntry
from ..translation import tr
from .scene_parameters import SceneSettings

_SESSIONS = SessionCache()
# One DEAL run at a time drives the pooled Sessions: a Session is not meant for two threads,
# and two runs would only share the same CPU or GPU anyway.
_RUN_LOCK = threading.Lock()


@contextlib.contextmanager
def pooled_session(settings: SceneSettings) -> Iterator[tuple[SessionEntry, bool]]:
    """Yield ``(entry, reused)``: the pooled Session for ``settings`` (``entry.session``), or a new one."""
    with _RUN_LOCK:
        key = settings.session_key()
        entry = _SESSIONS.get(key)
        reused = entry is not None
        if entry is None:
            model = _SESSIONS.model(settings.model_dir, settings.device,
                                    lambda path, device: load_model(path, device=device))
            try:
                session = Session(settings.source, model, tile_size=settings.tile_size, overlap=settings.overlap,
                                  cache=settings.feature_cache())
            except ValueError as error:  # the engine's check of tile size and overlap
                raise QgsProcessingException(tr("The tiling cannot be used: {}. Change the tile size or overlap, "
                                                "or leave them unset to use the model's own.").format(error)) from None
            entry = _SESSIONS.put(key, session)
        yield entry, reused


def forget_sessions() -> None:
    """Drop every pooled Session and model (frees their memory)."""
    with _RUN_LOCK:
        _SESSIONS.clear()
