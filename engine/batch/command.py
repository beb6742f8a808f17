"""``deal exemplars save`` and ``deal batch``: click once on a reference scene, detect in many scenes.

Exit codes of ``deal batch``: 0 every scene succeeded; 3 some scenes failed (each is named
with its error on stderr and in the report; the others are in the output); 2 a usage error
(nothing was run); 130 interrupted (finished scenes are kept for the next run).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from ..commands.detect import _positive_int, _score, _views, add_model_options, scale_arg
from ..errors import NoPromptsError, OutputError, PromptError
from ..views import MAX_VIEWS

EXIT_SOME_FAILED = 3
EXIT_INTERRUPTED = 130

EXEMPLARS_EPILOG = textwrap.dedent("""\
    examples:
      # one click on a car in the reference scene (raster CRS), saved for later batches
      deal exemplars save --scene ref.tif --point 512300.5,4101200:car -o cars.npz

      # clicks digitised in QGIS: a point layer whose field 'kind' holds the category
      deal exemplars save --scene ref.tif --prompts clicks.gpkg --category-field kind -o kinds.npz

    The file holds each click's embedding and detection scale; it belongs to the model it was
    made with (give the same --model to deal batch).
    """)

BATCH_EPILOG = textwrap.dedent("""\
    inputs: raster files, or folders (their .tif/.tiff files). Scenes may be in different
    CRSs: the output layer is in --crs, by default the CRS of the first scene that finished
    (GeoJSON output is always EPSG:4326). Scenes without a CRS are reported as failed.

    outputs, beside OUT (e.g. cars.gpkg):
      cars.gpkg            every detection, with a 'scene' attribute naming its raster
      cars.counts.csv      scene,category,count,estimated_count
      cars.report.json     scenes computed, skipped (finished earlier) and failed (with the error)
      cars.gpkg.parts/     one file per finished scene: a rerun after a crash or a failure
                           computes only what is missing (delete the folder to start afresh)

    exit codes: 0 all scenes succeeded, 3 some failed (the others are written), 2 usage error.

    examples:
      # exemplars saved earlier, all rasters of a folder, 4 local worker processes
      deal batch --exemplars cars.npz tiles/ -o cars.gpkg --workers 4

      # click on the first scene, run on a Dask cluster (scenes and model at the same paths there)
      deal batch --scene a.tif --point 15.0021,37.0412@EPSG:4326:car a.tif b.tif c.tif -o cars.gpkg \\
          --scheduler tcp://10.0.0.5:8786
    """)


def _add_click_options(p: argparse.ArgumentParser, title: str) -> None:
    clicks = p.add_argument_group(title)
    clicks.add_argument("--scene", type=Path, metavar="REF.tif", help="the reference raster the clicks are on")
    clicks.add_argument("--point", action="append", default=[], metavar="X,Y[@CRS]:CATEGORY",
                        help="one click on one object of --scene (as in deal detect); repeat for more")
    clicks.add_argument("--prompts", type=Path, metavar="FILE", help="point layer of clicks on --scene (any CRS)")
    clicks.add_argument("--category-field", default="category", metavar="FIELD",
                        help="field of --prompts holding each point's category (default: %(default)s)")
    clicks.add_argument("--prompts-layer", metavar="LAYER", help="layer of --prompts to read (default: the first)")
    clicks.add_argument("--scale", type=scale_arg, default="auto", metavar="auto|F",
                        help="detection scale (model px per scene px), or auto from the clicked objects' size (default)")
    clicks.add_argument("--bracket", action="store_true",
                        help="with --scale auto: also detect each category one sqrt(2) step below and above its scale "
                             "(saved with the exemplars; about a point more AP50, ~3.5x the encoding)")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``exemplars`` (with its ``save`` action) and ``batch``."""
    ex = subparsers.add_parser("exemplars", help="save clicked exemplars to reuse on other rasters",
                               description="Exemplars are the model's view of the objects you clicked.")
    actions = ex.add_subparsers(dest="action", metavar="ACTION", required=True)
    save = actions.add_parser("save", help="compute the clicks' exemplars on a reference scene and save them (.npz)",
                              description="Compute the exemplars of clicks on a reference scene and save them, "
                                          "so that `deal batch --exemplars` can look for the same objects anywhere.",
                              epilog=EXEMPLARS_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_click_options(save, "clicks (at least one point)")
    save.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.npz", help="exemplar file to write")
    save.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="show informational messages")
    add_model_options(save)
    save.set_defaults(parser=save)

    b = subparsers.add_parser("batch", help="run detection over many rasters",
                              description="Detect the objects of saved exemplars (or of clicks on a reference scene) "
                                          "in many rasters, in parallel on this machine or on a Dask cluster.",
                              epilog=BATCH_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    b.add_argument("inputs", type=Path, nargs="+", metavar="INPUT", help="rasters or folders of rasters")
    b.add_argument("-o", "--output", type=Path, required=True, metavar="OUT",
                   help="merged detections: .gpkg, .shp or .geojson (an existing file is replaced)")
    b.add_argument("--exemplars", type=Path, metavar="FILE.npz", help="exemplars from `deal exemplars save`")
    _add_click_options(b, "or clicks on a reference scene (instead of --exemplars)")
    group = add_model_options(b)
    group.add_argument("--score", type=_score, metavar="S", help="keep detections scoring at least S, 0..1 (default: the model's; with --views, its threshold for fused scores)")
    group.add_argument("--views", type=_views, nargs="?", const=MAX_VIEWS, default=1, metavar="N",
                       help=f"test-time views: each scene also searched mirrored and transposed with the same exemplars, each object's "
                            f"boxes fused; N views, default {MAX_VIEWS} (N times the encoding)")
    group.add_argument("--crs", metavar="CRS", help="CRS of the merged layer (default: the first finished scene's)")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    dask = b.add_argument_group("parallel run (Dask)")
    dask.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler, e.g. tcp://host:8786 "
                                                            "(default: start worker processes on this machine)")
    dask.add_argument("--workers", type=_positive_int, metavar="N",
                      help="local worker processes (default: one per core, at most one per scene)")
    dask.add_argument("--threads-per-worker", type=_positive_int, default=1, metavar="T",
                      help="scenes each local worker runs at once (default: %(default)s)")
    dask.add_argument("--model-threads", type=_positive_int, metavar="K",
                      help="onnxruntime threads per scene (default: local cores shared between workers; "
                           "with --scheduler, onnxruntime's own default)")
    b.set_defaults(parser=b)


def run(args: argparse.Namespace) -> int:
    """Route ``exemplars save`` and ``batch``."""
    if args.command == "exemplars":
        return _save_exemplars(args)
    return _batch(args)


def _load_model(args: argparse.Namespace, device: str, threads: int | None = None):
    """The model, with --tile/--overlap checked against it (a usage error before any scene is read)."""
    import numpy as np

    from ..raster_source import ArraySource
    from ..runtime import load_model
    from ..session import Session

    model = load_model(args.model, device=device, threads=threads)
    try:
        Session(ArraySource(np.zeros((3, 1, 1), np.float32)), model, tile_size=args.tile, overlap=args.overlap)
    except ValueError as exc:
        args.parser.error(f"--tile {args.tile} --overlap {args.overlap}: {exc}")
    return model


def _reference_exemplars(args: argparse.Namespace, model):
    """Exemplars of ``--point``/``--prompts`` clicks on ``--scene``."""
    from ..crs import parse_point_arg
    from ..io.rasterio_source import RasterioSource
    from ..io.vector_io import read_prompts
    from ..session import Session

    scale = args.scale
    with RasterioSource(args.scene, bands=args.bands) as source:
        size = (source.width, source.height)
        prompts = [parse_point_arg(text, source.georef, size) for text in args.point]
        if args.prompts is not None:
            prompts += read_prompts(args.prompts, args.category_field, source.georef, layer=args.prompts_layer, size_px=size)
        if not prompts:
            raise NoPromptsError(f"No clicks on {args.scene}: give --point X,Y:category or --prompts FILE.")
        return Session(source, model, tile_size=args.tile, overlap=args.overlap, scale=scale,
                       bracket=args.bracket).exemplars(prompts)


def _save_exemplars(args: argparse.Namespace) -> int:
    from ..io.atomic import check_writable

    if args.scene is None:
        args.parser.error("--scene is required: the raster your clicks are on")
    if args.output.suffix.lower() != ".npz":
        raise OutputError(f"Exemplars are saved as .npz files; name the output e.g. {args.output.with_suffix('.npz')}.")
    check_writable(args.output)
    exemplars = _reference_exemplars(args, _load_model(args, args.device))
    exemplars.save(args.output)
    print(f"Saved exemplars of {len(exemplars.categories)} category(ies) from {args.scene.name} to {args.output}:")
    for name in exemplars.categories:
        size = exemplars.sizes_px.get(name)
        size_text = f", objects about {size:.0f} px" if size else ""
        print(f"  {name}: {len(exemplars.embeddings[name])} click(s), scale {exemplars.scales[name]:g}{size_text}")
    return 0


def _progress(quiet: bool):
    from tqdm import tqdm

    bar = tqdm(total=0, file=sys.stderr, disable=quiet, unit="scene", leave=False)

    def progress(done: int, total: int, label: str) -> None:
        bar.total = total
        bar.n = done
        bar.set_description_str(Path(label).name[:24] if label else "starting workers", refresh=False)
        bar.refresh()

    return bar, progress


def _batch(args: argparse.Namespace) -> int:
    from ..exemplars import ExemplarSet
    from .parts import parts_folder
    from .runner import check_outputs, expand_inputs, run_batch
    from .worker import DetectSettings

    clicks = bool(args.point or args.prompts)
    if (args.exemplars is None) == (args.scene is None):
        args.parser.error("give either --exemplars FILE.npz, or --scene REF.tif with --point/--prompts clicks on it")
    if args.exemplars is not None and (clicks or args.scale != "auto" or args.bracket):
        args.parser.error("--point/--prompts/--scale/--bracket need --scene, not --exemplars (the exemplars already say what to find)")
    if args.scheduler and (args.workers or args.threads_per_worker != 1):
        args.parser.error("--workers and --threads-per-worker set up local workers; with --scheduler, the cluster has its own")
    scenes = expand_inputs(args.inputs)
    check_outputs(args.output)
    # The driver loads the model too: clicks need it, and saved exemplars must match it before any scene runs.
    model = _load_model(args, "cpu", threads=1)
    exemplars = ExemplarSet.load(args.exemplars) if args.exemplars else _reference_exemplars(args, model)
    if exemplars.model_id != model.model_id:
        raise PromptError(f"{args.exemplars} was made with model {exemplars.model_id}, but this run uses {model.model_id}; "
                          "give the same --model as for `deal exemplars save`, or save the exemplars again")
    settings = DetectSettings(model_path=str(args.model.absolute()) if args.model else None, device=args.device,
                              model_threads=args.model_threads, tile_size=args.tile, overlap=args.overlap,
                              score_threshold=args.score, bands=args.bands, views=args.views)
    bar, progress = _progress(args.quiet)
    try:
        with bar:
            report = run_batch(scenes, exemplars, args.output, settings, scheduler=args.scheduler, n_workers=args.workers,
                               threads_per_worker=args.threads_per_worker, crs=args.crs, progress=progress)
    except KeyboardInterrupt:
        print(f"deal: interrupted; the scenes finished so far are kept in {parts_folder(args.output)} "
              "and the same command resumes from there.", file=sys.stderr)
        return EXIT_INTERRUPTED

    print(f"{len(scenes)} scene(s): {len(report.computed)} computed, {len(report.skipped)} finished earlier, "
          f"{len(report.failed)} failed.")
    if report.output is not None:
        print(f"Detections:  {report.output}  ({report.detections} object(s), {report.crs})")
        print(f"Counts:      {report.counts_path}")
    print(f"Report:      {report.report_path}")
    if report.failed:
        print(f"deal: {len(report.failed)} scene(s) failed (run again to retry them once fixed):", file=sys.stderr)
        for failure in report.failed:
            print(f"  {failure['scene']}: {failure['error']}", file=sys.stderr)
        return EXIT_SOME_FAILED
    return 0
