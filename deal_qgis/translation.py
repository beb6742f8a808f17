"""User-visible text: ``tr`` marks it for translation, ``install_translator`` loads the .qm file.

All strings use the one translation context ``DEAL`` so pylupdate5 collects them from every
module and one .ts file per language covers the plugin.
"""

from __future__ import annotations

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

from .plugin_paths import translations_dir

CONTEXT = "DEAL"


def tr(text: str) -> str:
    """The translation of ``text`` in the user's QGIS language (``text`` itself if none)."""
    return QCoreApplication.translate(CONTEXT, text)


def user_language() -> str:
    """Two-letter language code of QGIS's user interface (``locale/userLocale``)."""
    locale = QgsSettings().value("locale/userLocale", "") or QLocale().name()
    return str(locale)[:2].lower()


def install_translator(language: str | None = None) -> QTranslator | None:
    """Load ``i18n/deal_<language>.qm`` into the application; None when there is no such file.

    The caller keeps the returned translator and passes it to ``QCoreApplication.removeTranslator``
    on unload.
    """
    language = language or user_language()
    qm = translations_dir() / f"deal_{language}.qm"
    if not qm.exists():
        return None
    translator = QTranslator()
    if not translator.load(str(qm)):
        return None
    QCoreApplication.installTranslator(translator)
    return translator
