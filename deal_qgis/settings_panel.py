"""The collapsible settings group of the panel; every change is saved to QgsSettings at once."""

from __future__ import annotations

from qgis.gui import QgsCollapsibleGroupBox, QgsFileWidget
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QSpinBox, QWidget

from .settings import DEVICES, DealSettings, bracket_texts, self_prompt_texts, views_texts
from .translation import tr


def bundled_model_path() -> str:
    """engine.runtime.default_model_path(), or "" when the engine cannot be imported yet."""
    try:
        from engine.runtime import default_model_path

        return str(default_model_path())
    except Exception:  # a missing onnxruntime must not keep the settings from showing
        return ""


class SettingsPanel(QgsCollapsibleGroupBox):
    """Model folder, tile size, overlap, score threshold, device, output folder."""

    changed = pyqtSignal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(tr("Settings"), parent)
        self.setCollapsed(True)
        self.model = QgsFileWidget(self)
        self.model.setStorageMode(QgsFileWidget.GetDirectory)
        self.model.lineEdit().setPlaceholderText(bundled_model_path() or tr("bundled model"))
        self.model.setToolTip(tr("Folder holding encoder.onnx and prompt_head.onnx; empty = the model shipped with DEAL."))
        self.tile_size = QSpinBox(self)
        self.tile_size.setRange(0, 4096)
        self.tile_size.setSingleStep(64)
        self.tile_size.setSpecialValueText(tr("model default"))
        self.overlap = QSpinBox(self)
        self.overlap.setRange(0, 1024)
        self.overlap.setSingleStep(16)
        self.overlap.setSpecialValueText(tr("model default"))
        self.score = QDoubleSpinBox(self)
        self.score.setRange(0.0, 1.0)
        self.score.setSingleStep(0.05)
        self.score.setDecimals(2)
        self.score.setSpecialValueText(tr("model default"))
        self.device = QComboBox(self)
        labels = {"auto": tr("automatic (GPU if available)"), "cpu": tr("CPU"), "cuda": tr("GPU (CUDA)")}
        for device in DEVICES:
            self.device.addItem(labels[device], device)
        self.output = QgsFileWidget(self)
        self.output.setStorageMode(QgsFileWidget.GetDirectory)
        self.output.lineEdit().setPlaceholderText(tr("temporary layers"))
        self.output.setToolTip(tr("Folder where detections (GeoPackage) and density (GeoTIFF) are saved; empty = temporary layers."))
        label, help_text = bracket_texts()
        self.bracket = QCheckBox(label, self)
        self.bracket.setToolTip(help_text)
        label, help_text = self_prompt_texts()
        self.self_prompt = QCheckBox(label, self)
        self.self_prompt.setToolTip(help_text)
        label, help_text = views_texts()
        self.mirror_views = QCheckBox(label, self)
        self.mirror_views.setToolTip(help_text)
        form = QFormLayout(self)
        form.addRow(tr("Model folder"), self.model)
        form.addRow(tr("Tile size (px)"), self.tile_size)
        form.addRow(tr("Tile overlap (px)"), self.overlap)
        form.addRow(tr("Score threshold"), self.score)
        form.addRow(tr("Device"), self.device)
        form.addRow(tr("Output folder"), self.output)
        form.addRow(tr("Scale"), self.bracket)
        form.addRow(tr("Examples"), self.self_prompt)
        form.addRow(tr("Views"), self.mirror_views)
        self.set_settings(DealSettings.load())
        for signal in (self.model.fileChanged, self.output.fileChanged, self.tile_size.valueChanged,
                       self.overlap.valueChanged, self.score.valueChanged, self.device.currentIndexChanged,
                       self.bracket.toggled, self.self_prompt.toggled, self.mirror_views.toggled):
            signal.connect(self._save)

    def set_settings(self, settings: DealSettings) -> None:
        self.blockSignals(True)
        self.model.setFilePath(settings.model_path)
        self.tile_size.setValue(settings.tile_size)
        self.overlap.setValue(settings.overlap)
        self.score.setValue(settings.score_threshold)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.output.setFilePath(settings.output_folder)
        self.bracket.setChecked(settings.bracket)
        self.self_prompt.setChecked(settings.self_prompt)
        self.mirror_views.setChecked(settings.mirror_views)
        self.blockSignals(False)

    def settings(self) -> DealSettings:
        return DealSettings(model_path=self.model.filePath().strip(), tile_size=self.tile_size.value(),
                            overlap=self.overlap.value(), score_threshold=round(self.score.value(), 4),
                            device=self.device.currentData(), output_folder=self.output.filePath().strip(),
                            bracket=self.bracket.isChecked(), self_prompt=self.self_prompt.isChecked(),
                            mirror_views=self.mirror_views.isChecked())

    def _save(self, *_args) -> None:
        self.settings().save()
        self.changed.emit()
