"""Build the plugin ZIP that QGIS's "Install from ZIP" accepts: ``python -m deal_qgis.packaging --out dist``.

Layout of ``dist/deal_qgis-<version>.zip`` (one top folder, as QGIS requires)::

    deal_qgis/                 plugin code (this package, with processing/)
    deal_qgis/metadata.txt
    deal_qgis/resources/       icon.svg, icon.png, the example Processing model (*.model3)
    deal_qgis/i18n/            compiled translations (*.qm)
    deal_qgis/libs/engine/     the inference engine; deal_qgis/__init__.py puts libs/ on sys.path
    deal_qgis/libs/engine/model_files/   the bundled model (resources/model/ of the repository),
                               where engine.runtime.default_model_path() looks inside the plugin

Training and model-definition code (engine/model, engine/training, engine/evaluation: they need
torch), the developer tools (packaging, screenshot), tests and caches stay out.
"""

from __future__ import annotations

import argparse
import configparser
import sys
import zipfile
from pathlib import Path

from engine.io.atomic import atomic_path

REPO = Path(__file__).resolve().parents[1]
TOP = "deal_qgis"
ENGINE_EXCLUDED = {"model", "training", "evaluation", "setup"}
SKIPPED_PARTS = {"__pycache__", ".pytest_cache", "tests"}
SKIPPED_SUFFIXES = {".pyc", ".pyo"}
DEVELOPER_TOOLS = {"packaging.py", "screenshot.py"}  # run from the repository, not inside QGIS
DOCS_ONLY = {"screenshot.png"}


def plugin_version(metadata: Path = REPO / "metadata.txt") -> str:
    parser = configparser.ConfigParser()
    parser.read(metadata, encoding="utf-8")
    return parser["general"]["version"]


def _files(folder: Path, excluded_top: set[str] = frozenset()) -> list[Path]:
    """Files under ``folder`` worth shipping, sorted (caches and excluded first-level folders skipped)."""
    kept = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or path.suffix in SKIPPED_SUFFIXES or SKIPPED_PARTS & set(rel.parts):
            continue
        if rel.parts[0] in excluded_top or any(p.startswith(".") for p in rel.parts):
            continue
        kept.append(path)
    return kept


def members(repo: Path = REPO) -> dict[str, Path]:
    """Archive name -> source file for everything the ZIP holds."""
    entries: dict[str, Path] = {}
    for path in _files(repo / "deal_qgis"):
        if path.name in DEVELOPER_TOOLS and path.parent == repo / "deal_qgis":
            continue
        entries[f"{TOP}/{path.relative_to(repo / 'deal_qgis').as_posix()}"] = path
    entries[f"{TOP}/metadata.txt"] = repo / "metadata.txt"
    for path in sorted((repo / "resources").iterdir()):
        if path.is_file() and path.name not in DOCS_ONLY:
            entries[f"{TOP}/resources/{path.name}"] = path
    for qm in sorted((repo / "i18n").glob("*.qm")):
        entries[f"{TOP}/i18n/{qm.name}"] = qm
    for path in _files(repo / "engine", ENGINE_EXCLUDED):
        if path.suffix == ".py" or path.name == "requirements.txt":
            entries[f"{TOP}/libs/engine/{path.relative_to(repo / 'engine').as_posix()}"] = path
    model = repo / "resources" / "model"
    if model.is_dir():
        for path in _files(model):
            entries[f"{TOP}/libs/engine/model_files/{path.relative_to(model).as_posix()}"] = path
    return entries


def build(out_dir: Path, repo: Path = REPO) -> Path:
    """Write ``<out_dir>/deal_qgis-<version>.zip`` atomically; returns its path."""
    entries = members(repo)
    missing = [str(src) for src in entries.values() if not src.exists()]
    if missing:
        raise FileNotFoundError(f"Cannot package: missing {', '.join(missing)} (run `make translations` for .qm files).")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{TOP}-{plugin_version(repo / 'metadata.txt')}.zip"
    with atomic_path(target) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, src in entries.items():
                # ONNX weights barely compress; storing them keeps packaging fast
                archive.write(src, name, zipfile.ZIP_STORED if src.suffix == ".onnx" else zipfile.ZIP_DEFLATED)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the DEAL QGIS plugin ZIP.")
    parser.add_argument("--out", type=Path, default=REPO / "dist", help="output folder (default: dist)")
    args = parser.parse_args(argv)
    try:
        path = build(args.out)
    except (OSError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
