"""Writing a detection layer to GeoPackage, Shapefile or GeoJSON through the QGIS API."""

from __future__ import annotations

from pathlib import Path

from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsProject, QgsVectorFileWriter, QgsVectorLayer

from engine.errors import OutputError
from engine.io.atomic import atomic_path

from .translation import tr

# extension -> OGR driver
DRIVERS = {".gpkg": "GPKG", ".shp": "ESRI Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON"}


def export_layer(layer: QgsVectorLayer, path: str | Path) -> Path:
    """Write ``layer`` to ``path`` (format from the extension) atomically; returns the path.

    GeoJSON is written in EPSG:4326 as RFC 7946 asks; the other formats keep the layer's CRS.
    Raises OutputError for an unknown extension or when writing fails.
    """
    path = Path(path)
    driver = DRIVERS.get(path.suffix.lower())
    if driver is None:
        raise OutputError(tr("Cannot export to '{0}': use a name ending in .gpkg, .shp or .geojson.").format(path.name))
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = driver
    options.fileEncoding = "UTF-8"
    options.layerName = path.stem
    if driver == "GeoJSON":
        options.ct = QgsCoordinateTransform(layer.crs(), QgsCoordinateReferenceSystem("EPSG:4326"), QgsProject.instance())
        options.layerOptions = ["RFC7946=YES"]
    with atomic_path(path) as tmp_path:
        error, message, _, _ = QgsVectorFileWriter.writeAsVectorFormatV3(
            layer, str(tmp_path), QgsProject.instance().transformContext(), options)
        if error != QgsVectorFileWriter.NoError:
            raise OutputError(tr("Writing '{0}' failed: {1}").format(path, message))
    return path
