"""Every slot of the plugin reports its exceptions instead of letting them reach QGIS.

DealErrors carry a message written for the analyst and go to the message bar as is; anything
else is a bug: the message bar says so briefly and the traceback goes to the DEAL log panel.
"""

from __future__ import annotations

import functools
import inspect
import traceback
from typing import Callable

from qgis.core import Qgis, QgsMessageLog

from engine.errors import DealError

from .translation import tr

LOG_TAG = "DEAL"


def report_error(exc: BaseException, message_bar, details: str = "") -> None:
    """Log ``exc`` (with traceback, or ``details`` when the traceback was kept as text) and show
    it in ``message_bar``."""
    details = details or "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    QgsMessageLog.logMessage(details, LOG_TAG, Qgis.Critical)
    if isinstance(exc, DealError):
        text, level = str(exc), Qgis.Warning
    else:
        text, level = tr("Unexpected error: {0}. Details are in the Log Messages panel, DEAL tab.").format(exc), Qgis.Critical
    if message_bar is not None:
        message_bar.pushMessage(LOG_TAG, text, level, 10)


def guarded(method: Callable) -> Callable:
    """Decorate a method of an object with ``message_bar()``: exceptions are reported, not raised.

    Signals pass extra arguments (``clicked`` passes ``checked``); only as many as the
    method takes are forwarded.
    """
    params = list(inspect.signature(method).parameters.values())[1:]
    takes_any = any(p.kind == p.VAR_POSITIONAL for p in params)
    n_args = len([p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)])

    @functools.wraps(method)
    def wrapper(self, *args):
        try:
            return method(self, *(args if takes_any else args[:n_args]))
        except Exception as exc:  # a slot must never raise into Qt's event loop
            report_error(exc, self.message_bar())
            return None

    return wrapper
