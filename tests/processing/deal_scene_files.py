"""Test data for the Processing tests: a small UTM scene written with QGIS's GDAL and prompt
points in WGS 84 GeoPackages (OGR), with the pixel <-> lon/lat relation used to place them."""

from __future__ import annotations

from pathlib import Path

from osgeo import ogr, osr

SCENE_EPSG = 32633
SCENE_ORIGIN = (500000.0, 5000000.0)
PIXEL_M = 0.5
SCENE_PX = 256


def _utm_to_lonlat() -> osr.CoordinateTransformation:
    utm, wgs84 = osr.SpatialReference(), osr.SpatialReference()
    utm.ImportFromEPSG(SCENE_EPSG)
    wgs84.ImportFromEPSG(4326)
    for srs in (utm, wgs84):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return osr.CoordinateTransformation(utm, wgs84)


def pixel_to_lonlat(col_px: float, row_px: float) -> tuple[float, float]:
    """WGS 84 (lon, lat) of scene pixel position (col, row) (0, 0 = top-left corner)."""
    x = SCENE_ORIGIN[0] + col_px * PIXEL_M
    y = SCENE_ORIGIN[1] - row_px * PIXEL_M
    lon, lat, _ = _utm_to_lonlat().TransformPoint(x, y)
    return lon, lat


def write_points(path: Path, lonlats: list[tuple[float, float]], categories: list[str | None],
                 field: str = "cat") -> Path:
    """A GeoPackage point layer in EPSG:4326 with a string ``field`` (None writes NULL)."""
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    dataset = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = dataset.CreateLayer("clicks", wgs84, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn(field, ogr.OFTString))
    for (lon, lat), category in zip(lonlats, categories):
        feature = ogr.Feature(layer.GetLayerDefn())
        if category is not None:
            feature.SetField(field, category)
        point = ogr.Geometry(ogr.wkbPoint)
        point.AddPoint_2D(lon, lat)
        feature.SetGeometry(point)
        layer.CreateFeature(feature)
    dataset = None
    return path
