"""Point-guided prompt encoding (DEAL V-A, eqs. 4-6).

Exemplar embeddings (features of F sampled at the clicks, see ``engine.exemplars``) are refined by
self-attention among the points of each prompt set, then cross-attend to the tile's coarse
features to become prompt-conditioned kernels. Correlating the kernels with F gives the
correlation features from which the density is projected.
"""

from __future__ import annotations

import torch
import torch.nn.functional as fn
from torch import nn

from .layers import Attention, ConvNormAct, SeparableConv, sincos_position_2d


class PointPromptEncoder(nn.Module):
    """``forward(exemplars (K,M,C), mask (K,M) 1=valid, context (1,C,h,w)) -> kernels (K,M,C)``."""

    def __init__(self, dim: int, heads: int = 4):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(dim, dim), nn.LayerNorm(dim))
        self.prompt_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.self_attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, exemplars: torch.Tensor, mask: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        k = exemplars.shape[0]
        x = self.embed(exemplars) + self.prompt_token
        pad = mask < 0.5
        x = self.norm1(x + self.self_attn(x, x, x, key_padding_mask=pad))
        ctx = context.flatten(2).transpose(1, 2) + sincos_position_2d(context, context.shape[1]).to(context)[None]
        ctx = ctx.expand(k, -1, -1)
        x = self.norm2(x + self.cross_attn(x, ctx, ctx))
        return self.norm3(x + self.ffn(x))


class Correlation(nn.Module):
    """Correlates kernels with F: cosine maps (max and mean over a set's points) plus channel re-weighting.

    ``forward(f (1,C,h,w), kernels (K,M,C), mask (K,M)) -> (K, C, h, w)`` correlation features.
    """

    def __init__(self, dim: int, temperature: float = 10.0):
        super().__init__()
        self.temperature = temperature
        self.gate = nn.Linear(dim, dim)
        self.fuse = nn.Sequential(ConvNormAct(dim + 2, dim, 1), SeparableConv(dim, dim))

    def forward(self, f: torch.Tensor, kernels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        k = kernels.shape[0]
        fn_ = fn.normalize(f, dim=1)[0]  # (C,h,w)
        kn = fn.normalize(kernels, dim=-1)  # (K,M,C)
        cos = torch.einsum("kmc,chw->kmhw", kn, fn_)
        m = mask[:, :, None, None]
        cos_max = (cos * m + (m - 1) * 4.0).amax(dim=1, keepdim=True)  # padded points can't win
        cos_mean = (cos * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1.0)
        mean_kernel = (kernels * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        gated = f * torch.sigmoid(self.gate(mean_kernel))[:, :, None, None]  # (K,C,h,w)
        return self.fuse(torch.cat([gated, cos_max * self.temperature, cos_mean * self.temperature], 1)) + f.expand(k, -1, -1, -1)
