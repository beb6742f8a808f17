"""DEAL assembled: an encoder (run once per tile) and a prompt head (run per set of clicks).

The split mirrors the cost structure the engine relies on: a new click only re-runs the
prompt head on cached encoder features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as fn
from torch import nn

from .backbone import MobileNetV2Backbone, TinyBackbone
from .config import ModelConfig
from .decoder import Decoder, level_rows
from .density_head import DensityHead, decode_dense_boxes, queries_for_count
from .hybrid_encoder import HybridEncoder
from .layers import ACTIVATIONS, SeparableConv, grid_coords
from .point_prompt import Correlation, PointPromptEncoder, inverse_norm
from .swin import SWIN_VARIANTS, SwinBackbone


def make_backbone(name: str) -> nn.Module:
    """The backbone a config names: ``mobilenet_v2`` (default), ``swin_t`` / ``swin_nano``, ``tiny``."""
    if name == "mobilenet_v2":
        return MobileNetV2Backbone()
    if name == "tiny":
        return TinyBackbone()
    if name in SWIN_VARIANTS:
        return SwinBackbone(name)
    raise ValueError(f"unknown backbone {name!r}: choose mobilenet_v2, {', '.join(SWIN_VARIANTS)} or tiny")


class DealEncoder(nn.Module):
    """``forward(image (1,3,H,W) RGB in [0,1], H and W multiples of 32) -> p8, p16, p32, size``.

    p8/p16/p32: enhanced features ``(1,dim,H/s,W/s)``; size: ``(1,2,H/8,W/8)`` class-agnostic
    log(width, height) in pixels of an object centred at each cell (used to pick the scale).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.backbone = make_backbone(cfg.backbone)
        self.hybrid = HybridEncoder(self.backbone.channels, cfg.dim, cfg.heads, cfg.ffn)
        self.size_head = nn.Sequential(SeparableConv(cfg.dim, cfg.dim), nn.Conv2d(cfg.dim, 2, 1))
        nn.init.constant_(self.size_head[-1].bias, 3.0)
        self.register_buffer("mean", torch.tensor(cfg.mean).reshape(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(cfg.std).reshape(1, 3, 1, 1), persistent=False)

    def forward(self, image: torch.Tensor):
        p8, p16, p32 = self.hybrid(self.backbone((image - self.mean) / self.std))
        return p8, p16, p32, self.size_head(p8)


PREPARED = ("inv_norm8", "context_k", "context_v", "level_rows")
"""What :meth:`DealPromptHead.prepare` computes from a tile's features, in this order: the names of
the encoder graph's extra outputs and of the prompt head graph's inputs besides p8 and the prompts."""


class DealPromptHead(nn.Module):
    """Prompt head: exemplars -> kernels -> correlation -> density -> queries -> decoder.

    ``forward(p8, p16, p32 (1,C,h,w) each, exemplars (K,M,C), mask (K,M))`` returns a dict:
    heat_logit (K,h8,w8), count_density (K,h8,w8), dense_boxes (K,h8*w8,4) cxcywh px,
    query_index (K,Q), layers: [(boxes (K,Q,4) cxcywh in [0,1] of the tile, logits (K,Q))].

    It is :meth:`prepare` (what does not depend on the prompts: once per tile, exported into the
    encoder graph) followed by :meth:`run` (per set of prompts: the prompt head graph).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.prompt_encoder = PointPromptEncoder(cfg.dim, cfg.heads)
        act = ACTIVATIONS[cfg.head_act]
        self.correlation = Correlation(cfg.dim, act=act, context=cfg.dense_context, cos_context=cfg.cos_context)
        self.density = DensityHead(cfg.dim, act, context=cfg.dense_context and cfg.heat_context)
        self.query_embed = nn.Sequential(nn.Linear(cfg.dim, cfg.dim), nn.LayerNorm(cfg.dim))
        self.decoder = Decoder(cfg.dim, cfg.decoder_layers, cfg.heads, cfg.ffn, 3, cfg.points)

    def prepare(self, p8: torch.Tensor, p16: torch.Tensor, p32: torch.Tensor) -> dict[str, torch.Tensor]:
        """The prompt-independent part of the head, once per tile (:data:`PREPARED`): the inverse
        feature norms of p8 (cosine denominators), the cross-attention's keys and values of p32,
        and p16/p32 as the decoder's gather rows."""
        context_k, context_v = self.prompt_encoder.context(p32)
        return {"inv_norm8": inverse_norm(p8), "context_k": context_k, "context_v": context_v,
                "level_rows": level_rows([p16, p32], self.cfg.heads)}

    def forward(self, p8, p16, p32, exemplars, mask, num_queries: int | None = None, dense_boxes: bool = True,
                adaptive_queries: bool = False):
        """:meth:`prepare` then :meth:`run`."""
        return self.run(p8, self.prepare(p8, p16, p32), exemplars, mask, num_queries, dense_boxes, adaptive_queries)

    def run(self, p8, prepared: dict[str, torch.Tensor], exemplars, mask, num_queries: int | None = None, dense_boxes: bool = True,
            adaptive_queries: bool = False):
        """The prompt-dependent part, on ``prepared`` from :meth:`prepare`.

        Inference options: ``dense_boxes=False`` computes box proposals only at the selected
        queries (``dense_boxes`` is then ``None``; ``query_boxes`` (K,Q,4) px is returned either
        way); ``adaptive_queries=True`` is the density-guided query assignment: the decoder runs
        ``queries_for_count(N)`` queries (the largest over the K sets) instead of a fixed number,
        so a tile with few objects costs little."""
        kernels = self.prompt_encoder(exemplars, mask, prepared["context_k"], prepared["context_v"])
        corr = self.correlation(p8, kernels, mask, prepared["inv_norm8"])
        heat_logit, count_density, box_raw, modulated = self.density(corr, dense_boxes)
        k, c, h, w = modulated.shape
        stride = self.cfg.stride
        q_max = min(num_queries or self.cfg.num_queries, h * w)
        if adaptive_queries:
            n_keep = queries_for_count(count_density.sum(dim=(1, 2)).amax(), self.cfg.min_queries, q_max)
            n_keep = torch.minimum(n_keep, torch.ones_like(heat_logit[0]).sum())  # never more than the cells
            _, index = heat_logit.flatten(1).topk(n_keep.long(), dim=1)  # a run-time k in the exported graph
        else:
            _, index = heat_logit.flatten(1).topk(q_max, dim=1)
        picked = torch.gather(modulated.flatten(2), 2, index[:, None, :].expand(-1, c, -1))  # (K,C,Q)
        query = self.query_embed(picked.transpose(1, 2))
        if dense_boxes:
            dense = decode_dense_boxes(box_raw, stride)  # (K,h*w,4) px
            query_boxes = torch.gather(dense, 1, index[..., None].expand(-1, -1, 4))
        else:
            dense, query_boxes = None, self.density.boxes_at(modulated, index, stride)
        gy, gx = grid_coords(heat_logit)
        wpx, hpx = (gx[0, -1] + 1) * stride, (gy[-1, 0] + 1) * stride  # tile size from the run-time shape
        size = torch.stack([wpx, hpx, wpx, hpx])
        ref = (query_boxes / size).clamp(1e-4, 1 - 1e-4).detach()
        layers = self.decoder(query, ref, modulated, prepared["level_rows"])  # p16/p32 are shared by all prompt sets
        return {"heat_logit": heat_logit, "count_density": count_density, "dense_boxes": dense, "query_boxes": query_boxes,
                "query_index": index, "layers": layers, "tile_size": size}


def sample_exemplars(p8: torch.Tensor, points_px: torch.Tensor, stride: int) -> torch.Tensor:
    """Bilinear RoI-Align of F at points: ``p8 (1,C,h,w)``, ``points_px (..., 2)`` x, y tile pixels -> ``(..., C)``.

    Cell (i, j) of F is centred on pixel (j + 0.5) * stride, (i + 0.5) * stride; outside the map
    the nearest border value is used.
    """
    _, c, h, w = p8.shape
    shape = points_px.shape[:-1]
    pts = points_px.reshape(1, -1, 1, 2)
    grid = torch.stack([pts[..., 0] / (w * stride) * 2 - 1, pts[..., 1] / (h * stride) * 2 - 1], -1)
    out = fn.grid_sample(p8, grid, mode="bilinear", padding_mode="border", align_corners=False)  # (1,C,P,1)
    return out[0, :, :, 0].t().reshape(*shape, c)


class PromptHeadExport(nn.Module):
    """The prompt head as exported: final boxes (K,Q,4) xyxy tile px, scores (K,Q), query validity from the count.

    Q is decided in the graph by the density-guided rule (the most any of the K sets needs), and
    ``valid`` marks, per set, the queries within its own count.

    ``source="decoder"`` (default) takes the last decoder layer's boxes and scores;
    ``source="dense"`` the selected queries' dense proposals scored by the density D (an
    ablation: what the decoder adds).
    """

    def __init__(self, head: DealPromptHead, source: str = "decoder"):
        super().__init__()
        if source not in ("decoder", "dense"):
            raise ValueError(f"source must be 'decoder' or 'dense', got {source!r}")
        self.head = head
        self.source = source

    def forward(self, p8, p16, p32, exemplars, mask):
        return self.on_prepared(p8, self.head.prepare(p8, p16, p32), exemplars, mask)

    def on_prepared(self, p8, prepared: dict, exemplars, mask):
        """The graph's outputs from the tile's :meth:`DealPromptHead.prepare` results."""
        out = self.head.run(p8, prepared, exemplars, mask, dense_boxes=False, adaptive_queries=True)
        size = out["tile_size"]
        if self.source == "dense":
            boxes = out["query_boxes"] / size
            logits = torch.gather(out["heat_logit"].flatten(1), 1, out["query_index"])
        else:
            boxes, logits = out["layers"][-1]
        cx, cy, bw, bh = (boxes * size).unbind(-1)
        xyxy = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)
        count = out["count_density"].sum(dim=(1, 2))
        n_keep = queries_for_count(count, self.head.cfg.min_queries, self.head.cfg.num_queries)
        rank = torch.ones_like(logits[:1]).cumsum(1) - 1  # 0..Q-1 with Q known only at run time
        valid = (rank < n_keep[:, None]).to(logits.dtype)
        return torch.sigmoid(out["heat_logit"]), out["count_density"], xyxy, torch.sigmoid(logits), valid, count


class PromptHeadGraph(PromptHeadExport):
    """What ``prompt_head.onnx`` computes: :class:`PromptHeadExport` on the prepared tile features.

    ``forward(p8, inv_norm8, context_k, context_v, level_rows, exemplars, mask)`` (see :data:`PREPARED`).
    """

    def forward(self, p8, inv_norm8, context_k, context_v, level_rows, exemplars, mask):
        return self.on_prepared(p8, dict(zip(PREPARED, (inv_norm8, context_k, context_v, level_rows))), exemplars, mask)


class TilePreparation(nn.Module):
    """What the encoder graph adds after the encoder: ``forward(p8, p16, p32) ->`` :data:`PREPARED` tensors."""

    def __init__(self, head: DealPromptHead):
        super().__init__()
        self.head = head

    def forward(self, p8, p16, p32):
        prepared = self.head.prepare(p8, p16, p32)
        return tuple(prepared[name] for name in PREPARED)


def build(cfg: ModelConfig, pretrained: bool = True) -> tuple[DealEncoder, DealPromptHead]:
    enc = DealEncoder(cfg)
    if pretrained and cfg.backbone == "mobilenet_v2":
        enc.backbone.load_imagenet()
    return enc, DealPromptHead(cfg)
