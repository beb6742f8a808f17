"""``deal detect``: click objects on a raster, write every object of those kinds as polygons."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import textwrap
from pathlib import Path

from ..errors import NoPromptsError, OutputError
from ..io.atomic import check_writable
from ..io.counts import check_counts_path
from ..io.vector_io import driver_for
from ..self_prompting import DEFAULT_SELF_PROMPTS, MAX_SELF_PROMPTS
from ..views import MAX_VIEWS

log = logging.getLogger(__name__)

DENSITY_SUFFIXES = (".tif", ".tiff")

EPILOG = textwrap.dedent("""\
    points:
      X,Y:category              X,Y in the raster's CRS (e.g. UTM metres)
      X,Y@EPSG:4326:category    longitude,latitude (any CRS: EPSG code, WKT or PROJ string)
      COL,ROW@pixel:category    pixel column,row; (0,0) is the raster's top-left corner
      One click per category is enough; more clicks of the same category help. Categories are
      free text without ':' ("car", "small ship"). A point starting with '-' needs '=':
      --point=-73.985,40.748@EPSG:4326:car

    examples:
      # one click on a car, in the raster's CRS; polygons to a GeoPackage
      deal detect scene.tif --point 512300.5,4101200:car -o cars.gpkg

      # cars and ships from lon/lat clicks, plus a density map and counts
      deal detect scene.tif --point 15.0021,37.0412@EPSG:4326:car \\
          --point 15.0090,37.0399@EPSG:4326:ship -o found.gpkg --density density.tif --counts counts.csv

      # clicks from a point layer whose field 'kind' holds the category; GeoJSON out (WGS84)
      deal detect scene.tif --prompts clicks.gpkg --category-field kind -o found.geojson

      # a 4-band image (R,G,B,NIR) shown as false colour, on the GPU
      deal detect scene.tif --bands 4,1,2 --point 120,340@pixel:field -o fields.shp --device cuda

    outputs: .gpkg (GeoPackage), .shp (Shapefile) or .geojson polygons with category, score,
    cx, cy, length_m, width_m, area_m2; --density: GeoTIFF, one band per category;
    --counts: .csv or .json. Files are written only when detection succeeds.
    """)


def _bands(text: str) -> tuple[int, ...]:
    try:
        bands = tuple(int(b) for b in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bands must be numbers separated by commas, e.g. 1,2,3 (got '{text}')") from None
    if len(bands) not in (1, 3) or min(bands) < 1:
        raise argparse.ArgumentTypeError(f"give 3 band numbers (R,G,B) or 1 (grey), counted from 1 (got '{text}')")
    return bands


def add_model_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The "model and run" options shared by ``deal detect``, ``deal batch`` and ``deal exemplars``."""
    group = p.add_argument_group("model and run")
    group.add_argument("--model", type=Path, metavar="DIR", help="model folder (default: the bundled model)")
    group.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                       help="where the model runs (default: %(default)s = cuda when available)")
    group.add_argument("--tile", type=_positive_int, metavar="PX", help="tile size in model pixels, a multiple of 32 (default: the model's)")
    group.add_argument("--overlap", type=_overlap, metavar="PX", help="tile overlap in model pixels, under half the tile (default: the model's)")
    group.add_argument("--bands", type=_bands, metavar="R,G,B", help="bands to use, counted from 1: 3 as R,G,B or 1 as grey (default: 1,2,3)")
    return group


def scale_arg(text: str) -> float | str:
    """``auto`` or a positive resampling factor (argparse type)."""
    if text == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be auto or a positive number, got '{text}'")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels above 0, got '{text}'")
    return value


def _overlap(text: str) -> int:
    return 0 if text.strip() == "0" else _positive_int(text)


def _self_prompts(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= MAX_SELF_PROMPTS:
        raise argparse.ArgumentTypeError(f"self-prompting adds 0 to {MAX_SELF_PROMPTS} detections per category, got '{text}'")
    return value


def _views(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_VIEWS:
        raise argparse.ArgumentTypeError(f"views are 1 (the scene alone) to {MAX_VIEWS} (the scene, mirrored and "
                                         f"transposed every way), got '{text}'")
    return value


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"score must be between 0 and 1, got '{text}'")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``detect``."""
    p = subparsers.add_parser(
        "detect", help="find every object like the clicked ones in a raster",
        description="Find every object like the ones you point at, anywhere in the raster, and write them as "
                    "polygons (plus, optionally, a density map and counts per category).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scene", type=Path, help="the raster (GeoTIFF or any GDAL format; any CRS, bands and data type)")
    clicks = p.add_argument_group("prompts (at least one point)")
    clicks.add_argument("--point", action="append", default=[], metavar="X,Y[@CRS]:CATEGORY",
                        help="one click on one object; repeat for more clicks and categories")
    clicks.add_argument("--prompts", type=Path, metavar="FILE",
                        help="point layer (GeoPackage, Shapefile, GeoJSON; any CRS) with one click per feature")
    clicks.add_argument("--category-field", default="category", metavar="FIELD",
                        help="field of --prompts holding each point's category (default: %(default)s)")
    clicks.add_argument("--prompts-layer", metavar="LAYER", help="layer of --prompts to read (default: the first)")
    out = p.add_argument_group("outputs")
    out.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                     help="detections: .gpkg, .shp or .geojson (an existing file is replaced)")
    out.add_argument("--layer", default="detections", help="layer name in a GeoPackage (default: %(default)s)")
    out.add_argument("--density", type=Path, metavar="FILE.tif", help="also write the density map as a GeoTIFF")
    out.add_argument("--counts", type=Path, metavar="FILE", help="also write counts per category (.csv or .json)")
    run_opts = add_model_options(p)
    run_opts.add_argument("--scale", type=scale_arg, default="auto", metavar="auto|F",
                          help="resampling factor, model pixels per scene pixel (default auto: chosen per category "
                               "from the clicked objects' size)")
    run_opts.add_argument("--object-px", type=float, metavar="PX",
                          help="with --scale auto: the object size (model pixels) the clicked objects are brought to "
                               "(default: the model's best, 33 for the bundled model)")
    run_opts.add_argument("--bracket", action="store_true",
                          help="with --scale auto: also detect each category one sqrt(2) step below and above its "
                               "factor and merge (about a point more AP50, about 3.5x the encoding)")
    run_opts.add_argument("--self-prompt", type=_self_prompts, nargs="?", const=DEFAULT_SELF_PROMPTS, default=0, metavar="K",
                          help="self-prompting: detect, then add each category's K surest detections (default "
                               f"{DEFAULT_SELF_PROMPTS}) to its clicks and detect again on the same encoded tiles "
                               "(a second prompt-head pass; about a point more AP on the validation split)")
    run_opts.add_argument("--views", type=_views, nargs="?", const=MAX_VIEWS, default=1, metavar="N",
                          help=f"test-time views: also search the scene mirrored (left-right, top-bottom, both; from 5 "
                               f"views also transposed) and fuse each object's boxes; N views, default {MAX_VIEWS} "
                               f"(tighter boxes: AP75 and AP50 up on the validation split, N times the encoding)")
    run_opts.add_argument("--score", type=_score, metavar="S", help="keep detections scoring at least S, 0..1 (default: the model's; with --views, its threshold for fused scores)")
    run_opts.add_argument("-q", "--quiet", action="store_true", help="no progress bar (none either when stderr is not a terminal)")
    p.set_defaults(parser=p)
    return p


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail in seconds, not after the run, when an output cannot be written."""
    driver_for(args.output)
    paths = [args.output]
    if args.density is not None:
        if args.density.suffix.lower() not in DENSITY_SUFFIXES:
            raise OutputError(f"The density map {args.density} must be a GeoTIFF: use a .tif file name.")
        paths.append(args.density)
    if args.counts is not None:
        check_counts_path(args.counts)
        paths.append(args.counts)
    resolved = [p.expanduser().absolute() for p in paths]
    if len(set(resolved)) != len(resolved):
        raise OutputError("The output, --density and --counts files must be different files.")
    for path in paths:
        check_writable(path)


def _progress_bar(quiet: bool):
    from tqdm import tqdm

    bar = tqdm(total=100, file=sys.stderr, disable=True if quiet else None, unit="%", leave=False,
               bar_format="{desc:<24} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def progress(fraction: float, message: str) -> None:
        bar.n = max(0, min(100, round(fraction * 100)))
        bar.set_description_str(message, refresh=False)
        bar.refresh()

    return bar, progress


def run(args: argparse.Namespace) -> int:
    """Detect and write; DealErrors propagate to the CLI, which prints them."""
    from ..crs import describe_crs, parse_point_arg
    from ..io.atomic import atomic_path
    from ..io.counts import write_counts
    from ..io.geotiff import write_density
    from ..io.rasterio_source import RasterioSource
    from ..io.vector_io import check_vector_output, read_prompts, write_detections

    _check_outputs(args)
    with RasterioSource(args.scene, bands=args.bands) as source:
        check_vector_output(args.output, source.georef.crs_wkt if source.georef else None)
        size = (source.width, source.height)
        prompts = [parse_point_arg(text, source.georef, size) for text in args.point]
        if args.prompts is not None:
            prompts += read_prompts(args.prompts, args.category_field, source.georef, layer=args.prompts_layer, size_px=size)
        if not prompts:
            raise NoPromptsError("No prompts: click at least one object with --point X,Y:category "
                                 "or give a point layer with --prompts (see deal detect --help).")
        from ..runtime import load_model  # here, so that bad input is reported before the model loads
        from ..errors import SettingsError
        from ..session import Session

        model = load_model(args.model, device=args.device)
        try:
            session = Session(source, model, tile_size=args.tile, overlap=args.overlap, scale=args.scale,
                              object_px=args.object_px, bracket=args.bracket, self_prompts=args.self_prompt,
                              views=args.views)
        except SettingsError as exc:  # --tile / --overlap / --object-px out of the range the model accepts
            args.parser.error(f"--tile {args.tile} --overlap {args.overlap} --object-px {args.object_px}: {exc}")
        bar, progress = _progress_bar(args.quiet)
        with bar:
            result = session.detect(prompts, score_threshold=args.score, progress=progress)

    if args.density is not None and result.density is None:
        log.warning("The model gave no density map, so %s is not written.", args.density)
        args.density = None
    # Every output is staged before any is moved into place, so a failure writes none of them.
    with contextlib.ExitStack() as stack:
        staged = {path: stack.enter_context(atomic_path(path)) for path in (args.output, args.density, args.counts) if path}
        write_detections(result, staged[args.output], layer=args.layer)
        if args.density is not None:
            write_density(result.density, staged[args.density])
        if args.counts is not None:
            write_counts(result, staged[args.counts])

    print(f"Found {len(result)} object(s) in {args.scene.name}:")
    width = max(len(c) for c in result.category_names)
    for category, count in result.counts.items():
        estimate = result.estimated_counts.get(category)
        extra = f"  (density estimate {estimate:.1f})" if estimate is not None else ""
        print(f"  {category:<{width}}  {count:>6}{extra}")
    print(f"Detections:  {args.output}  ({describe_crs(result.georef.crs_wkt)})")
    if args.density is not None:
        print(f"Density map: {args.density}")
    if args.counts is not None:
        print(f"Counts:      {args.counts}")
    return 0
