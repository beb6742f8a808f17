"""Point prompts in Processing: the PROMPTS and CATEGORY_FIELD parameters, and their points
turned into scene-pixel prompts (any CRS in, scene pixels out)."""

from __future__ import annotations

import math

from qgis.core import (
    NULL,
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsCoordinateTransformContext,
    QgsCsException,
    QgsFeatureRequest,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSource,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsWkbTypes,
)

from engine.errors import NoPromptsError, PromptError, PromptOutsideRasterError
from engine.georef import GeoReference
from engine.prompts import PointPrompt

from ..categories import normalise_category
from ..translation import tr
from .scene_parameters import SceneSettings

PROMPTS = "PROMPTS"
CATEGORY_FIELD = "CATEGORY_FIELD"

_MAX_IDS_IN_MESSAGE = 5


def _id_list(feature_ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in feature_ids[:_MAX_IDS_IN_MESSAGE])
    more = len(feature_ids) - _MAX_IDS_IN_MESSAGE
    return shown + (tr(" and {} more").format(more) if more > 0 else "")


def add_prompt_parameters(algorithm: QgsProcessingAlgorithm, optional: bool = False, purpose: str = "") -> None:
    """Declare PROMPTS and CATEGORY_FIELD on ``algorithm``; ``purpose`` ends the points' help text."""
    prompts = QgsProcessingParameterFeatureSource(PROMPTS, tr("Prompt points"), [Qgis.ProcessingSourceType.VectorPoint],
                                                  optional=optional)
    prompts.setHelp(tr("Points, each on one example object, in any CRS (they are reprojected to the raster's). "
                       "{}").format(purpose))
    algorithm.addParameter(prompts)
    category = QgsProcessingParameterField(CATEGORY_FIELD, tr("Category field"), None, PROMPTS,
                                           Qgis.ProcessingFieldParameterDataType.Any, optional=optional)
    category.setHelp(tr("Attribute of the prompt points holding each point's category, e.g. 'vehicle' or "
                        "'ship'. Points with the same category form one kind of object."))
    algorithm.addParameter(category)


def read_prompts(algorithm: QgsProcessingAlgorithm, parameters: dict, context: QgsProcessingContext,
                 settings: SceneSettings) -> list[PointPrompt] | None:
    """The prompts PROMPTS and CATEGORY_FIELD give on the scene of ``settings``; None when PROMPTS is
    not set (only optional there). DealError subclasses for unusable points (see prompts_from_points)."""
    if parameters.get(PROMPTS) is None:  # Processing itself refuses a missing mandatory PROMPTS
        return None
    points = algorithm.parameterAsSource(parameters, PROMPTS, context)
    if points is None:
        raise QgsProcessingException(algorithm.invalidSourceError(parameters, PROMPTS))
    category_field = algorithm.parameterAsString(parameters, CATEGORY_FIELD, context)
    if not category_field:
        raise QgsProcessingException(tr("Choose the category field: the attribute of the prompt points that "
                                        "holds each point's category (e.g. 'vehicle')."))
    return prompts_from_points(points, category_field, settings.crs, settings.source.georef,
                               (settings.source.width, settings.source.height), context.transformContext())


def prompts_from_points(points: QgsProcessingFeatureSource, category_field: str,
                        raster_crs: QgsCoordinateReferenceSystem, georef: GeoReference,
                        size_px: tuple[int, int],
                        transform_context: QgsCoordinateTransformContext) -> list[PointPrompt]:
    """One prompt per point (every part of a multipoint), in the scene's pixel grid.

    Each point is reprojected from the layer's CRS to ``raster_crs``, then placed on the grid
    by ``georef`` (scene pixels, (0, 0) = top-left corner). ``size_px`` is (width, height).

    Raises PromptError naming the feature ids when the category field is absent or empty,
    a geometry is not a point or cannot be reprojected; PromptOutsideRasterError for points
    off the raster; NoPromptsError when the layer holds no point.
    """
    field_index = points.fields().lookupField(category_field)
    if field_index < 0:
        raise PromptError(tr("The prompt layer has no field '{}'. Choose the field that holds each point's "
                             "category (e.g. 'vehicle', 'ship').").format(category_field))
    if QgsWkbTypes.geometryType(points.wkbType()) != QgsWkbTypes.PointGeometry:
        raise PromptError(tr("The prompt layer must hold points (one click on one object each); it holds {}.")
                          .format(QgsWkbTypes.displayString(points.wkbType())))
    to_raster = QgsCoordinateTransform(points.sourceCrs(), raster_crs, transform_context)
    width, height = size_px
    prompts: list[PointPrompt] = []
    unnamed: list[int] = []
    unprojectable: list[int] = []
    outside: list[int] = []
    request = QgsFeatureRequest().setSubsetOfAttributes([field_index])
    for feature in points.getFeatures(request):
        value = feature.attribute(field_index)
        category = "" if value is None or value == NULL else normalise_category(str(value))
        if not category:
            unnamed.append(feature.id())
            continue
        geometry = feature.geometry()
        if geometry.isNull() or geometry.isEmpty():
            continue
        for vertex in geometry.vertices():
            try:
                xy_map = to_raster.transform(vertex.x(), vertex.y())
            except QgsCsException:
                unprojectable.append(feature.id())
                continue
            col_px, row_px = georef.to_pixel(xy_map.x(), xy_map.y())
            col_px, row_px = float(col_px), float(row_px)
            if not (math.isfinite(col_px) and math.isfinite(row_px)):
                unprojectable.append(feature.id())
            elif not (0 <= col_px < width and 0 <= row_px < height):
                outside.append(feature.id())
            else:
                prompts.append(PointPrompt(col_px, row_px, category))
    if unnamed:
        raise PromptError(tr("Field '{}' is empty for prompt point(s) {}. Give every point a category "
                             "(e.g. 'vehicle') or remove it.").format(category_field, _id_list(unnamed)))
    if unprojectable:
        raise PromptError(tr("Prompt point(s) {} cannot be reprojected from {} to the raster's CRS {}. "
                             "Check the prompt layer's CRS.").format(
            _id_list(unprojectable), points.sourceCrs().authid() or points.sourceCrs().description(),
            raster_crs.authid() or raster_crs.description()))
    if outside:
        raise PromptOutsideRasterError(tr("Prompt point(s) {} lie outside the raster. Move them onto the raster, "
                                          "or check the prompt layer's CRS ({}).").format(
            _id_list(outside), points.sourceCrs().authid() or points.sourceCrs().description()))
    if not prompts:
        raise NoPromptsError(tr("The prompt layer holds no points. Add at least one point on an object of "
                                "each kind to find (or uncheck 'Selected features only' if nothing is selected)."))
    return prompts
