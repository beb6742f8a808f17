"""RT-DETR-style decoder with a CPU-friendly multi-scale sampling attention.

Each query attends to a few bilinearly sampled points per level around its reference box (the
idea of deformable attention, written with one gather over all levels so that it exports to ONNX
and stays cheap on the CPU); every layer refines the boxes and scores them (iterative refinement,
auxiliary outputs).
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import MLP, Attention, bias_for_prior, grid_coords, inverse_sigmoid


class LevelStack:
    """All levels of the decoder's value maps flattened into one buffer, so that one gather serves
    every level, corner and sampling point of every query.

    ``LevelStack(values [(Kv,C,h_l,w_l)], query (K,Q,C), heads)``: maps with Kv == 1 are shared by
    the K prompt sets. ``rows`` is ``(K*heads*S, C/heads)`` with S = sum h_l*w_l, so that a sample
    is one row read (an ONNX Gather, no index broadcast over channels); ``widths``/``heights``/
    ``offsets`` are ``(levels,)`` float tensors taken from the run-time shapes; ``base`` is
    ``(K*Q*heads, 1, 1)``, the first row of each query's (set, head) block. Every size that
    reshapes depend on is a Python constant (heads, levels, channels), so the exported graph
    needs no shape arithmetic per layer.
    """

    def __init__(self, values: list[torch.Tensor], query: torch.Tensor, heads: int, dim: int):
        self.heads, self.levels, self.channels = heads, len(values), dim // heads
        flats, widths, heights = [], [], []
        ones_k = torch.ones_like(query[:, :1, :1])  # (K,1,1): broadcasts shared maps to every set
        for v in values:
            gy, gx = grid_coords(v)
            widths.append(gx[0, -1] + 1)
            heights.append(gy[-1, 0] + 1)
            flats.append(v.flatten(2) * ones_k)
        flat = torch.cat(flats, 2)  # (K, C, S)
        self.total = torch.ones_like(flat[0, 0]).sum()  # S, as a run-time value
        # row (set*heads + head)*S + cell holds that head's C/heads channels at that cell
        self.rows = flat.unflatten(1, (heads, self.channels)).transpose(2, 3).reshape(-1, self.channels)
        self.widths, self.heights = torch.stack(widths), torch.stack(heights)
        sizes = self.widths * self.heights
        self.offsets = torch.cumsum(sizes, 0) - sizes
        set_index = (torch.ones_like(query[..., 0]).cumsum(0) - 1).reshape(-1, 1)  # (K*Q, 1)
        head_index = torch.arange(heads, dtype=query.dtype)[None]
        self.base = ((set_index * heads + head_index) * self.total).reshape(-1, 1, 1)


def _axis_taps(coord: torch.Tensor, size: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bilinear taps along one axis: pixel-centre coordinate -> (low index, high index, low weight,
    high weight); a tap outside ``[0, size-1]`` gets weight 0 (zero padding) and a clamped index."""
    low = torch.floor(coord)
    frac = coord - low
    high = low + 1
    w_low = (1 - frac) * ((low >= 0) & (low <= size - 1)).to(coord.dtype)
    w_high = frac * ((high >= 0) & (high <= size - 1)).to(coord.dtype)
    return torch.clamp(low, min=0).minimum(size - 1), torch.clamp(high, min=0).minimum(size - 1), w_low, w_high


def sample_levels(stack: LevelStack, loc: torch.Tensor, weights: torch.Tensor, points: int) -> torch.Tensor:
    """Weighted sum of bilinear samples over levels and points, zero outside a map (as ``grid_sample``
    with ``align_corners=False``, padding zeros), written with one gather and one batched matmul.

    The coordinate arithmetic runs level-major on ``(levels, M)`` tensors so that every broadcast
    is a plain per-row one (cheap in onnxruntime), then indices and weights go to query order.

    Args:
        stack: the value maps (:class:`LevelStack`); head h reads channels ``[h*C/heads, (h+1)*C/heads)``.
        loc: ``(K*Q, heads, levels, P, 2)`` x, y in [0, 1] of each level's width and height.
        weights: ``(K*Q, heads, levels, P)`` attention weight of each sample.
        points: P, as a Python int (a constant in the exported graph).
    Returns: ``(K*Q, C)``.
    """
    hd, lv, ch, p = stack.heads, stack.levels, stack.channels, points
    xy = loc.permute(2, 4, 0, 1, 3).reshape(lv, 2, -1)  # (lv, 2, M), M = K*Q*hd*P
    width, height, offset = stack.widths[:, None], stack.heights[:, None], stack.offsets[:, None]
    x0, x1, wx0, wx1 = _axis_taps(xy[:, 0] * width - 0.5, width)
    y0, y1, wy0, wy1 = _axis_taps(xy[:, 1] * height - 0.5, height)
    attn = weights.permute(2, 0, 1, 3).reshape(lv, -1)
    wy0, wy1 = wy0 * attn, wy1 * attn  # fold the attention weight in once
    row0, row1 = offset + y0 * width, offset + y1 * width
    cell = torch.stack([row0 + x0, row0 + x1, row1 + x0, row1 + x1], 1)  # (lv, 4, M)
    weight = torch.stack([wx0 * wy0, wx1 * wy0, wx0 * wy1, wx1 * wy1], 1)
    cell = cell.reshape(lv * 4, -1, p).transpose(0, 1) + stack.base  # (K*Q*hd, lv*4, P): query order
    weight = weight.reshape(lv * 4, -1, p).transpose(0, 1).reshape(-1, 1, lv * 4 * p)
    picked = stack.rows[cell.long().reshape(-1)].reshape(-1, lv * 4 * p, ch)
    return torch.matmul(weight, picked).reshape(-1, hd * ch)


class SamplingAttention(nn.Module):
    """``forward(query (K,Q,C), ref (K,Q,4) cxcywh in [0,1], stack: LevelStack) -> (K,Q,C)``."""

    def __init__(self, dim: int, heads: int = 4, levels: int = 3, points: int = 4):
        super().__init__()
        self.heads, self.levels, self.points = heads, levels, points
        self.offsets = nn.Linear(dim, heads * levels * points * 2)
        self.weights = nn.Linear(dim, heads * levels * points)
        self.out = nn.Linear(dim, dim)
        nn.init.zeros_(self.offsets.weight)
        with torch.no_grad():  # start with points spread on a small ring around the centre
            angles = torch.arange(heads * points, dtype=torch.float32) * (6.283185 / (heads * points))
            ring = torch.stack([angles.cos(), angles.sin()], -1).reshape(heads, 1, points, 2)
            scale = torch.linspace(0.25, 1.0, points).reshape(1, 1, points, 1)
            self.offsets.bias.copy_((ring * scale).expand(heads, levels, points, 2).reshape(-1))

    def forward(self, query: torch.Tensor, ref: torch.Tensor, stack: LevelStack) -> torch.Tensor:
        hd, lv, pt = self.heads, self.levels, self.points
        off = self.offsets(query).reshape(-1, hd, lv, pt, 2)  # (K*Q, ...): one -1, no shape arithmetic
        r = ref.reshape(-1, 1, 1, 1, 4)
        loc = r[..., :2] + off * r[..., 2:] * 0.5
        attn = self.weights(query).reshape(-1, hd, lv * pt).softmax(-1).reshape(-1, hd, lv, pt)
        return self.out(sample_levels(stack, loc, attn, pt).reshape_as(query))


class DecoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int = 4, ffn: int = 256, levels: int = 3, points: int = 4):
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross = SamplingAttention(dim, heads, levels, points)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.ReLU(), nn.Linear(ffn, dim))
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x, pos, ref, stack: LevelStack):
        qk = x + pos
        x = self.norm1(x + self.self_attn(qk, qk, x))
        x = self.norm2(x + self.cross(x + pos, ref, stack))
        return self.norm3(x + self.ffn(x))


class Decoder(nn.Module):
    """``forward(query (K,Q,C), ref (K,Q,4) cxcywh [0,1], values) -> [(boxes (K,Q,4) cxcywh [0,1], logits (K,Q))] per layer``."""

    def __init__(self, dim: int, layers: int = 3, heads: int = 4, ffn: int = 256, levels: int = 3, points: int = 4):
        super().__init__()
        self.dim = dim
        self.layers = nn.ModuleList(DecoderLayer(dim, heads, ffn, levels, points) for _ in range(layers))
        self.query_pos = MLP(4, 2 * dim, dim, 2)
        self.box_heads = nn.ModuleList(MLP(dim, dim, 4, 3) for _ in range(layers))
        self.score_heads = nn.ModuleList(nn.Linear(dim, 1) for _ in range(layers))
        for head in self.box_heads:
            nn.init.zeros_(head.layers[-1].weight)
            nn.init.zeros_(head.layers[-1].bias)
        for head in self.score_heads:
            nn.init.constant_(head.bias, bias_for_prior(0.01))

    def forward(self, query, ref, values):
        outputs = []
        x = query
        stack = LevelStack(values, query, self.layers[0].cross.heads, self.dim)
        for layer, box_head, score_head in zip(self.layers, self.box_heads, self.score_heads):
            x = layer(x, self.query_pos(ref), ref, stack)
            boxes = torch.sigmoid(box_head(x) + inverse_sigmoid(ref))
            outputs.append((boxes, score_head(x)[..., 0]))
            ref = boxes.detach()
        return outputs
