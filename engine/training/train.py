"""The training loop: PG-CPP prompting over category-balanced crops, resumable, logged.

``deal train`` (engine/training/command.py) calls :func:`train`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..class_embeddings import FILE_NAME as CLASS_EMBEDDINGS_FILE
from ..class_embeddings import load_class_embeddings, save_class_embeddings
from ..model.config import ModelConfig
from ..model.deal import build, sample_exemplars
from . import hard_negatives
from .checkpoint import load_optimizer, load_weights, save_optimizer, save_weights
from .crops import CropSampler, load_canonical, sampling_group
from .datasets import DatasetError, ImageRecord
from .losses import LossWeights, set_loss, size_loss
from .pgcpp import initial_prompts, reprompt_worst


@dataclass
class TrainConfig:
    """One training run; saved as ``config.json`` beside its checkpoints."""

    out_dir: str = "runs/default"
    steps: int = 6000
    batch: int = 8
    crop: int = 320
    lr: float = 1e-3
    backbone_lr: float = 2e-4
    weight_decay: float = 1e-4
    warmup: int = 200
    checkpoint_every: int = 100
    log_every: int = 10
    seed: int = 0
    threads: int = 2
    train_queries: int = 120
    cycles: int = 1  # PG-CPP re-prompting rounds per step
    freeze_blocks: int = 7  # backbone features[0:n] (stem to stride 8) frozen: generic filters, and their backward pass dominates CPU time
    pretrained: bool = True
    supervised: bool = False  # baseline: a learned vector per category replaces the clicked exemplars (no prompts)
    from_model: str = ""  # an exported model folder: train only a prompt head on its frozen encoder, from its head's weights
    hard_negatives: str = ""  # a hard-negatives file (engine/training/hard_negatives.py): some crops centred on them
    negative_prob: float = 0.3  # with hard negatives: share of an image's crops centred on one of them
    category_weights: dict = field(default_factory=dict)  # category -> factor on its share of the crops (default 1)
    dataset_weights: dict = field(default_factory=dict)  # dataset -> factor on its share within its category
    model: dict = field(default_factory=dict)  # ModelConfig overrides


def _prepare_sets(prompts: dict, boxes: np.ndarray, cats: np.ndarray):
    """Order the prompt sets and pair each with its ground-truth indices."""
    names = list(prompts)
    gt_index = {c: np.flatnonzero(cats == c) for c in names}
    return names, gt_index


def _exemplars(p8: torch.Tensor, prompts: dict, names: list[str], stride: int):
    m = max(len(prompts[c]) for c in names)
    pts = torch.zeros(len(names), m, 2)
    mask = torch.zeros(len(names), m)
    for k, c in enumerate(names):
        for j, (xy, _) in enumerate(prompts[c]):
            pts[k, j] = torch.from_numpy(np.asarray(xy, np.float32))
            mask[k, j] = 1.0
    return sample_exemplars(p8, pts, stride), mask


def _freeze(encoder: torch.nn.Module, blocks: int) -> None:
    if not hasattr(encoder.backbone, "features"):
        return
    for i, layer in enumerate(encoder.backbone.features):
        if i < blocks:
            for p in layer.parameters():
                p.requires_grad_(False)


def _set_bn_eval(module: torch.nn.Module) -> None:
    """Keep the batch norms' statistics: the backbone's ImageNet ones (batches of 8 crops are too
    small to re-estimate them), a recovered head's folded ones (its exact function at the start)."""
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.eval()


def _place_negatives(images: list, records: list[ImageRecord], centres: dict[str, np.ndarray]) -> int:
    """Hard-negative centres (image pixels) onto the canonical images; returns how many were placed."""
    placed = 0
    for im, record in zip(images, records):
        c = centres.get(hard_negatives.record_key(record))
        if c is not None and len(c):
            im.negatives = (c * np.array([im.image.shape[1] / record.width, im.image.shape[0] / record.height], np.float32))
            placed += len(c)
    return placed


def check_weights(records: list[ImageRecord], category_weights: dict, dataset_weights: dict) -> None:
    """Refuse a sampling weight that names no category or dataset of ``records``, or is not positive.

    Categories are the sampler's groups: an image holding one category belongs to it, one holding
    several to ``mixed``."""
    groups = {sampling_group(r.categories) for r in records if len(r.categories)}
    for kind, plural, weights, known in (("category", "categories", category_weights, groups),
                                         ("dataset", "datasets", dataset_weights, {r.dataset for r in records})):
        for name, w in weights.items():
            if name not in known:
                raise DatasetError(f"--{kind}-weight names {name!r}, which the training data does not hold; "
                                   f"its {plural} are: {', '.join(sorted(known))}")
            if not (isinstance(w, (int, float)) and math.isfinite(w) and w > 0):
                raise DatasetError(f"--{kind}-weight {name}={w}: the weight must be a number above 0")


def lr_factor(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup)))) * 0.95 + 0.05


def train(records: list[ImageRecord], tc: TrainConfig, resume: bool = False, log=print, cache_dir: Path | None = None) -> Path:
    """Train DEAL on ``records``; returns the path of the last checkpoint."""
    torch.set_num_threads(tc.threads)
    torch.manual_seed(tc.seed)
    cfg = ModelConfig(**tc.model)
    class_names = list(cfg.categories_seen)
    unknown = sorted({str(c) for r in records for c in r.categories} - set(class_names)) if tc.supervised else []
    if unknown:  # before anything is written or loaded
        raise DatasetError(f"supervised training learns one vector per category of the model ({', '.join(class_names)}); "
                           f"the data also holds {', '.join(unknown)}: train DEAL instead, or leave those out")
    check_weights(records, tc.category_weights, tc.dataset_weights)
    out = Path(tc.out_dir)
    frozen = None
    if tc.from_model:  # a new head on an exported model's frozen encoder (engine/training/frozen_encoder.py)
        from .frozen_encoder import FrozenEncoder, head_from_model

        if tc.supervised:
            raise DatasetError("the supervised baseline trains the whole network; leave out the frozen-encoder model")
        frozen = FrozenEncoder(tc.from_model, tc.threads)
        cfg, head, fresh = head_from_model(tc.from_model, tc.model)
        log(f"head from {tc.from_model} (encoder {frozen.content_hash}, frozen); newly initialised: {', '.join(fresh) or 'none'}")
        encoder, backbone_params = None, []
        other = [p for p in head.parameters() if p.requires_grad]
    else:
        encoder, head = build(cfg, pretrained=tc.pretrained)
        _freeze(encoder, tc.freeze_blocks)
        backbone_params = [p for p in encoder.backbone.parameters() if p.requires_grad]
        other = [p for n, p in list(encoder.named_parameters()) + [("h." + n, p) for n, p in head.named_parameters()]
                 if p.requires_grad and not n.startswith("backbone.")]
    out.mkdir(parents=True, exist_ok=True)  # only once the model is built: a wrong --from-model leaves nothing behind
    (out / "config.json").write_text(json.dumps({"train": asdict(tc), "model": json.loads(cfg.to_json())}, indent=2))
    class_vectors = torch.nn.Parameter(torch.randn(len(class_names), cfg.dim, generator=torch.Generator().manual_seed(tc.seed)))
    if tc.supervised:
        other.append(class_vectors)
    cycles = 0 if tc.supervised else tc.cycles
    opt = torch.optim.AdamW([{"params": backbone_params, "lr": tc.backbone_lr}, {"params": other, "lr": tc.lr}],
                            weight_decay=tc.weight_decay)
    base_lrs = [g["lr"] for g in opt.param_groups]
    start = 0
    ckpt, opt_path, state_path = out / "last.safetensors", out / "last.optim.pt", out / "last.state.json"
    if resume and ckpt.exists():
        load_weights(ckpt, encoder, head)
        load_optimizer(opt_path, opt)
        start = json.loads(state_path.read_text())["step"]
        if tc.supervised:
            saved = load_class_embeddings(out / CLASS_EMBEDDINGS_FILE)
            with torch.no_grad():
                class_vectors.copy_(torch.from_numpy(np.stack([saved[c] for c in class_names])))
        log(f"resumed from {ckpt} at step {start}")
    t0 = time.time()
    images = [load_canonical(r, cfg.target_object_px, cache_dir) for r in records]
    if tc.hard_negatives:
        placed = _place_negatives(images, records, hard_negatives.load(tc.hard_negatives))
        log(f"hard negatives from {tc.hard_negatives}: {placed} in the training images")
    sampler = CropSampler(images, tc.crop, negative_prob=tc.negative_prob if tc.hard_negatives else 0.0,
                          category_weights=tc.category_weights, dataset_weights=tc.dataset_weights)
    if tc.category_weights or tc.dataset_weights:
        log("crop shares: " + ", ".join(f"{k} {v:.0%}" for k, v in sorted(sampler.share().items())))
    log(f"{len(images)} training images prepared in {time.time() - t0:.0f} s")
    weights = LossWeights()
    stride = cfg.stride
    logf = open(out / "log.jsonl", "a")
    for step in range(start, tc.steps):
        rng = np.random.default_rng([tc.seed, step])
        f = lr_factor(step, tc.warmup, tc.steps)
        for g, base in zip(opt.param_groups, base_lrs):
            g["lr"] = base * f
        head.train()
        if encoder is not None:
            encoder.train(); _set_bn_eval(encoder.backbone)
        else:  # the recovered head's batch norms are its trained statistics folded in: keep them
            _set_bn_eval(head)
        batch = [sampler.sample(rng) for _ in range(tc.batch)]
        images_t = torch.from_numpy(np.stack([b[0] for b in batch])).permute(0, 3, 1, 2).float() / 255.0
        t_step = time.time()
        p8, p16, p32, size = frozen(images_t) if frozen is not None else encoder(images_t)
        total = 0.0
        logs: dict[str, float] = {}
        n_sets = 0
        for bi, (_, boxes, cats) in enumerate(batch):
            if encoder is not None:  # the size head is the encoder's
                total = total + size_loss(size[bi], boxes, stride) / tc.batch
            prompts = initial_prompts(boxes, cats, rng)
            cycle = "intra" if step % 2 == 0 else "inter"
            feats = (p8[bi:bi + 1], p16[bi:bi + 1], p32[bi:bi + 1])
            for rnd in range(cycles + 1):
                names, gt_index = _prepare_sets(prompts, boxes, cats)
                if tc.supervised:  # the category's learned vector stands in for the clicks
                    ex = class_vectors[[class_names.index(c) for c in names]][:, None, :]
                    mask = torch.ones(len(names), 1)
                else:
                    ex, mask = _exemplars(feats[0], prompts, names, stride)
                out_h = head(*feats, ex, mask, num_queries=tc.train_queries)
                quality = {}
                weight = 1.0 if rnd == cycles else 0.5
                for k, c in enumerate(names):
                    loss, parts, q = set_loss(out_h, k, boxes[gt_index[c]], stride, weights)
                    quality[c] = q
                    total = total + weight * loss / tc.batch
                    n_sets += 1
                    for key, v in parts.items():
                        logs[key] = logs.get(key, 0.0) + v
                if rnd < cycles:
                    prompts = reprompt_worst(prompts, quality, gt_index, boxes, cycle, rng)
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], 1.0)
        opt.step()
        if step % tc.log_every == 0 or step == tc.steps - 1:
            rec = {"step": step, "loss": float(total.detach()), "lr": opt.param_groups[1]["lr"], "sec": round(time.time() - t_step, 2),
                   **{k: round(v / max(n_sets, 1), 4) for k, v in logs.items()}}
            logf.write(json.dumps(rec) + "\n"); logf.flush()
            log(json.dumps(rec))
        if (step + 1) % tc.checkpoint_every == 0 or step == tc.steps - 1:
            save_weights(ckpt, encoder, head, cfg, {"step": step + 1, **({"frozen_encoder": frozen.record()} if frozen else {})})
            save_optimizer(opt_path, opt)
            if tc.supervised:
                save_class_embeddings(out / CLASS_EMBEDDINGS_FILE, class_names, class_vectors.detach().numpy())
            state_path.write_text(json.dumps({"step": step + 1}))
    logf.close()
    return ckpt
