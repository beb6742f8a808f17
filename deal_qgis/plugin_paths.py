"""Where the plugin's files lie, in the repository and in the installed ZIP.

In the repository the plugin code is ``deal_qgis/`` and its resources, translations, metadata
and the engine sit one level up. The installed ZIP puts all of them inside the plugin folder
(``deal_qgis/resources``, ``deal_qgis/i18n``, ``deal_qgis/engine``, ``deal_qgis/metadata.txt``).
"""

from __future__ import annotations

from pathlib import Path

PLUGIN_DIR = Path(__file__).resolve().parent


def resource_root() -> Path:
    """The folder holding metadata.txt, resources/ and i18n/."""
    if (PLUGIN_DIR / "metadata.txt").exists():
        return PLUGIN_DIR
    return PLUGIN_DIR.parent


def icon_path() -> Path:
    return resource_root() / "resources" / "icon.svg"


def translations_dir() -> Path:
    return resource_root() / "i18n"
