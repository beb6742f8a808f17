"""The ``deal`` command line: ``python -m engine.cli <command> ...``.

Each command lives in its own module exposing ``add_parser(subparsers)`` (which registers one
or more sub-parsers) and ``run(args) -> int``. Only the module of the command being run is
imported, so ``deal detect`` never pays for importing torch; a module that does not exist
(yet) simply leaves its command out.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import logging
import sys
from types import ModuleType
from typing import Iterator, Sequence

from .errors import DealError

COMMANDS: dict[str, tuple[str, str]] = {
    "detect": ("engine.commands.detect", "find every object like the clicked ones in a raster"),
    "train": ("engine.training.command", "train or fine-tune the detection model"),
    "eval": ("engine.evaluation.command", "measure accuracy and counting error on a labelled dataset"),
    "export": ("engine.model.export_command", "export a trained model to ONNX for the plugin and the CLI"),
    "batch": ("engine.batch.command", "run detection over many rasters"),
    "exemplars": ("engine.batch.command", "save clicked exemplars to reuse on other rasters"),
}
"""Command name -> (module, one-line summary shown by ``deal --help``)."""

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

EPILOG = """\
examples:
  deal detect scene.tif --point 512300.5,4101200:car -o cars.gpkg
  deal detect scene.tif --prompts clicks.gpkg --category-field kind -o found.gpkg --counts counts.csv
  deal detect --help          (every option of a command)
"""


def _available(module_name: str) -> bool:
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def _register(subparsers: argparse._SubParsersAction, module: ModuleType) -> None:
    """Let ``module`` add its parsers, and route each new one to ``module.run``."""
    before = set(subparsers.choices)
    module.add_parser(subparsers)
    for name in set(subparsers.choices) - before:
        sub = subparsers.choices[name]
        sub.set_defaults(run=module.run)
        try:  # `-v` after the command too, unless the command uses the name itself
            sub.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="show informational messages")
        except argparse.ArgumentError:
            pass


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``deal`` parser; with ``command`` given only that command's module is imported."""
    parser = argparse.ArgumentParser(
        prog="deal", description="DEAL: click one object on a georeferenced raster, get every object of that kind "
                                 "as polygons, counts and a density map.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="show informational messages")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    if command in COMMANDS:
        module_name = COMMANDS[command][0]
        if _available(module_name):
            _register(subparsers, importlib.import_module(module_name))
        return parser
    # Listing commands only: placeholders keep `deal --help` quick (no torch import).
    for name, (module_name, summary) in COMMANDS.items():
        if _available(module_name):
            subparsers.add_parser(name, help=summary)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if not a.startswith("-")), None)


@contextlib.contextmanager
def _engine_logging(verbose: bool) -> Iterator[None]:
    """Engine warnings on stderr as 'deal: WARNING: ...' while a command runs (restored after, for callers in-process)."""
    logger = logging.getLogger("engine")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("deal: %(levelname)s: %(message)s"))
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    try:
        yield
    finally:
        logger.handlers[:], logger.propagate = saved[0], saved[2]
        logger.setLevel(saved[1])


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0 ok, 2 user error, 130 interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    try:
        with _engine_logging(args.verbose):
            return int(args.run(args) or 0)
    except DealError as exc:
        print(f"deal: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("deal: interrupted; nothing was written.", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
