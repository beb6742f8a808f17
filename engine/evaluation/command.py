"""``deal eval``: score the DEAL model or a baseline on the annotated data under the paper's prompt settings.

Examples::

    deal eval --model resources/model --setting 1 2 3 4 --split val --out out/eval/deal.json
    deal eval --baseline ncc --setting 1 3 --split loso:sen2ships --jitter 0.1 --max-images 20
    deal eval --baseline supervised --supervised-model out/sup --class-embeddings runs/sup/class_embeddings.npz
    deal eval --table out/eval/ncc.json out/eval/deal.json      # one markdown table from earlier runs
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import DealError
from ..io.atomic import atomic_path, check_writable
from ..runtime import DEFAULT_SCORE_THRESHOLD
from ..training.datasets import DatasetError, ImageRecord, leave_one_source_out, load_shared, split_by_group
from .prompt_settings import SETTINGS


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Declare ``eval`` and its options on an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "eval", help="score a model or a baseline on annotated images",
        description="Prompt every image of a split under the paper's prompt settings, detect, and report "
                    "COCO-style AP (with tiny-object size bins) and counting errors.")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", metavar="DIR", help="DEAL model folder (encoder.onnx + prompt_head.onnx)")
    which.add_argument("--baseline", choices=("ncc", "supervised"),
                       help="ncc: training-free template matching (normalised cross-correlation over rotations and scales); "
                            "supervised: the same network trained without prompts (with --supervised-model and "
                            "--class-embeddings)")
    which.add_argument("--table", nargs="+", metavar="JSON", help="print one table from earlier --out files and stop")
    p.add_argument("--supervised-model", metavar="DIR", help="with --baseline supervised: the exported model folder")
    p.add_argument("--class-embeddings", metavar="NPZ",
                   help="with --baseline supervised: class_embeddings.npz from the 'deal train --supervised' run")
    p.add_argument("--setting", type=int, nargs="+", choices=SETTINGS, default=list(SETTINGS),
                   help="prompt settings: 1 one click per category, 2 every object, 3 one category one click, "
                        "4 one category every object (default: all)")
    p.add_argument("--split", default="val", help="val (default), train, or loso:<dataset> (all images of one dataset)")
    p.add_argument("--data", default=None, metavar="DIR", help="annotated data folder (default: ../shared/data)")
    p.add_argument("--datasets", nargs="+", metavar="NAME", help="only these datasets")
    p.add_argument("--jitter", type=float, default=0.0, help="click offset, as a fraction of the object's size")
    p.add_argument("--object-px", type=float, default=None,
                   help="object size (model px) the scale probe aims at (default: the engine's, 33 px for the bundled model)")
    p.add_argument("--bracket", action="store_true",
                   help="scale bracketing: also detect each category one sqrt(2) step below and above its factor")
    p.add_argument("--self-prompt", type=int, default=0, metavar="K",
                   help="self-prompting: each category's K surest detections of a first pass join its clicks "
                        "for a second pass (default 0: one pass)")
    p.add_argument("--views", type=int, default=1, metavar="N",
                   help="test-time views: the image and N-1 of its mirror images (then transposes) searched, each "
                        "object's boxes fused (1 to 8; default 1: the image alone)")
    p.add_argument("--max-images", type=int, default=None, help="only the first N images of the split")
    p.add_argument("--seed", type=int, default=0, help="seed of the random clicks")
    p.add_argument("--count-threshold", type=float, nargs="+", default=None, metavar="S",
                   help="score from which a detection is counted (default: the model's, 0.3 for baselines); with "
                        "several, the count error is also reported at the others (choose a model's threshold on "
                        "--split train, then `deal export --score-threshold`)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--out", metavar="JSON", help="write every metric to this file")
    return p


def _select(records: list[ImageRecord], split: str) -> list[ImageRecord]:
    if split.startswith("loso:"):
        return leave_one_source_out(records, split[len("loso:"):])[1]
    if split in ("train", "val"):
        train, val = split_by_group(records)
        return val if split == "val" else train
    raise DatasetError(f"Unknown split {split!r}: use val, train or loso:<dataset>.")


def _detector(args: argparse.Namespace):
    """(method name, detector) for the chosen model or baseline."""
    if args.baseline == "ncc":
        from .ncc_baseline import NCCMatcher
        return "ncc", NCCMatcher()
    from ..runtime import load_model
    if args.baseline == "supervised":
        if not args.supervised_model or not args.class_embeddings:
            raise DealError("--baseline supervised needs --supervised-model DIR and --class-embeddings NPZ "
                            "(from 'deal train --supervised' then 'deal export').")
        from ..class_embeddings import load_class_embeddings
        from .harness import SupervisedDetector
        vectors = load_class_embeddings(args.class_embeddings)
        return (f"supervised:{Path(args.supervised_model).name}",
                SupervisedDetector(load_model(args.supervised_model, device=args.device), vectors, object_px=args.object_px,
                                   bracket=args.bracket))
    from .harness import SessionDetector
    return f"deal:{Path(args.model).name}", SessionDetector(load_model(args.model, device=args.device), object_px=args.object_px,
                                                                   bracket=args.bracket, self_prompts=args.self_prompt, views=args.views)


def _print_progress(setting: int):
    def progress(fraction: float, message: str) -> None:
        print(f"\rsetting {setting}: {message}", end="\n" if fraction >= 1 else "", file=sys.stderr, flush=True)
    return progress


def run(args: argparse.Namespace) -> int:
    """Run ``deal eval``; prints a markdown table; returns the exit status."""
    from .harness import format_table, run_eval

    if args.table:
        merged: dict[str, dict] = {}
        for path in args.table:
            try:
                merged.update(json.loads(Path(path).read_text())["results"])
            except (OSError, ValueError, KeyError) as exc:
                raise DealError(f"{path} is not a metrics file written by 'deal eval --out' ({exc}).") from None
        print(format_table(merged))
        return 0

    if args.object_px is not None and not 4 <= args.object_px <= 256:
        raise DealError(f"--object-px must be between 4 and 256 model pixels (the bundled model was trained at 28 "
                        f"and detects at 33 by default), got {args.object_px:g}")
    from ..self_prompting import MAX_SELF_PROMPTS
    from ..views import MAX_VIEWS

    if not 0 <= args.self_prompt <= MAX_SELF_PROMPTS:
        raise DealError(f"--self-prompt takes 0 to {MAX_SELF_PROMPTS} detections per category, got {args.self_prompt}")
    if not 1 <= args.views <= MAX_VIEWS:
        raise DealError(f"--views takes 1 (the image alone) to {MAX_VIEWS} (the image, mirrored and transposed every way), got {args.views}")
    if args.out:
        check_writable(args.out)  # fail before hours of evaluation, not after
    name, detector = _detector(args)  # a wrong model or baseline option fails before the data is read
    model = getattr(detector, "model", None)
    thresholds = args.count_threshold or [model.metadata.threshold(args.views) if model is not None else DEFAULT_SCORE_THRESHOLD]
    if not all(0.0 <= t <= 1.0 for t in thresholds):
        raise DealError(f"--count-threshold takes scores between 0 and 1, got {' '.join(f'{t:g}' for t in thresholds)}")
    records = load_shared(args.data, args.datasets) if args.data else load_shared(names=args.datasets)
    records = _select(records, args.split)
    results: dict[str, dict] = {name: {}}
    for setting in args.setting:
        results[name][str(setting)] = run_eval(detector, records, setting, seed=args.seed, jitter=args.jitter,
                                               max_images=args.max_images, progress=_print_progress(setting),
                                               count_threshold=thresholds[0], more_count_thresholds=thresholds[1:])
        if args.out:  # after every setting, so a long run stopped midway keeps what it finished
            report = {"results": results, "split": args.split, "seed": args.seed, "jitter": args.jitter, "bracket": args.bracket,
                      "self_prompt": args.self_prompt, "views": args.views, "max_images": args.max_images, "datasets": sorted({r.dataset for r in records})}
            with atomic_path(args.out) as tmp:
                tmp.write_text(json.dumps(report, indent=1))
    print(format_table(results))
    if len(thresholds) > 1:
        for setting, metrics in results[name].items():
            print(f"setting {setting}, count MAE by threshold: " + ", ".join(
                f"{t}: {'-' if v is None else f'{v:.2f}'}" for t, v in metrics["count_mae_by_threshold"].items()))
    return 0
