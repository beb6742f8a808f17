"""``deal train``: train DEAL on COCO/DOTA/YOLO data (default: the project's shared data, train split)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a DEAL model on annotated images (CPU is fine; resumable)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Train DEAL with prediction-guided cyclic point prompting (PG-CPP).",
        epilog="examples:\n  deal train --out runs/deal-mnv2 --steps 3200\n  deal train --out runs/deal-mnv2 --resume\n"
               "  deal train --coco my.json --images imgs/ --out runs/mine\n"
               "  deal train --loso sen2ships --out runs/loso-ships   # leave one source out\n"
               "  deal train --supervised --out runs/supervised       # the no-prompt baseline\n"
               "  deal train --from-model resources/model --light-head --decoder-layers 2 --out runs/light\n"
               "                                                      # only a new prompt head, on that model's frozen encoder")
    p.add_argument("--out", required=True, help="run folder (checkpoints, config.json, log.jsonl)")
    p.add_argument("--steps", type=int, default=3200)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=320)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    p.add_argument("--coco", help="COCO json of your own data (with --images)")
    p.add_argument("--images", help="image folder for --coco")
    p.add_argument("--loso", help="leave this shared dataset out of training")
    p.add_argument("--warmup", type=int, default=200, help="linear learning-rate warm-up steps")
    p.add_argument("--supervised", action="store_true",
                   help="baseline: the same network trained without prompts (a learned vector per category replaces "
                        "the clicks; PG-CPP off); writes class_embeddings.npz beside the checkpoint")
    p.add_argument("--backbone", choices=("mobilenet_v2", "swin_t", "swin_nano"), default="mobilenet_v2",
                   help="mobilenet_v2 (default; ImageNet weights, CPU-sized) or the paper's Swin-T-like backbone "
                        "(no offline ImageNet weights: random init, it needs far more training than a CPU gives; "
                        "tiles must then be multiples of 256)")
    p.add_argument("--head-act", choices=("relu", "silu"), default="relu",
                   help="activation of the prompt head's convolutions (relu, the default since 0.2, fuses into "
                        "onnxruntime's convolutions; silu as in models before 0.2)")
    p.add_argument("--tiny", action="store_true", help="tiny random-init backbone (tests, smoke runs)")
    p.add_argument("--from-model", metavar="DIR",
                   help="train only a prompt head, on the frozen encoder of this exported model folder, starting from "
                        "its head's weights (export the checkpoint with `deal export`, which reuses that encoder)")
    p.add_argument("--decoder-layers", type=int, default=None, metavar="N", help="decoder layers of the prompt head (default 3)")
    p.add_argument("--light-head", action="store_true",
                   help="the lighter prompt head: no 3x3 separable convs after the correlation and before the heat map")
    p.add_argument("--cos-context", action="store_true",
                   help="with --light-head: a 3x3 conv over the two cosine maps joins the correlation's fusion "
                        "(spatial context of the resemblance to the clicks at a tiny cost)")
    p.add_argument("--no-heat-context", action="store_true",
                   help="no 3x3 separable conv before the heat map (the correlation keeps its own)")
    p.add_argument("--points", type=int, default=None, metavar="N",
                   help="sampling points per level and head in the decoder's cross-attention (default 4; fewer: "
                        "cheaper, starting from evenly spaced ones of the model's with --from-model)")
    p.add_argument("--hard-negatives-from", metavar="DIR",
                   help="mine hard negatives first: run this exported model on the training images (one click per "
                        "category) and keep its detections that match no object; a share of the crops is then "
                        "centred on them (saved as hard_negatives.json in the run folder, reused on --resume)")
    p.add_argument("--negative-prob", type=float, default=0.3,
                   help="with --hard-negatives-from: share of an image's crops centred on one of its hard negatives")
    p.add_argument("--category-weight", action="append", default=[], metavar="NAME=W",
                   help="draw this category's crops W times as often as the others' (default 1 each; repeatable), "
                        "e.g. ship=2")
    p.add_argument("--dataset-weight", action="append", default=[], metavar="NAME=W",
                   help="scale this dataset's share within its category by W (repeatable), e.g. sen2ships=2")
    p.set_defaults(run=run)


def parse_weights(items: list[str], option: str) -> dict[str, float]:
    """``["ship=2", ...]`` -> ``{"ship": 2.0}``; a malformed item raises DatasetError naming it."""
    from .datasets import DatasetError

    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            w = float(value) if sep and name.strip() else float("nan")
        except ValueError:
            w = float("nan")
        if not w > 0 or w == float("inf"):
            raise DatasetError(f"{option} {item!r}: write NAME=W with W a number above 0, e.g. {option} ship=2")
        out[name.strip()] = w
    return out


def run(args) -> int:
    from ..model.export import encoder_hash
    from .datasets import DatasetError, leave_one_source_out, load_coco, load_shared, split_by_group
    from .train import TrainConfig, check_weights, train

    model = {"backbone": "tiny"} if args.tiny else ({"backbone": args.backbone} if args.backbone != "mobilenet_v2" else {})
    if args.from_model:
        if args.tiny or args.backbone != "mobilenet_v2":
            raise DatasetError("--from-model trains a head on that model's own encoder; leave out --tiny and --backbone")
        encoder_hash(args.from_model)  # a wrong folder fails here, before the data is read
        model = {}
    if args.head_act != "relu":
        model["head_act"] = args.head_act
    if args.decoder_layers is not None:
        if not 1 <= args.decoder_layers <= 6:
            raise DatasetError(f"--decoder-layers must be between 1 and 6, got {args.decoder_layers}")
        model["decoder_layers"] = args.decoder_layers
    if args.light_head:
        model["dense_context"] = False
    if args.cos_context:
        model["cos_context"] = True
    if args.no_heat_context:
        model["heat_context"] = False
    if args.points is not None:
        if not 1 <= args.points <= 8:
            raise DatasetError(f"--points must be between 1 and 8, got {args.points}")
        model["points"] = args.points
    if args.hard_negatives_from:
        encoder_hash(args.hard_negatives_from)  # a wrong folder fails before the data is read
        if not 0.0 < args.negative_prob <= 1.0:
            raise DatasetError(f"--negative-prob must be in (0, 1], got {args.negative_prob}")
    category_weights = parse_weights(args.category_weight, "--category-weight")
    dataset_weights = parse_weights(args.dataset_weight, "--dataset-weight")
    # the options are checked above, before the data is read
    if args.coco:
        records = load_coco(args.coco, args.images or Path(args.coco).parent, Path(args.coco).stem)
    else:
        records = load_shared()
        records = leave_one_source_out(records, args.loso)[0] if args.loso else split_by_group(records)[0]
    check_weights(records, category_weights, dataset_weights)  # before any mining or writing
    negatives = _hard_negatives(args, records) if args.hard_negatives_from else ""
    tc = TrainConfig(out_dir=args.out, steps=args.steps, batch=args.batch, crop=args.crop, lr=args.lr,
                     seed=args.seed, threads=args.threads, pretrained=not args.tiny, model=model,
                     warmup=args.warmup, supervised=args.supervised, from_model=args.from_model or "",
                     hard_negatives=negatives, negative_prob=args.negative_prob,
                     category_weights=category_weights, dataset_weights=dataset_weights)
    ckpt = train(records, tc, resume=args.resume, cache_dir=Path(".cache/canonical"))
    print(json.dumps({"checkpoint": str(ckpt)}))
    return 0


def _hard_negatives(args, records) -> str:
    """The run folder's hard-negatives file, mined with ``--hard-negatives-from`` unless it exists (resume)."""
    from . import hard_negatives

    path = Path(args.out) / hard_negatives.FILE_NAME
    if not path.exists():
        print(f"mining hard negatives with {args.hard_negatives_from} on {len(records)} training images...", flush=True)
        found = hard_negatives.mine(records, args.hard_negatives_from,
                                    progress=lambda i, n: print(f"  {i}/{n}", flush=True) if i % 25 == 0 else None)
        path.parent.mkdir(parents=True, exist_ok=True)
        hard_negatives.save(path, found, str(args.hard_negatives_from))
        print(f"{sum(len(v) for v in found.values())} hard negatives in {len(found)} images -> {path}", flush=True)
    return str(path)
