"""French and Chinese translations: complete, placeholders intact, loaded into the plugin's tr()."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from qgis.PyQt.QtCore import QCoreApplication

from deal_qgis.plugin_paths import translations_dir
from deal_qgis.translation import install_translator, tr

PLACEHOLDER = re.compile(r"\{[^{}]*\}")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("language", ["fr", "zh"])
def test_ts_complete_with_same_placeholders(language):
    root = ET.parse(translations_dir() / f"deal_{language}.ts").getroot()
    assert [c.findtext("name") for c in root.iter("context")] == ["DEAL"]
    messages = list(root.iter("message"))
    assert len(messages) > 50
    copied = 0
    for message in messages:
        source, translation = message.findtext("source"), message.find("translation")
        assert translation.get("type") is None and translation.text, f"untranslated: {source!r}"
        copied += translation.text == source  # format names such as "GeoPackage (*.gpkg)" stay as they are
        assert sorted(PLACEHOLDER.findall(translation.text)) == sorted(PLACEHOLDER.findall(source)), source
    assert copied < 0.05 * len(messages)


@pytest.mark.parametrize("language, expected", [("fr", "Détecter"), ("zh", "检测")])
def test_qm_loaded_by_translator(language, expected):
    translator = install_translator(language)
    assert translator is not None
    try:
        assert tr("Detect") == expected
        assert tr("Scene encoded ({0} tiles, {1:.1f} s)").format(3, 1.25).endswith(("s)", "秒）"))
    finally:
        QCoreApplication.removeTranslator(translator)
    assert tr("Detect") == "Detect"


def test_unknown_language_has_no_translator():
    assert install_translator("xx") is None


def test_engine_stages_translated():
    from deal_qgis.stage_text import stage_text

    translator = install_translator("fr")
    try:
        assert stage_text("encoding tile 3/12") == "encodage de la tuile 3/12"
        assert stage_text("reading the 'wind turbine' clicks") == "lecture des clics « wind turbine »"
        assert stage_text("something new") == "something new"
    finally:
        QCoreApplication.removeTranslator(translator)
    assert stage_text("detecting tile 1/4") == "detecting tile 1/4"


@pytest.mark.skipif(shutil.which("pylupdate5") is None, reason="pylupdate5 (pyqt5-dev-tools) is not installed")
def test_ts_files_hold_every_string_of_the_code(tmp_path):
    """Every tr() string in deal_qgis/ is in the .ts files (run `make translations` and translate after changing text)."""
    sources = sorted(str(p) for p in (ROOT / "deal_qgis").rglob("*.py") if "__pycache__" not in p.parts)
    subprocess.run(["pylupdate5", "-noobsolete", *sources, "-ts", str(tmp_path / "now.ts")], check=True, capture_output=True)
    in_code = {m.findtext("source") for m in ET.parse(tmp_path / "now.ts").getroot().iter("message")}
    for language in ("fr", "zh"):
        in_ts = {m.findtext("source") for m in ET.parse(translations_dir() / f"deal_{language}.ts").getroot().iter("message")}
        assert in_code <= in_ts, f"not in deal_{language}.ts: {sorted(in_code - in_ts)}"
