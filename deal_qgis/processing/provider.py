"""The DEAL Processing provider: its algorithms in the toolbox, models, batch mode and qgis_process."""

from __future__ import annotations

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..plugin_paths import icon_path
from ..translation import tr
from .detect_algorithm import DetectAlgorithm
from .encode_algorithm import EncodeAlgorithm
from .session_pool import forget_encodings


class DealProvider(QgsProcessingProvider):
    """Provider ``deal``: ``deal:detect`` and ``deal:encode``."""

    def id(self) -> str:
        return "deal"

    def name(self) -> str:
        return "DEAL"

    def longName(self) -> str:
        return tr("DEAL — detect any small object from point prompts")

    def icon(self) -> QIcon:
        path = icon_path()
        return QIcon(str(path)) if path.exists() else QgsProcessingProvider.icon(self)

    def supportedOutputRasterLayerExtensions(self) -> list[str]:
        # The density map is always written by GDAL's GeoTIFF driver.
        return ["tif"]

    def unload(self) -> None:
        # Frees the encoded rasters and models this provider's runs kept in memory.
        forget_encodings()

    def loadAlgorithms(self) -> None:
        self.addAlgorithm(DetectAlgorithm())
        self.addAlgorithm(EncodeAlgorithm())
