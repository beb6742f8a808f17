"""A Swin-Transformer-like backbone (the paper's choice), selectable with ``backbone="swin_t"``.

Hierarchical windowed self-attention: a 4x4 patch embedding, four stages separated by patch
merging (strides 4/8/16/32), blocks alternating plain and cyclically shifted windows, a learned
relative position bias per window. The stride 8/16/32 maps feed the hybrid encoder.

Two simplifications keep every size dynamic in the exported ONNX graph: shifted windows attend
across the cyclic wrap-around (no boundary mask), and tile sides must be multiples of
``32 * window`` (the engine's 1024 tiles and 256 probes are, with the default window 8). No
ImageNet weights for it ship offline, so it starts from random weights and needs far more
training than a CPU gives; the default stays MobileNetV2.
"""

from __future__ import annotations

import torch
from torch import nn

# name -> (embed dim, depths, heads)
SWIN_VARIANTS = {
    "swin_t": (96, (2, 2, 6, 2), (3, 6, 12, 24)),   # Swin-T's sizes
    "swin_nano": (32, (1, 1, 2, 1), (1, 2, 4, 8)),  # small enough for CPU tests
}


class WindowAttention(nn.Module):
    """Multi-head self-attention inside ``window x window`` patches with a relative position bias.

    ``forward(x (N, window*window, C)) -> (N, window*window, C)``.
    """

    def __init__(self, dim: int, heads: int, window: int):
        super().__init__()
        self.heads, self.window = heads, window
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        nn.init.trunc_normal_(self.bias_table, std=0.02)
        coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)  # (2, w*w)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)  # (w*w, w*w, 2) in [0, 2w-2]
        self.register_buffer("bias_index", rel[..., 0] * (2 * window - 1) + rel[..., 1], persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, c = x.shape
        hd = c // self.heads
        q, k, v = self.qkv(x).reshape(n, t, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        logits = q @ k.transpose(-1, -2) * hd ** -0.5
        bias = self.bias_table[self.bias_index.reshape(-1)].reshape(t, t, self.heads).permute(2, 0, 1)
        out = (logits + bias[None]).softmax(-1) @ v  # (N, heads, t, hd)
        return self.proj(out.transpose(1, 2).reshape(n, t, c))


def window_partition(x: torch.Tensor, window: int) -> torch.Tensor:
    """``(B, H, W, C) -> (B * H/w * W/w, w*w, C)``."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // window, window, w // window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, window * window, c)


def window_merge(windows: torch.Tensor, window: int, like: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`window_partition` for a map shaped like ``like (B, H, W, C)``."""
    b, h, w, c = like.shape
    x = windows.reshape(b, h // window, w // window, window, window, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, w, c)


class SwinBlock(nn.Module):
    """Pre-norm block: (shifted) window attention, then an MLP; ``forward(x (B, H, W, C))``."""

    def __init__(self, dim: int, heads: int, window: int, shift: bool, mlp_ratio: float = 4.0):
        super().__init__()
        self.window, self.shift = window, window // 2 if shift else 0
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, heads, window)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, int(dim * mlp_ratio)), nn.GELU(), nn.Linear(int(dim * mlp_ratio), dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm1(x)
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        y = window_merge(self.attn(window_partition(y, self.window)), self.window, y)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + y
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    """2x2 neighbouring patches -> one, channels doubled: ``(B, H, W, C) -> (B, H/2, W/2, 2C)``."""

    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduce = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduce(self.norm(x))


class SwinBackbone(nn.Module):
    """``forward(image (B,3,H,W)) -> (s8, s16, s32)`` NCHW maps with ``channels`` (2C, 4C, 8C)."""

    def __init__(self, variant: str = "swin_t", window: int = 8):
        super().__init__()
        if variant not in SWIN_VARIANTS:
            raise ValueError(f"unknown Swin variant {variant!r}: choose one of {sorted(SWIN_VARIANTS)}")
        dim, depths, heads = SWIN_VARIANTS[variant]
        self.window = window
        self.patch_embed = nn.Conv2d(3, dim, 4, 4)
        self.embed_norm = nn.LayerNorm(dim)
        self.stages = nn.ModuleList()
        self.merges = nn.ModuleList()
        for i, (depth, n_heads) in enumerate(zip(depths, heads)):
            d = dim * 2 ** i
            self.stages.append(nn.Sequential(*[SwinBlock(d, n_heads, window, shift=j % 2 == 1) for j in range(depth)]))
            if i < len(depths) - 1:
                self.merges.append(PatchMerging(d))
        self.channels = (2 * dim, 4 * dim, 8 * dim)
        self.out_norms = nn.ModuleList(nn.LayerNorm(c) for c in self.channels)

    def forward(self, image: torch.Tensor):
        x = self.embed_norm(self.patch_embed(image).permute(0, 2, 3, 1))  # (B, H/4, W/4, C)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i >= 1:
                outs.append(self.out_norms[i - 1](x).permute(0, 3, 1, 2))
            if i < len(self.merges):
                x = self.merges[i](x)
        return tuple(outs)
