"""Errors the engine raises. Each names the problem and what to do about it.

The command line prints ``str(error)`` without a traceback for any ``DealError``;
the QGIS plugin shows it in the message bar.
"""

from __future__ import annotations


class DealError(Exception):
    """Base class of every user-facing error of the engine."""


class InvalidRasterError(DealError):
    """The input is not a readable raster, is truncated, empty or all nodata."""


class MissingGeoreferenceError(DealError):
    """The raster has no CRS or geotransform and the prompts are in map coordinates."""


class PromptError(DealError):
    """A prompt is malformed, missing, or cannot be used."""


class PromptOutsideRasterError(PromptError):
    """A prompt point falls outside the raster's extent."""


class PromptOnNodataError(PromptError):
    """A prompt point falls on a nodata pixel."""


class NoPromptsError(PromptError):
    """Detection was asked for with zero prompts."""


class UnknownCRSError(DealError):
    """A CRS string could not be understood."""


class ModelError(DealError):
    """The model file is missing, corrupt or of an incompatible version."""


class OutputError(DealError):
    """An output path cannot be written."""


class DeviceError(DealError):
    """The requested compute device (e.g. cuda) is not available."""


class SettingsError(DealError):
    """A run setting (tile size, overlap, score threshold...) is out of range."""


class CancelledError(DealError):
    """The user cancelled the work; nothing was written."""
