"""An algorithm's help panel, built from each parameter's own description and help text,
so every sentence about a parameter is written once (in its declaration)."""

from __future__ import annotations

import html

from qgis.core import QgsProcessingAlgorithm

from ..translation import tr


def algorithm_help(summary: str, algorithm: QgsProcessingAlgorithm) -> str:
    """HTML: ``summary`` (already HTML) then each parameter's description and help text."""
    rows = [f"<dt><b>{html.escape(p.description())}</b> <code>{p.name()}</code></dt><dd>{html.escape(p.help())}</dd>"
            for p in algorithm.parameterDefinitions() if p.help()]
    return f"{summary}<h3>{tr('Parameters')}</h3><dl>{''.join(rows)}</dl>"
