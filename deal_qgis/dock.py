"""The DEAL panel: choose a raster and categories, click objects, run, read counts, export."""

from __future__ import annotations

import re
import time
from pathlib import Path

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsMapLayerProxyModel,
    QgsPointXY,
    QgsProcessingUtils,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)
from qgis.gui import QgsDockWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon, QKeySequence, QPixmap
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QShortcut,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.errors import DealError, NoPromptsError, PromptError, PromptOutsideRasterError

from .categories import CategoryPalette, normalise_category, preset_categories
from .click_tool import ClickMarkers, ClickTool
from .clicks import Click, ClickList, pixel_of
from .dependency_panel import DependencyBanner
from .detection_task import DetectionTask, RunOutcome
from .error_reporting import LOG_TAG, guarded, report_error
from .layer_source import QgsLayerSource, layer_georeference
from .result_layers import density_layer, detection_layer, store_counts, style_detections
from .session_cache import SessionCache
from .settings_panel import SettingsPanel
from .stage_text import stage_text
from .translation import tr
from .vector_export import export_layer


def _swatch(colour) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(colour)
    return QIcon(pixmap)


def _file_stem(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "raster"


def encoding_summary(outcome: RunOutcome) -> str:
    """'Scene encoded (N tiles, X s)', with '— reused' when this run encoded nothing new."""
    session = outcome.entry.session
    if outcome.new_tiles == 0 and outcome.entry.runs > 1:
        return tr("Scene encoded ({0} tiles, {1:.1f} s) — reused").format(session.encoder_calls, session.seconds_encode)
    return tr("Scene encoded ({0} tiles, {1:.1f} s)").format(session.encoder_calls, session.seconds_encode)


class DealDock(QgsDockWidget):
    """The panel. Attributes named for what they show so tests and the screenshot can drive it."""

    def __init__(self, iface, parent: QWidget | None = None):
        super().__init__(tr("DEAL - Detect Any smalL object"), parent)
        self.setObjectName("DealDock")
        self.iface = iface
        self.canvas = iface.mapCanvas()
        self.palette = CategoryPalette()
        self.clicks = ClickList(self)
        self.sessions = SessionCache()
        self.markers = ClickMarkers(self.canvas)
        self.tool = ClickTool(self.canvas)
        self.task: DetectionTask | None = None
        self.detections: QgsVectorLayer | None = None
        self.density: QgsRasterLayer | None = None
        # raster name and time stamp of the running task, for its layers' and files' names
        self._run_name = ""
        self._run_stamp = ""
        self._build()
        self.clicks.changed.connect(self._show_clicks)
        self.tool.clicked.connect(self._add_click)
        self.tool.undoRequested.connect(self._undo)
        self.tool.deactivated.connect(lambda: self.click_button.setChecked(False))
        self.canvas.destinationCrsChanged.connect(self._show_clicks)
        self._show_clicks()

    def message_bar(self):
        return self.iface.messageBar()

    # ---- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.banner = DependencyBanner(self.message_bar(), body)
        self.banner.resolved.connect(self._update_buttons)
        layout.addWidget(self.banner)

        form = QFormLayout()
        self.layer_combo = QgsMapLayerComboBox(body)
        self.layer_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        form.addRow(tr("Raster"), self.layer_combo)
        self.category_combo = QComboBox(body)
        self.category_combo.setEditable(True)
        self.category_combo.setInsertPolicy(QComboBox.NoInsert)
        self.category_combo.setToolTip(tr("Pick a preset or type a new category name, then click one object of that kind on the map."))
        for name in preset_categories():
            self.category_combo.addItem(_swatch(self.palette.colour(name)), name)
        form.addRow(tr("Category"), self.category_combo)
        layout.addLayout(form)

        self.click_button = QPushButton(tr("Click objects on the map"), body)
        self.click_button.setCheckable(True)
        self.click_button.setToolTip(tr("Click one object (or a few) of the chosen category; Ctrl+Z undoes the last click."))
        self.click_button.toggled.connect(self._toggle_tool)
        layout.addWidget(self.click_button)

        self.click_list = QListWidget(body)
        self.click_list.setSelectionMode(QListWidget.ExtendedSelection)
        layout.addWidget(self.click_list)
        row = QHBoxLayout()
        self.remove_button = QPushButton(tr("Remove"), body)
        self.remove_button.clicked.connect(self._remove_selected)
        self.undo_button = QPushButton(tr("Undo"), body)
        self.undo_button.clicked.connect(self._undo)
        self.clear_button = QPushButton(tr("Clear"), body)
        self.clear_button.clicked.connect(self._clear)
        for button in (self.remove_button, self.undo_button, self.clear_button):
            row.addWidget(button)
        layout.addLayout(row)
        QShortcut(QKeySequence.Undo, body, self._undo, context=Qt.WidgetWithChildrenShortcut)

        row = QHBoxLayout()
        self.run_button = QPushButton(tr("Detect"), body)
        self.run_button.clicked.connect(self._run)
        self.cancel_button = QPushButton(tr("Cancel"), body)
        self.cancel_button.clicked.connect(self._cancel)
        row.addWidget(self.run_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.progress = QProgressBar(body)
        self.progress.setRange(0, 100)
        layout.addWidget(self.progress)
        self.stage_label = QLabel(body)
        self.encode_label = QLabel(body)
        self.encode_label.setWordWrap(True)
        layout.addWidget(self.stage_label)
        layout.addWidget(self.encode_label)

        self.counts_table = QTableWidget(0, 2, body)
        self.counts_table.setHorizontalHeaderLabels([tr("Category"), tr("Count")])
        self.counts_table.horizontalHeader().setStretchLastSection(True)
        self.counts_table.verticalHeader().setVisible(False)
        self.counts_table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.counts_table.setMaximumHeight(130)
        layout.addWidget(self.counts_table)
        self.export_button = QPushButton(tr("Export detections..."), body)
        self.export_button.clicked.connect(self._export_dialog)
        layout.addWidget(self.export_button)

        self.settings_panel = SettingsPanel(body)
        self.settings_panel.changed.connect(self._update_buttons)
        layout.addWidget(self.settings_panel)
        layout.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        self.setWidget(scroll)

    def _update_buttons(self) -> None:
        running = self.task is not None
        has_clicks = len(self.clicks) > 0
        self.run_button.setEnabled(not running and has_clicks and not self.banner.missing)
        self.cancel_button.setEnabled(running)
        self.remove_button.setEnabled(has_clicks)
        self.undo_button.setEnabled(self.clicks.undo_stack.canUndo())
        self.clear_button.setEnabled(has_clicks)
        self.export_button.setEnabled(self._detections_alive())

    def _detections_alive(self) -> bool:
        layer = self.detections
        return layer is not None and QgsProject.instance().mapLayer(layer.id()) is not None

    # ---- clicks -------------------------------------------------------------------------------
    def current_category(self) -> str:
        return normalise_category(self.category_combo.currentText())

    def current_layer(self) -> QgsRasterLayer:
        layer = self.layer_combo.currentLayer()
        if not isinstance(layer, QgsRasterLayer):
            raise PromptError(tr("Choose a raster layer in the DEAL panel first (open one with Layer > Add Layer)."))
        return layer

    @guarded
    def _toggle_tool(self, checked: bool) -> None:
        if checked:
            self.canvas.setMapTool(self.tool)
        elif self.canvas.mapTool() is self.tool:
            self.canvas.unsetMapTool(self.tool)

    @guarded
    def _add_click(self, point_canvas: QgsPointXY) -> None:
        self.add_click_at(point_canvas)

    def add_click_at(self, point_canvas: QgsPointXY) -> Click:
        """Add a click at a point in the canvas CRS for the current category; returns it.

        Raises PromptError without a raster or category, PromptOutsideRasterError off the raster.
        """
        layer = self.current_layer()
        category = self.current_category()
        if not category:
            raise PromptError(tr("Type or pick a category before clicking (e.g. vehicle)."))
        canvas_crs = self.canvas.mapSettings().destinationCrs()
        xy_layer, col_px, row_px = pixel_of(point_canvas, canvas_crs, layer.crs(), layer_georeference(layer))
        if not (0 <= col_px < layer.width() and 0 <= row_px < layer.height()):
            raise PromptOutsideRasterError(tr("The click is outside the raster '{0}'; click on the image.").format(layer.name()))
        if self.category_combo.findText(category) < 0:
            self.category_combo.addItem(_swatch(self.palette.colour(category)), category)
        click = Click(category, (xy_layer.x(), xy_layer.y()), layer.crs())
        self.clicks.add(click)
        return click

    @guarded
    def _show_clicks(self) -> None:
        self.click_list.clear()
        colours = {c: self.palette.colour(c) for c in self.clicks.categories()}
        for click in self.clicks.items():
            digits = 6 if click.crs.isGeographic() else 2
            x, y = click.xy_map
            item = QListWidgetItem(_swatch(colours[click.category]), f"{click.category}   {x:.{digits}f}, {y:.{digits}f}")
            self.click_list.addItem(item)
        self.markers.show(self.clicks.items(), colours)
        self._update_buttons()

    @guarded
    def _remove_selected(self) -> None:
        for index in sorted((self.click_list.row(i) for i in self.click_list.selectedItems()), reverse=True):
            self.clicks.remove(index)

    @guarded
    def _undo(self) -> None:
        self.clicks.undo()

    @guarded
    def _clear(self) -> None:
        self.clicks.clear()

    # ---- run ----------------------------------------------------------------------------------
    def _density_path(self, raster_name: str, stamp: str) -> Path:
        folder = self.settings_panel.settings().output_folder
        base = Path(folder) if folder else Path(QgsProcessingUtils.tempFolder())
        return base / f"deal_{_file_stem(raster_name)}_{stamp}_density.tif"

    @guarded
    def _run(self) -> None:
        self.start_run()

    def start_run(self) -> DetectionTask:
        """Start a detection task for the current clicks; returns it (already queued)."""
        if self.task is not None:
            raise DealError(tr("A detection is already running; wait for it or cancel it."))
        if self.banner.refresh():
            raise DealError(tr("Install the missing Python packages first (see the top of the DEAL panel)."))
        layer = self.current_layer()
        if not len(self.clicks):
            raise NoPromptsError(tr("Click at least one object on the map before running."))
        source = QgsLayerSource(layer)
        prompts = [click.to_prompt(layer.crs(), source.georef) for click in self.clicks.items()]
        self._run_name, self._run_stamp = layer.name(), time.strftime("%Y%m%d_%H%M%S")
        task = DetectionTask(source, prompts, self.settings_panel.settings(), self.sessions,
                             self._density_path(self._run_name, self._run_stamp))
        task.stageChanged.connect(lambda message: self.stage_label.setText(stage_text(message)))
        task.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        task.taskCompleted.connect(self._task_completed)
        task.taskTerminated.connect(self._task_terminated)
        self.task = task
        self.progress.setValue(0)
        self.stage_label.setText(tr("starting"))
        self._update_buttons()
        QgsApplication.taskManager().addTask(task)
        return task

    @guarded
    def _cancel(self) -> None:
        if self.task is not None:
            self.stage_label.setText(tr("cancelling..."))
            self.task.cancel()

    @guarded
    def _task_completed(self) -> None:
        task, self.task = self.task, None
        self._update_buttons()
        self.show_outcome(task.outcome, self._run_name, self._run_stamp)

    @guarded
    def _task_terminated(self) -> None:
        task, self.task = self.task, None
        self.progress.setValue(0)
        self._update_buttons()
        if task.error is not None:
            self.stage_label.setText(tr("failed"))
            report_error(task.error, self.message_bar(), task.error_details)
        else:
            self.stage_label.setText(tr("cancelled: nothing was added"))

    def show_outcome(self, outcome: RunOutcome, raster_name: str, stamp: str) -> None:
        """Add the run's layers to the project and show counts and encoding reuse in the panel."""
        result = outcome.result
        colours = {c: self.palette.colour(c) for c in result.category_names}
        counts = result.counts
        name = tr("DEAL detections - {0}").format(raster_name)
        layer = detection_layer(outcome.table, result.georef.crs_wkt, name)
        folder = self.settings_panel.settings().output_folder
        if folder:
            path = export_layer(layer, Path(folder) / f"deal_{_file_stem(raster_name)}_{stamp}.gpkg")
            layer = QgsVectorLayer(str(path), name, "ogr")
        style_detections(layer, colours)
        store_counts(layer, counts, result.stats)
        project = QgsProject.instance()
        if outcome.density_path is not None:
            heat = density_layer(outcome.density_path, tr("DEAL density - {0}").format(raster_name))
            store_counts(heat, counts)
            project.addMapLayer(heat)
            self.density = heat
        project.addMapLayer(layer)
        self.detections = layer
        self.stage_label.setText(tr("done in {0:.1f} s").format(outcome.seconds))
        self.progress.setValue(100)
        self._show_counts(counts)
        self.encode_label.setText(encoding_summary(outcome))
        self.message_bar().pushMessage(LOG_TAG, tr("{0} objects found: {1}").format(
            len(result), ", ".join(f"{c} {n}" for c, n in counts.items())), Qgis.Success, 5)
        self._update_buttons()

    def _show_counts(self, counts: dict[str, int]) -> None:
        self.counts_table.setRowCount(len(counts))
        for row, (category, n) in enumerate(counts.items()):
            item = QTableWidgetItem(_swatch(self.palette.colour(category)), category)
            self.counts_table.setItem(row, 0, item)
            self.counts_table.setItem(row, 1, QTableWidgetItem(str(n)))

    # ---- export -------------------------------------------------------------------------------
    @guarded
    def _export_dialog(self) -> None:
        if not self._detections_alive():
            raise DealError(tr("Run a detection first: there is no detection layer to export."))
        labels = [tr("GeoPackage (*.gpkg)"), tr("Shapefile (*.shp)"), tr("GeoJSON, WGS 84 (*.geojson)")]
        path, chosen = QFileDialog.getSaveFileName(self, tr("Export detections"), "", ";;".join(labels))
        if not path:
            return
        if not Path(path).suffix:
            path += (".gpkg", ".shp", ".geojson")[labels.index(chosen) if chosen in labels else 0]
        written = export_layer(self.detections, path)
        self.message_bar().pushMessage(LOG_TAG, tr("Detections written to {0}").format(written), Qgis.Success, 5)

    # ---- teardown -----------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Remove markers and the map tool, cancel a running task, free encoded tiles (plugin unload)."""
        if self.task is not None:
            self.task.cancel()
        else:  # a running task still reads the cache; it is freed with the panel instead
            self.sessions.close()
        if self.canvas.mapTool() is self.tool:
            self.canvas.unsetMapTool(self.tool)
        self.markers.clear()
        self.canvas.destinationCrsChanged.disconnect(self._show_clicks)
