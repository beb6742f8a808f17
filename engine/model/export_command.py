"""``deal export``: turn a training checkpoint into the two ONNX graphs the engine runs."""

from __future__ import annotations

import argparse
import re
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a checkpoint to ONNX (encoder.onnx + prompt_head.onnx)",
                              formatter_class=argparse.RawDescriptionHelpFormatter,
                              epilog="example:\n  deal export runs/deal-mnv2/last.safetensors --out resources/model")
    p.add_argument("checkpoint", nargs="?", help="a .safetensors checkpoint from `deal train` (omit with --untrained); or an "
                   "exported model folder, whose inference settings (--score-threshold, --views-score-threshold) "
                   "are then rewritten into a copy in --out (the same folder: in place), graphs and weights unchanged")
    p.add_argument("--out", required=True, help="model folder to write")
    p.add_argument("--untrained", action="store_true", help="export ImageNet backbone + random heads (pipeline tests)")
    p.add_argument("--tiny", action="store_true", help="with --untrained: the tiny test backbone")
    p.add_argument("--min-queries", type=int, default=None, metavar="N",
                   help="fewest decoder queries per tile (the density-guided rule asks for ceil(1.5 N) + 10); "
                        "default: the checkpoint's setting. The shipped model uses 120, the number it was trained with")
    p.add_argument("--model-version", default=None, metavar="X.Y.Z",
                   help="version written into the model's metadata (default: the checkpoint's); "
                        "give a new one for every model you ship, since cached features are keyed by it")
    p.add_argument("--encoder-from", metavar="DIR", default=None,
                   help="for a head trained with `deal train --from-model`: the model folder holding that frozen encoder "
                        "(default: the folder recorded in the checkpoint); its encoder must be the one the head was trained on")
    p.add_argument("--score-threshold", type=float, default=None, metavar="S",
                   help="the score from which the engine keeps and counts a detection unless told otherwise "
                        "(default 0.3); pick it where the counts come out right on training data: "
                        "`deal eval --split train --count-threshold 0.3 0.4 0.5 ...` prints the count error at each")
    p.add_argument("--views-score-threshold", type=float, default=None, metavar="S",
                   help="the same for test-time views (--views), whose fused scores are means over the views "
                        "(default: --score-threshold); `deal eval --split train --views 8 --count-threshold ...`")
    p.add_argument("--head-source", choices=("decoder", "dense"), default="decoder",
                   help="final boxes from the decoder (default) or the dense proposals (ablation)")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..errors import ModelError
    from ..training.checkpoint import load_weights
    from .config import ModelConfig
    from .deal import build
    from .export import INFERENCE_SETTINGS, export_onnx, set_inference_settings

    given = {key: getattr(args, key, None) for key in INFERENCE_SETTINGS}
    scores = {key: value for key, value in given.items() if value is not None}
    for key, value in scores.items():
        if not 0.0 < value < 1.0:
            raise ModelError(f"--{key.replace('_', '-')} must be a score between 0 and 1, got {value:g}")
    if args.checkpoint and Path(args.checkpoint).is_dir():
        if not scores:
            raise ModelError(f"{args.checkpoint} is a model folder: give the settings to write into it "
                             "(--score-threshold and/or --views-score-threshold), or a .safetensors checkpoint to export")
        out = set_inference_settings(args.checkpoint, args.out, scores)
        print(f"wrote {', '.join(f'{k} {v:g}' for k, v in scores.items())} into {out}")
        return 0
    if args.untrained:
        cfg = ModelConfig(backbone="tiny", name="deal-tiny-untrained", tile_size=256, overlap=32) if args.tiny else ModelConfig(name="deal-mnv2-untrained")
        extra = {"trained": False}
    else:
        if not args.checkpoint or not Path(args.checkpoint).exists():
            raise ModelError(f"checkpoint not found: {args.checkpoint!r}; give the .safetensors file written by `deal train`")
        cfg, extra = load_weights(Path(args.checkpoint), None, None)
        extra = {"trained": True, **extra}
    if args.min_queries is not None:  # an inference setting: it goes into the graph, not into the weights
        if not 1 <= args.min_queries <= cfg.num_queries:
            raise ModelError(f"--min-queries must be between 1 and {cfg.num_queries}, got {args.min_queries}")
        cfg.min_queries = args.min_queries
    if args.model_version is not None:
        if not re.fullmatch(r"\d+\.\d+\.\d+", args.model_version):
            raise ModelError(f"--model-version must look like 1.2.3, got {args.model_version!r}")
        cfg.version = args.model_version
    extra.update(scores)
    frozen = extra.get("frozen_encoder") if not args.untrained else None
    if frozen:  # a head trained on an exported model's frozen encoder: that encoder graph is reused as it is
        from .deal import DealPromptHead
        from .export import encoder_hash, export_head_on_encoder

        folder = args.encoder_from or frozen["folder"]
        found = encoder_hash(folder)
        if found != frozen["content_hash"]:
            raise ModelError(f"{folder}/encoder.onnx is not the encoder this head was trained on (content hash {found}, "
                             f"the checkpoint expects {frozen['content_hash']}); give the right folder with --encoder-from")
        head = DealPromptHead(cfg)
        load_weights(Path(args.checkpoint), None, head)
        out = export_head_on_encoder(head, cfg, folder, args.out, extra, head_source=args.head_source)
    else:
        enc, head = build(cfg, pretrained=args.untrained and not args.tiny)
        if not args.untrained:
            load_weights(Path(args.checkpoint), enc, head)
        out = export_onnx(enc, head, cfg, args.out, extra, head_source=args.head_source)
    print(f"exported {cfg.name} to {out}")
    return 0
