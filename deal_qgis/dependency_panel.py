"""The panel's banner that names missing Python packages and installs them on request."""

from __future__ import annotations

from qgis.core import Qgis, QgsApplication, QgsMessageLog, QgsTask
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from . import dependencies
from .error_reporting import LOG_TAG, guarded
from .translation import tr


class _InstallTask(QgsTask):
    def __init__(self, names: list[str]):
        super().__init__(tr("Installing {0} for DEAL").format(", ".join(names)), QgsTask.Flags())
        self.names = names
        self.ok = False
        self.output = ""

    def run(self) -> bool:
        self.ok, self.output = dependencies.install(self.names)
        return self.ok


class DependencyBanner(QWidget):
    """Hidden when nothing is missing; else says exactly what is and offers to install it.

    ``resolved`` fires once an installation made every package importable.
    """

    resolved = pyqtSignal()

    def __init__(self, message_bar, parent: QWidget | None = None):
        super().__init__(parent)
        self._message_bar = message_bar
        self._task: _InstallTask | None = None
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.install_button = QPushButton(self)
        self.install_button.clicked.connect(self._install)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.install_button)
        self.missing: list[str] = []
        self.refresh()

    def message_bar(self):
        return self._message_bar

    def refresh(self) -> list[str]:
        """Check the packages again and update the banner; returns the missing ones."""
        self.missing = dependencies.missing_dependencies()
        self.setVisible(bool(self.missing))
        if self.missing:
            names = ", ".join(self.missing)
            self.label.setText(tr("DEAL needs the Python package(s) {0}, which this QGIS cannot import. "
                                  "Detection is disabled until they are installed into {1}.").format(names, dependencies.deps_folder()))
            self.install_button.setText(tr("Install {0}").format(names))
        return self.missing

    @guarded
    def _install(self) -> None:
        self.install_button.setEnabled(False)
        self.label.setText(tr("Installing {0} with pip... QGIS stays usable meanwhile.").format(", ".join(self.missing)))
        self._task = _InstallTask(list(self.missing))
        self._task.taskCompleted.connect(self._installed)
        self._task.taskTerminated.connect(self._installed)
        QgsApplication.taskManager().addTask(self._task)

    @guarded
    def _installed(self) -> None:
        task, self._task = self._task, None
        self.install_button.setEnabled(True)
        QgsMessageLog.logMessage(task.output, LOG_TAG, Qgis.Info)
        if not self.refresh():
            self._message_bar.pushMessage(LOG_TAG, tr("Packages installed: DEAL is ready."), Qgis.Success, 5)
            self.resolved.emit()
            return
        self._message_bar.pushMessage(LOG_TAG, tr("Installing {0} failed; pip's output is in the Log Messages panel, DEAL tab. "
                                                  "A restart of QGIS may be needed.").format(", ".join(self.missing)), Qgis.Critical, 15)
