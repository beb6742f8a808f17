"""Screenshot of the plugin at work: ``python -m deal_qgis.screenshot --out resources/screenshot.png``.

Writes the sample scene (engine.synthetic, in a separate process: it uses rasterio, which must not
share a process with QGIS), starts a real QGIS application under Xvfb, opens the DEAL panel,
clicks one object per category, runs detection, waits for the task and saves the window.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WINDOW_SIZE = (1500, 900)


def _under_display(argv: list[str]) -> int | None:
    """Re-run this command under xvfb-run when there is no X display; None when already on one."""
    if os.environ.get("DISPLAY"):
        return None
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        print("error: no X display and xvfb-run is missing (apt-get install xvfb xauth)", file=sys.stderr)
        return 1
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    screen = f"-screen 0 {WINDOW_SIZE[0] + 100}x{WINDOW_SIZE[1] + 100}x24"
    return subprocess.call([xvfb, "-a", "-s", screen, sys.executable, "-m", "deal_qgis.screenshot", *argv], env=env, cwd=REPO)


def _write_sample(folder: Path, size: int) -> dict[str, str]:
    code = ("import json, sys; from engine.synthetic import write_sample_scene; "
            f"print(json.dumps({{k: str(v) for k, v in write_sample_scene(sys.argv[1], size={size}).items()}}))")
    done = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, cwd=REPO,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _take(out: Path, size: int, timeout_s: float) -> int:
    from qgis.core import QgsApplication, QgsCoordinateTransform, QgsProject, QgsRasterLayer, QgsVectorLayer
    from qgis.gui import QgsLayerTreeMapCanvasBridge, QgsLayerTreeView, QgsMapCanvas, QgsMessageBar
    from qgis.core import QgsLayerTreeModel
    from qgis.PyQt.QtCore import Qt
    from qgis.PyQt.QtWidgets import QDockWidget, QMainWindow, QToolBar, QVBoxLayout, QWidget

    app = QgsApplication([], True)
    app.initQgis()

    class Window(QMainWindow):
        """A small QGIS-like main window that also plays the plugin's ``iface``."""

        def __init__(self):
            super().__init__()
            self.setWindowTitle("QGIS - DEAL")
            self.canvas = QgsMapCanvas()
            self.bar = QgsMessageBar()
            central = QWidget()
            layout = QVBoxLayout(central)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(self.bar)
            layout.addWidget(self.canvas)
            self.setCentralWidget(central)
            self.toolbar = QToolBar("Plugins")
            self.addToolBar(self.toolbar)
            self.tree = QgsLayerTreeView()
            self.tree_model = QgsLayerTreeModel(QgsProject.instance().layerTreeRoot())
            self.tree.setModel(self.tree_model)
            self.bridge = QgsLayerTreeMapCanvasBridge(QgsProject.instance().layerTreeRoot(), self.canvas)
            legend = QDockWidget("Layers")
            legend.setWidget(self.tree)
            self.addDockWidget(Qt.LeftDockWidgetArea, legend)

        def mapCanvas(self):  # noqa: N802 (QgisInterface names)
            return self.canvas

        def messageBar(self):  # noqa: N802
            return self.bar

        def mainWindow(self):  # noqa: N802
            return self

        def addDockWidget(self, area, dock):  # noqa: N802
            super().addDockWidget(area, dock)
            if dock.windowTitle() != "Layers":
                self.resizeDocks([dock], [430], Qt.Horizontal)

        def addToolBarIcon(self, action):  # noqa: N802
            self.toolbar.addAction(action)

        def removeToolBarIcon(self, action):  # noqa: N802
            self.toolbar.removeAction(action)

        def addPluginToMenu(self, name, action):  # noqa: N802
            self.menuBar().addMenu(name).addAction(action)

        def removePluginMenu(self, name, action):  # noqa: N802
            pass

        def removeDockWidget(self, dock):  # noqa: N802
            super().removeDockWidget(dock)

    with tempfile.TemporaryDirectory(prefix="deal_screenshot_") as tmp:
        sample = _write_sample(Path(tmp), size)
        window = Window()
        window.resize(*WINDOW_SIZE)
        window.show()
        raster = QgsRasterLayer(sample["scene"], "sample scene", "gdal")
        QgsProject.instance().addMapLayer(raster)
        QgsProject.instance().setCrs(raster.crs())
        window.canvas.setDestinationCrs(raster.crs())
        window.canvas.setExtent(raster.extent())

        import deal_qgis

        plugin = deal_qgis.classFactory(window)
        plugin.initGui()
        plugin.action.setChecked(True)
        dock = plugin.dock
        dock.layer_combo.setLayer(raster)
        clicks = QgsVectorLayer(sample["clicks"], "clicks", "ogr")
        to_canvas = QgsCoordinateTransform(clicks.crs(), window.canvas.mapSettings().destinationCrs(), QgsProject.instance())
        for feature in clicks.getFeatures():
            dock.category_combo.setCurrentText(feature["category"])
            dock.add_click_at(to_canvas.transform(feature.geometry().asPoint()))
        app.processEvents()
        task = dock.start_run()
        finished: list[bool] = []
        task.taskCompleted.connect(lambda: finished.append(True))
        task.taskTerminated.connect(lambda: finished.append(False))
        deadline = time.monotonic() + timeout_s
        while not finished and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        if not finished or not finished[0]:
            print(f"error: the detection did not finish ({task.error or 'timeout'})", file=sys.stderr)
            return 1
        window.tree.expandAll()
        window.canvas.refreshAllLayers()
        # let the canvas start its render jobs, then wait until they are all drawn
        settle = time.monotonic() + 2
        deadline = time.monotonic() + 30
        while time.monotonic() < settle or (window.canvas.isDrawing() and time.monotonic() < deadline):
            app.processEvents()
            time.sleep(0.02)
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = window.grab().save(str(out))
        counts = {dock.counts_table.item(r, 0).text(): dock.counts_table.item(r, 1).text() for r in range(dock.counts_table.rowCount())}
        print(f"{out}: {dock.encode_label.text()}; counts {counts}")
        plugin.unload()
        window.close()
        QgsProject.instance().removeAllMapLayers()
        app.processEvents()
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description="Save a screenshot of the DEAL panel after a detection run.")
    parser.add_argument("--out", type=Path, default=REPO / "resources" / "screenshot.png")
    parser.add_argument("--size", type=int, default=1024, help="side of the sample scene in pixels")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the detection")
    args = parser.parse_args(argv)
    rerun = _under_display(argv)
    if rerun is not None:
        return rerun
    return _take(args.out.resolve(), args.size, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
