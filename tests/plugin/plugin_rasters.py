"""Small real GeoTIFFs for plugin tests, written with QGIS's GDAL.

GDAL (osgeo) writes them, not rasterio: rasterio bundles its own GDAL, which must not share a
process with QGIS.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from osgeo import gdal, osr


def write_geotiff(path: Path, epsg: int, origin: tuple[float, float], pixel_size: float, image: np.ndarray,
                  nodata: float | None = None) -> Path:
    """Write ``image`` (bands, rows, cols) as a north-up GeoTIFF with top-left corner at ``origin``."""
    dtype = {np.dtype(np.uint8): gdal.GDT_Byte, np.dtype(np.uint16): gdal.GDT_UInt16,
             np.dtype(np.float32): gdal.GDT_Float32}[image.dtype]
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), image.shape[2], image.shape[1], image.shape[0], dtype)
    dataset.SetGeoTransform((origin[0], pixel_size, 0.0, origin[1], 0.0, -pixel_size))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    dataset.SetProjection(srs.ExportToWkt())
    for i, plane in enumerate(image, start=1):
        band = dataset.GetRasterBand(i)
        band.WriteArray(plane)
        if nodata is not None:
            band.SetNoDataValue(nodata)
    dataset = None
    return path


def scene_with_objects(size: int = 256, seed: int = 0) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """(3, size, size) uint8 grey ground with bright 8x4 px 'vehicles'; returns the image and their centres (col, row)."""
    rng = np.random.default_rng(seed)
    image = (90 + rng.normal(0, 6, (3, size, size))).clip(0, 255).astype(np.uint8)
    centres = []
    for row in range(24, size - 16, 40):
        for col in range(20, size - 16, 36):
            image[0, row - 2:row + 2, col - 4:col + 4] = 230
            image[1:, row - 2:row + 2, col - 4:col + 4] = 40
            centres.append((col, row))
    return image, centres
