"""The plugin object QGIS loads: toolbar button, menu entry, the panel and the Processing provider."""

from __future__ import annotations

import traceback

from qgis.core import Qgis, QgsApplication, QgsMessageLog
from qgis.gui import QgsDockWidget
from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from . import dependencies
from .error_reporting import LOG_TAG, guarded
from .plugin_paths import icon_path
from .translation import install_translator, tr

MENU = "&DEAL"


class DealPlugin:
    """Created by ``classFactory``; QGIS calls ``initGui``/``initProcessing`` on load and ``unload`` on unload."""

    def __init__(self, iface):
        self.iface = iface
        self.translator = install_translator()
        self.action: QAction | None = None
        self.dock: QgsDockWidget | None = None
        self.provider = None
        dependencies.add_deps_folder_to_path()

    def message_bar(self):
        return self.iface.messageBar()

    def initProcessing(self) -> None:
        """Register the Processing provider; a broken provider is logged and the panel still loads."""
        if self.provider is not None:
            return
        try:
            from .processing.provider import DealProvider

            provider = DealProvider()
            if QgsApplication.processingRegistry().addProvider(provider):
                self.provider = provider
        except Exception:  # the panel must load even when Processing support is broken
            QgsMessageLog.logMessage(tr("The DEAL Processing tools could not be loaded:\n{0}").format(traceback.format_exc()),
                                     LOG_TAG, Qgis.Warning)

    def initGui(self) -> None:
        self.initProcessing()
        self.action = QAction(QIcon(str(icon_path())), tr("DEAL - Detect Any smalL object"), self.iface.mainWindow())
        self.action.setObjectName("DealShowPanel")
        self.action.setCheckable(True)
        self.action.setToolTip(tr("Open the DEAL panel: click one object, find all objects of that kind"))
        self.action.toggled.connect(self.show_panel)
        self.iface.addToolBarIcon(self.action)
        self.iface.addPluginToMenu(MENU, self.action)

    @guarded
    def show_panel(self, visible: bool = True) -> None:
        """Show (creating it on first use) or hide the panel."""
        if self.dock is None:
            if not visible:
                return
            self.dock = self._create_dock()
            self.iface.addDockWidget(Qt.RightDockWidgetArea, self.dock)
            self.dock.visibilityChanged.connect(self._dock_visibility)
        if visible:
            self.dock.show()
            self.dock.raise_()
        else:
            self.dock.hide()

    def _dock_visibility(self, visible: bool) -> None:
        if self.action is not None and self.action.isChecked() != visible:
            self.action.setChecked(visible)

    def _create_dock(self) -> QgsDockWidget:
        """The full panel; a panel with only the installation banner while NumPy is missing
        (the panel's modules need it)."""
        if "numpy" in dependencies.missing_dependencies():
            from .dependency_panel import DependencyBanner

            dock = QgsDockWidget(tr("DEAL - Detect Any smalL object"), self.iface.mainWindow())
            dock.setObjectName("DealDock")
            dock.banner = DependencyBanner(self.message_bar(), dock)
            dock.setWidget(dock.banner)
            return dock
        from .dock import DealDock

        return DealDock(self.iface, self.iface.mainWindow())

    def unload(self) -> None:
        if self.dock is not None:
            if hasattr(self.dock, "shutdown"):
                self.dock.shutdown()
            self.iface.removeDockWidget(self.dock)
            self.dock.deleteLater()
            self.dock = None
        if self.action is not None:
            self.iface.removePluginMenu(MENU, self.action)
            self.iface.removeToolBarIcon(self.action)
            self.action.deleteLater()
            self.action = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.translator is not None:
            QCoreApplication.removeTranslator(self.translator)
            self.translator = None
