"""The driver of a batch: send scenes to Dask workers, keep each finished scene, merge them all.

    report = run_batch(scenes, ExemplarSet.load("cars.npz"), Path("cars.gpkg"), DetectSettings(),
                       n_workers=4)

One task per scene (a huge scene is one long task; the Session streams it tile by tile, so
its memory stays bounded). Each finished scene is stored at once as a part in
``cars.gpkg.parts/`` (see :mod:`engine.batch.parts`), so an interrupted batch resumes where it
stopped. When every scene has been tried, the parts are merged into one layer whose ``scene``
attribute names the raster each detection came from, in one CRS: ``crs`` when given, else
the CRS of the first scene (in input order) that finished; GeoJSON is always EPSG:4326.

Outputs beside ``cars.gpkg``: ``cars.counts.csv`` (scene, category, count, estimated_count)
and ``cars.report.json`` (which scenes were computed, reused from parts, or failed and why).
"""

from __future__ import annotations

import contextlib
import csv
import json
import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import DealError, OutputError
from ..exemplars import ExemplarSet
from ..io.atomic import atomic_path, check_writable
from ..io.vector_io import driver_for
from .parts import exemplars_digest, part_name, parts_folder, read_part, write_part
from .worker import DetectSettings, SceneResult, detect_scene

log = logging.getLogger(__name__)

FIELDS = ("scene", "category", "score", "cx", "cy", "length_m", "width_m", "area_m2")
"""Attributes of the merged layer (each <= 10 characters, so Shapefiles keep them)."""

RASTER_SUFFIXES = (".tif", ".tiff")
"""Files a folder given as input contributes."""

Progress = Callable[[int, int, str], None]
"""``(scenes done, scenes to compute, the scene just finished)``: called on the driver with 0 done
before the first task, then after each computed or failed scene."""


@dataclass
class BatchReport:
    """What a batch did. ``computed``: one dict per scene run now (scene, detections, seconds,
    pid, model_loads); ``skipped``: scenes taken from earlier parts; ``failed``: dicts (scene, error)."""

    output: Path | None
    counts_path: Path
    report_path: Path
    crs: str | None
    computed: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    detections: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict:
        return {"output": str(self.output) if self.output else None, "counts": str(self.counts_path), "crs": self.crs,
                "detections": self.detections, "computed": self.computed, "skipped": self.skipped,
                "failed": self.failed, "seconds": round(self.seconds, 3)}


def counts_path_for(output: Path) -> Path:
    """``out.gpkg`` -> ``out.counts.csv``."""
    return output.with_suffix(".counts.csv")


def report_path_for(output: Path) -> Path:
    """``out.gpkg`` -> ``out.report.json``."""
    return output.with_suffix(".report.json")


def expand_inputs(inputs: list[Path]) -> list[Path]:
    """Files as given and the ``.tif``/``.tiff`` files of folders (sorted), each once, in order."""
    scenes, seen = [], set()
    for path in inputs:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in RASTER_SUFFIXES and p.is_file())
            if not found:
                raise DealError(f"The folder {path} holds no .tif/.tiff rasters; give raster files or another folder.")
        else:
            found = [path]
        for scene in found:
            key = scene.absolute()
            if key not in seen:
                seen.add(key)
                scenes.append(scene)
    return scenes


def check_outputs(output: Path) -> None:
    """Fail before any work when the output or its companions cannot be written."""
    driver_for(output)
    for path in (output, counts_path_for(output), report_path_for(output)):
        check_writable(path)


@contextlib.contextmanager
def dask_client(scheduler: str | None, n_workers: int, threads_per_worker: int) -> Iterator:
    """A Client of ``scheduler`` (``tcp://host:8786``), or of a new LocalCluster of worker processes."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise DealError(f"Cannot reach the Dask scheduler at {scheduler} ({exc}). Check the address and that "
                            "`dask scheduler` runs there, or leave out --scheduler to use this machine only.") from None
        with client:
            yield client
        return
    # ":0": any free port, so a dashboard already on 8787 (another cluster) is left alone
    with LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        yield client


def local_model_threads(n_workers: int, threads_per_worker: int) -> int:
    """onnxruntime threads per task so that a LocalCluster uses the cores without oversubscribing them."""
    return max(1, (os.cpu_count() or 1) // max(1, n_workers * threads_per_worker))


def run_batch(scenes: list[Path], exemplars: ExemplarSet, output: Path, settings: DetectSettings,
              scheduler: str | None = None, n_workers: int | None = None, threads_per_worker: int = 1,
              crs: str | None = None, progress: Progress | None = None) -> BatchReport:
    """Detect ``exemplars`` in every scene on Dask and write the merged layer, counts and report.

    Args:
        scenes: raster paths (see :func:`expand_inputs`); they must be readable by the workers
            at the same paths.
        output: .gpkg, .shp or .geojson; ``output``.parts/ keeps finished scenes between runs.
        settings: model and detection settings; without a scheduler, ``model_threads`` None
            shares this machine's cores between the local workers.
        scheduler: address of a running Dask scheduler; None starts a LocalCluster of
            ``n_workers`` processes (default: one per core, at most one per scene).
        crs: CRS of the merged layer (EPSG code, WKT, PROJ); default the first finished scene's.
        progress: see :data:`Progress`.

    Scenes that fail (unreadable, no CRS...) are listed in ``report.failed``; the others finish.
    """
    from ..crs import parse_crs

    t0 = time.perf_counter()
    check_outputs(output)
    if crs:
        parse_crs(crs)  # an unknown CRS is reported now, not after every scene has run
    report = BatchReport(None, counts_path_for(output), report_path_for(output), None)
    folder = parts_folder(output)
    folder.mkdir(exist_ok=True)
    ex_hash = exemplars_digest(exemplars)
    labels = [str(s) for s in scenes]
    part_paths: dict[str, Path] = {}
    todo: list[str] = []
    for label, scene in zip(labels, scenes):
        try:
            part_paths[label] = folder / part_name(scene, ex_hash, settings)
        except OSError as exc:
            report.failed.append({"scene": label, "error": f"Raster {scene} cannot be read: {exc.strerror}."})
            continue
        if read_part(part_paths[label]) is not None:
            report.skipped.append(label)
        else:
            todo.append(label)

    if report.skipped:
        log.info("%d scene(s) finished in an earlier run are taken from %s", len(report.skipped), folder)
    if todo:
        workers = n_workers or min(os.cpu_count() or 1, len(todo))
        if scheduler is None and settings.model_threads is None:
            settings = replace(settings, model_threads=local_model_threads(workers, threads_per_worker))
        log.info("%d scene(s) to compute on %s", len(todo), scheduler or
                 f"{workers} local worker process(es) x {threads_per_worker} thread(s), "
                 f"{settings.model_threads} onnxruntime thread(s) each")
        _compute(todo, exemplars, settings, part_paths, report, scheduler, workers, threads_per_worker, progress)

    failed = {f["scene"] for f in report.failed}
    finished = [label for label in labels if label in part_paths and label not in failed]
    _write_outputs(output, finished, part_paths, exemplars.categories, crs, report, t0)
    return report


def _compute(todo: list[str], exemplars: ExemplarSet, settings: DetectSettings, part_paths: dict[str, Path],
             report: BatchReport, scheduler: str | None, n_workers: int, threads_per_worker: int,
             progress: Progress | None) -> None:
    """Run the ``todo`` scenes as Dask tasks, storing each finished one as a part as soon as it arrives."""
    from distributed import as_completed

    if progress is not None:
        progress(0, len(todo), "")
    with dask_client(scheduler, n_workers, threads_per_worker) as client:
        shared = client.scatter(exemplars, broadcast=True)
        futures = {client.submit(detect_scene, str(Path(label).absolute()), shared, settings,
                                 key=f"deal-scene-{part_paths[label].stem}", pure=False): label for label in todo}
        for done, future in enumerate(as_completed(futures), start=1):
            label = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the worker died (out of memory, killed) or could not run the task
                result = SceneResult(scene=label, error=f"the task failed on its worker: {type(exc).__name__}: {exc}")
            future.release()
            if result.error is None:
                write_part(part_paths[label], result)
                report.computed.append({"scene": label, "detections": int(len(result.table["score"])),
                                        "seconds": round(result.seconds, 3), "pid": result.pid,
                                        "model_loads": result.model_loads})
            else:
                report.failed.append({"scene": label, "error": result.error})
            if progress is not None:
                progress(done, len(futures), label)


def _target_crs(crs: str | None, driver: str, first_wkt: str | None):
    import pyproj

    from ..crs import parse_crs

    if driver == "GeoJSON":
        return pyproj.CRS.from_epsg(4326)
    if crs:
        return parse_crs(crs)
    return pyproj.CRS.from_wkt(first_wkt) if first_wkt else None


def _layer_columns(label: str, part: SceneResult, target) -> tuple[np.ndarray, list[np.ndarray]]:
    """WKB polygons ``(N,)`` and attribute arrays in FIELDS order, reprojected to ``target``."""
    import pyproj
    import shapely

    from ..crs import reproject_xy

    t = part.table
    rings, cx, cy = t["rings_map"], t["cx_map"], t["cy_map"]
    src = pyproj.CRS.from_wkt(part.crs_wkt)
    if len(rings) and not src.equals(target):
        rings = np.stack(reproject_xy(rings[..., 0], rings[..., 1], src, target), axis=-1)
        cx, cy = reproject_xy(cx, cy, src, target)
    geometry = shapely.to_wkb(shapely.polygons(rings)) if len(rings) else np.empty(0, dtype=object)
    values = [np.full(len(rings), label, dtype=object), np.asarray(t["category"], dtype=object), t["score"], cx, cy,
              t["length_m"], t["width_m"], t["area_m2"]]
    return np.asarray(geometry, dtype=object), values


def _write_layer(path: Path, driver: str, columns: Iterator[tuple[np.ndarray, list[np.ndarray]]], crs_wkt: str) -> None:
    """Write scene after scene (appending), so memory holds one scene's detections, not the batch's."""
    import pyogrio.raw
    from pyogrio.errors import DataSourceError

    layer = None if driver == "ESRI Shapefile" else "detections"

    def write(geometry: np.ndarray, values: list[np.ndarray], append: bool) -> None:
        pyogrio.raw.write(path, geometry=geometry, field_data=values, fields=list(FIELDS), layer=layer, driver=driver,
                          geometry_type="Polygon", crs=crs_wkt, append=append,
                          layer_options=None if append or driver != "GeoJSON" else {"RFC7946": "YES"})

    created = False
    empty = None
    try:
        for geometry, values in columns:
            if len(geometry) == 0:
                empty = (geometry, values)
                continue
            write(geometry, values, append=created)
            created = True
        if not created and empty is not None:
            write(*empty, append=False)  # an empty layer that keeps the schema and CRS
    except DataSourceError as exc:
        raise OutputError(f"Could not write {path}: {exc}") from None


def _write_outputs(output: Path, finished: list[str], part_paths: dict[str, Path], categories: list[str],
                   crs: str | None, report: BatchReport, t0: float) -> None:
    """Merge the parts of the ``finished`` scenes into the layer and counts; write the report (all atomically)."""
    from ..crs import describe_crs

    driver = driver_for(output)
    done: list[tuple[str, SceneResult]] = []  # parts without their tables: the layer is written part by part
    for label in finished:
        part = read_part(part_paths[label])
        if part is None:  # removed by hand while the batch ran
            report.failed.append({"scene": label, "error": f"its stored result {part_paths[label]} vanished; run again"})
            continue
        report.detections += len(part.table["score"])
        part.table = {}
        done.append((label, part))
    target = _target_crs(crs, driver, done[0][1].crs_wkt if done else None)
    report.crs = describe_crs(target.to_wkt()) if target is not None else None
    rows = [{"scene": label, "category": c, "count": int(p.counts.get(c, 0)),
             "estimated_count": round(float(p.estimated_counts[c]), 3) if c in p.estimated_counts else None}
            for label, p in done for c in categories]
    columns = (_layer_columns(label, read_part(part_paths[label]), target) for label, _ in done)
    with contextlib.ExitStack() as stack:
        if done:
            staged_layer = stack.enter_context(atomic_path(output))
            staged_counts = stack.enter_context(atomic_path(report.counts_path))
            _write_layer(staged_layer, driver, columns, target.to_wkt())
            with open(staged_counts, "w", newline="", encoding="utf-8") as f:
                writer = csv.DictWriter(f, fieldnames=["scene", "category", "count", "estimated_count"])
                writer.writeheader()
                writer.writerows(rows)
            report.output = output
        staged_report = stack.enter_context(atomic_path(report.report_path))
        report.seconds = time.perf_counter() - t0
        staged_report.write_text(json.dumps(report.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
