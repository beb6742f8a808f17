"""The plugin loads through classFactory with pytest-qgis's iface, opens its panel, and unloads cleanly."""

from __future__ import annotations

import sys

from qgis.core import Qgis, QgsApplication
from qgis.gui import QgsMapLayerComboBox

import deal_qgis
from deal_qgis import dependencies
from deal_qgis.dock import DealDock


def test_load_open_panel_unload(qgis_iface, utm_raster):
    plugin = deal_qgis.classFactory(qgis_iface)
    plugin.initGui()
    try:
        assert plugin.action is not None and not plugin.action.icon().isNull()
        plugin.action.setChecked(True)
        assert isinstance(plugin.dock, DealDock)
        combo = plugin.dock.findChild(QgsMapLayerComboBox)
        assert combo.currentLayer() is utm_raster
        assert not plugin.dock.isHidden()
        plugin.action.setChecked(False)
        assert plugin.dock.isHidden()
    finally:
        plugin.unload()
    assert plugin.dock is None and plugin.action is None
    assert plugin.provider is None


def test_processing_provider_failure_is_logged_not_raised(qgis_iface, monkeypatch):
    # A provider module whose import fails stands for any breakage on engineer C's side.
    monkeypatch.setitem(sys.modules, "deal_qgis.processing.provider", None)
    logged = []
    monkeypatch.setattr("deal_qgis.plugin.QgsMessageLog.logMessage", lambda text, tag, level: logged.append((tag, level)))
    plugin = deal_qgis.classFactory(qgis_iface)
    plugin.initGui()
    try:
        assert plugin.provider is None
        assert ("DEAL", Qgis.Warning) in logged
        assert plugin.action is not None
    finally:
        plugin.unload()


def test_missing_onnxruntime_shows_message_and_blocks_run(qgis_iface, utm_raster, monkeypatch):
    real_import = dependencies.import_module

    def failing_import(name):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real_import(name)

    monkeypatch.setattr(dependencies, "import_module", failing_import)
    plugin = deal_qgis.classFactory(qgis_iface)
    plugin.initGui()
    try:
        plugin.show_panel(True)
        banner = plugin.dock.banner
        assert banner.missing == ["onnxruntime"]
        assert not banner.isHidden()
        assert "onnxruntime" in banner.label.text() and "onnxruntime" in banner.install_button.text()
        command = dependencies.install_command(["onnxruntime"])
        assert command[-1] == "onnxruntime==1.20.1" and "--no-deps" in command
        assert command[command.index("--target") + 1] == str(dependencies.deps_folder())
        assert not plugin.dock.run_button.isEnabled()
        qgis_iface.messageBar().clear_messages()
        plugin.dock._run()  # a slot: reports, never raises
        warnings = qgis_iface.messageBar().get_messages(Qgis.Warning)
        assert any("missing Python packages" in m for m in warnings)
    finally:
        plugin.unload()


def test_missing_numpy_panel_still_opens(qgis_iface, monkeypatch):
    real_import = dependencies.import_module

    def failing_import(name):
        if name == "numpy":
            raise ImportError("No module named 'numpy'")
        return real_import(name)

    monkeypatch.setattr(dependencies, "import_module", failing_import)
    plugin = deal_qgis.classFactory(qgis_iface)
    plugin.initGui()
    try:
        plugin.show_panel(True)
        assert not isinstance(plugin.dock, DealDock)
        assert plugin.dock.banner.missing == ["numpy"]
        assert "numpy" in plugin.dock.banner.label.text()
    finally:
        plugin.unload()


def test_processing_provider_registered(qgis_iface):
    from deal_qgis.processing.provider import DealProvider

    plugin = deal_qgis.classFactory(qgis_iface)
    plugin.initGui()
    try:
        assert isinstance(plugin.provider, DealProvider)
        assert QgsApplication.processingRegistry().providerById(plugin.provider.id()) is not None
    finally:
        plugin.unload()
    assert QgsApplication.processingRegistry().providerById("deal") is None


def test_settings_persist_through_qgssettings(qgis_iface):
    from deal_qgis.settings import DealSettings
    from deal_qgis.settings_panel import SettingsPanel

    saved = DealSettings.load()
    try:
        panel = SettingsPanel()
        panel.tile_size.setValue(512)
        panel.score.setValue(0.35)
        panel.device.setCurrentIndex(panel.device.findData("cpu"))
        panel.output.setFilePath("/tmp/deal-out")
        panel.bracket.setChecked(True)
        panel.self_prompt.setChecked(True)
        panel.mirror_views.setChecked(True)
        loaded = DealSettings.load()
        assert (loaded.tile_size, loaded.score_threshold, loaded.device, loaded.output_folder) == (512, 0.35, "cpu", "/tmp/deal-out")
        assert loaded.bracket is True and loaded.self_prompt is True and loaded.mirror_views is True
        assert SettingsPanel().settings() == loaded
        panel.bracket.setChecked(False)  # stored as text by some QGIS builds: "false" must read back as False
        assert DealSettings.load().bracket is False
        panel.self_prompt.setChecked(False)
        assert DealSettings.load().self_prompt is False
        panel.mirror_views.setChecked(False)
        assert DealSettings.load().mirror_views is False
    finally:
        saved.save()


def test_pip_runs_with_a_python_of_qgis_version():
    import subprocess

    done = subprocess.run([dependencies.python_executable(), "-c", "import sys; print(sys.version_info[:2])"],
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == str(tuple(sys.version_info[:2]))
