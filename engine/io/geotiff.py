"""Density maps as GeoTIFF (rasterio, command-line side)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.errors import RasterioError

from ..errors import OutputError
from ..results import DensityMap
from .atomic import atomic_path


def write_density(density: DensityMap, path: str | os.PathLike) -> Path:
    """Write ``density.values`` ``(K, h, w)`` as a float32 GeoTIFF, atomically; returns the path.

    One band per category, each band's description its category name; georeferenced with
    ``density.georef`` (no CRS when the scene has none); no nodata value (0 is a real density);
    deflate-compressed.
    """
    path = Path(path)
    values = np.asarray(density.values, dtype=np.float32)
    if values.ndim != 3 or values.shape[0] == 0 or values.shape[0] != len(density.categories):
        raise ValueError(f"density values must be (K, h, w) with K = {len(density.categories)} categories, got {values.shape}")
    count, height, width = values.shape
    profile = {
        "driver": "GTiff", "width": width, "height": height, "count": count, "dtype": "float32",
        "transform": Affine.from_gdal(*density.georef.geotransform),
        "crs": CRS.from_wkt(density.georef.crs_wkt) if density.georef.crs_wkt else None,
        "nodata": None, "compress": "deflate", "predictor": 3,
    }
    if width >= 256 and height >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with atomic_path(path) as tmp_path:
        try:
            with rasterio.open(tmp_path, "w", **profile) as dst:
                dst.write(values)
                for band, name in enumerate(density.categories, start=1):
                    dst.set_band_description(band, str(name))
        except RasterioError as exc:
            raise OutputError(f"Could not write the density map {path}: {exc}") from None
    return path
