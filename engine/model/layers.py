"""Building blocks shared by the model parts (RT-DETR's ConvNormLayer / CSPRepLayer idea, written small)."""

from __future__ import annotations

import math

import torch
from torch import nn


class ConvNormAct(nn.Sequential):
    """Conv2d -> BatchNorm2d -> activation; ``act=None`` leaves the activation out."""

    def __init__(self, c_in: int, c_out: int, k: int = 1, stride: int = 1, groups: int = 1, act: type[nn.Module] | None = nn.SiLU):
        layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out)]
        if act is not None:
            layers.append(act())
        super().__init__(*layers)


class SeparableConv(nn.Sequential):
    """Depthwise 3x3 then pointwise 1x1 (with norm and activation): a 3x3 conv at ~1/8 of the cost.

    Used in the prompt head, which runs on the full stride-8 map once per prompt set and tile and
    must stay cheap next to the encoder.
    """

    def __init__(self, c_in: int, c_out: int, act: type[nn.Module] = nn.SiLU):
        super().__init__(ConvNormAct(c_in, c_in, 3, groups=c_in, act=act), ConvNormAct(c_in, c_out, 1, act=act))


ACTIVATIONS: dict[str, type[nn.Module]] = {"silu": nn.SiLU, "relu": nn.ReLU}


class CSPBlock(nn.Module):
    """Cross-stage-partial block: half the channels go through ``n`` 3x3 conv pairs, half bypass."""

    def __init__(self, c_in: int, c_out: int, n: int = 1):
        super().__init__()
        hidden = c_out // 2
        self.split_a = ConvNormAct(c_in, hidden, 1)
        self.split_b = ConvNormAct(c_in, hidden, 1)
        self.blocks = nn.Sequential(*[nn.Sequential(ConvNormAct(hidden, hidden, 3), ConvNormAct(hidden, hidden, 3)) for _ in range(n)])
        self.fuse = ConvNormAct(2 * hidden, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.split_a(x)
        return self.fuse(torch.cat([a + self.blocks(a), self.split_b(x)], dim=1))


class MLP(nn.Module):
    """A few Linear layers with ReLU between them."""

    def __init__(self, c_in: int, hidden: int, c_out: int, n_layers: int):
        super().__init__()
        dims = [c_in] + [hidden] * (n_layers - 1) + [c_out]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x


def grid_coords(like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column index maps ``(h, w)`` for a ``(..., h, w)`` tensor, derived from its shape at run
    time (so exported graphs keep dynamic sizes)."""
    ones = torch.ones_like(like.reshape(-1, *like.shape[-2:])[0], dtype=torch.float32)
    return ones.cumsum(0) - 1, ones.cumsum(1) - 1


def sincos_position_2d(like: torch.Tensor, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """2-D sine-cosine position embedding for the grid of ``like (..., h, w)``: ``(h*w, dim)``, dim divisible by 4."""
    gy, gx = grid_coords(like)
    quarter = dim // 4
    omega = 1.0 / temperature ** (torch.arange(quarter, dtype=torch.float32) / quarter)
    oy = gy.reshape(-1, 1) * omega[None]
    ox = gx.reshape(-1, 1) * omega[None]
    return torch.cat([ox.sin(), ox.cos(), oy.sin(), oy.cos()], dim=1)


def inverse_sigmoid(x: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    x = x.clamp(eps, 1 - eps)
    return torch.log(x / (1 - x))


def bias_for_prior(prob: float) -> float:
    """Bias that makes a sigmoid output ``prob`` at start (focal-loss initialisation)."""
    return -math.log((1 - prob) / prob)


class Attention(nn.Module):
    """Multi-head attention whose reshapes keep every size dynamic (so ONNX graphs accept any tile size).

    ``forward(q (B,Nq,C), k (B,Nk,C), v (B,Nk,C), key_padding_mask (B,Nk) bool True=ignore) -> (B,Nq,C)``.
    """

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.attend(q, *self.keys_values(k, v), key_padding_mask=key_padding_mask)

    def keys_values(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``k, v (B,Nk,C)`` projected and split into heads: ``(B,heads,Nk,C/heads)`` each.

        Separate from :meth:`attend` so that keys and values that do not depend on the queries
        (a tile's features) are projected once and reused (``engine.model.deal.DealPromptHead.prepare``).
        """
        b, _, c = k.shape
        hd = c // self.heads
        return (self.k(k).reshape(b, -1, self.heads, hd).transpose(1, 2),
                self.v(v).reshape(b, -1, self.heads, hd).transpose(1, 2))

    def attend(self, q: torch.Tensor, kh: torch.Tensor, vh: torch.Tensor, key_padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        """``q (B,Nq,C)`` against projected ``kh, vh`` from :meth:`keys_values` (batch 1 broadcasts to B)."""
        b, _, c = q.shape
        hd = c // self.heads
        qh = self.q(q).reshape(b, -1, self.heads, hd).transpose(1, 2)
        logits = qh @ kh.transpose(-1, -2) * (hd ** -0.5)
        if key_padding_mask is not None:
            logits = logits.masked_fill(key_padding_mask[:, None, None, :], -1e4)
        out = (logits.softmax(-1) @ vh).transpose(1, 2).reshape(b, -1, c)
        return self.out(out)


class TransformerLayer(nn.Module):
    """Post-norm transformer encoder layer (self-attention + GELU feed-forward)."""

    def __init__(self, dim: int, heads: int, ffn: int):
        super().__init__()
        self.attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(nn.Linear(dim, ffn), nn.GELU(), nn.Linear(ffn, dim))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        qk = x + pos
        x = self.norm1(x + self.attn(qk, qk, x))
        return self.norm2(x + self.ffn(x))
