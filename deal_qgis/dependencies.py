"""Python packages DEAL needs beyond QGIS, and installing the missing ones into a folder the plugin owns.

Packages go to ``<QGIS profile>/python/deal_qgis_deps`` with ``pip install --target``, run by the
Python interpreter QGIS itself uses. That folder is appended to ``sys.path`` (after QGIS's own
packages, so QGIS's NumPy always wins over one pip may bring along).
This module imports neither NumPy nor the engine, so it works when they are missing.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from qgis.core import QgsApplication

# import name -> pip requirement
REQUIRED = {"numpy": "numpy", "onnxruntime": "onnxruntime==1.20.1"}

# Tests replace this to simulate a missing package.
import_module = importlib.import_module


def deps_folder() -> Path:
    return Path(QgsApplication.qgisSettingsDirPath()) / "python" / "deal_qgis_deps"


def add_deps_folder_to_path() -> None:
    folder = str(deps_folder())
    if os.path.isdir(folder) and folder not in sys.path:
        sys.path.append(folder)
        importlib.invalidate_caches()


def missing_dependencies() -> list[str]:
    """Import names of the required packages that cannot be imported, in REQUIRED order."""
    missing = []
    for name in REQUIRED:
        try:
            import_module(name)
        except Exception:  # a broken install (ImportError, OSError from a missing DLL...) counts as missing
            missing.append(name)
    return missing


def python_executable() -> str:
    """A Python interpreter of the same version as QGIS's embedded one, to run pip with.

    ``sys.executable`` is the QGIS binary on some platforms and an unrelated ``python3`` shim on
    others, so look beside the embedded Python's prefix first (``<prefix>/bin/python3.X`` on
    Linux and macOS, ``<prefix>/python.exe`` on Windows).
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    prefix = Path(sys.exec_prefix)
    candidates = [prefix / "bin" / f"python{version}", prefix / "python.exe", prefix / "bin" / "python3"]
    exe = Path(sys.executable)
    if exe.name.lower().startswith("python"):
        candidates.append(exe)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(f"python{version}") or shutil.which("python3") or "python3"


def install_command(names: list[str]) -> list[str]:
    """The pip command line that installs ``names`` (import names) into the plugin's folder."""
    requirements = [REQUIRED[name] for name in names]
    # --no-deps: at run time onnxruntime needs only NumPy; its other dependencies (sympy,
    # protobuf...) serve its tools, and a second NumPy must never shadow the one QGIS uses.
    return [python_executable(), "-m", "pip", "install", "--disable-pip-version-check", "--upgrade", "--no-deps",
            "--target", str(deps_folder()), *requirements]


def install(names: list[str], timeout_s: float = 900.0) -> tuple[bool, str]:
    """Run pip for ``names``; (success, pip's output)."""
    deps_folder().mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(install_command(names), capture_output=True, text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    add_deps_folder_to_path()
    return done.returncode == 0, (done.stdout or "") + (done.stderr or "")
