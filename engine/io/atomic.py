"""Atomic output: write into a temporary folder beside the final path, then move into place.

A reader never sees a half-written file, and a failed or cancelled run leaves nothing behind.
Formats made of several files (a Shapefile's .shp/.shx/.dbf/.prj/.cpg) move together.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from ..errors import OutputError

# Sidecars GDAL may write next to a Shapefile; stale ones from an earlier run are removed
# so the new .shp is never read with an old .prj or index.
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".qmd")


def check_writable(final_path: str | os.PathLike) -> Path:
    """Make sure ``final_path`` can be created, before any long work starts.

    Raises OutputError naming the path and what to do when its folder is missing, is not a
    folder, cannot be written to, or when the path itself is an existing folder.
    """
    path = Path(final_path).expanduser().absolute()
    folder = path.parent
    if path.is_dir():
        raise OutputError(f"Output path {path} is an existing folder; give a file name such as {path / 'detections.gpkg'}.")
    if not folder.exists():
        raise OutputError(f"Cannot write {path}: the folder {folder} does not exist. Create it first (mkdir -p {folder}) or choose another output path.")
    if not folder.is_dir():
        raise OutputError(f"Cannot write {path}: {folder} is not a folder. Choose another output path.")
    # Trying is the only reliable test: permission bits say nothing for root, read-only
    # mounts or special file systems such as /proc.
    try:
        fd, probe = tempfile.mkstemp(prefix=".deal-probe-", dir=folder)
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise OutputError(f"Cannot write {path}: the folder {folder} is not writable ({exc.strerror}). "
                          f"Choose an output path in a folder you can write to.") from None
    return path


@contextlib.contextmanager
def atomic_path(final_path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write to; on success move it (and its sidecars) to ``final_path``.

    The temporary path lies in a hidden folder inside the final folder (same file system, so
    ``os.replace`` is atomic per file) and has the same name, so drivers that pick the format
    from the extension, or that write sidecar files, behave as they would on the final path.
    On an exception the temporary folder is deleted and ``final_path`` is untouched.
    """
    path = check_writable(final_path)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp_dir / path.name
        written = sorted(p for p in tmp_dir.iterdir() if p.is_file())
        if not written:
            raise OutputError(f"Nothing was written to {path}.")
        if path.suffix.lower() == ".shp":
            for ext in _SHAPEFILE_PARTS:
                stale = path.with_suffix(ext)
                if stale.exists() and not (tmp_dir / stale.name).exists():
                    stale.unlink()
        for part in written:
            os.replace(part, path.parent / part.name)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
