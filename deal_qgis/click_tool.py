"""The map tool that collects clicks, and the markers that show them on the canvas."""

from __future__ import annotations

from qgis.core import QgsCoordinateReferenceSystem, QgsPointXY
from qgis.gui import QgsMapCanvas, QgsMapMouseEvent, QgsMapTool, QgsVertexMarker
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtGui import QColor, QKeyEvent

from .clicks import Click, transform_point


class ClickTool(QgsMapTool):
    """Left click: ``clicked`` with the point in the canvas CRS. Ctrl+Z: ``undoRequested``."""

    clicked = pyqtSignal(QgsPointXY)
    undoRequested = pyqtSignal()

    def __init__(self, canvas: QgsMapCanvas):
        super().__init__(canvas)
        self.setCursor(Qt.CrossCursor)

    def canvasReleaseEvent(self, event: QgsMapMouseEvent) -> None:
        if event.button() == Qt.LeftButton:
            self.clicked.emit(QgsPointXY(event.mapPoint()))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key_Z and event.modifiers() & Qt.ControlModifier:
            self.undoRequested.emit()
            event.accept()
        else:
            event.ignore()


class ClickMarkers:
    """One cross marker per click, in its category colour, at the click's place in the canvas CRS."""

    def __init__(self, canvas: QgsMapCanvas):
        self._canvas = canvas
        self._markers: list[QgsVertexMarker] = []

    def show(self, clicks: list[Click], colours: dict[str, QColor]) -> None:
        """Replace the markers by one per click."""
        self.clear()
        canvas_crs: QgsCoordinateReferenceSystem = self._canvas.mapSettings().destinationCrs()
        for click in clicks:
            marker = QgsVertexMarker(self._canvas)
            marker.setCenter(transform_point(QgsPointXY(*click.xy_map), click.crs, canvas_crs))
            marker.setIconType(QgsVertexMarker.ICON_CROSS)
            marker.setIconSize(14)
            marker.setPenWidth(3)
            marker.setColor(colours[click.category])
            self._markers.append(marker)

    def clear(self) -> None:
        for marker in self._markers:
            self._canvas.scene().removeItem(marker)
        self._markers.clear()

    def __len__(self) -> int:
        return len(self._markers)
