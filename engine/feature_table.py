"""Detections as a table of map polygons and attributes, ready for any vector writer.

Pure numpy (no pyproj, rasterio or QGIS): the command-line writers and the QGIS plugin both
build their layers from this table, so both report the same geometry and sizes.
"""

from __future__ import annotations

import numpy as np

from .results import DetectionResult

COLUMNS = ("category", "score", "cx", "cy", "length_m", "width_m", "area_m2")
"""Attribute names of a detection layer (each <= 10 characters, so Shapefiles keep them)."""


def feature_table(result: DetectionResult) -> dict[str, np.ndarray]:
    """Polygons and attributes of every detection, in the raster's CRS.

    Returns a dict of arrays, N = number of detections:
        rings_map: float64 ``(N, 5, 2)`` closed rings (x, y) of each box's 4 corners in map
            coordinates, exterior counter-clockwise (OGC simple features order).
        category: ``(N,)`` str; score: float64 ``(N,)``.
        cx_map, cy_map: float64 ``(N,)`` box centre in map coordinates.
        length_m, width_m: float64 ``(N,)`` longer and shorter box side in metres (geodesic
            for geographic CRSs); NaN when the raster has no CRS (sizes unknown).
        area_m2: float64 ``(N,)`` length_m * width_m.
    """
    georef = result.georef
    boxes = np.asarray(result.boxes_px, dtype=np.float64).reshape(-1, 4)
    c0, r0, c1, r1 = boxes.T
    cols = np.stack([c0, c1, c1, c0, c0], axis=1)
    rows = np.stack([r0, r0, r1, r1, r0], axis=1)
    x, y = georef.to_map(cols, rows)
    rings = np.stack([np.asarray(x, np.float64), np.asarray(y, np.float64)], axis=-1).reshape(-1, 5, 2)
    # Shoelace: the pixel order above is clockwise or not depending on the sign of the
    # geotransform's row step, so orient each ring explicitly.
    signed_area = 0.5 * np.sum(rings[:, :-1, 0] * rings[:, 1:, 1] - rings[:, 1:, 0] * rings[:, :-1, 1], axis=1)
    rings[signed_area < 0] = rings[signed_area < 0, ::-1]

    cx_px, cy_px = (c0 + c1) / 2, (r0 + r1) / 2
    cx_map, cy_map = georef.to_map(cx_px, cy_px)
    if georef.has_crs:
        col_step_m, row_step_m = georef.metres_per_pixel(cx_px, cy_px)
        side_a = (c1 - c0) * col_step_m
        side_b = (r1 - r0) * row_step_m
        length_m, width_m = np.maximum(side_a, side_b), np.minimum(side_a, side_b)
    else:
        length_m = width_m = np.full(len(boxes), np.nan)
    return {
        "rings_map": rings,
        "category": np.asarray(result.categories, dtype=str).reshape(-1),
        "score": np.asarray(result.scores, dtype=np.float64).reshape(-1),
        "cx_map": np.asarray(cx_map, dtype=np.float64).reshape(-1),
        "cy_map": np.asarray(cy_map, dtype=np.float64).reshape(-1),
        "length_m": np.asarray(length_m, dtype=np.float64),
        "width_m": np.asarray(width_m, dtype=np.float64),
        "area_m2": np.asarray(length_m * width_m, dtype=np.float64),
    }
