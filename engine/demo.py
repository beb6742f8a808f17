"""``make demo``: render the sample scene, click one object per category, detect, write, score.

    python -m engine.demo --out out/demo

Writes ``detections.gpkg``, ``density.tif`` and ``counts.csv`` through the real command line
(``deal detect``), then compares the detections with the scene's ground truth.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def _boxes_from_vector(path: Path, field: str = "category") -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(bounds (n,4) map xyxy, categories (n,), scores (n,) or None)`` of a polygon layer."""
    import shapely
    from pyogrio.raw import read

    meta, _, geometry, fields = read(path)
    names = list(meta["fields"])
    bounds = shapely.bounds(shapely.from_wkb(geometry)) if len(geometry) else np.zeros((0, 4))
    cats = np.asarray(fields[names.index(field)], dtype=object) if len(geometry) else np.zeros(0, object)
    scores = np.asarray(fields[names.index("score")], np.float32) if "score" in names and len(geometry) else None
    return np.asarray(bounds, np.float64).reshape(-1, 4), cats, scores


def score_against_truth(detections: Path, truth: Path, pixel_size_m: float, categories: list[str]) -> dict:
    """AP50 and counts of a detection layer against a truth layer in the same CRS (sizes in pixels)."""
    from .evaluation.metrics import evaluate_detections

    det_b, det_c, det_s = _boxes_from_vector(detections)
    gt_b, gt_c, _ = _boxes_from_vector(truth)
    flip = np.array([1, -1, 1, -1])  # y up in map coordinates; pixel-like boxes for the metric
    to_px = lambda b: (b * flip)[:, [0, 3, 2, 1]] / pixel_size_m  # noqa: E731
    return evaluate_detections([(to_px(gt_b), gt_c)], [(to_px(det_b), det_s if det_s is not None else np.ones(len(det_b)), det_c)],
                               categories)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="out/demo", help="output folder")
    parser.add_argument("--size", type=int, default=2048, help="sample scene size in pixels")
    parser.add_argument("--model", default=None, help="model folder (default: the bundled model)")
    args = parser.parse_args(argv)
    from . import cli
    from .synthetic import write_sample_scene

    out = Path(args.out)
    sample = out / "sample"
    print(f"[1/3] rendering the sample scene ({args.size} x {args.size} px, 0.3 m, EPSG:32633) into {sample}/")
    paths = write_sample_scene(sample, size=args.size)
    clicks = json.loads(Path(paths["clicks"]).read_text())["features"]
    for f in clicks:
        lon, lat = f["geometry"]["coordinates"]
        print(f"      click: {f['properties']['category']:<9} at lon {lon:.6f}, lat {lat:.6f} (EPSG:4326)")
    print("[2/3] deal detect (one click per category; the bundled model)")
    command = ["detect", str(paths["scene"]), "--prompts", str(paths["clicks"]), "--category-field", "category",
               "-o", str(out / "detections.gpkg"), "--density", str(out / "density.tif"), "--counts", str(out / "counts.csv")]
    if args.model:
        command += ["--model", args.model]
    print("      deal " + " ".join(command))
    t0 = time.perf_counter()
    code = cli.main(command)
    if code != 0:
        return code
    print(f"      took {time.perf_counter() - t0:.1f} s")
    print("[3/3] comparing with the scene's ground truth (truth.gpkg)")
    categories = [f["properties"]["category"] for f in clicks]
    metrics = score_against_truth(out / "detections.gpkg", Path(paths["truth"]), 0.3, categories)
    for c in categories:
        m = metrics["per_category"][c]
        ap50 = "n/a" if m["AP50"] is None else f"{m['AP50']:.2f}"
        print(f"      {c:<9} truth {m['n_gt']:>4}  detected {m['n_pred']:>4}  AP50 {ap50}")
    print(f"\nOutputs in {out}/: detections.gpkg (open in QGIS), density.tif, counts.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
