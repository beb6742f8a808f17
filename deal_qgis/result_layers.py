"""A detection run as QGIS layers: styled detection polygons and a density heatmap.

The density GeoTIFF is written with the GDAL that ships with QGIS (never rasterio inside QGIS:
it brings its own GDAL). Layers carry the counts per category in their metadata.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from osgeo import gdal, osr
from qgis.core import (
    Qgis,
    QgsCategorizedSymbolRenderer,
    QgsColorRampShader,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsFillSymbol,
    QgsGeometry,
    QgsLayerMetadata,
    QgsMapLayer,
    QgsPointXY,
    QgsRasterLayer,
    QgsRasterShader,
    QgsRendererCategory,
    QgsSingleBandPseudoColorRenderer,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QMetaType, QVariant
from qgis.PyQt.QtGui import QColor

from engine.errors import OutputError
from engine.io.atomic import atomic_path
from engine.results import DensityMap

from .translation import tr

COUNTS_PROPERTY = "deal/counts"
_MIN_CELLS_FOR_PERCENTILE = 200
# Same attribute names as the command line's files (engine.feature_table.COLUMNS), with the
# feature table's key for each.
FIELDS = (("category", "category", str), ("score", "score", float), ("cx", "cx_map", float), ("cy", "cy_map", float),
          ("length_m", "length_m", float), ("width_m", "width_m", float), ("area_m2", "area_m2", float))


def _field(name: str, kind: type) -> QgsField:
    """A field of Python type ``kind`` (QMetaType types from QGIS 3.38 on, QVariant before)."""
    if Qgis.versionInt() >= 33800:
        return QgsField(name, QMetaType.QString if kind is str else QMetaType.Double)
    return QgsField(name, QVariant.String if kind is str else QVariant.Double)


def layer_crs(crs_wkt: str | None) -> QgsCoordinateReferenceSystem:
    return QgsCoordinateReferenceSystem.fromWkt(crs_wkt) if crs_wkt else QgsCoordinateReferenceSystem()


def detection_layer(table: dict, crs_wkt: str | None, name: str) -> QgsVectorLayer:
    """Memory polygon layer from ``engine.feature_table.feature_table(result)``: one feature per
    detection, rings (N, 5, 2) in the raster CRS, attributes as in FIELDS (cx, cy: box centre
    in the raster CRS)."""
    layer = QgsVectorLayer("Polygon", name, "memory")
    layer.setCrs(layer_crs(crs_wkt))
    provider = layer.dataProvider()
    provider.addAttributes([_field(name, kind) for name, _, kind in FIELDS])
    layer.updateFields()
    features = []
    for i, ring in enumerate(np.asarray(table["rings_map"], dtype=np.float64)):
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromPolygonXY([[QgsPointXY(float(x), float(y)) for x, y in ring]]))
        numbers = [float(table[key][i]) for _, key, _ in FIELDS[1:]]
        # sizes are NaN for rasters without CRS: NULL in the attribute table
        feature.setAttributes([str(table["category"][i])] + [None if np.isnan(v) else v for v in numbers])
        features.append(feature)
    provider.addFeatures(features)
    layer.updateExtents()
    return layer


def style_detections(layer: QgsVectorLayer, colours: dict[str, QColor]) -> None:
    """Categorised renderer on ``category``: outline in the category colour over a light fill."""
    categories = []
    for category, colour in colours.items():
        fill = QColor(colour)
        fill.setAlpha(60)
        symbol = QgsFillSymbol.createSimple({"color": fill.name(QColor.HexArgb), "outline_color": colour.name(),
                                             "outline_width": "0.5", "outline_width_unit": "MM"})
        categories.append(QgsRendererCategory(category, symbol, category))
    layer.setRenderer(QgsCategorizedSymbolRenderer("category", categories))
    layer.triggerRepaint()


def store_counts(layer: QgsMapLayer, counts: dict[str, int], stats: dict | None = None) -> None:
    """Counts per category in the layer's metadata (abstract and keywords) and a custom property."""
    summary = ", ".join(f"{category}: {n}" for category, n in counts.items())
    metadata = QgsLayerMetadata(layer.metadata())
    metadata.setTitle(layer.name())
    metadata.setAbstract(tr("Objects detected by DEAL per category: {0}").format(summary))
    metadata.addKeywords("DEAL counts", [f"{category}={n}" for category, n in counts.items()])
    layer.setMetadata(metadata)
    layer.setCustomProperty(COUNTS_PROPERTY, json.dumps(counts))
    if stats:
        layer.setCustomProperty("deal/stats", json.dumps({k: v for k, v in stats.items() if isinstance(v, (int, float, str))}))


def stored_counts(layer: QgsMapLayer) -> dict[str, int]:
    return json.loads(layer.customProperty(COUNTS_PROPERTY, "{}"))


def write_density(density: DensityMap, path: str | Path) -> Path:
    """GeoTIFF of the density map: band 1 all categories summed, then one band per category.

    Float32, deflate-compressed, in the raster's CRS; written atomically.
    """
    values = np.asarray(density.values, dtype=np.float32)
    bands = np.concatenate([values.sum(axis=0, keepdims=True), values]) if values.shape[0] > 1 else values
    names = ([tr("all categories")] if values.shape[0] > 1 else []) + list(density.categories)
    path = Path(path)
    with atomic_path(path) as tmp_path:
        gdal.ErrorReset()
        driver = gdal.GetDriverByName("GTiff")
        dataset = driver.Create(str(tmp_path), bands.shape[2], bands.shape[1], bands.shape[0], gdal.GDT_Float32,
                                options=["COMPRESS=DEFLATE", "TILED=YES"])
        if dataset is None:
            raise OutputError(tr("Cannot create '{0}': {1}").format(path, gdal.GetLastErrorMsg()))
        dataset.SetGeoTransform(density.georef.geotransform)
        if density.georef.crs_wkt:
            srs = osr.SpatialReference()
            srs.ImportFromWkt(density.georef.crs_wkt)
            dataset.SetProjection(srs.ExportToWkt())
        for i, (plane, name) in enumerate(zip(bands, names), start=1):
            band = dataset.GetRasterBand(i)
            band.WriteArray(plane)
            band.SetDescription(name)
        dataset.FlushCache()
        failed = gdal.GetLastErrorType() >= gdal.CE_Failure
        dataset = None
        if failed:
            raise OutputError(tr("Writing '{0}' failed: {1}").format(path, gdal.GetLastErrorMsg()))
    return path


def heat_range(values: np.ndarray) -> tuple[float, float]:
    """(transparent-below, hottest) levels of a density band.

    The bottom is the band's median: 0 for sparse densities, so only empty ground is hidden. The
    top is the 99.5th percentile of the cells above it, so one outlier cell does not wash out the
    rest; with few such cells (a handful of objects), their maximum.
    """
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    low = max(0.0, float(np.median(values)))
    above = values[values > low]
    if above.size == 0:
        return low, low + 1.0
    high = float(np.percentile(above, 99.5)) if above.size >= _MIN_CELLS_FOR_PERCENTILE else float(above.max())
    return low, high


def density_layer(path: str | Path, name: str) -> QgsRasterLayer:
    """The density GeoTIFF as a layer with a transparent-to-hot pseudocolour ramp on band 1
    (0, and anything up to the band's median, is transparent)."""
    layer = QgsRasterLayer(str(path), name, "gdal")
    if not layer.isValid():
        raise OutputError(tr("The density raster '{0}' cannot be opened.").format(path))
    dataset = gdal.Open(str(path))  # kept in a variable: a band outliving its dataset crashes GDAL
    low, top = heat_range(dataset.GetRasterBand(1).ReadAsArray())
    dataset = None
    step = (top - low) / 4
    ramp = QgsColorRampShader(low, top, None, QgsColorRampShader.Interpolated)
    ramp.setColorRampItemList([
        QgsColorRampShader.ColorRampItem(low, QColor(255, 255, 178, 0), f"{low:.3g}"),
        QgsColorRampShader.ColorRampItem(low + step, QColor(254, 204, 92, 140), ""),
        QgsColorRampShader.ColorRampItem(low + 2 * step, QColor(253, 141, 60, 190), ""),
        QgsColorRampShader.ColorRampItem(low + 3 * step, QColor(240, 59, 32, 220), ""),
        QgsColorRampShader.ColorRampItem(top, QColor(189, 0, 38, 240), f"{top:.3g}"),
    ])
    shader = QgsRasterShader()
    shader.setRasterShaderFunction(ramp)
    renderer = QgsSingleBandPseudoColorRenderer(layer.dataProvider(), 1, shader)
    renderer.setClassificationMin(low)
    renderer.setClassificationMax(top)
    layer.setRenderer(renderer)
    layer.setOpacity(0.75)  # the imagery stays readable under the hottest cells
    return layer
