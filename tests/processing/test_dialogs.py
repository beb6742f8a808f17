"""The algorithm dialog and the batch dialog build for deal:detect, show each parameter's help,
and the dialog's values pass the algorithm's own checks."""

from __future__ import annotations

import pytest
from qgis.core import (
    Qgis,
    QgsApplication,
    QgsProcessingContext,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
)

from engine.runtime import default_model_path


@pytest.fixture
def dialog_panels(monkeypatch):
    """Processing's panels ask ``iface`` for a browser model; pytest-qgis's stub has none, and the
    panels work without one (as in qgis_process), so they are built as if there were no iface."""
    import processing.gui.ParametersPanel

    monkeypatch.setattr(processing.gui.ParametersPanel, "iface", None)


@pytest.fixture
def project_layers(scene_data, qgis_new_project):
    raster = QgsRasterLayer(scene_data["scene"], "scene", "gdal")
    clicks = QgsVectorLayer(scene_data["clicks"], "clicks", "ogr")
    assert raster.isValid() and clicks.isValid()
    QgsProject.instance().addMapLayers([raster, clicks])
    return raster, clicks


def test_dialog_shows_help_and_gives_valid_parameters(deal_provider, dialog_panels, project_layers):
    from processing.gui.AlgorithmDialog import AlgorithmDialog

    raster, clicks = project_layers
    dialog = AlgorithmDialog(QgsApplication.processingRegistry().createAlgorithmById("deal:detect"), False, None)
    panel = dialog.mainWidget()
    algorithm = dialog.algorithm()
    tooltips = {name: wrapper.wrappedWidget().toolTip() for name, wrapper in panel.wrappers.items()
                if wrapper.wrappedWidget() is not None and wrapper.wrappedWidget().toolTip()}
    assert {"INPUT", "PROMPTS", "SCORE_THRESHOLD", "MODEL", "CACHE_DIR", "OUTPUT", "DENSITY"} <= set(tooltips)
    for name, tooltip in tooltips.items():
        assert algorithm.parameterDefinition(name).help() in tooltip, name
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    panel.wrappers["INPUT"].setParameterValue(raster.id(), context)
    panel.wrappers["PROMPTS"].setParameterValue(clicks.id(), context)
    panel.wrappers["CATEGORY_FIELD"].setParameterValue("cat", context)

    parameters = panel.createProcessingParameters()
    assert parameters["DEVICE"] == "auto"
    assert parameters["MODEL"] == str(default_model_path())
    assert parameters.get("CACHE_DIR") in (None, "")
    valid, message = algorithm.checkParameterValues(parameters, context)
    assert valid, message
    assert algorithm.parameterAsRasterLayer(parameters, "INPUT", context).id() == raster.id()


def test_batch_dialog_builds_for_both_algorithms(deal_provider, dialog_panels):
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog

    for algorithm_id in ("deal:detect", "deal:encode"):
        algorithm = QgsApplication.processingRegistry().createAlgorithmById(algorithm_id)
        assert algorithm.flags() & Qgis.ProcessingAlgorithmFlag.SupportsBatch
        assert algorithm.flags() & Qgis.ProcessingAlgorithmFlag.CanCancel
        batch = BatchAlgorithmDialog(algorithm)
        assert batch.mainWidget().batchRowCount() == 1
