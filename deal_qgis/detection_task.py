"""A detection run in QGIS's task manager: the engine works in a worker thread, QGIS stays responsive.

The task only computes (engine Session, feature table, density GeoTIFF); layers are built on the
main thread by whoever listens to ``taskCompleted``. A cancelled or failed run leaves no file
and no layer behind.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from qgis.core import QgsTask
from qgis.PyQt.QtCore import pyqtSignal

from engine.errors import CancelledError, DealError, SettingsError
from engine.feature_table import feature_table
from engine.prompts import PointPrompt
from engine.runtime import load_model
from engine.self_prompting import DEFAULT_SELF_PROMPTS
from engine.session import Session
from engine.views import MAX_VIEWS

from .result_layers import write_density
from .session_cache import SessionCache, SessionEntry
from .settings import DealSettings
from .translation import tr


@dataclass
class RunOutcome:
    """What a finished run hands to the main thread."""

    result: object = None
    table: dict = field(default_factory=dict)
    density_path: Path | None = None
    entry: SessionEntry | None = None
    new_tiles: int = 0
    seconds: float = 0.0


def _without_frames(exc: BaseException) -> BaseException:
    """``exc`` with its traceback dropped, and those of the exceptions it was raised from or
    during (``__cause__``, ``__context__``): any of their frames could hold the task."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += [current.__cause__, current.__context__]
    return exc


class DetectionTask(QgsTask):
    """Run ``session.detect(prompts)`` on a source, reusing a cached Session when one fits.

    Signals: ``stageChanged(str)`` with the engine's progress message. After the run, ``outcome``
    holds the result (success) or ``error`` the exception (failure); a cancel sets neither.
    """

    stageChanged = pyqtSignal(str)

    def __init__(self, source, prompts: list[PointPrompt], settings: DealSettings, sessions: SessionCache,
                 density_path: Path | None):
        super().__init__(tr("DEAL detection"), QgsTask.CanCancel)
        self.source = source
        self.prompts = prompts
        self.settings = settings
        self.sessions = sessions
        self.density_path = density_path
        self.outcome: RunOutcome | None = None
        self.error: Exception | None = None
        self.error_details = ""
        self._stage = ""

    def _progress(self, fraction: float, message: str) -> None:
        self.setProgress(max(0.0, min(1.0, float(fraction))) * 100.0)
        if message != self._stage:
            self._stage = message
            self.stageChanged.emit(message)

    def _entry(self) -> SessionEntry:
        key = self.settings.session_key(self.source.fingerprint)
        entry = self.sessions.get(key)
        if entry is None:
            self._progress(0.0, tr("loading model"))
            model = self.sessions.model(self.settings.model_path, self.settings.device, lambda p, d: load_model(p, device=d))
            try:
                session = Session(self.source, model, tile_size=self.settings.tile_size or None,
                                  overlap=self.settings.overlap or None, cache=self.sessions.features)
            except SettingsError as exc:  # tile size / overlap out of the model's range
                raise DealError(tr("The tile settings do not suit the model: {0}. Change them in the DEAL settings "
                                   "(0 = the model's own).").format(exc)) from None
            entry = self.sessions.put(key, session)
        return entry

    def run(self) -> bool:
        started = time.perf_counter()
        try:
            entry = self._entry()
            entry.session.bracket = self.settings.bracket  # not a feature setting: the cached session takes it per run
            entry.session.self_prompts = DEFAULT_SELF_PROMPTS if self.settings.self_prompt else 0
            entry.session.views = MAX_VIEWS if self.settings.mirror_views else 1
            calls_before = entry.session.encoder_calls
            result = entry.session.detect(self.prompts, score_threshold=self.settings.score_threshold or None,
                                          progress=self._progress, cancel=self.isCanceled)
            new_tiles = entry.session.encoder_calls - calls_before
            table = feature_table(result)
            if self.density_path is not None and result.density is not None:
                self._progress(1.0, tr("writing density raster"))
                write_density(result.density, self.density_path)
            if self.isCanceled():
                raise CancelledError(tr("Run cancelled."))
            entry.runs += 1
            self.outcome = RunOutcome(result, table, self.density_path if result.density is not None else None,
                                      entry, new_tiles, time.perf_counter() - started)
            return True
        except CancelledError:
            self._discard_density()
            return False
        except Exception as exc:  # reported on the main thread by the listener
            # The traceback is kept as text: the exception's frames refer back to this task, and
            # such a cycle outlives the QgsTask the task manager deletes (Python then crashed when
            # its garbage collector freed the wrapper at exit).
            self.error_details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.error = _without_frames(exc)
            self._discard_density()
            return False

    def _discard_density(self) -> None:
        if self.density_path is not None and self.density_path.exists():
            self.density_path.unlink()
