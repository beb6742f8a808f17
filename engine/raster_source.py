"""What the engine needs from a raster: size, georeference and windowed reads.

Adapters implement :class:`RasterSource`: ``engine.io.rasterio_source.RasterioSource`` for the
command line, ``deal_qgis`` for QGIS layers, :class:`ArraySource` for arrays in memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .georef import GeoReference


@dataclass(frozen=True)
class Window:
    """A rectangle of the scene's pixel grid: columns [col_off, col_off+width), rows likewise."""

    col_off: int
    row_off: int
    width: int
    height: int

    @property
    def col_end(self) -> int:
        return self.col_off + self.width

    @property
    def row_end(self) -> int:
        return self.row_off + self.height


class RasterSource(Protocol):
    """A scene the engine can read piece by piece.

    ``read`` returns ``(image, valid)``: image is float32 ``(3, h, w)`` scaled to [0, 1]
    (bands chosen and per-scene normalisation already applied), valid is bool ``(h, w)``
    (False on nodata / alpha-transparent pixels and outside the raster). Windows may
    extend past the raster's edge: the outside is filled with 0 and marked invalid.
    ``out_shape`` (h, w) resamples the window (area averaging when shrinking). ``read`` may be
    called from a helper thread (the session reads the next tile while encoding one), so it
    must be thread-safe.
    """

    width: int
    height: int
    georef: GeoReference | None
    fingerprint: str

    def read(self, window: Window, out_shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]: ...


def _resample(image: np.ndarray, out_shape: tuple[int, int]) -> np.ndarray:
    """Resample (C, h, w) to (C, H, W) by bilinear interpolation of pixel centres (area-averaged first when shrinking)."""
    c, h, w = image.shape
    oh, ow = out_shape
    if (oh, ow) == (h, w):
        return image
    fy, fx = h / oh, w / ow
    ky, kx = max(1, int(fy)), max(1, int(fx))
    if ky > 1 or kx > 1:  # box-filter by the integer part of the shrink factor
        h2, w2 = h // ky * ky, w // kx * kx
        image = image[:, :h2, :w2].reshape(c, h2 // ky, ky, w2 // kx, kx).mean(axis=(2, 4))
        h, w = image.shape[1:]
        fy, fx = h / oh, w / ow
    ys = np.clip((np.arange(oh) + 0.5) * fy - 0.5, 0, h - 1)
    xs = np.clip((np.arange(ow) + 0.5) * fx - 0.5, 0, w - 1)
    y0 = np.floor(ys).astype(int); x0 = np.floor(xs).astype(int)
    y1 = np.minimum(y0 + 1, h - 1); x1 = np.minimum(x0 + 1, w - 1)
    wy = (ys - y0)[None, :, None]; wx = (xs - x0)[None, None, :]
    top = image[:, y0][:, :, x0] * (1 - wx) + image[:, y0][:, :, x1] * wx
    bot = image[:, y1][:, :, x0] * (1 - wx) + image[:, y1][:, :, x1] * wx
    return (top * (1 - wy) + bot * wy).astype(np.float32)


def resample_window(image: np.ndarray, valid: np.ndarray, out_shape: tuple[int, int] | None):
    """Resample an (image, valid) pair read at full resolution to ``out_shape``."""
    if out_shape is None or tuple(out_shape) == image.shape[1:]:
        return image, valid
    img = _resample(image, out_shape)
    val = _resample(valid[None].astype(np.float32), out_shape)[0] > 0.5
    return img, val


class ArraySource:
    """A scene held in memory: ``(3, H, W)`` float32 in [0, 1] or ``(H, W, 3)`` uint8."""

    def __init__(self, image: np.ndarray, georef: GeoReference | None = None, valid: np.ndarray | None = None):
        if image.ndim != 3:
            raise ValueError("image must be 3-D")
        if image.dtype == np.uint8 and image.shape[2] in (3, 4):
            image = image[..., :3].transpose(2, 0, 1).astype(np.float32) / 255.0
        self._image = np.ascontiguousarray(image, dtype=np.float32)
        self.height, self.width = self._image.shape[1:]
        self._valid = np.ones((self.height, self.width), bool) if valid is None else valid.astype(bool)
        self.georef = georef
        self.fingerprint = hashlib.sha1(self._image.tobytes()[:: max(1, self._image.size // 100000)]).hexdigest()[:16]

    def read(self, window: Window, out_shape: tuple[int, int] | None = None):
        img = np.zeros((3, window.height, window.width), np.float32)
        val = np.zeros((window.height, window.width), bool)
        c0, r0 = max(window.col_off, 0), max(window.row_off, 0)
        c1, r1 = min(window.col_end, self.width), min(window.row_end, self.height)
        if c1 > c0 and r1 > r0:
            img[:, r0 - window.row_off:r1 - window.row_off, c0 - window.col_off:c1 - window.col_off] = self._image[:, r0:r1, c0:c1]
            val[r0 - window.row_off:r1 - window.row_off, c0 - window.col_off:c1 - window.col_off] = self._valid[r0:r1, c0:c1]
        return resample_window(img, val, out_shape)
