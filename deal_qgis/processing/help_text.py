"""An algorithm's help panel, built from each parameter's own description and help text,
so every sentence about a parameter is written once (in its declaration)."""

from __future__ import annotations

from qgis.core import QgsProcessingAlgorithm

from ..translation import tr


def algorithm_help(summary: str, algorithm: QgsProcessingAlgorithm) -> str:
    """Plain text, one paragraph a line: ``summary`` then one line per parameter with help.

    Plain rather than HTML: the algorithm dialog turns each line into a paragraph, and
    ``qgis_process help`` prints the text as it is.
    """
    lines = [f"{p.description()} ({p.name()}): {p.help()}" for p in algorithm.parameterDefinitions() if p.help()]
    return "\n".join([summary, tr("Parameters:"), *lines])
