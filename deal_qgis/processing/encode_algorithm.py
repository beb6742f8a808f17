"""deal:encode — encode a raster once, ahead of any prompt, so later detections start at once."""

from __future__ import annotations

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputFolder,
    QgsProcessingOutputNumber,
)
from qgis.PyQt.QtGui import QIcon

from ..plugin_paths import icon_path
from ..translation import tr
from .feedback_bridge import FeedbackBridge, processing_errors
from .help_text import algorithm_help
from .scene_parameters import CACHE_DIR, add_engine_parameters, add_raster_parameters, scene_settings
from .session_pool import pooled_session

ENCODED_TILES = "ENCODED_TILES"
REUSED_TILES = "REUSED_TILES"


class EncodeAlgorithm(QgsProcessingAlgorithm):
    """Runs ``Session.encode`` on a pooled Session; with CACHE_DIR the features outlive QGIS."""

    def name(self) -> str:
        return "encode"

    def displayName(self) -> str:
        return tr("Encode raster for fast detection")

    def shortDescription(self) -> str:
        return tr("Prepares a raster once so that detections with any prompt points run fast.")

    def tags(self) -> list[str]:
        return ["deal", "encode", "features", "cache", "prepare"]

    def icon(self) -> QIcon:
        return QIcon(str(icon_path()))

    def shortHelpString(self) -> str:
        return algorithm_help(tr(
            "<p>Runs the expensive part of detection (encoding the raster tile by tile) without any prompt "
            "points. Give a feature cache folder to keep the result on disk: 'Detect small objects from point "
            "prompts' with the same raster, model, tiling and cache folder then skips encoding, also in later "
            "QGIS sessions and on the command line. Without a folder the encoding is kept in memory until "
            "QGIS closes.</p>"), self)

    def createInstance(self) -> "EncodeAlgorithm":
        return EncodeAlgorithm()

    def initAlgorithm(self, configuration: dict | None = None) -> None:
        add_raster_parameters(self)
        add_engine_parameters(self)
        self.addOutput(QgsProcessingOutputNumber(ENCODED_TILES, tr("Tiles encoded in this run")))
        self.addOutput(QgsProcessingOutputNumber(REUSED_TILES, tr("Tiles reused from earlier runs")))
        self.addOutput(QgsProcessingOutputFolder(CACHE_DIR, tr("Feature cache folder")))

    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict:
        settings = scene_settings(self, parameters, context)
        bridge = FeedbackBridge(feedback)
        with processing_errors(), pooled_session(settings) as (entry, _):
            calls_before = entry.session.encoder_calls
            stats = entry.session.encode(progress=bridge.progress, cancel=bridge.cancel)
            encoded = entry.session.encoder_calls - calls_before
        reused = int(stats.get("cache_hits", 0))
        feedback.pushInfo(tr("Tiles encoded: {}; reused: {}.").format(encoded, reused))
        return {ENCODED_TILES: encoded, REUSED_TILES: reused, CACHE_DIR: settings.cache_dir}
