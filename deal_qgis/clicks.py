"""The analyst's clicks: one object per click, with its category, undoable.

A click is stored in the CRS of the raster it was made on, so it stays put when the project
CRS changes, and is turned into scene pixels (the engine's PointPrompt) only when a run starts.
"""

from __future__ import annotations

from dataclasses import dataclass

from qgis.core import QgsCoordinateReferenceSystem, QgsCoordinateTransform, QgsPointXY, QgsProject
from qgis.PyQt.QtCore import QObject, pyqtSignal
from qgis.PyQt.QtWidgets import QUndoCommand, QUndoStack

from engine.georef import GeoReference
from engine.prompts import PointPrompt

from .translation import tr


@dataclass(frozen=True)
class Click:
    """One click: ``xy_map`` in ``crs`` (the raster's CRS when clicked) and the category typed."""

    category: str
    xy_map: tuple[float, float]
    crs: QgsCoordinateReferenceSystem

    def to_prompt(self, layer_crs: QgsCoordinateReferenceSystem, georef: GeoReference) -> PointPrompt:
        """The click in scene pixels of a raster with ``georef`` whose CRS is ``layer_crs``."""
        point = transform_point(QgsPointXY(*self.xy_map), self.crs, layer_crs)
        col_px, row_px = georef.to_pixel(point.x(), point.y())
        return PointPrompt(float(col_px), float(row_px), self.category)


def transform_point(point: QgsPointXY, source: QgsCoordinateReferenceSystem, target: QgsCoordinateReferenceSystem) -> QgsPointXY:
    """``point`` from ``source`` CRS to ``target`` CRS (unchanged when either is unset or they match)."""
    if not source.isValid() or not target.isValid() or source == target:
        return QgsPointXY(point)
    return QgsCoordinateTransform(source, target, QgsProject.instance()).transform(point)


def pixel_of(point_map: QgsPointXY, point_crs: QgsCoordinateReferenceSystem, layer_crs: QgsCoordinateReferenceSystem,
             georef: GeoReference) -> tuple[QgsPointXY, float, float]:
    """(point in the layer CRS, col_px, row_px) of a map point given in ``point_crs``."""
    xy_layer = transform_point(point_map, point_crs, layer_crs)
    col_px, row_px = georef.to_pixel(xy_layer.x(), xy_layer.y())
    return xy_layer, float(col_px), float(row_px)


class _AddClick(QUndoCommand):
    def __init__(self, clicks: "ClickList", click: Click):
        super().__init__(tr("Add click"))
        self._clicks, self._click = clicks, click

    def redo(self) -> None:
        self._clicks._items.append(self._click)
        self._clicks.changed.emit()

    def undo(self) -> None:
        self._clicks._items.pop()
        self._clicks.changed.emit()


class _RemoveClick(QUndoCommand):
    def __init__(self, clicks: "ClickList", index: int):
        super().__init__(tr("Remove click"))
        self._clicks, self._index = clicks, index
        self._click = clicks._items[index]

    def redo(self) -> None:
        del self._clicks._items[self._index]
        self._clicks.changed.emit()

    def undo(self) -> None:
        self._clicks._items.insert(self._index, self._click)
        self._clicks.changed.emit()


class _ClearClicks(QUndoCommand):
    def __init__(self, clicks: "ClickList"):
        super().__init__(tr("Clear clicks"))
        self._clicks, self._saved = clicks, list(clicks._items)

    def redo(self) -> None:
        self._clicks._items.clear()
        self._clicks.changed.emit()

    def undo(self) -> None:
        self._clicks._items[:] = self._saved
        self._clicks.changed.emit()


class ClickList(QObject):
    """Ordered clicks with undo/redo; ``changed`` fires after every edit."""

    changed = pyqtSignal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._items: list[Click] = []
        self.undo_stack = QUndoStack(self)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> Click:
        return self._items[index]

    def items(self) -> list[Click]:
        return list(self._items)

    def categories(self) -> list[str]:
        """Categories in first-click order."""
        return list(dict.fromkeys(c.category for c in self._items))

    def add(self, click: Click) -> None:
        self.undo_stack.push(_AddClick(self, click))

    def remove(self, index: int) -> None:
        if 0 <= index < len(self._items):
            self.undo_stack.push(_RemoveClick(self, index))

    def clear(self) -> None:
        if self._items:
            self.undo_stack.push(_ClearClicks(self))

    def undo(self) -> None:
        self.undo_stack.undo()
