"""The parameters every DEAL algorithm shares (scene, bands, tiling, device, model, feature cache)
and the settings read from them."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from qgis.core import (
    Qgis,
    QgsCoordinateReferenceSystem,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from engine.feature_cache import FeatureCache
from engine.runtime import default_model_path

from ..layer_source import QgsLayerSource
from ..settings import DEVICES
from ..translation import tr
from .feature_store import FeatureStore

INPUT = "INPUT"
BANDS = "BANDS"
TILE_SIZE = "TILE_SIZE"
OVERLAP = "OVERLAP"
DEVICE = "DEVICE"
MODEL = "MODEL"
CACHE_DIR = "CACHE_DIR"


@dataclass(frozen=True)
class SceneSettings:
    """What the shared parameters ask for, checked and resolved.

    Attributes:
        source: the raster as an engine RasterSource (scene pixels, bands chosen).
        crs: the raster's CRS (always valid: rasters without one are refused).
        model_dir: folder holding encoder.onnx and prompt_head.onnx.
        device: 'auto', 'cpu' or 'cuda'.
        tile_size, overlap: tiling in model pixels; None means the model's own.
        cache_dir: folder keeping encoded features across runs, or None.
    """

    source: QgsLayerSource
    crs: QgsCoordinateReferenceSystem
    model_dir: str
    device: str
    tile_size: int | None
    overlap: int | None
    cache_dir: str | None

    def session_key(self) -> tuple:
        """Runs with equal keys can share encoded features (the fingerprint covers file, mtime, bands)."""
        return (self.source.fingerprint, os.path.realpath(self.model_dir), self.device, self.tile_size,
                self.overlap, self.cache_dir and os.path.realpath(self.cache_dir))

    def feature_cache(self) -> FeatureCache:
        """A new cache for encoded tiles: backed by ``cache_dir`` when set, else memory (spilling to a temp folder)."""
        return FeatureStore(self.cache_dir) if self.cache_dir else FeatureCache()


def _with_help(parameter: QgsProcessingParameterDefinition, help_text: str,
               advanced: bool = False) -> QgsProcessingParameterDefinition:
    parameter.setHelp(help_text)
    if advanced:
        parameter.setFlags(parameter.flags() | Qgis.ProcessingParameterFlag.Advanced)
    return parameter


def add_raster_parameters(algorithm: QgsProcessingAlgorithm) -> None:
    """Declare INPUT and BANDS on ``algorithm``."""
    algorithm.addParameter(_with_help(
        QgsProcessingParameterRasterLayer(INPUT, tr("Raster (georeferenced image)")),
        tr("The image to search: a raster file with a CRS (GeoTIFF, JPEG2000, VRT...). Any size: it is read "
           "tile by tile.")))
    # A string, not a band chooser: the order matters (3,2,1 for a BGR image) and a chooser has none.
    algorithm.addParameter(_with_help(
        QgsProcessingParameterString(BANDS, tr("Bands read as red, green, blue"), optional=True),
        tr("Three band numbers in red, green, blue order, e.g. 1,2,3 or 3,2,1; or one band number for a grey "
           "image. Not set: the bands marked red, green and blue, else the first three."), advanced=True))


def add_engine_parameters(algorithm: QgsProcessingAlgorithm) -> None:
    """Declare TILE_SIZE, OVERLAP, DEVICE, MODEL and CACHE_DIR on ``algorithm``."""
    algorithm.addParameter(_with_help(
        QgsProcessingParameterNumber(TILE_SIZE, tr("Tile size (pixels)"), Qgis.ProcessingNumberParameterType.Integer,
                                     None, optional=True, minValue=192, maxValue=4096),
        tr("Side of the square tiles the model sees, in model pixels: a multiple of 32, at least 192. "
           "Not set: the model's own tile size."), advanced=True))
    algorithm.addParameter(_with_help(
        QgsProcessingParameterNumber(OVERLAP, tr("Tile overlap (pixels)"), Qgis.ProcessingNumberParameterType.Integer,
                                     None, optional=True, minValue=0, maxValue=2048),
        tr("How far neighbouring tiles overlap, in model pixels, so objects on a tile edge are seen whole. "
           "Less than half the tile size. Not set: the model's own overlap."), advanced=True))
    algorithm.addParameter(_with_help(
        # Static strings, so the command line and saved models say DEVICE=cpu rather than an index.
        QgsProcessingParameterEnum(DEVICE, tr("Compute device"), list(DEVICES), defaultValue=DEVICES[0],
                                   usesStaticStrings=True),
        tr("auto: the GPU (CUDA) when onnxruntime can use one, else the CPU. cuda fails with a clear "
           "message when no GPU is available."), advanced=True))
    algorithm.addParameter(_with_help(
        QgsProcessingParameterFile(MODEL, tr("Model folder"), Qgis.ProcessingFileParameterBehavior.Folder,
                                   defaultValue=str(default_model_path())),
        tr("Folder holding the DEAL model (encoder.onnx and prompt_head.onnx). Default: the model that "
           "ships with the plugin."), advanced=True))
    algorithm.addParameter(_with_help(
        QgsProcessingParameterFile(CACHE_DIR, tr("Feature cache folder"), Qgis.ProcessingFileParameterBehavior.Folder,
                                   optional=True),
        tr("Folder where the encoded raster is kept. Later runs on the same raster with the same model and "
           "tiling reuse it instead of encoding again (see 'Encode raster for fast detection'). Not set: "
           "encodings are kept in memory for this QGIS session only.")))


def scene_settings(algorithm: QgsProcessingAlgorithm, parameters: dict,
                   context: QgsProcessingContext) -> SceneSettings:
    """Read and check the shared parameters; QgsProcessingException or the engine's DealError
    (InvalidRasterError for unreadable rasters or bands) with an analyst's message when wrong."""
    layer = algorithm.parameterAsRasterLayer(parameters, INPUT, context)
    if layer is None:
        raise QgsProcessingException(tr("The raster layer cannot be loaded. Check that the file exists."))
    if not layer.crs().isValid():
        raise QgsProcessingException(tr("The raster '{}' has no CRS, so the prompt points cannot be placed on it "
                                        "and sizes in metres are unknown. Assign its CRS first (Layer Properties "
                                        "> Source, or Raster > Projections > Assign Projection).").format(layer.name()))
    model_dir = algorithm.parameterAsFile(parameters, MODEL, context) or str(default_model_path())
    tile_size = _optional_int(algorithm, parameters, TILE_SIZE, context)
    overlap = _optional_int(algorithm, parameters, OVERLAP, context)
    cache_dir = algorithm.parameterAsFile(parameters, CACHE_DIR, context) or None
    if cache_dir is not None:
        try:
            os.makedirs(cache_dir, exist_ok=True)
        except OSError as error:
            raise QgsProcessingException(tr("The feature cache folder {} cannot be created ({}). Choose a folder "
                                            "you can write to.").format(cache_dir, error.strerror)) from None
    bands = _bands(algorithm.parameterAsString(parameters, BANDS, context))
    source = QgsLayerSource(layer, bands)
    return SceneSettings(source, layer.crs(), model_dir,
                         algorithm.parameterAsEnumString(parameters, DEVICE, context),
                         tile_size, overlap, cache_dir)


def _bands(text: str) -> list[int] | None:
    """Band numbers from '1,2,3' (also '1 2 3' or '1;2;3'); one band is read as grey. None when empty."""
    parts = re.split(r"[\s,;]+", (text or "").strip())
    if parts == [""]:
        return None
    if not all(part.isdigit() and int(part) >= 1 for part in parts) or len(parts) not in (1, 3):
        raise QgsProcessingException(tr("Bands '{}' cannot be used: give three band numbers for red, green and "
                                        "blue (e.g. 1,2,3 or 3,2,1) or one band number for a grey image.").format(text))
    bands = [int(part) for part in parts]
    return bands * 3 if len(bands) == 1 else bands


def _optional_int(algorithm: QgsProcessingAlgorithm, parameters: dict, name: str,
                  context: QgsProcessingContext) -> int | None:
    if parameters.get(name) is None:
        return None
    return algorithm.parameterAsInt(parameters, name, context)
