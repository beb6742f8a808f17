"""``qgis_process run deal:detect`` from the command line, as the README describes it: the plugin,
laid out as its ZIP installs it, found through QGIS_PLUGINPATH and enabled in a (here throw-away)
QGIS profile, run headless."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

from qgis.core import QgsVectorLayer

from deal_qgis.packaging import members

QGIS_PROCESS = shutil.which("qgis_process") or "qgis_process"


def install_plugin(plugins_dir: Path) -> None:
    """Lay the plugin out in ``plugins_dir`` exactly as its ZIP installs it (engine and model in libs/)."""
    for name, source in members().items():
        target = plugins_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def test_qgis_process_run_detect(scene_data, tmp_path):
    install_plugin(tmp_path / "plugins")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "qgis-config"),
               QGIS_PLUGINPATH=str(tmp_path / "plugins"),
               # onnxruntime from this test's environment (users install it through the plugin)
               PYTHONPATH=sysconfig.get_paths()["purelib"])
    enable = subprocess.run([QGIS_PROCESS, "plugins", "enable", "deal_qgis"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert enable.returncode == 0, enable.stdout + enable.stderr

    output = tmp_path / "out.gpkg"
    run = subprocess.run([QGIS_PROCESS, "--json", "run", "deal:detect", "--", f"INPUT={scene_data['scene']}",
                          f"PROMPTS={scene_data['clicks']}", "CATEGORY_FIELD=cat", f"OUTPUT={output}"],
                         env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    results = json.loads(run.stdout[run.stdout.index("{"):])["results"]
    layer = QgsVectorLayer(str(output), "out", "ogr")
    assert layer.isValid()
    assert layer.featureCount() == results["DETECTIONS"]
    assert layer.crs().authid() == "EPSG:32633"
