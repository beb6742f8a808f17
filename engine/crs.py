"""Coordinate reference systems on the command-line side: parse CRS text, turn map points into pixel prompts.

Uses pyproj, so only the command line and file readers import this module (the QGIS plugin
reprojects with QGIS's own API).
"""

from __future__ import annotations

import logging
import math
import re
from typing import Sequence

import numpy as np
import pyproj
from pyproj.exceptions import CRSError

from .errors import MissingGeoreferenceError, PromptError, PromptOutsideRasterError, UnknownCRSError
from .georef import GeoReference
from .prompts import PointPrompt

log = logging.getLogger(__name__)

PIXEL = "pixel"
"""The pseudo-CRS name of pixel (col, row) coordinates in ``X,Y@pixel:category``."""

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_POINT_ARG = re.compile(rf"^\s*(?P<x>{_NUMBER})\s*,\s*(?P<y>{_NUMBER})\s*(?:@(?P<crs>.+))?$")


def parse_crs(text: str) -> pyproj.CRS:
    """A CRS from 'EPSG:4326', '4326', WKT or a PROJ string; UnknownCRSError naming ``text`` otherwise."""
    spec = text.strip()
    if spec.isdigit():
        spec = f"EPSG:{spec}"
    try:
        return pyproj.CRS.from_user_input(spec)
    except CRSError:
        raise UnknownCRSError(f"Unknown CRS '{text}'. Give an EPSG code (EPSG:4326 or 4326), "
                              f"a WKT definition or a PROJ string (+proj=utm +zone=33 +datum=WGS84).") from None


def reproject_xy(x: np.ndarray, y: np.ndarray, src: pyproj.CRS | str, dst: pyproj.CRS | str) -> tuple[np.ndarray, np.ndarray]:
    """Arrays of x, y (any shape, x = easting/longitude first) from ``src`` to ``dst``."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    if x.size == 1:  # pyproj takes size-1 arrays for scalars and numpy then warns
        tx, ty = transformer.transform(float(x.reshape(-1)[0]), float(y.reshape(-1)[0]))
        return np.full(x.shape, tx), np.full(y.shape, ty)
    tx, ty = transformer.transform(x, y)
    return np.asarray(tx, dtype=np.float64).reshape(x.shape), np.asarray(ty, dtype=np.float64).reshape(y.shape)


def describe_crs(crs_wkt: str | None) -> str:
    """A short human name for a CRS, e.g. 'WGS 84 / UTM zone 33N (EPSG:32633)'."""
    if not crs_wkt:
        return "the raster's own units (no CRS)"
    crs = pyproj.CRS.from_wkt(crs_wkt)
    epsg = crs.to_epsg(min_confidence=90)
    return f"{crs.name} (EPSG:{epsg})" if epsg else crs.name


def _extent_text(georef: GeoReference, size_px: tuple[int, int]) -> str:
    width, height = size_px
    xs, ys = georef.to_map(np.array([0, width, width, 0]), np.array([0, 0, height, height]))
    return (f"x {float(np.min(xs)):.9g} .. {float(np.max(xs)):.9g}, y {float(np.min(ys)):.9g} .. {float(np.max(ys)):.9g} "
            f"in {describe_crs(georef.crs_wkt)}")


def _check_inside(prompts: list[PointPrompt], labels: Sequence[str], georef: GeoReference | None,
                  size_px: tuple[int, int]) -> None:
    width, height = size_px
    for prompt, label in zip(prompts, labels):
        if not (math.isfinite(prompt.col_px) and math.isfinite(prompt.row_px)
                and 0 <= prompt.col_px < width and 0 <= prompt.row_px < height):
            where = (f"the raster covers {_extent_text(georef, size_px)}" if georef is not None
                     else f"the raster covers pixel columns 0 .. {width} and rows 0 .. {height}")
            raise PromptOutsideRasterError(
                f"Point {label} ({prompt.category}) lies outside the raster (pixel col {prompt.col_px:.1f}, "
                f"row {prompt.row_px:.1f}): {where}. Check the coordinates and their CRS.")


def map_to_pixel_prompts(points_xy: np.ndarray | Sequence[Sequence[float]], crs_of_points: pyproj.CRS | str | None,
                         georef: GeoReference | None, categories: Sequence[str],
                         size_px: tuple[int, int] | None = None,
                         labels: Sequence[str] | None = None) -> list[PointPrompt]:
    """Point prompts in scene pixels from points in map coordinates.

    Args:
        points_xy: ``(N, 2)`` x/easting/longitude, y/northing/latitude in ``crs_of_points``
            (always x first, whatever the CRS's official axis order).
        crs_of_points: the points' CRS; None means they are already in the raster's CRS.
        georef: the raster's georeference; None when it has none (then only pixel prompts work).
        categories: ``(N,)`` category of each point.
        size_px: the raster's (width, height); when given, points outside raise
            PromptOutsideRasterError.
        labels: how to name each point in error messages (defaults to '#1', '#2', ...).
    """
    xy = np.asarray(points_xy, dtype=np.float64).reshape(-1, 2)
    if len(categories) != len(xy):
        raise ValueError("one category per point is needed")
    labels = list(labels) if labels is not None else [f"#{i + 1}" for i in range(len(xy))]
    if georef is None:
        raise MissingGeoreferenceError(
            "The raster has no georeference (no CRS and no geotransform), so map coordinates cannot be placed on it. "
            "Give the points in pixel coordinates instead, e.g. --point 120,340@pixel:car (column, row).")
    if crs_of_points is not None:
        if not georef.has_crs:
            raise MissingGeoreferenceError(
                "The raster has a geotransform but no CRS, so points in another CRS cannot be reprojected onto it. "
                "Give the points in the raster's own coordinates (no @CRS) or in pixels (@pixel), or assign a CRS to the raster.")
        src = crs_of_points if isinstance(crs_of_points, pyproj.CRS) else parse_crs(crs_of_points)
        dst = pyproj.CRS.from_wkt(georef.crs_wkt)
        if not src.equals(dst):
            xy = np.column_stack(reproject_xy(xy[:, 0], xy[:, 1], src, dst))
    col, row = georef.to_pixel(xy[:, 0], xy[:, 1])
    prompts = [PointPrompt(float(c), float(r), str(cat)) for c, r, cat in zip(np.atleast_1d(col), np.atleast_1d(row), categories)]
    if size_px is not None:
        _check_inside(prompts, labels, georef, size_px)
    return prompts


def parse_point_arg(text: str, georef: GeoReference | None, size_px: tuple[int, int] | None = None) -> PointPrompt:
    """A prompt from a command-line point ``X,Y[@CRS]:category``.

    Without ``@CRS`` X,Y are in the raster's CRS; ``@pixel`` means X,Y are pixel column,row
    (0,0 = top-left corner of the raster); any other ``@CRS`` (EPSG:4326, 4326, a PROJ string)
    is reprojected to the raster's CRS. The category is the text after the last ':'.
    """
    head, sep, category = text.rpartition(":")
    category = category.strip()
    if not sep or not category:
        raise PromptError(f"Point '{text}' has no category. Write X,Y:category, e.g. --point 512300.5,4101200:car "
                          f"or --point 10.75,59.91@EPSG:4326:ship or --point 120,340@pixel:car.")
    match = _POINT_ARG.match(head)
    if match is None:
        raise PromptError(f"Cannot read point '{text}'. Write X,Y[@CRS]:category, e.g. --point 512300.5,4101200:car, "
                          f"--point 10.75,59.91@EPSG:4326:ship or --point 120,340@pixel:car.")
    crs_text = match["crs"]
    if crs_text is not None and category.isdigit() and crs_text.strip().isalpha() and crs_text.strip().lower() != PIXEL:
        # "X,Y@EPSG:4326" splits as CRS 'EPSG', category '4326': the category was forgotten.
        raise PromptError(f"Point '{text}' has no category after its CRS. Write e.g. {head}:{category}:car.")
    x, y = float(match["x"]), float(match["y"])
    if crs_text is not None and crs_text.strip().lower() == PIXEL:
        if georef is None:
            log.warning("The raster has no georeference: detections will be written in pixel coordinates without a CRS.")
        prompt = PointPrompt(x, y, category)
        if size_px is not None:
            _check_inside([prompt], [f"'{text}'"], None, size_px)
        return prompt
    return map_to_pixel_prompts([[x, y]], crs_text, georef, [category], size_px, labels=[f"'{text}'"])[0]
