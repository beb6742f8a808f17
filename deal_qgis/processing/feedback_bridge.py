"""The engine's progress and cancel callbacks, backed by a Processing ``feedback``."""

from __future__ import annotations

import re
import traceback
from typing import Callable

from qgis.core import QgsProcessingException, QgsProcessingFeedback

from engine.errors import DealError

_COUNTER = re.compile(r"\s*\d+\s*/\s*\d+\s*$")


class FeedbackBridge:
    """Forwards engine progress into ``feedback`` over the percent range [start, end].

    The first message of a stage goes to the log, the following ones ("encoding tile 4/12"
    after "encoding tile 3/12") only to the progress text, so a scene of hundreds of tiles
    does not flood the log and qgis_process prints each message once.
    """

    def __init__(self, feedback: QgsProcessingFeedback | None, start: float = 0.0, end: float = 100.0):
        self._feedback = feedback or QgsProcessingFeedback()
        self._start = start
        self._end = end
        self._stage = ""

    def progress(self, fraction: float, message: str = "") -> None:
        """Engine progress callback: ``fraction`` of this bridge's range done, in [0, 1]."""
        fraction = min(max(float(fraction), 0.0), 1.0)
        self._feedback.setProgress(self._start + fraction * (self._end - self._start))
        if not message:
            return
        stage = _COUNTER.sub("", message)
        if stage != self._stage:
            self._stage = stage
            self._feedback.pushInfo(message)
        else:
            self._feedback.setProgressText(message)

    def cancel(self) -> bool:
        """Engine cancel callback: True once the user pressed Cancel."""
        return self._feedback.isCanceled()


def run_with_analyst_errors(process: Callable[[], dict]) -> dict:
    """``process()``, with any error re-raised as a new QgsProcessingException holding only text:
    the message of engine errors (DealError) and Processing errors, the formatted traceback of
    anything else (a bug, to report).

    Only text: QGIS keeps the exception an algorithm raises alive for good, and with it every
    frame of its traceback, so a raster opened deep in the run (a GDAL dataset) would outlive
    QGIS and crash the process when Python shuts down.
    """
    try:
        return process()
    except (DealError, QgsProcessingException) as error:
        message = str(error)
    except Exception as error:
        message = "".join(traceback.format_exception(error)).rstrip()
    raise QgsProcessingException(message)
