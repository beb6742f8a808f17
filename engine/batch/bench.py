"""Batch throughput: the same synthetic scenes with 1 and with 2 local Dask workers.

    python -m engine.batch.bench [--scenes 8] [--size 1024] [--workers 1 2] [--model DIR]

Each run starts its own LocalCluster and writes to a fresh output (no parts to reuse), so the
wall time includes starting the workers and loading the model once per worker. The cores are
shared between the workers (onnxruntime threads = cores / workers), so the ratio measures
process parallelism against onnxruntime's own threading on the same cores. On a machine
busy with other work the numbers are noisy: run it more than once.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def write_scenes(folder: Path, count: int, size: int) -> tuple[list[Path], dict[str, tuple[float, float]]]:
    """``count`` synthetic scenes (seeds 0..count-1) and one click per category on the first."""
    from ..synthetic import choose_clicks, render_scene, write_scene_geotiff

    scenes, clicks = [], {}
    for seed in range(count):
        scene = render_scene(size, size, seed)
        if seed == 0:
            clicks = choose_clicks(scene, size, size)
        # side by side in one UTM zone, as tiles of a survey would be
        origin = (500000.0 + seed * size * scene.gsd_m, 5500000.0)
        scenes.append(write_scene_geotiff(scene, folder / f"scene_{seed:02d}.tif", origin_xy=origin))
    return scenes, clicks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.batch.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--scenes", type=int, default=8, help="number of scenes (default: %(default)s)")
    p.add_argument("--size", type=int, default=1024, help="scene side in pixels (default: %(default)s)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to compare (default: 1 2)")
    p.add_argument("--scale", type=float, default=2 ** 0.5,
                   help="detection scale, fixed so that the tile count does not depend on an untrained size head "
                        "(default: %(default).3f)")
    p.add_argument("--model", type=Path, help="model folder (default: the bundled model)")
    args = p.parse_args(argv)

    from ..io.rasterio_source import RasterioSource
    from ..prompts import PointPrompt
    from ..runtime import load_model
    from ..session import Session
    from .runner import local_model_threads, run_batch
    from .worker import DetectSettings

    with tempfile.TemporaryDirectory(prefix="deal-batch-bench-") as tmp:
        folder = Path(tmp)
        scenes, clicks = write_scenes(folder, args.scenes, args.size)
        model = load_model(args.model, device="cpu")
        with RasterioSource(scenes[0]) as source:
            prompts = [PointPrompt(col, row, name) for name, (col, row) in clicks.items()][:1]
            exemplars = Session(source, model, scale=args.scale).exemplars(prompts)
        settings = DetectSettings(model_path=str(args.model.absolute()) if args.model else None, device="cpu")
        print(f"{args.scenes} scenes of {args.size} x {args.size} px, model {model.model_id}, "
              f"scale {args.scale:.3f}, {os.cpu_count()} CPU cores")
        walls = {}
        for workers in args.workers:
            out = folder / f"workers_{workers}" / "found.gpkg"
            out.parent.mkdir()
            t0 = time.perf_counter()
            report = run_batch(scenes, exemplars, out, settings, n_workers=workers)
            walls[workers] = time.perf_counter() - t0
            if report.failed:
                raise SystemExit(f"benchmark scenes failed: {report.failed}")
            per_scene = sum(c["seconds"] for c in report.computed) / len(report.computed)
            print(f"  {workers} worker(s) x {local_model_threads(workers, 1)} onnxruntime thread(s): "
                  f"{walls[workers]:6.1f} s wall, {per_scene:5.2f} s per scene in the task, {report.detections} detections")
        base = args.workers[0]
        for workers in args.workers[1:]:
            print(f"  speed-up {workers} vs {base} worker(s): {walls[base] / walls[workers]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
