"""Full runs with the bundled model inside QGIS: layers, counts, encoding reuse, cancel, errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from qgis.core import (
    Qgis,
    QgsCategorizedSymbolRenderer,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsSingleBandPseudoColorRenderer,
)

from deal_qgis.dock import DealDock
from deal_qgis.layer_source import layer_georeference
from deal_qgis.result_layers import stored_counts
from deal_qgis.settings import DealSettings
from engine.runtime import default_model_path
from plugin_rasters import scene_with_objects, write_geotiff

pytestmark = pytest.mark.skipif(not (default_model_path() / "encoder.onnx").exists(), reason="bundled model not in this checkout")


@pytest.fixture
def settings():
    """Run settings for tests (restored afterwards: they live in the QGIS profile)."""
    saved = DealSettings.load()
    yield DealSettings(score_threshold=0.01, device="cpu")
    saved.save()


@pytest.fixture
def dock(qgis_app, qgis_iface, qgis_canvas, settings):
    qgis_canvas.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
    panel = DealDock(qgis_iface)
    panel.settings_panel.set_settings(settings)
    yield panel
    panel.shutdown()
    panel.deleteLater()


def click_pixel(dock: DealDock, layer: QgsRasterLayer, col_px: float, row_px: float, category: str) -> None:
    """Click the map where raster pixel (col, row) lies, as the analyst would on a 3857 canvas."""
    x, y = layer_georeference(layer).to_map(col_px, row_px)
    to_canvas = QgsCoordinateTransform(layer.crs(), dock.canvas.mapSettings().destinationCrs(), QgsProject.instance())
    dock.category_combo.setCurrentText(category)
    dock.add_click_at(to_canvas.transform(QgsPointXY(float(x), float(y))))


def wait_for(app, dock: DealDock, timeout_s: float = 120.0) -> bool:
    """Process events until the dock has handled the end of its task; True when it completed.

    Polls the dock rather than connecting to the task: the task manager deletes a finished
    task, possibly while its signals are still being delivered.
    """
    task = dock.task
    deadline = time.monotonic() + timeout_s
    while dock.task is not None and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    assert dock.task is None, "the detection task did not finish in time"
    return task.outcome is not None


def test_run_adds_styled_layers_and_reuses_encoding(qgis_app, dock, utm_raster, tmp_path):
    _, centres = scene_with_objects(256)
    dock.layer_combo.setLayer(utm_raster)
    click_pixel(dock, utm_raster, centres[0][0] + 0.5, centres[0][1] + 0.5, "vehicle")
    click_pixel(dock, utm_raster, centres[8][0] + 0.5, centres[8][1] + 0.5, "boat")
    task = dock.start_run()
    assert not dock.run_button.isEnabled() and dock.cancel_button.isEnabled()
    assert wait_for(qgis_app, dock), task.error
    result = task.outcome.result
    detections, density = dock.detections, dock.density
    assert QgsProject.instance().mapLayer(detections.id()) is detections
    assert QgsProject.instance().mapLayer(density.id()) is density
    assert detections.crs() == utm_raster.crs() and density.crs() == utm_raster.crs()
    assert detections.featureCount() == len(result) == sum(result.counts.values())
    assert stored_counts(detections) == result.counts
    renderer = detections.renderer()
    assert isinstance(renderer, QgsCategorizedSymbolRenderer)
    assert [c.value() for c in renderer.categories()] == ["vehicle", "boat"]
    assert isinstance(density.renderer(), QgsSingleBandPseudoColorRenderer)
    assert density.extent().contains(utm_raster.extent().center())
    shown = {dock.counts_table.item(r, 0).text(): int(dock.counts_table.item(r, 1).text()) for r in range(dock.counts_table.rowCount())}
    assert shown == result.counts
    first_label = dock.encode_label.text()
    assert first_label.startswith("Scene encoded (") and "reused" not in first_label
    encoded = task.outcome.entry.session.encoder_calls
    assert encoded > 0

    # one more click on an identical object: the scene's encoding is reused, no tile is encoded
    # again; this time results go to files in the output folder
    click_pixel(dock, utm_raster, centres[3][0] + 0.5, centres[3][1] + 0.5, "vehicle")
    dock.settings_panel.output.setFilePath(str(tmp_path))
    second = dock.start_run()
    assert wait_for(qgis_app, dock), second.error
    assert second.outcome.new_tiles == 0 and second.outcome.entry.session.encoder_calls == encoded
    assert len(dock.sessions) == 1
    assert dock.encode_label.text().endswith("reused")
    saved = dock.detections
    assert saved.providerType() == "ogr" and saved.source().startswith(str(tmp_path))
    assert saved.featureCount() == len(second.outcome.result) and saved.crs() == utm_raster.crs()
    assert isinstance(saved.renderer(), QgsCategorizedSymbolRenderer)
    assert dock.density.source().startswith(str(tmp_path))


def test_bracket_setting_detects_at_three_scales(qgis_app, dock, utm_raster):
    _, centres = scene_with_objects(256)
    dock.layer_combo.setLayer(utm_raster)
    dock.settings_panel.bracket.setChecked(True)
    click_pixel(dock, utm_raster, centres[0][0] + 0.5, centres[0][1] + 0.5, "vehicle")
    task = dock.start_run()
    assert wait_for(qgis_app, dock), task.error
    result = task.outcome.result
    factors = result.stats["bracket_scales"]["vehicle"]  # its scale and the neighbours (one at the end of the range)
    assert result.scales["vehicle"] in factors and len(factors) >= 2
    assert all(abs(b / a - 2 ** 0.5) < 1e-9 for a, b in zip(factors, factors[1:]))
    assert dock.detections.featureCount() == len(result)


def test_cancel_stops_fast_and_adds_nothing(qgis_app, dock, tmp_path, qgis_new_project):
    image, centres = scene_with_objects(1024)
    path = write_geotiff(tmp_path / "big.tif", 32633, (500000.0, 5000000.0), 0.5, image)
    layer = QgsRasterLayer(str(path), "big", "gdal")
    QgsProject.instance().addMapLayer(layer)
    dock.layer_combo.setLayer(layer)
    dock.settings_panel.tile_size.setValue(256)
    dock.settings_panel.overlap.setValue(32)
    click_pixel(dock, layer, centres[0][0] + 0.5, centres[0][1] + 0.5, "vehicle")
    task = dock.start_run()
    deadline = time.monotonic() + 60
    while "tile" not in dock.stage_label.text() and time.monotonic() < deadline:
        qgis_app.processEvents()
        time.sleep(0.01)
    assert "tile" in dock.stage_label.text()
    cancelled_at = time.monotonic()
    dock.cancel_button.click()
    assert not wait_for(qgis_app, dock)
    assert time.monotonic() - cancelled_at < 3.0
    assert task.error is None
    assert list(QgsProject.instance().mapLayers().values()) == [layer]
    assert not task.density_path.exists()
    assert dock.detections is None and "cancelled" in dock.stage_label.text()
    assert dock.run_button.isEnabled()


def test_bad_model_folder_reported_not_raised(qgis_app, qgis_iface, dock, utm_raster, tmp_path):
    dock.layer_combo.setLayer(utm_raster)
    dock.settings_panel.model.setFilePath(str(tmp_path))
    click_pixel(dock, utm_raster, 100.5, 100.5, "vehicle")
    qgis_iface.messageBar().clear_messages()
    task = dock.start_run()
    assert not wait_for(qgis_app, dock)
    warnings = qgis_iface.messageBar().get_messages(Qgis.Warning)
    assert any("encoder.onnx" in m for m in warnings)
    assert list(QgsProject.instance().mapLayers().values()) == [utm_raster]
    # the traceback is kept as text, so no frame holds the task after QGIS deletes it
    assert task.error.__traceback__ is None
    assert "Traceback" in task.error_details and "encoder.onnx" in task.error_details


def test_python_exits_cleanly_after_a_failed_run():
    """A failed run's exception used to tie the task into a reference cycle through its frames;
    the garbage collector freed the deleted QgsTask's wrapper at exit and Python crashed (rc 139)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__,
                           "-k", "test_bad_model_folder_reported_not_raised"],
                          cwd=root, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
