"""RT-DETR-style decoder with a CPU-friendly multi-scale sampling attention.

Each query attends to a few bilinearly sampled points per level around its reference box (the
idea of deformable attention, written with ``grid_sample`` so it exports to ONNX and runs on the
CPU); every layer refines the boxes and scores them (iterative refinement, auxiliary outputs).
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import MLP, Attention, bias_for_prior, grid_coords, inverse_sigmoid


def sample_bilinear(values: torch.Tensor, loc: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of a feature map at normalised points, zero outside (as ``grid_sample`` with
    ``align_corners=False``), written with gathers so that only the sampled points cost anything.

    Args:
        values: ``(Kv, C, H, W)`` with Kv == 1 (shared by every prompt set) or Kv == K.
        loc: ``(K, heads, Q, P, 2)`` x, y in [0, 1] of the map's width and height; head h reads
            channels ``[h*C/heads, (h+1)*C/heads)``.
    Returns: ``(K, heads, C/heads, Q, P)``.
    """
    kv, c, _, _ = values.shape
    k, hd, q, p, _ = loc.shape
    ch = c // hd
    gy, gx = grid_coords(values)
    width, height = gx[0, -1] + 1, gy[-1, 0] + 1  # run-time sizes (dynamic in the exported graph)
    x = loc[..., 0] * width - 0.5
    y = loc[..., 1] * height - 0.5
    x0, y0 = torch.floor(x), torch.floor(y)
    fx, fy = x - x0, y - y0
    flat = values.flatten(2)  # (Kv, C, H*W)
    shared = kv == 1
    src = flat.reshape(hd, ch, -1) if shared else flat.reshape(k * hd, ch, -1)
    out = 0.0
    for dx, dy, weight in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        xi, yi = x0 + dx, y0 + dy
        inside = ((xi >= 0) & (xi <= width - 1) & (yi >= 0) & (yi <= height - 1)).to(values.dtype)
        index = (yi.clamp(min=0) * width + xi.clamp(min=0)).clamp(max=width * height - 1).long()  # (K,hd,Q,P)
        if shared:  # one map for every prompt set: fold the sets into the point axis
            idx = index.permute(1, 0, 2, 3).reshape(hd, 1, -1).expand(-1, ch, -1)
            g = torch.gather(src, 2, idx).reshape(hd, ch, k, q, p).permute(2, 0, 1, 3, 4)
        else:
            idx = index.reshape(k * hd, 1, -1).expand(-1, ch, -1)
            g = torch.gather(src, 2, idx).reshape(k, hd, ch, q, p)
        out = out + g * (weight * inside)[:, :, None]
    return out


class SamplingAttention(nn.Module):
    """``forward(query (K,Q,C), ref (K,Q,4) cxcywh in [0,1], values [(K,C,h_l,w_l)]) -> (K,Q,C)``."""

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

    def forward(self, query: torch.Tensor, ref: torch.Tensor, values: list[torch.Tensor]) -> torch.Tensor:
        k, q, c = query.shape
        hd, lv, pt = self.heads, self.levels, self.points
        off = self.offsets(query).reshape(k, q, hd, lv, pt, 2)
        loc = ref[:, :, None, None, None, :2] + off * ref[:, :, None, None, None, 2:] * 0.5  # (K,Q,hd,lv,pt,2)
        loc = loc.permute(0, 2, 3, 1, 4, 5)  # (K,hd,lv,Q,pt,2)
        attn = self.weights(query).reshape(k, q, hd, lv * pt).softmax(-1)
        sampled = [sample_bilinear(v, loc[:, :, level]) for level, v in enumerate(values)]  # (K,hd,c/hd,Q,pt) each
        s = torch.cat(sampled, -1)  # (K,hd,c/hd,Q,lv*pt)
        w = attn.permute(0, 2, 1, 3)[:, :, None]  # (K,hd,1,Q,lv*pt)
        out = (s * w).sum(-1).reshape(k, c, q).transpose(1, 2)
        return self.out(out)


class DecoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int = 4, ffn: int = 256, levels: int = 3, points: int = 4):
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross = SamplingAttention(dim, heads, levels, points)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.ReLU(), nn.Linear(ffn, dim))
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x, pos, ref, values):
        qk = x + pos
        x = self.norm1(x + self.self_attn(qk, qk, x))
        x = self.norm2(x + self.cross(x + pos, ref, values))
        return self.norm3(x + self.ffn(x))


class Decoder(nn.Module):
    """``forward(query (K,Q,C), ref (K,Q,4) cxcywh [0,1], values) -> [(boxes (K,Q,4) cxcywh [0,1], logits (K,Q))] per layer``."""

    def __init__(self, dim: int, layers: int = 3, heads: int = 4, ffn: int = 256, levels: int = 3, points: int = 4):
        super().__init__()
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
        for layer, box_head, score_head in zip(self.layers, self.box_heads, self.score_heads):
            x = layer(x, self.query_pos(ref), ref, values)
            boxes = torch.sigmoid(box_head(x) + inverse_sigmoid(ref))
            outputs.append((boxes, score_head(x)[..., 0]))
            ref = boxes.detach()
        return outputs
