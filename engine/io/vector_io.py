"""Vector files on the command-line side (pyogrio): read point prompts, write detection polygons."""

from __future__ import annotations

import logging
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import pyproj
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from ..crs import map_to_pixel_prompts, reproject_xy
from ..errors import NoPromptsError, OutputError, PromptError
from ..feature_table import COLUMNS, feature_table
from ..georef import GeoReference
from ..prompts import PointPrompt
from ..results import DetectionResult
from .atomic import atomic_path

log = logging.getLogger(__name__)

DRIVERS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON"}
"""Output format by file extension."""

_POINT, _MULTIPOINT = 0, 4  # shapely geometry type ids


def driver_for(path: str | os.PathLike) -> str:
    """The OGR driver for an output path, from its extension; OutputError for an unknown one."""
    suffix = Path(path).suffix.lower()
    if suffix not in DRIVERS:
        raise OutputError(f"Cannot tell the vector format of {path}: use a .gpkg (GeoPackage), .shp (Shapefile) "
                          f"or .geojson (GeoJSON) file name.")
    return DRIVERS[suffix]


def check_vector_output(path: str | os.PathLike, crs_wkt: str | None) -> str:
    """The driver for ``path``; OutputError for an unknown extension, or for GeoJSON from a raster
    without CRS (GeoJSON coordinates are WGS84 longitude/latitude by definition)."""
    driver = driver_for(path)
    if driver == "GeoJSON" and not crs_wkt:
        raise OutputError(f"Cannot write {path}: GeoJSON coordinates are always longitude/latitude, but the raster "
                          f"has no CRS. Write a GeoPackage (.gpkg) or Shapefile (.shp) instead, or assign a CRS to the raster.")
    return driver


def _category_text(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))  # 1.0 from a numeric field is category "1"
    return str(value).strip()


def read_prompts(path: str | os.PathLike, category_field: str, georef: GeoReference | None,
                 layer: str | int | None = None, size_px: tuple[int, int] | None = None) -> list[PointPrompt]:
    """Point prompts from a vector file of points (GeoPackage, Shapefile, GeoJSON...), in scene pixels.

    Points (or multipoints, one prompt per part) may be in any CRS; they are reprojected to
    the raster's CRS (a file without a CRS is taken to be in the raster's CRS). Each feature's
    ``category_field`` value is its category. ``size_px`` = (width, height) enables the check
    that every point lies on the raster.

    Raises PromptError (unreadable file, missing field, non-point or empty geometries, empty
    category), NoPromptsError (no features), PromptOutsideRasterError, MissingGeoreferenceError.
    """
    path = Path(path)
    try:
        info = pyogrio.read_info(path, layer=layer)
    except (DataSourceError, DataLayerError) as exc:
        layers = ""
        if path.exists():
            try:
                layers = f" Layers in the file: {', '.join(str(n) for n in pyogrio.list_layers(path)[:, 0])}."
            except DataSourceError:
                pass
        raise PromptError(f"Cannot read prompts from {path}: {exc}.{layers}") from None
    fields = [str(f) for f in info["fields"]]
    if category_field not in fields:
        raise PromptError(f"The prompts file {path} has no field '{category_field}'. "
                          f"Fields available: {', '.join(fields) if fields else '(none)'}. Choose one with --category-field.")
    meta, _, wkb, field_data = pyogrio.raw.read(path, layer=layer, columns=[category_field])
    if wkb is None or len(wkb) == 0:
        raise NoPromptsError(f"The prompts file {path} has no features: add at least one point per category.")
    geoms = shapely.from_wkb(wkb)
    values = field_data[0]
    xy, categories, labels = [], [], []
    for i, (geom, value) in enumerate(zip(geoms, values)):
        label = f"feature {i + 1} of {path.name}"
        if geom is None or shapely.is_empty(geom):
            raise PromptError(f"{label.capitalize()} has no geometry: every prompt must be a point.")
        if shapely.get_type_id(geom) not in (_POINT, _MULTIPOINT):
            raise PromptError(f"{label.capitalize()} is a {geom.geom_type}, not a point. Prompts must be points "
                              f"(one click per object), e.g. a point layer in a GeoPackage.")
        if value is None or (isinstance(value, float) and math.isnan(value)) or not _category_text(value):
            raise PromptError(f"{label.capitalize()} has an empty '{category_field}': give every point a category.")
        coords = shapely.get_coordinates(geom)
        xy.extend(coords.tolist())
        categories.extend([_category_text(value)] * len(coords))
        labels.extend([label] * len(coords))
    crs_of_points = meta.get("crs")
    if crs_of_points is None and georef is not None:
        log.warning("The prompts file %s has no CRS: its points are taken to be in the raster's CRS.", path)
    return map_to_pixel_prompts(np.asarray(xy), crs_of_points, georef, categories, size_px, labels)


def write_detections(result: DetectionResult, path: str | os.PathLike, driver: str | None = None,
                     layer: str = "detections") -> Path:
    """Write one polygon per detection, atomically; returns the path written.

    Formats: GeoPackage (.gpkg, default driver), Shapefile (.shp) and GeoJSON (.geojson/.json).
    Polygons are in the raster's CRS, except GeoJSON which RFC 7946 fixes to WGS84 longitude,
    latitude. Attributes: category, score, cx, cy (box centre in the layer's CRS), length_m,
    width_m, area_m2. An existing file at ``path`` is replaced (all its layers). An empty
    result gives an empty layer with the same schema and CRS (GeoJSON cannot store a schema).

    Raises OutputError when the folder is missing or not writable, or for GeoJSON from a
    raster without CRS.
    """
    path = Path(path)
    driver = driver or check_vector_output(path, result.georef.crs_wkt)
    table = feature_table(result)
    rings = table["rings_map"]
    cx, cy = table["cx_map"], table["cy_map"]
    crs_wkt = result.georef.crs_wkt
    layer_options = None
    if driver == "GeoJSON" and crs_wkt:
        src = pyproj.CRS.from_wkt(crs_wkt)
        rings = np.stack(reproject_xy(rings[..., 0], rings[..., 1], src, "EPSG:4326"), axis=-1)
        cx, cy = reproject_xy(cx, cy, src, "EPSG:4326")
        crs_wkt = "EPSG:4326"
        layer_options = {"RFC7946": "YES"}
    geometry = shapely.to_wkb(shapely.polygons(rings)) if len(rings) else np.empty(0, dtype=object)
    values = [np.asarray(table["category"], dtype=object), table["score"], cx, cy,
              table["length_m"], table["width_m"], table["area_m2"]]  # in COLUMNS order
    with atomic_path(path) as tmp_path, warnings.catch_warnings():
        # A raster without CRS is reported when its prompts are read; pyogrio would repeat it.
        warnings.filterwarnings("ignore", message="'crs' was not provided")
        try:
            pyogrio.raw.write(tmp_path, geometry=np.asarray(geometry, dtype=object), field_data=values,
                              fields=list(COLUMNS), layer=None if driver == "ESRI Shapefile" else layer, driver=driver,
                              geometry_type="Polygon", crs=crs_wkt, layer_options=layer_options)
        except DataSourceError as exc:
            raise OutputError(f"Could not write {path}: {exc}") from None
    return path
