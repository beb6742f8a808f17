"""Clicks on the canvas become the right raster pixels whatever the project CRS, with undo."""

from __future__ import annotations

import pytest
from osgeo import osr
from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject, QgsRectangle
from qgis.gui import QgsMapMouseEvent
from qgis.PyQt.QtCore import QEvent, QPoint, Qt
from qgis.PyQt.QtGui import QKeyEvent

from deal_qgis.dock import DealDock
from engine.errors import PromptOutsideRasterError


@pytest.fixture
def dock(qgis_app, qgis_parent, qgis_iface, qgis_canvas, utm_raster):
    # The canvas takes its size only once its window is shown.
    qgis_parent.show()
    qgis_canvas.resize(400, 400)
    qgis_app.processEvents()
    assert qgis_canvas.mapSettings().outputSize().width() > 300  # frame borders take a few pixels
    qgis_canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    to_web = QgsCoordinateTransform(utm_raster.crs(), QgsCoordinateReferenceSystem("EPSG:3857"), QgsProject.instance())
    qgis_canvas.setExtent(to_web.transformBoundingBox(QgsRectangle(utm_raster.extent())))
    panel = DealDock(qgis_iface)
    panel.layer_combo.setLayer(utm_raster)
    yield panel
    panel.shutdown()
    panel.deleteLater()


def expected_pixel(x_web: float, y_web: float) -> tuple[float, float]:
    """Pixel of an EPSG:3857 point in the test raster, computed with OSR (independently of QGIS)."""
    web, utm = osr.SpatialReference(), osr.SpatialReference()
    web.ImportFromEPSG(3857)
    utm.ImportFromEPSG(32633)
    for srs in (web, utm):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    x, y, _ = osr.CoordinateTransformation(web, utm).TransformPoint(x_web, y_web)
    return (x - 500000.0) / 0.5, (5000000.0 - y) / 0.5


def release_at(canvas, tool, device_xy: QPoint) -> QgsPointXY:
    event = QgsMapMouseEvent(canvas, QEvent.MouseButtonRelease, device_xy, Qt.LeftButton)
    tool.canvasReleaseEvent(event)
    return event.mapPoint()


def test_mouse_click_to_raster_pixel_across_crs(dock, qgis_canvas):
    assert qgis_canvas.mapSettings().destinationCrs().authid() == "EPSG:3857"
    dock.category_combo.setCurrentText("ship")
    dock.click_button.setChecked(True)
    assert qgis_canvas.mapTool() is dock.tool
    point_web = release_at(qgis_canvas, dock.tool, QPoint(150, 230))
    assert len(dock.clicks) == 1 and dock.clicks[0].category == "ship"
    georef = dock.current_layer()
    from deal_qgis.layer_source import layer_georeference

    prompt = dock.clicks[0].to_prompt(georef.crs(), layer_georeference(georef))
    col, row = expected_pixel(point_web.x(), point_web.y())
    assert 0 < col < 256 and 0 < row < 256
    assert prompt.col_px == pytest.approx(col, abs=0.01) and prompt.row_px == pytest.approx(row, abs=0.01)
    assert len(dock.markers) == 1 and dock.click_list.count() == 1


def test_categories_undo_remove_clear(dock, qgis_canvas):
    for category, xy in (("vehicle", QPoint(100, 100)), ("wind turbine", QPoint(200, 200)), ("vehicle", QPoint(300, 120))):
        dock.category_combo.setCurrentText(category)
        release_at(qgis_canvas, dock.tool, xy)
    assert dock.clicks.categories() == ["vehicle", "wind turbine"]
    assert dock.category_combo.findText("wind turbine") >= 0
    new_colour = dock.palette.colour("wind turbine")
    assert new_colour != dock.palette.colour("vehicle") and new_colour != dock.palette.colour("ship")
    dock.tool.keyPressEvent(QKeyEvent(QEvent.KeyPress, Qt.Key_Z, Qt.ControlModifier))
    assert len(dock.clicks) == 2 and len(dock.markers) == 2
    dock.click_list.item(0).setSelected(True)
    dock.remove_button.click()
    assert [c.category for c in dock.clicks.items()] == ["wind turbine"]
    dock.clear_button.click()
    assert len(dock.clicks) == 0 and len(dock.markers) == 0 and dock.click_list.count() == 0
    dock.undo_button.click()
    assert [c.category for c in dock.clicks.items()] == ["wind turbine"]


def test_click_outside_raster_is_refused(dock, qgis_canvas):
    with pytest.raises(PromptOutsideRasterError):
        dock.add_click_at(QgsPointXY(qgis_canvas.extent().xMaximum() + 1000, qgis_canvas.extent().yMaximum()))
    assert len(dock.clicks) == 0


def test_markers_follow_project_crs(dock, qgis_canvas, utm_raster):
    click = dock.add_click_at(qgis_canvas.extent().center())
    qgis_canvas.setDestinationCrs(utm_raster.crs())
    marker = dock.markers._markers[0]
    assert marker.center().x() == pytest.approx(click.xy_map[0], abs=1e-6)
    assert marker.center().y() == pytest.approx(click.xy_map[1], abs=1e-6)
