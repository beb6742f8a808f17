"""The plugin ZIP: one top folder, what QGIS needs, nothing from tests, caches or training, importable."""

from __future__ import annotations

import configparser
import subprocess
import sys
import zipfile

from deal_qgis.packaging import build, plugin_version


def test_zip_members_and_import(tmp_path):
    path = build(tmp_path / "dist")
    assert path.name == f"deal_qgis-{plugin_version()}.zip"
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        metadata = configparser.ConfigParser()
        metadata.read_string(archive.read("deal_qgis/metadata.txt").decode())
        archive.extractall(tmp_path / "plugins")
    assert {n.split("/")[0] for n in names} == {"deal_qgis"}
    for required in ("deal_qgis/__init__.py", "deal_qgis/plugin.py", "deal_qgis/dock.py", "deal_qgis/layer_source.py",
                     "deal_qgis/resources/icon.png", "deal_qgis/resources/icon.svg", "deal_qgis/i18n/deal_fr.qm",
                     "deal_qgis/i18n/deal_zh.qm", "deal_qgis/libs/engine/__init__.py", "deal_qgis/libs/engine/runtime.py",
                     "deal_qgis/libs/engine/georef.py"):
        assert required in names
    assert f"deal_qgis/{metadata['general']['icon']}" in names
    assert metadata["general"]["hasProcessingProvider"] == "yes"
    forbidden = ("__pycache__", ".pyc", "/tests/", "libs/engine/model/", "libs/engine/training/", "packaging.py",
                 "screenshot.py", "screenshot.png")
    assert not [n for n in names if any(f in n for f in forbidden)]
    # The extracted plugin finds its own engine copy (and model, when bundled) without the repository.
    probe = ("import deal_qgis, engine, engine.runtime; print(engine.__file__); "
             "print(engine.runtime.default_model_path())")
    done = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": str(tmp_path / "plugins"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    engine_file, model_path = done.stdout.split()
    assert engine_file.startswith(str(tmp_path / "plugins" / "deal_qgis" / "libs" / "engine"))
    if any(n.startswith("deal_qgis/libs/engine/model_files/") for n in names):
        assert model_path == str(tmp_path / "plugins" / "deal_qgis" / "libs" / "engine" / "model_files")
