"""Finished scenes of a batch, one ``.npz`` each in a folder beside the output (the resume state).

A part's name is a hash of everything its detections depend on: the scene file (absolute path,
size, modification time), the exemplars and the detection settings. A rerun with the same
inputs finds the part and skips the scene; a changed scene or setting gives a new name, so a
stale part is never reused. Parts are written atomically: a crash leaves whole parts only.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from ..exemplars import ExemplarSet
from ..io.atomic import atomic_path
from .worker import DetectSettings, SceneResult

TABLE_ARRAYS = ("rings_map", "category", "score", "cx_map", "cy_map", "length_m", "width_m", "area_m2")
"""The arrays of :func:`~engine.feature_table.feature_table` a part stores."""


def parts_folder(output: Path) -> Path:
    """``out.gpkg`` -> ``out.gpkg.parts``."""
    return output.with_name(output.name + ".parts")


def exemplars_digest(exemplars: ExemplarSet) -> str:
    """A hash of the exemplar embeddings, scales and model (hex), and of their scale bracket if any."""
    h = hashlib.sha1(exemplars.model_id.encode())
    for name in exemplars.categories:
        h.update(name.encode() + b"\0")
        h.update(np.ascontiguousarray(exemplars.embeddings[name], dtype=np.float32).tobytes())
        h.update(repr(float(exemplars.scales[name])).encode())
    for other in exemplars.bracket:  # bracketed runs find more: their parts are not an unbracketed run's
        h.update(b"bracket\0" + exemplars_digest(other).encode())
    return h.hexdigest()


def part_name(scene: Path, exemplars_hash: str, settings: DetectSettings) -> str:
    """File name of a scene's part, e.g. ``harbour-3f9a0c1d2e4b5a6c.npz``; OSError if the scene is unreadable."""
    stat = scene.stat()
    facts = {"scene": str(scene.absolute()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
             "exemplars": exemplars_hash, "tile": settings.tile_size, "overlap": settings.overlap,
             "score": settings.score_threshold, "bands": settings.bands}
    if settings.views != 1:  # only then: parts of runs from before views existed keep their names
        facts["views"] = settings.views
    digest = hashlib.sha1(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:16]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", scene.stem)[:40]
    return f"{stem}-{digest}.npz"


def write_part(path: Path, result: SceneResult) -> None:
    """Store a finished scene's detections and counts."""
    meta = {"scene": result.scene, "crs_wkt": result.crs_wkt, "counts": result.counts,
            "estimated_counts": result.estimated_counts, "seconds": result.seconds}
    arrays = {name: np.asarray(result.table[name]) for name in TABLE_ARRAYS}
    arrays["category"] = arrays["category"].astype(str)  # fixed-width unicode: loadable without pickle
    arrays["meta"] = np.array(json.dumps(meta))
    with atomic_path(path) as tmp:
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        Path(tmp).write_bytes(buf.getvalue())


def read_part(path: Path) -> SceneResult | None:
    """A part written by :func:`write_part`, or None when it is missing or unreadable (then recomputed)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            table = {name: data[name] for name in TABLE_ARRAYS}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None
    return SceneResult(scene=meta["scene"], table=table, crs_wkt=meta["crs_wkt"], counts=meta["counts"],
                       estimated_counts=meta["estimated_counts"], seconds=meta["seconds"])
