"""Point-guided density activation and the dense head (DEAL V-A, eqs. 7-9).

From the correlation features: a heat map D (object-centre likelihood, focal-loss supervised), a
count density rho (objects per cell, sums to the object count N), per-cell box proposals, and
the prompt-aware features F' = corr * (1 + D) handed to the decoder.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import SeparableConv, bias_for_prior, grid_coords


class DensityHead(nn.Module):
    """``forward(corr (K,C,h,w)) -> heat_logit (K,h,w), count_density (K,h,w), box_raw (K,4,h,w), modulated (K,C,h,w)``.

    ``boxes_at`` evaluates the box branch at selected cells only (inference).
    """

    def __init__(self, dim: int, act: type[nn.Module] = nn.SiLU, context: bool = True):
        super().__init__()
        # ``context=False`` (the lighter head): the heat map straight from the correlation by a 1x1 conv
        self.heat = nn.Sequential(SeparableConv(dim, dim, act) if context else nn.Identity(), nn.Conv2d(dim, 1, 1))
        self.count = nn.Conv2d(dim, 1, 1)
        self.box = nn.Sequential(SeparableConv(dim, dim, act), nn.Conv2d(dim, 4, 1))
        nn.init.constant_(self.heat[-1].bias, bias_for_prior(0.01))
        nn.init.constant_(self.count.bias, -4.0)

    def forward(self, corr: torch.Tensor, dense_boxes: bool = True):
        """``dense_boxes=False`` leaves the box map out (``None``): see :meth:`boxes_at`."""
        heat_logit = self.heat(corr)[:, 0]
        density = torch.sigmoid(heat_logit)
        count_density = nn.functional.softplus(self.count(corr))[:, 0]
        modulated = corr * (1.0 + density[:, None])
        return heat_logit, count_density, self.box(modulated) if dense_boxes else None, modulated

    def boxes_at(self, modulated: torch.Tensor, index: torch.Tensor, stride: int) -> torch.Tensor:
        """The box branch evaluated only at cells ``index (K,Q)`` of the flattened map -> ``(K,Q,4)`` cx, cy, w, h px.

        Equal to ``decode_dense_boxes(box_raw, stride)`` gathered at ``index``, at a tiny fraction
        of the cost: the 3x3 depthwise conv reads the nine neighbours of each selected cell
        (zeros outside the map, as the conv's padding), the rest is per cell.
        """
        k, c, _, _ = modulated.shape
        gy_map, gx_map = grid_coords(modulated)
        width, height = gx_map[0, -1] + 1, gy_map[-1, 0] + 1  # run-time sizes (dynamic when exported)
        cell = index.to(modulated.dtype)
        gy = torch.floor(cell / width)
        gx = cell - gy * width
        flat = modulated.flatten(2)  # (K,C,hw)
        depthwise, pointwise = self.box[0]
        taps = depthwise[0].weight.reshape(c, 9)
        acc = 0.0
        for tap in range(9):
            dy, dx = tap // 3 - 1, tap % 3 - 1
            yi, xi = gy + dy, gx + dx
            inside = ((xi >= 0) & (xi <= width - 1) & (yi >= 0) & (yi <= height - 1)).to(modulated.dtype)
            at = (yi.clamp(min=0) * width + xi.clamp(min=0)).clamp(max=width * height - 1).long()  # (K,Q)
            picked = torch.gather(flat, 2, at[:, None, :].expand(-1, c, -1))  # (K,C,Q)
            acc = acc + picked * (inside[:, None, :] * taps[None, :, tap, None])
        x = depthwise[2](depthwise[1](acc[..., None]))  # norm, act on (K,C,Q,1)
        raw = self.box[1](pointwise(x))[..., 0]  # (K,4,Q)
        return _decode(raw, gx, gy, stride)


def decode_dense_boxes(box_raw: torch.Tensor, stride: int) -> torch.Tensor:
    """Per-cell box proposals ``(K,4,h,w)`` raw -> ``(K,h*w,4)`` cx, cy, w, h in tile pixels.

    raw = (dx, dy, log w, log h): centre offset from the cell centre in cells, size in cells.
    """
    gy, gx = grid_coords(box_raw)
    return _decode(box_raw, gx, gy, stride).flatten(1, 2)


def _decode(raw: torch.Tensor, gx: torch.Tensor, gy: torch.Tensor, stride: int) -> torch.Tensor:
    """``raw (K,4,...)`` (dx, dy, log w, log h, in cells) at cells ``gx, gy`` -> ``(K,...,4)`` cx, cy, w, h px."""
    cx = (gx + 0.5 + raw[:, 0]) * stride
    cy = (gy + 0.5 + raw[:, 1]) * stride
    bw = torch.exp(raw[:, 2].clamp(-4, 5)) * stride
    bh = torch.exp(raw[:, 3].clamp(-4, 5)) * stride
    return torch.stack([cx, cy, bw, bh], dim=-1)


def queries_for_count(count: torch.Tensor, q_min: int, q_max: int, factor: float = 1.5, extra: int = 10) -> torch.Tensor:
    """Density-guided query assignment: how many decoder queries to keep for an estimated count.

    ``n = clamp(ceil(factor * N) + extra, q_min, q_max)``; works on tensors (exported in the graph).
    """
    return torch.clamp(torch.ceil(count * factor) + extra, min=q_min, max=q_max)
