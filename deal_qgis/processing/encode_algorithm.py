"""deal:encode — encode a raster ahead of detection, so later detections skip the expensive step."""

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
from .feedback_bridge import FeedbackBridge, run_with_analyst_errors
from .help_text import algorithm_help
from .prompt_points import add_prompt_parameters, read_prompts
from .scene_parameters import CACHE_DIR, add_engine_parameters, add_raster_parameters, scene_settings
from .session_pool import pooled_session

ENCODED_TILES = "ENCODED_TILES"
CACHED_TILES = "CACHED_TILES"

NATIVE_SCALE = 1.0
"""Resampling factor used without prompt points: the raster's own resolution."""


class EncodeAlgorithm(QgsProcessingAlgorithm):
    """Runs ``Session.encode`` into the pooled feature cache, at the scale(s) the prompts ask for."""

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
            "Runs the expensive part of detection, encoding the raster tile by tile, without writing any "
            "result. Give a feature cache folder to keep the encoding on disk: 'Detect small objects from "
            "point prompts' with the same raster, model, tiling and folder then skips it, also in later QGIS "
            "sessions and with qgis_process. Without a folder it is kept in memory until QGIS closes.\n"
            "Detection looks at each kind of object at the resolution that brings it to the model's "
            "working size. Give a few example points to encode at the resolution of their kinds; without "
            "points the raster is encoded at its own resolution."), self)

    def createInstance(self) -> "EncodeAlgorithm":
        return EncodeAlgorithm()

    def initAlgorithm(self, configuration: dict | None = None) -> None:
        add_raster_parameters(self)
        add_prompt_parameters(self, optional=True, purpose=tr(
            "Optional: one or a few points per kind of object you will detect later. Not set: the raster is "
            "encoded at its own resolution."))
        add_engine_parameters(self)
        self.addOutput(QgsProcessingOutputNumber(ENCODED_TILES, tr("Tiles encoded in this run")))
        self.addOutput(QgsProcessingOutputNumber(CACHED_TILES, tr("Tiles found already encoded")))
        self.addOutput(QgsProcessingOutputFolder(CACHE_DIR, tr("Feature cache folder")))

    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict:
        return run_with_analyst_errors(lambda: self._encode(parameters, context, feedback))

    def _encode(self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> dict:
        settings = scene_settings(self, parameters, context)
        prompts = read_prompts(self, parameters, context, settings)
        with pooled_session(settings) as (session, _):
            calls_before, hits_before = session.encoder_calls, session.cache_hits
            scales = (sorted(set(session.exemplars(prompts, cancel=feedback.isCanceled).scales.values()))
                      if prompts else [NATIVE_SCALE])
            for i, scale in enumerate(scales):
                feedback.pushInfo(tr("Encoding at {:.3g} model pixels per raster pixel").format(scale))
                bridge = FeedbackBridge(feedback, 100.0 * i / len(scales), 100.0 * (i + 1) / len(scales))
                session.encode(scale, progress=bridge.progress, cancel=bridge.cancel)
            encoded = session.encoder_calls - calls_before
            cached = session.cache_hits - hits_before
        feedback.pushInfo(tr("Tiles encoded: {}; found already encoded: {}.").format(encoded, cached))
        return {ENCODED_TILES: encoded, CACHED_TILES: cached, CACHE_DIR: settings.cache_dir}
