"""Hybrid Feature Enhancement (DEAL V-A, after RT-DETR's hybrid encoder).

A transformer encoder layer models global context on the coarsest level, then a top-down and a
bottom-up pass of CSP blocks fuse the levels. Output: enhanced maps at strides 8, 16, 32, each
with ``dim`` channels; the stride-8 map is the paper's F.
"""

from __future__ import annotations

import torch
import torch.nn.functional as fn
from torch import nn

from .layers import ConvNormAct, CSPBlock, TransformerLayer, sincos_position_2d


class HybridEncoder(nn.Module):
    """``forward((c8, c16, c32)) -> (p8, p16, p32)``, each ``(B, dim, H/s, W/s)``."""

    def __init__(self, in_channels: tuple[int, int, int], dim: int = 64, heads: int = 4, ffn: int = 256, csp_depth: int = 1):
        super().__init__()
        self.dim = dim
        self.inputs = nn.ModuleList(ConvNormAct(c, dim, 1, act=None) for c in in_channels)
        self.transformer = TransformerLayer(dim, heads, ffn)
        self.lateral = nn.ModuleList([ConvNormAct(dim, dim, 1), ConvNormAct(dim, dim, 1)])  # for s32, s16
        self.top_down = nn.ModuleList([CSPBlock(2 * dim, dim, csp_depth), CSPBlock(2 * dim, dim, csp_depth)])  # -> s16, s8
        self.down = nn.ModuleList([ConvNormAct(dim, dim, 3, 2), ConvNormAct(dim, dim, 3, 2)])  # s8->s16, s16->s32
        self.bottom_up = nn.ModuleList([CSPBlock(2 * dim, dim, csp_depth), CSPBlock(2 * dim, dim, csp_depth)])  # -> s16, s32

    def forward(self, feats):
        c8, c16, c32 = (proj(f) for proj, f in zip(self.inputs, feats))
        b, c, h, w = c32.shape
        tokens = c32.flatten(2).transpose(1, 2)
        pos = sincos_position_2d(c32, c).to(tokens)
        c32 = self.transformer(tokens, pos[None]).transpose(1, 2).reshape(c32.shape)

        l32 = self.lateral[0](c32)
        t16 = self.top_down[0](torch.cat([fn.interpolate(l32, size=c16.shape[-2:], mode="nearest"), c16], 1))
        l16 = self.lateral[1](t16)
        p8 = self.top_down[1](torch.cat([fn.interpolate(l16, size=c8.shape[-2:], mode="nearest"), c8], 1))
        p16 = self.bottom_up[0](torch.cat([self.down[0](p8), l16], 1))
        p32 = self.bottom_up[1](torch.cat([self.down[1](p16), l32], 1))
        return p8, p16, p32
