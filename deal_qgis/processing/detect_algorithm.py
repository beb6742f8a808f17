"""deal:detect — every object like the clicked ones, as polygons, counts and a density raster."""

from __future__ import annotations

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeatureSink,
    QgsField,
    QgsFields,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)
from qgis.PyQt.QtCore import QMetaType
from qgis.PyQt.QtGui import QIcon

from engine.feature_table import feature_table
from engine.results import DetectionResult
from engine.self_prompting import DEFAULT_SELF_PROMPTS
from engine.views import MAX_VIEWS

from ..plugin_paths import icon_path
from ..result_layers import detection_layer, write_density
from ..settings import bracket_texts, self_prompt_texts, views_texts
from ..translation import tr
from .feedback_bridge import FeedbackBridge, run_with_analyst_errors
from .help_text import algorithm_help
from .prompt_points import add_prompt_parameters, read_prompts
from .scene_parameters import add_engine_parameters, add_raster_parameters, scene_settings
from .session_pool import pooled_session

SCORE_THRESHOLD = "SCORE_THRESHOLD"
BRACKET = "BRACKET"
MIRROR_VIEWS = "MIRROR_VIEWS"
SELF_PROMPT = "SELF_PROMPT"
OUTPUT = "OUTPUT"
DENSITY = "DENSITY"
COUNTS = "COUNTS"
DETECTIONS = "DETECTIONS"
ENCODED_TILES = "ENCODED_TILES"
CACHED_TILES = "CACHED_TILES"

COUNT_FIELDS = (("category", QMetaType.Type.QString), ("count", QMetaType.Type.Int),
                ("estimated_count", QMetaType.Type.Double))
"""Columns of the COUNTS table: detections per category and the density map's integral."""

_DETECT_SHARE = 90.0
"""Percent of the progress bar for the engine; writing the outputs takes the rest."""


def _count_fields() -> QgsFields:
    fields = QgsFields()
    for name, kind in COUNT_FIELDS:
        fields.append(QgsField(name, kind))
    return fields


class DetectAlgorithm(QgsProcessingAlgorithm):
    """Point prompts in, detections out: one ``Session.detect`` with the pooled model and feature cache."""

    def name(self) -> str:
        return "detect"

    def displayName(self) -> str:
        return tr("Detect small objects from point prompts")

    def shortDescription(self) -> str:
        return tr("Finds every object like the clicked ones (cars, ships, aircraft...) in a raster.")

    def tags(self) -> list[str]:
        return ["deal", "detection", "count", "objects", "vehicles", "ships", "few-shot", "prompt", "density"]

    def icon(self) -> QIcon:
        return QIcon(str(icon_path()))

    def shortHelpString(self) -> str:
        return algorithm_help(tr(
            "Click one object of each kind (one point per object, with its category in an attribute) and "
            "DEAL finds all objects of those kinds across the whole raster.\n"
            "Outputs: the objects as rectangles in the raster's CRS with their category, score and size in "
            "metres; a table of counts per category; and a density raster (one band per category).\n"
            "The raster is encoded tile by tile once; later runs on the same raster with other points reuse "
            "that encoding (in this QGIS session, or across sessions with a feature cache folder)."), self)

    def createInstance(self) -> "DetectAlgorithm":
        return DetectAlgorithm()

    def initAlgorithm(self, configuration: dict | None = None) -> None:
        add_raster_parameters(self)
        add_prompt_parameters(self, purpose=tr("One point per kind is enough; more points of a kind make it "
                                               "more reliable."))
        threshold = QgsProcessingParameterNumber(SCORE_THRESHOLD, tr("Score threshold"),
                                                 Qgis.ProcessingNumberParameterType.Double, None,
                                                 optional=True, minValue=0.0, maxValue=1.0)
        threshold.setHelp(tr("Detections scoring below this (0 to 1) are dropped: raise it for fewer false "
                             "alarms, lower it to miss fewer objects. Not set: the model's own threshold."))
        self.addParameter(threshold)
        label, help_text = bracket_texts()
        bracket = QgsProcessingParameterBoolean(BRACKET, label, False, optional=True)
        bracket.setHelp(help_text)
        self.addParameter(bracket)
        label, help_text = self_prompt_texts()
        self_prompt = QgsProcessingParameterBoolean(SELF_PROMPT, label, False, optional=True)
        self_prompt.setHelp(help_text)
        self.addParameter(self_prompt)
        label, help_text = views_texts()
        mirror_views = QgsProcessingParameterBoolean(MIRROR_VIEWS, label, False, optional=True)
        mirror_views.setHelp(help_text)
        self.addParameter(mirror_views)
        add_engine_parameters(self)

        output = QgsProcessingParameterFeatureSink(OUTPUT, tr("Detected objects"),
                                                   Qgis.ProcessingSourceType.VectorPolygon)
        output.setHelp(tr("One rectangle per object in the raster's CRS, with category, score (0 to 1), "
                          "length_m, width_m and area_m2."))
        self.addParameter(output)
        density = QgsProcessingParameterRasterDestination(DENSITY, tr("Density map"), optional=True,
                                                          createByDefault=True)
        density.setHelp(tr("GeoTIFF of object density on a coarse grid: with several categories band 1 is "
                           "their sum, then one band per category."))
        self.addParameter(density)
        counts = QgsProcessingParameterFeatureSink(COUNTS, tr("Counts per category"), Qgis.ProcessingSourceType.Vector,
                                                   optional=True, createByDefault=True)
        counts.setHelp(tr("A table (no geometry): category, count (objects detected) and estimated_count "
                          "(the density map's total, an estimate independent of the threshold)."))
        self.addParameter(counts)
        self.addOutput(QgsProcessingOutputNumber(DETECTIONS, tr("Objects detected")))
        self.addOutput(QgsProcessingOutputNumber(ENCODED_TILES, tr("Tiles encoded in this run")))
        self.addOutput(QgsProcessingOutputNumber(CACHED_TILES, tr("Tile reads answered from encoded tiles")))

    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict:
        return run_with_analyst_errors(lambda: self._detect(parameters, context, feedback))

    def _detect(self, parameters: dict, context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> dict:
        settings = scene_settings(self, parameters, context)
        threshold = None if parameters.get(SCORE_THRESHOLD) is None else \
            self.parameterAsDouble(parameters, SCORE_THRESHOLD, context)
        prompts = read_prompts(self, parameters, context, settings)
        feedback.pushInfo(tr("{} prompt point(s); categories: {}.").format(
            len(prompts), ", ".join(dict.fromkeys(p.category for p in prompts))))
        bridge = FeedbackBridge(feedback, 0.0, _DETECT_SHARE)
        with pooled_session(settings) as (session, reused):
            if reused:
                feedback.pushInfo(tr("Reusing the encoded raster of an earlier run."))
            # counted on the Session: result.stats leaves out the tiles read to embed the clicks
            calls_before, hits_before = session.encoder_calls, session.cache_hits
            session.bracket = self.parameterAsBool(parameters, BRACKET, context)
            session.self_prompts = DEFAULT_SELF_PROMPTS if self.parameterAsBool(parameters, SELF_PROMPT, context) else 0
            session.views = MAX_VIEWS if self.parameterAsBool(parameters, MIRROR_VIEWS, context) else 1
            result = session.detect(prompts, score_threshold=threshold, progress=bridge.progress,
                                    cancel=bridge.cancel)
            encoded = session.encoder_calls - calls_before
            cached = session.cache_hits - hits_before
        added = result.stats.get("self_prompts")
        if added is not None:
            feedback.pushInfo(tr("Self-prompting: surest detections added to the clicks: {}.").format(
                ", ".join(f"{name} {n}" for name, n in added.items())))
        outputs = self._write_outputs(result, settings.crs, parameters, context, feedback)
        feedback.pushInfo(tr("Tiles encoded: {}; tile reads answered from encoded tiles: {}.").format(encoded, cached))
        feedback.pushInfo(tr("Objects detected: {}.").format(
            ", ".join(f"{name} {n}" for name, n in result.counts.items())))
        feedback.setProgress(100.0)
        outputs.update({DETECTIONS: len(result), ENCODED_TILES: encoded, CACHED_TILES: cached})
        return outputs

    def _write_outputs(self, result: DetectionResult, crs: QgsCoordinateReferenceSystem, parameters: dict,
                       context: QgsProcessingContext, feedback: QgsProcessingFeedback) -> dict:
        """Fill DENSITY, OUTPUT and COUNTS (those asked for); their ids by output name.

        The density GeoTIFF first: it is the output most likely to fail (disk, path), and it is
        written atomically, so a failure leaves no output at all.
        """
        feedback.pushInfo(tr("Writing outputs"))
        outputs = {}
        density_path = self.parameterAsOutputLayer(parameters, DENSITY, context)
        if density_path and result.density is not None:
            write_density(result.density, density_path)
            outputs[DENSITY] = density_path

        # The panel's layer builder, so Processing and the panel give the same attributes.
        objects = detection_layer(feature_table(result), result.georef.crs_wkt, "objects")
        sink, outputs[OUTPUT] = self.parameterAsSink(parameters, OUTPUT, context, objects.fields(),
                                                     Qgis.WkbType.Polygon, crs)
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, OUTPUT))
        sink.addFeatures(objects.getFeatures(), QgsFeatureSink.FastInsert)

        counts_sink, counts_id = self.parameterAsSink(parameters, COUNTS, context, _count_fields(),
                                                      Qgis.WkbType.NoGeometry, QgsCoordinateReferenceSystem())
        if counts_sink is not None:
            for category, count in result.counts.items():
                row = QgsFeature()
                row.setAttributes([category, count, float(result.estimated_counts.get(category, float("nan")))])
                counts_sink.addFeature(row, QgsFeatureSink.FastInsert)
            outputs[COUNTS] = counts_id
        return outputs
