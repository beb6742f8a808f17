"""Category names and their colours: fixed for the presets, distinct and stable for new names."""

from __future__ import annotations

import colorsys
import hashlib

from qgis.PyQt.QtGui import QColor

# Category names are data (they become attribute values), so presets stay English in every language.
PRESET_COLOURS: dict[str, str] = {
    "vehicle": "#e31a1c",
    "ship": "#1f78b4",
    "aircraft": "#ff7f00",
}

_GOLDEN_RATIO = 0.618033988749895
_MIN_HUE_GAP = 0.04


def preset_categories() -> list[str]:
    return list(PRESET_COLOURS)


def normalise_category(name: str) -> str:
    """The category name as stored: surrounding blanks removed, inner runs of blanks collapsed."""
    return " ".join(name.split())


class CategoryPalette:
    """Gives each category a colour: presets fixed, new names spread around the hue circle.

    New names take hues by the golden-ratio sequence, starting from a hash of the first new name,
    so successive categories stay far apart in hue and a name keeps its colour within a session.
    """

    def __init__(self) -> None:
        self._colours: dict[str, QColor] = {name: QColor(hex_) for name, hex_ in PRESET_COLOURS.items()}
        self._next_hue: float | None = None

    def colour(self, category: str) -> QColor:
        """The colour of ``category`` (assigned on first request)."""
        if category not in self._colours:
            if self._next_hue is None:
                self._next_hue = int(hashlib.sha1(category.encode()).hexdigest()[:6], 16) / 0xFFFFFF
            hue = self._next_hue
            used = [c.hsvHueF() for c in self._colours.values()]
            for _ in range(12):  # skip hues too close to a colour already given out
                if all(min(abs(hue - u), 1 - abs(hue - u)) >= _MIN_HUE_GAP for u in used):
                    break
                hue = (hue + _GOLDEN_RATIO) % 1.0
            self._next_hue = (hue + _GOLDEN_RATIO) % 1.0
            r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.9)
            self._colours[category] = QColor(int(r * 255), int(g * 255), int(b * 255))
        return QColor(self._colours[category])
