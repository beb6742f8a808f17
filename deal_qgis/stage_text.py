"""The engine's progress messages (English, it never imports Qt) in the user's language."""

from __future__ import annotations

import re
from typing import Callable

from .translation import tr

# (engine message pattern, translated template); groups fill {0}, {1} in order
_STAGES: list[tuple[re.Pattern, Callable[[], str]]] = [
    (re.compile(r"encoding tile (\d+)/(\d+)"), lambda: tr("encoding tile {0}/{1}")),
    (re.compile(r"detecting tile (\d+)/(\d+)"), lambda: tr("detecting tile {0}/{1}")),
    (re.compile(r"reading the '(.*)' clicks"), lambda: tr("reading the '{0}' clicks")),
    (re.compile(r"encoded"), lambda: tr("encoded")),
    (re.compile(r"merging"), lambda: tr("merging")),
    (re.compile(r"done"), lambda: tr("done")),
]


def stage_text(message: str) -> str:
    """``message`` translated when it is one of the engine's known stages, else unchanged."""
    for pattern, template in _STAGES:
        match = pattern.fullmatch(message)
        if match:
            return template().format(*match.groups())
    return message
