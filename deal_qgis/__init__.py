"""DEAL - Detect Any smalL object: QGIS plugin entry point.

The engine is a plain Python package named ``engine``. In the repository it sits beside this
folder; the installed plugin ZIP carries a copy in ``deal_qgis/libs/engine`` and this module puts
``deal_qgis/libs`` on ``sys.path`` so ``import engine`` finds it. (Not the plugin folder itself:
its ``processing`` subpackage would shadow QGIS's own ``processing``.)
"""

import os
import sys

_LIBS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "libs")
if os.path.isdir(_LIBS_DIR) and _LIBS_DIR not in sys.path:
    sys.path.insert(0, _LIBS_DIR)


def classFactory(iface):  # noqa: N802 (name required by QGIS)
    """Called by QGIS to create the plugin."""
    from .plugin import DealPlugin

    return DealPlugin(iface)
