"""The engine's RasterSource over a QGIS raster layer, read through the GDAL that ships with QGIS.

What the source needs from the layer (file, CRS, size) is captured when it is built, on the
main thread; ``read`` then only touches GDAL, so the engine can call it from a QgsTask's worker
thread. Each thread opens its own GDAL dataset: datasets are not thread-safe. Band statistics
(a read of the whole scene) wait for the first ``read``, so they are taken in the worker too.
"""

from __future__ import annotations

import hashlib
import os
import threading
from typing import Sequence

import numpy as np
from osgeo import gdal
from qgis.core import Qgis, QgsCoordinateReferenceSystem, QgsProviderRegistry, QgsRasterLayer, QgsUnitTypes

from engine.errors import InvalidRasterError
from engine.georef import GeoReference
from engine.raster_source import Window

from .translation import tr

_LOW_PERCENTILE, _HIGH_PERCENTILE = 2.0, 98.0
# Longest side of the overview read once to estimate band percentiles: enough pixels for stable
# statistics, small enough to be instant on a 100k x 100k scene.
_STATS_SIDE = 1024


def layer_path(layer: QgsRasterLayer) -> str:
    """The GDAL dataset name behind ``layer``; InvalidRasterError for non-GDAL layers (WMS, XYZ...)."""
    if not layer.isValid():
        raise InvalidRasterError(tr("The layer '{0}' is not valid: its file cannot be read. Check that the file still exists.").format(layer.name()))
    if layer.providerType() != "gdal":
        raise InvalidRasterError(tr("The layer '{0}' is a web or database layer; DEAL reads raster files. "
                                    "Save it as a GeoTIFF (right-click > Export > Save As) and use that layer.").format(layer.name()))
    parts = QgsProviderRegistry.instance().decodeUri("gdal", layer.source())
    return str(parts.get("path") or layer.source())


def _open(path: str) -> gdal.Dataset:
    dataset = gdal.Open(path, gdal.GA_ReadOnly)
    if dataset is None:
        raise InvalidRasterError(tr("GDAL cannot open '{0}': {1}. Check that the file exists and is not truncated.").format(path, gdal.GetLastErrorMsg()))
    return dataset


def crs_georeference(crs: QgsCoordinateReferenceSystem, geotransform: Sequence[float]) -> GeoReference:
    """GeoReference of a grid with GDAL ``geotransform`` in ``crs`` (an invalid crs means none)."""
    if not crs.isValid():
        return GeoReference(tuple(float(v) for v in geotransform), None, False, 1.0)
    metres = 1.0
    if not crs.isGeographic():
        metres = QgsUnitTypes.fromUnitToUnitFactor(crs.mapUnits(), Qgis.DistanceUnit.Meters)
    return GeoReference(tuple(float(v) for v in geotransform),
                        crs.toWkt(Qgis.CrsWktVariant.PreferredGdal), crs.isGeographic(), float(metres))


def layer_georeference(layer: QgsRasterLayer) -> GeoReference:
    """The layer's pixel grid in the layer's CRS (the CRS set in QGIS wins over the file's).

    GDAL layers use the file's geotransform (exact, rotation included); other layers one
    derived from their extent and size.
    """
    if layer.providerType() == "gdal":
        geotransform = _open(layer_path(layer)).GetGeoTransform()
    else:
        extent = layer.extent()
        geotransform = (extent.xMinimum(), layer.rasterUnitsPerPixelX(), 0.0,
                        extent.yMaximum(), 0.0, -layer.rasterUnitsPerPixelY())
    return crs_georeference(layer.crs(), geotransform)


def default_bands(dataset: gdal.Dataset) -> list[int]:
    """Band numbers (1-based) read as R, G, B: by colour interpretation, else the first three
    non-alpha bands, a single band repeated for grey scenes."""
    interp = {dataset.GetRasterBand(i).GetColorInterpretation(): i for i in range(dataset.RasterCount, 0, -1)}
    rgb = [interp.get(gdal.GCI_RedBand), interp.get(gdal.GCI_GreenBand), interp.get(gdal.GCI_BlueBand)]
    if all(rgb):
        return rgb
    colour = [i for i in range(1, dataset.RasterCount + 1)
              if dataset.GetRasterBand(i).GetColorInterpretation() != gdal.GCI_AlphaBand]
    if not colour:
        raise InvalidRasterError(tr("The raster has no colour band (only alpha)."))
    return colour[:3] if len(colour) >= 3 else [colour[0]] * 3


class QgsLayerSource:
    """A QgsRasterLayer as an engine RasterSource: float32 (3, h, w) in [0, 1] plus a valid mask.

    Byte bands are divided by 255; other types are stretched between their 2nd and 98th
    percentiles (estimated once from a decimated read of the whole scene). Pixels flagged by
    GDAL's mask (nodata value, alpha band, mask file) are invalid.
    """

    def __init__(self, layer: QgsRasterLayer, bands: Sequence[int] | None = None):
        self.path = layer_path(layer)
        dataset = _open(self.path)
        self.width, self.height = dataset.RasterXSize, dataset.RasterYSize
        if self.width == 0 or self.height == 0:
            raise InvalidRasterError(tr("The raster '{0}' is empty (0 pixels).").format(layer.name()))
        self.bands = list(bands) if bands else default_bands(dataset)
        for b in self.bands:
            if not 1 <= b <= dataset.RasterCount:
                raise InvalidRasterError(tr("Band {0} does not exist: the raster has {1} bands.").format(b, dataset.RasterCount))
        self.georef = crs_georeference(layer.crs(), dataset.GetGeoTransform())
        self._local = threading.local()
        self._local.dataset = dataset
        self._ranges: dict[int, tuple[float, float]] | None = None
        self._ranges_lock = threading.Lock()
        self.fingerprint = self._fingerprint()

    def _dataset(self) -> gdal.Dataset:
        dataset = getattr(self._local, "dataset", None)
        if dataset is None:
            dataset = self._local.dataset = _open(self.path)
        return dataset

    def _band_range(self, dataset: gdal.Dataset, band_no: int) -> tuple[float, float]:
        """(low, high) values mapped to 0 and 1."""
        band = dataset.GetRasterBand(band_no)
        if band.DataType == gdal.GDT_Byte:
            return 0.0, 255.0
        factor = max(self.width, self.height) / _STATS_SIDE
        bw, bh = (max(1, int(self.width / factor)), max(1, int(self.height / factor))) if factor > 1 else (self.width, self.height)
        values = band.ReadAsArray(0, 0, self.width, self.height, buf_xsize=bw, buf_ysize=bh).astype(np.float64)
        mask = band.GetMaskBand().ReadAsArray(0, 0, self.width, self.height, buf_xsize=bw, buf_ysize=bh) > 0
        values = values[mask & np.isfinite(values)]
        if values.size == 0:
            raise InvalidRasterError(tr("Band {0} of '{1}' holds only nodata.").format(band_no, self.path))
        low, high = np.percentile(values, [_LOW_PERCENTILE, _HIGH_PERCENTILE])
        return float(low), float(high if high > low else low + 1.0)

    def band_ranges(self) -> dict[int, tuple[float, float]]:
        """(low, high) per band number, computed once, on first use."""
        with self._ranges_lock:
            if self._ranges is None:
                self._ranges = {b: self._band_range(self._dataset(), b) for b in set(self.bands)}
            return self._ranges

    def _fingerprint(self) -> str:
        """Identifies the pixels the engine sees: the file's identity and the band choice (the
        normalisation is a function of both)."""
        stat = os.stat(self.path) if os.path.exists(self.path) else None
        key = repr((os.path.abspath(self.path), stat and (stat.st_size, stat.st_mtime_ns), self.width, self.height,
                    self.bands, self.georef.geotransform, self.georef.crs_wkt))
        return hashlib.sha1(key.encode()).hexdigest()[:16]

    def read(self, window: Window, out_shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(image (3, h, w) float32 in [0, 1], valid (h, w) bool) for ``window``, resampled to
        ``out_shape`` by GDAL (averaging when shrinking); outside the raster is 0 and invalid."""
        out_h, out_w = out_shape or (window.height, window.width)
        image = np.zeros((3, out_h, out_w), np.float32)
        valid = np.zeros((out_h, out_w), bool)
        c0, r0 = max(window.col_off, 0), max(window.row_off, 0)
        c1, r1 = min(window.col_end, self.width), min(window.row_end, self.height)
        if c1 <= c0 or r1 <= r0:
            return image, valid
        sx, sy = out_w / window.width, out_h / window.height
        oc0, oc1 = round((c0 - window.col_off) * sx), round((c1 - window.col_off) * sx)
        or0, or1 = round((r0 - window.row_off) * sy), round((r1 - window.row_off) * sy)
        if oc1 <= oc0 or or1 <= or0:
            return image, valid
        alg = gdal.GRIORA_Average if sx < 1 or sy < 1 else gdal.GRIORA_Bilinear
        ranges = self.band_ranges()
        dataset = self._dataset()
        region = dict(xoff=c0, yoff=r0, win_xsize=c1 - c0, win_ysize=r1 - r0, buf_xsize=oc1 - oc0, buf_ysize=or1 - or0)
        inside = np.ones((or1 - or0, oc1 - oc0), bool)
        planes: dict[int, np.ndarray] = {}
        for i, band_no in enumerate(self.bands):
            if band_no not in planes:
                band = dataset.GetRasterBand(band_no)
                values = band.ReadAsArray(resample_alg=alg, **region)
                if values is None:
                    raise InvalidRasterError(tr("Reading '{0}' failed: {1}. The file may be truncated.").format(self.path, gdal.GetLastErrorMsg()))
                low, high = ranges[band_no]
                planes[band_no] = np.clip((values.astype(np.float32) - low) / (high - low), 0.0, 1.0)
                if band.GetMaskFlags() != gdal.GMF_ALL_VALID:
                    inside &= band.GetMaskBand().ReadAsArray(resample_alg=gdal.GRIORA_NearestNeighbour, **region) > 0
                inside &= np.isfinite(values)
            image[i, or0:or1, oc0:oc1] = planes[band_no]
        image[:, or0:or1, oc0:oc1] *= inside
        valid[or0:or1, oc0:oc1] = inside
        return np.nan_to_num(image, copy=False), valid
