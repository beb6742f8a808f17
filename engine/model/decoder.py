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


def level_rows(maps: list[torch.Tensor], heads: int) -> torch.Tensor:
    """Maps ``[(1,C,h_l,w_l)]`` shared by every prompt set as the decoder's gather rows: ``(heads*S, C/heads)``,
    S = sum h_l*w_l, row ``head*S + start_l + cell`` holding that head's channels at that cell.

    Prompt-independent: computed once per tile (:meth:`engine.model.deal.DealPromptHead.prepare`).
    """
    flat = torch.cat([m.flatten(2) for m in maps], 2)  # (1, C, S)
    return flat.unflatten(1, (heads, flat.shape[1] // heads)).transpose(2, 3).reshape(-1, flat.shape[1] // heads)


class LevelStack:
    """The decoder's value maps as gather rows, so that one gather serves every level, corner and
    sampling point of every query.

    ``LevelStack(first (K,C,h,w), shared (heads*S',C/heads), query (K,Q,C), heads, dim, points)``:
    level 0 is ``first``, one map per prompt set (the prompt-modulated stride-8 map); levels 1, 2, ...
    are the maps in ``shared`` (:func:`level_rows`, the same for every set), each half the previous
    level's width and height (strides 16, 32 next to 8). ``rows`` is ``[first's rows (K*heads*S0); shared]``
    so that a sample is one row read (an ONNX Gather, no index broadcast over channels).

    Samples are laid out as A = heads*levels*points columns per query, in the order of the
    attention's linear outputs; per-column constants (the level's width and height, where the
    head's block and the level start in ``rows``) make every broadcast a trailing one, cheap in
    onnxruntime, and every reshape uses Python constants, so the graph needs no shape arithmetic.
    """

    def __init__(self, first: torch.Tensor, shared: torch.Tensor, query: torch.Tensor, heads: int, dim: int, points: int, levels: int = 3):
        self.heads, self.levels, self.points, self.channels = heads, levels, points, dim // heads
        gy, gx = grid_coords(first)
        w0, h0 = gx[0, -1] + 1, gy[-1, 0] + 1  # run-time sizes (dynamic when exported)
        scale = 2.0 ** -torch.arange(levels, dtype=query.dtype)  # (L,) constants
        widths, heights = w0 * scale, h0 * scale
        sizes = widths * heights
        s0, s_shared = sizes[0], sizes[1:].sum()
        n_sets = torch.ones_like(query[:, 0, 0]).sum()  # K, as a run-time value
        self.rows = torch.cat([first.flatten(2).unflatten(1, (heads, self.channels)).transpose(2, 3).reshape(-1, self.channels), shared], 0)
        offsets = torch.cumsum(sizes, 0) - sizes - s0  # shared levels' starts within a head's shared block
        level = torch.arange(levels)[None, :, None].expand(heads, -1, points).reshape(-1)  # (A,) constants
        head = torch.arange(heads, dtype=query.dtype)[:, None].expand(-1, levels * points).reshape(-1)
        first_col = (level == 0).to(query.dtype)
        self.width_col, self.height_col = widths[level], heights[level]  # (A,)
        self.start_col = first_col * (head * s0) + (1 - first_col) * (n_sets * heads * s0 + head * s_shared + offsets[level])
        set_index = (torch.ones_like(query[..., 0]).cumsum(0) - 1).reshape(-1, 1)  # (K*Q, 1)
        self.set_start = set_index * (heads * s0) * first_col  # (K*Q, A): only level 0 is per set


def _axis_taps(coord: torch.Tensor, size: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bilinear taps along one axis: pixel-centre coordinate -> (low index, high index, low weight,
    high weight); a tap outside ``[0, size-1]`` gets weight 0 (zero padding) and a clamped index."""
    low = torch.floor(coord)
    frac = coord - low
    high = low + 1
    w_low = (1 - frac) * ((low >= 0) & (low <= size - 1)).to(coord.dtype)
    w_high = frac * ((high >= 0) & (high <= size - 1)).to(coord.dtype)
    return torch.clamp(low, min=0).minimum(size - 1), torch.clamp(high, min=0).minimum(size - 1), w_low, w_high


def sample_levels(stack: LevelStack, x: torch.Tensor, y: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted sum of bilinear samples over levels and points, zero outside a map (as ``grid_sample``
    with ``align_corners=False``, padding zeros), written with one gather and one batched matmul.

    Args:
        stack: the value maps (:class:`LevelStack`); head h reads channels ``[h*C/heads, (h+1)*C/heads)``.
        x, y: ``(K*Q, A)`` sample positions in [0, 1] of their level's width and height, columns
            ordered (head, level, point).
        weights: ``(K*Q, A)`` attention weight of each sample.
    Returns: ``(K*Q, C)``.
    """
    hd, ch, per_head = stack.heads, stack.channels, stack.levels * stack.points * 4
    x0, x1, wx0, wx1 = _axis_taps(x * stack.width_col - 0.5, stack.width_col)
    y0, y1, wy0, wy1 = _axis_taps(y * stack.height_col - 0.5, stack.height_col)
    wy0, wy1 = wy0 * weights, wy1 * weights  # fold the attention weight in once
    start = stack.set_start + stack.start_col  # (K*Q, A)
    row0, row1 = start + y0 * stack.width_col, start + y1 * stack.width_col
    cell = torch.stack([row0 + x0, row0 + x1, row1 + x0, row1 + x1], -1)  # (K*Q, A, 4): query order already
    weight = torch.stack([wx0 * wy0, wx1 * wy0, wx0 * wy1, wx1 * wy1], -1)
    picked = stack.rows[cell.long().reshape(-1)].reshape(-1, per_head, ch)  # (K*Q*hd, lv*P*4, C/hd)
    return torch.matmul(weight.reshape(-1, 1, per_head), picked).reshape(-1, hd * ch)


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
        a = self.heads * self.levels * self.points
        # x and y offsets from the even and odd rows of the same linear layer (no strided slicing at run time)
        off_x = nn.functional.linear(query, self.offsets.weight[0::2], self.offsets.bias[0::2]).reshape(-1, a)
        off_y = nn.functional.linear(query, self.offsets.weight[1::2], self.offsets.bias[1::2]).reshape(-1, a)
        r = ref.reshape(-1, 4)
        x = r[:, 0:1] + off_x * (r[:, 2:3] * 0.5)  # (K*Q, A) in [0, 1] of each level
        y = r[:, 1:2] + off_y * (r[:, 3:4] * 0.5)
        attn = self.weights(query).reshape(-1, self.heads, self.levels * self.points).softmax(-1).reshape(-1, a)
        return self.out(sample_levels(stack, x, y, attn).reshape_as(query))


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
    """``forward(query (K,Q,C), ref (K,Q,4) cxcywh [0,1], first (K,C,h,w), shared) -> [(boxes (K,Q,4) cxcywh [0,1], logits (K,Q))] per layer``.

    ``first``: the per-set stride-8 value map; ``shared``: the coarser levels as :func:`level_rows`.
    """

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

    def forward(self, query, ref, first, shared):
        outputs = []
        x = query
        cross = self.layers[0].cross
        stack = LevelStack(first, shared, query, cross.heads, self.dim, cross.points, cross.levels)
        for layer, box_head, score_head in zip(self.layers, self.box_heads, self.score_heads):
            x = layer(x, self.query_pos(ref), ref, stack)
            boxes = torch.sigmoid(box_head(x) + inverse_sigmoid(ref))
            outputs.append((boxes, score_head(x)[..., 0]))
            ref = boxes.detach()
        return outputs
