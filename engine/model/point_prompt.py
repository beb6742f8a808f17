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

COS_CONTEXT = 8
"""Channels of the optional 3 x 3 conv over the cosine maps (:class:`Correlation` ``cos_context``)."""


class PointPromptEncoder(nn.Module):
    """``forward(exemplars (K,M,C), mask (K,M) 1=valid, context_k, context_v) -> kernels (K,M,C)``.

    ``context_k, context_v``: the tile's coarse features as keys and values of the cross-attention,
    from :meth:`context` (they do not depend on the prompts: computed once per tile).
    """

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

    def context(self, coarse: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``coarse (1,C,h,w)`` (stride 32) plus its position embedding as the cross-attention's keys and
        values, ``(1,heads,h*w,C/heads)`` each, shared by every prompt set."""
        ctx = coarse.flatten(2).transpose(1, 2) + sincos_position_2d(coarse, coarse.shape[1]).to(coarse)[None]
        return self.cross_attn.keys_values(ctx, ctx)

    def forward(self, exemplars: torch.Tensor, mask: torch.Tensor, context_k: torch.Tensor, context_v: torch.Tensor) -> torch.Tensor:
        x = self.embed(exemplars) + self.prompt_token
        pad = mask < 0.5
        x = self.norm1(x + self.self_attn(x, x, x, key_padding_mask=pad))
        x = self.norm2(x + self.cross_attn.attend(x, context_k, context_v))
        return self.norm3(x + self.ffn(x))


class Correlation(nn.Module):
    """Correlates kernels with F: cosine maps (max and mean over a set's points) plus channel re-weighting.

    ``forward(f (1,C,h,w), kernels (K,M,C), mask (K,M), inv_norm (1,h*w)) -> (K, C, h, w)`` correlation
    features; ``inv_norm`` is :func:`inverse_norm` of ``f`` (computed once per tile).

    The fusion is ``ConvNormAct(cat[F * gate_k, T*cos_max, T*cos_mean])``; since its conv is 1x1 the
    gate is folded into per-set conv weights (``W diag(gate_k)``), so neither the gated copy of F
    nor the concatenation is ever materialised (nor a copy of F per set: the matmul broadcasts
    it), and F is normalised per cell only through the cosine's denominator. In eval mode the
    batch norm is folded into those weights too.

    ``cos_context=True`` (with the lighter head, whose 64-channel 3 x 3 convs are gone): a 3 x 3 conv
    of the two cosine maps (``COS_CONTEXT`` channels, ReLU) joins them in the fusion, so a cell sees
    how its neighbours resemble the clicks (a peak of resemblance marks an object's centre) at a
    tiny fraction of a 64-channel conv's cost.
    """

    def __init__(self, dim: int, temperature: float = 10.0, act: type[nn.Module] = nn.SiLU, context: bool = True,
                 cos_context: bool = False):
        super().__init__()
        self.temperature = temperature
        self.gate = nn.Linear(dim, dim)
        self.cos_context = nn.Conv2d(2, COS_CONTEXT, 3, padding=1) if cos_context else None
        extra = 2 + (COS_CONTEXT if cos_context else 0)
        # ``context=False`` (the lighter head): no 3x3 separable conv after the 1x1 fusion
        self.fuse = nn.Sequential(ConvNormAct(dim + extra, dim, 1, act=act), SeparableConv(dim, dim, act) if context else nn.Identity())

    def forward(self, f: torch.Tensor, kernels: torch.Tensor, mask: torch.Tensor, inv_norm: torch.Tensor) -> torch.Tensor:
        k = kernels.shape[0]
        _, c, h, w = f.shape
        flat = f.reshape(c, -1)  # (C, hw)
        unit = fn.normalize(kernels, dim=-1)
        m = mask[:, :, None]
        if self.training:
            cos = torch.matmul(unit, flat) * inv_norm  # (K,M,hw)
            cos_max = (cos * m + (m - 1) * 4.0).amax(dim=1, keepdim=True)  # padded points can't win
            cos_mean = (cos * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1.0)
            cosines = torch.cat([cos_max, cos_mean], 1)  # (K,2,hw)
        else:  # the same with no masking over the map: the max and the mean over a set's points commute
            # with the cell's positive 1/|F|; a padded point takes a valid point's kernel (it can then
            # neither win the max nor change it), and the mean of the cosines is the cosine with the
            # mean unit kernel: one matmul of M+1 rows, then 1/|F| on the two maps only
            valid = unit.gather(1, mask.argmax(1)[:, None, None].expand(-1, 1, c))  # (K,1,C)
            mean_unit = (unit * m).sum(1, keepdim=True) / m.sum(1, keepdim=True).clamp(min=1.0)
            dots = torch.matmul(torch.cat([unit * m + valid * (1 - m), mean_unit], 1), flat)  # (K,M+1,hw)
            cosines = torch.cat([dots[:, :-1].amax(1, keepdim=True), dots[:, -1:]], 1) * inv_norm
        mean_kernel = (kernels * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1.0)
        gate = torch.sigmoid(self.gate(mean_kernel))  # (K,C)
        conv, norm, act = self.fuse[0]
        weight = conv.weight[:, :, 0, 0]  # (C, C+2 [+ COS_CONTEXT])
        w_feat = weight[:, :c][None] * gate[:, None, :]  # (K,C,C)
        w_cos = weight[:, c:] * self.temperature  # (C,2)
        if self.cos_context is not None:  # the cosine maps' neighbourhood, as extra small rows (not scaled by T)
            w_cos = torch.cat([w_cos[:, :2], weight[:, c + 2:]], 1)  # (C, 2 + COS_CONTEXT)
            around = fn.relu(self.cos_context(cosines.reshape(k, 2, h, w) * self.temperature)).flatten(2)
            cosines = torch.cat([cosines, around], 1)  # (K, 2 + COS_CONTEXT, hw)
        if self.training:
            pre = norm((torch.matmul(w_feat, flat) + torch.matmul(w_cos, cosines)).reshape(k, c, h, w))
        else:  # batch norm folded in: F's share broadcast over the sets (F is never copied per set),
            # the cosines' (and their context's) and the shift's as one small matmul over [cos_max; cos_mean; 1]
            scale, shift = bn_affine(norm)
            w_small = torch.cat([w_cos * scale[:, None], shift[:, None]], 1)  # (C, 3 [+ COS_CONTEXT])
            small = torch.cat([cosines, torch.ones_like(cosines[:, :1])], 1)  # (K, 3 [+ COS_CONTEXT], hw)
            pre = (torch.matmul(w_feat * scale[None, :, None], flat) + torch.matmul(w_small, small)).reshape(k, c, h, w)
        return self.fuse[1](act(pre)) + f


def inverse_norm(f: torch.Tensor) -> torch.Tensor:
    """``f (1,C,h,w)`` -> ``(1, h*w)``: one over each cell's feature norm (the cosine's denominator)."""
    return 1.0 / f.flatten(2)[0].norm(dim=0, keepdim=True).clamp(min=1e-12)  # as fn.normalize's eps


def bn_affine(norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode batch norm as ``x * scale + shift`` per channel."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return scale, norm.bias - norm.running_mean * scale
