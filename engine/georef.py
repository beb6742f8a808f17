"""Georeference of a raster grid: pixel <-> map coordinates, CRS facts, pixel size in metres.

Pure Python/numpy: both the rasterio adapter (command line) and the QGIS adapter
(plugin) build a :class:`GeoReference`, so the engine never needs either library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# WGS84 ellipsoid
_WGS84_A = 6378137.0
_WGS84_F = 1 / 298.257223563
_WGS84_E2 = _WGS84_F * (2 - _WGS84_F)


@dataclass(frozen=True)
class GeoReference:
    """Where a raster grid lies on the map.

    Attributes:
        geotransform: GDAL order ``(x0, px_w, row_rot, y0, col_rot, px_h)``; map x =
            x0 + col*px_w + row*row_rot, map y = y0 + col*col_rot + row*px_h, with
            (col, row) = (0, 0) the top-left corner of the top-left pixel.
        crs_wkt: WKT of the CRS, or None when the raster has no CRS.
        is_geographic: True when map units are degrees (longitude, latitude).
        metres_per_unit: length of one map unit in metres for projected CRSs (1.0 for metres,
            0.3048 for feet); ignored when geographic.
    """

    geotransform: tuple[float, float, float, float, float, float]
    crs_wkt: str | None = None
    is_geographic: bool = False
    metres_per_unit: float = 1.0

    @staticmethod
    def identity() -> "GeoReference":
        """Pixel space as map space (for rasters without georeference)."""
        return GeoReference((0.0, 1.0, 0.0, 0.0, 0.0, 1.0), None, False, 1.0)

    @property
    def has_crs(self) -> bool:
        return bool(self.crs_wkt)

    def to_map(self, col_px: np.ndarray | float, row_px: np.ndarray | float):
        """Pixel (col, row) -> map (x, y)."""
        x0, a, b, y0, d, e = self.geotransform
        return x0 + np.asarray(col_px) * a + np.asarray(row_px) * b, y0 + np.asarray(col_px) * d + np.asarray(row_px) * e

    def to_pixel(self, x_map: np.ndarray | float, y_map: np.ndarray | float):
        """Map (x, y) -> pixel (col, row) as floats."""
        x0, a, b, y0, d, e = self.geotransform
        det = a * e - b * d
        if det == 0:
            raise ValueError("geotransform is not invertible")
        dx = np.asarray(x_map) - x0
        dy = np.asarray(y_map) - y0
        return (e * dx - b * dy) / det, (-d * dx + a * dy) / det

    def scaled(self, factor: float) -> "GeoReference":
        """The georeference of the same extent sampled with pixels ``factor`` times larger."""
        x0, a, b, y0, d, e = self.geotransform
        return GeoReference((x0, a * factor, b * factor, y0, d * factor, e * factor),
                            self.crs_wkt, self.is_geographic, self.metres_per_unit)

    def shifted(self, col_off: float, row_off: float) -> "GeoReference":
        """The georeference of a window whose top-left pixel is (col_off, row_off)."""
        x, y = self.to_map(col_off, row_off)
        x0, a, b, y0, d, e = self.geotransform
        return GeoReference((float(x), a, b, float(y), d, e), self.crs_wkt, self.is_geographic, self.metres_per_unit)

    def metres_per_pixel(self, col_px: np.ndarray, row_px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Ground size in metres of one pixel step along columns and rows at the given pixels.

        Geographic CRSs use the WGS84 radii of curvature at each point's latitude, so sizes
        are geodesic to well under 0.1% for objects of a few hundred metres.
        """
        x0, a, b, y0, d, e = self.geotransform
        col_px = np.asarray(col_px, dtype=np.float64)
        if not self.is_geographic:
            col_step = math.hypot(a, d) * self.metres_per_unit
            row_step = math.hypot(b, e) * self.metres_per_unit
            return np.full_like(col_px, col_step), np.full_like(col_px, row_step)
        _, lat = self.to_map(col_px, row_px)
        phi = np.radians(np.clip(lat, -89.9999, 89.9999))
        s2 = np.sin(phi) ** 2
        n_radius = _WGS84_A / np.sqrt(1 - _WGS84_E2 * s2)
        m_radius = _WGS84_A * (1 - _WGS84_E2) / (1 - _WGS84_E2 * s2) ** 1.5
        m_per_deg_lon = np.radians(1.0) * n_radius * np.cos(phi)
        m_per_deg_lat = np.radians(1.0) * m_radius
        col_step = np.hypot(a * m_per_deg_lon, d * m_per_deg_lat)
        row_step = np.hypot(b * m_per_deg_lon, e * m_per_deg_lat)
        return col_step, row_step
