"""Object counts per category as CSV or JSON."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from ..errors import OutputError
from ..results import DetectionResult
from .atomic import atomic_path

FORMATS = (".csv", ".json")


def counts_rows(result: DetectionResult) -> list[dict]:
    """One row per prompted category: detections kept and the density map's estimate (None if unknown)."""
    counts = result.counts
    return [{"category": c, "count": counts[c],
             "estimated_count": (round(float(result.estimated_counts[c]), 3) if c in result.estimated_counts else None)}
            for c in result.category_names]


def check_counts_path(path: str | os.PathLike) -> None:
    """OutputError unless ``path`` ends in .csv or .json."""
    if Path(path).suffix.lower() not in FORMATS:
        raise OutputError(f"Cannot tell the counts format of {path}: use a .csv or .json file name.")


def write_counts(result: DetectionResult, path: str | os.PathLike) -> Path:
    """Write counts per category atomically; returns the path.

    ``.csv``: header ``category,count,estimated_count``, one row per category (estimated_count
    empty when unknown). ``.json``: a list of ``{"category", "count", "estimated_count"}`` objects.
    """
    path = Path(path)
    check_counts_path(path)
    rows = counts_rows(result)
    with atomic_path(path) as tmp_path:
        with open(tmp_path, "w", newline="", encoding="utf-8") as f:
            if path.suffix.lower() == ".json":
                json.dump(rows, f, indent=2, ensure_ascii=False)
                f.write("\n")
            else:
                writer = csv.DictWriter(f, fieldnames=["category", "count", "estimated_count"])
                writer.writeheader()
                writer.writerows(rows)
    return path
