"""The example Graphical Modeler model (resources/deal_detect_and_buffer.model3) loads and runs:
deal:detect feeding native:buffer."""

from __future__ import annotations

from pathlib import Path

import processing
import pytest
from qgis.core import QgsProcessingModelAlgorithm, QgsVectorLayer

MODEL_FILE = Path(__file__).resolve().parents[2] / "resources" / "deal_detect_and_buffer.model3"


@pytest.fixture
def example_model(deal_provider) -> QgsProcessingModelAlgorithm:
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL_FILE))
    return model


def test_model_chains_detect_into_buffer(example_model):
    children = {child.childId(): child.algorithmId() for child in example_model.childAlgorithms().values()}
    assert children == {"deal_detect": "deal:detect", "native_buffer": "native:buffer"}
    assert example_model.dependsOnChildAlgorithms("native_buffer") == {"deal_detect"}
    valid, errors = example_model.validate()
    assert valid, errors


def test_model_runs_and_buffers_every_detection(example_model, scene_data, tmp_path):
    result = processing.run(example_model, {
        "raster": scene_data["scene"], "prompts": scene_data["clicks"], "category_field": "cat",
        "score_threshold": 0.0, "buffer_distance": 2.0,
        "detected_objects": str(tmp_path / "objects.gpkg"),
        "counts_per_category": str(tmp_path / "counts.gpkg"),
        "buffered_objects": str(tmp_path / "buffered.gpkg"),
    })
    objects = QgsVectorLayer(result["detected_objects"], "objects", "ogr")
    buffered = QgsVectorLayer(result["buffered_objects"], "buffered", "ogr")
    counts = QgsVectorLayer(result["counts_per_category"], "counts", "ogr")
    assert objects.isValid() and buffered.isValid() and counts.isValid()
    assert buffered.crs() == objects.crs()
    assert buffered.featureCount() == objects.featureCount() == sum(f["count"] for f in counts.getFeatures()) > 0
    areas = sorted(f["area_m2"] for f in objects.getFeatures())
    grown = sorted(f.geometry().area() for f in buffered.getFeatures())
    assert all(after > before for before, after in zip(areas, grown))
