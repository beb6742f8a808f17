"""``qgis_process run deal:detect`` from the command line, as the README describes it: the plugin
found through QGIS_PLUGINPATH, enabled in a (here throw-away) QGIS profile, run headless."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

from qgis.core import QgsVectorLayer

ROOT = Path(__file__).resolve().parents[2]
QGIS_PROCESS = shutil.which("qgis_process") or "qgis_process"


def stage_plugin(plugins_dir: Path) -> Path:
    """A plugin folder ``plugins_dir/deal_qgis`` as QGIS expects it (metadata.txt inside), made
    of links to the checkout, so the test runs the working tree's code."""
    plugin = plugins_dir / "deal_qgis"
    plugin.mkdir(parents=True)
    for entry in (ROOT / "deal_qgis").iterdir():
        if entry.name != "__pycache__":
            (plugin / entry.name).symlink_to(entry)
    for shared in ("metadata.txt", "resources", "i18n"):
        (plugin / shared).symlink_to(ROOT / shared)
    return plugin


def test_qgis_process_run_detect(scene_data, tmp_path):
    stage_plugin(tmp_path / "plugins")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "qgis-config"),
               QGIS_PLUGINPATH=str(tmp_path / "plugins"),
               # the engine from the checkout; onnxruntime and friends from this test's environment
               PYTHONPATH=os.pathsep.join([str(ROOT), sysconfig.get_paths()["purelib"]]))
    enable = subprocess.run([QGIS_PROCESS, "plugins", "enable", "deal_qgis"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert enable.returncode == 0, enable.stdout + enable.stderr

    output = tmp_path / "out.gpkg"
    run = subprocess.run([QGIS_PROCESS, "--json", "run", "deal:detect", "--", f"INPUT={scene_data['scene']}",
                          f"PROMPTS={scene_data['clicks']}", "CATEGORY_FIELD=cat", f"OUTPUT={output}"],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    results = json.loads(run.stdout[run.stdout.index("{"):])["results"]
    layer = QgsVectorLayer(str(output), "out", "ogr")
    assert layer.isValid()
    assert layer.featureCount() == results["DETECTIONS"]
    assert layer.crs().authid() == "EPSG:32633"
