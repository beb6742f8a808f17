"""A :class:`~engine.raster_source.RasterSource` over any GDAL raster, read window by window with rasterio.

Command-line side only (inside QGIS the plugin reads through the QGIS API, never rasterio).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import warnings
from pathlib import Path

import numpy as np

# GDAL's block cache defaults to 5% of RAM and grows with every window read from a big scene;
# the engine reads each window once, so a small cache keeps memory bounded (set before GDAL starts;
# a value the user exported wins).
os.environ.setdefault("GDAL_CACHEMAX", "128")

import rasterio  # noqa: E402
from rasterio.enums import ColorInterp, MaskFlags, Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioError
from rasterio.windows import Window as RioWindow

from ..errors import InvalidRasterError
from ..georef import GeoReference
from ..raster_source import Window

STATS_SIZE = 1024
"""Longest side, in pixels, of the decimated read that gives the per-scene normalisation."""

PERCENTILES = (2.0, 98.0)
"""Per-band percentiles mapped to 0 and 1 for rasters that are not 8-bit."""


class RasterioSource:
    """A scene read through rasterio in windows, normalised to float32 RGB in [0, 1].

    Args:
        path: any raster GDAL opens (GeoTIFF, JPEG2000, VRT...).
        bands: 1-based band numbers to use as (R, G, B), or one band replicated to grey.
            Default: bands 1, 2, 3 (the first three bands that are not alpha), or band 1 as grey
            for single-band rasters.

    Validity (``read``'s mask) combines nodata, alpha bands and internal masks: a pixel is
    valid when any chosen band is valid there (GDAL's convention). 8-bit data is divided by
    255; other types are stretched per band between the scene's 2nd and 98th percentiles,
    computed once from a decimated read of the valid pixels.

    Raises InvalidRasterError when the file is not a raster, is empty, truncated or all nodata.
    """

    def __init__(self, path: str | os.PathLike, bands: tuple[int, ...] | None = None):
        self.path = Path(path)
        self._lock = threading.Lock()  # one GDAL dataset handle must not be read from two threads at once
        if not self.path.is_file():
            raise InvalidRasterError(f"Raster {self.path} does not exist or is not a file.")
        if self.path.stat().st_size == 0:
            raise InvalidRasterError(f"Raster {self.path} is empty (0 bytes).")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                self._ds = rasterio.open(self.path)
        except RasterioError as exc:
            raise InvalidRasterError(f"{self.path} is not a raster GDAL can read ({exc}). "
                                     f"Check that the file is a complete GeoTIFF or another raster format.") from None
        try:
            self._setup(bands)
        except BaseException:
            self._ds.close()
            raise

    def _setup(self, bands: tuple[int, ...] | None) -> None:
        ds = self._ds
        self.width, self.height = ds.width, ds.height
        if self.width == 0 or self.height == 0 or ds.count == 0:
            raise InvalidRasterError(f"Raster {self.path} has no pixels ({self.width} x {self.height}, {ds.count} bands).")
        self.bands = self._choose_bands(bands)
        self._read_bands = tuple(sorted(set(self.bands)))
        self._band_pos = [self._read_bands.index(b) for b in self.bands]
        self._is_uint8 = all(ds.dtypes[b - 1] == "uint8" for b in self._read_bands)
        # no nodata, no mask band, no alpha: every pixel inside the raster is valid (no mask reads)
        self._no_mask = all(ds.mask_flag_enums[b - 1] == [MaskFlags.all_valid] for b in self._read_bands)
        self._band_identity = self._band_pos == list(range(len(self._band_pos)))
        self.georef = self._georeference()
        sample_digest = self._check_blocks()
        stats_image, stats_valid = self._decimated_read()
        if not stats_valid.any():
            raise InvalidRasterError(f"Raster {self.path} contains only nodata (or fully transparent) pixels in bands "
                                     f"{', '.join(map(str, self._read_bands))}: there is nothing to detect.")
        self._lo, self._hi = self._normalisation(stats_image, stats_valid)
        facts = {
            "size": [self.width, self.height], "count": ds.count, "bands": list(self.bands),
            "dtypes": list(ds.dtypes), "nodata": [str(v) for v in ds.nodatavals],
            "transform": list(ds.transform)[:6], "crs": ds.crs.to_wkt() if ds.crs else None,
        }
        h = hashlib.sha1(json.dumps(facts, sort_keys=True).encode())
        h.update(sample_digest)
        h.update(np.ascontiguousarray(stats_image).tobytes())
        self.fingerprint = h.hexdigest()[:16]

    def _choose_bands(self, bands: tuple[int, ...] | None) -> tuple[int, int, int]:
        ds = self._ds
        if bands is None:
            colour = [b for b in range(1, ds.count + 1) if ds.colorinterp[b - 1] != ColorInterp.alpha] or [1]
            bands = tuple(colour[:3]) if len(colour) >= 3 else (colour[0],)
        bands = tuple(int(b) for b in bands)
        if len(bands) not in (1, 3):
            raise InvalidRasterError(f"Give 1 band (grey) or 3 bands (R,G,B), not {len(bands)}: {bands}.")
        bad = [b for b in bands if not 1 <= b <= ds.count]
        if bad:
            raise InvalidRasterError(f"Raster {self.path} has {ds.count} band(s) (1..{ds.count}); band(s) {bad} do not exist. "
                                     f"Choose bands with e.g. --bands 1,2,3.")
        return bands * 3 if len(bands) == 1 else bands

    def _georeference(self) -> GeoReference | None:
        ds = self._ds
        if ds.transform.is_identity and ds.crs is None:
            return None
        gt = tuple(float(v) for v in ds.transform.to_gdal())
        if ds.crs is None:
            return GeoReference(gt, None, False, 1.0)
        is_geographic = bool(ds.crs.is_geographic)
        metres_per_unit = 1.0 if is_geographic else float(ds.crs.linear_units_factor[1])
        return GeoReference(gt, ds.crs.to_wkt(), is_geographic, metres_per_unit)

    def _check_blocks(self) -> bytes:
        """Read the first, middle and last blocks: catches truncated files early; returns their digest."""
        ds = self._ds
        block_h, block_w = ds.block_shapes[self._read_bands[0] - 1]
        n_cols, n_rows = math.ceil(self.width / block_w), math.ceil(self.height / block_h)
        picks = {(0, 0), (n_rows // 2, n_cols // 2), (n_rows - 1, n_cols - 1)}
        h = hashlib.sha1()
        for i, j in sorted(picks):
            win = RioWindow(j * block_w, i * block_h, min(block_w, self.width - j * block_w), min(block_h, self.height - i * block_h))
            try:
                # All bands: band-interleaved files keep the last band's blocks at the end of the file.
                h.update(ds.read(window=win).tobytes())
            except RasterioError as exc:
                raise InvalidRasterError(f"Raster {self.path} cannot be read completely: it looks truncated or corrupt ({exc}). "
                                         f"Copy or download it again.") from None
        return h.digest()

    def _decimated_read(self) -> tuple[np.ndarray, np.ndarray]:
        """The chosen bands ``(B, h, w)`` (raw values, float64) and validity ``(h, w)`` at <= STATS_SIZE pixels a side."""
        scale = min(1.0, STATS_SIZE / max(self.width, self.height))
        shape = (max(1, round(self.height * scale)), max(1, round(self.width * scale)))
        try:
            data = self._ds.read(self._read_bands, out_shape=(len(self._read_bands), *shape), resampling=Resampling.nearest)
            valid = self._valid(None, shape, Resampling.nearest, boundless=False)
        except RasterioError as exc:
            raise InvalidRasterError(f"Raster {self.path} cannot be read completely: it looks truncated or corrupt ({exc}). "
                                     f"Copy or download it again.") from None
        data = data.astype(np.float64)
        valid &= np.isfinite(data).all(axis=0)
        return data, valid

    def _normalisation(self, data: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per read band ``(B,)`` values mapped to 0 and 1."""
        if self._is_uint8:
            return np.zeros(len(self._read_bands)), np.full(len(self._read_bands), 255.0)
        lo, hi = np.percentile(data[:, valid], PERCENTILES, axis=1)
        hi = np.where(hi > lo, hi, lo + 1.0)  # a flat band maps to 0 rather than dividing by zero
        return lo, hi

    def _valid(self, window: RioWindow | None, shape: tuple[int, int], resampling: Resampling, boundless: bool) -> np.ndarray:
        masks = self._ds.read_masks(self._read_bands, window=window, out_shape=(len(self._read_bands), *shape),
                                    resampling=resampling, boundless=boundless)
        if masks.dtype == bool:  # rasterio's boundless reads of all-valid masks come back as bool, not 0/255
            return masks.any(axis=0)
        return (masks > 127).any(axis=0)

    def read(self, window: Window, out_shape: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(image, valid)`` of ``window``: float32 ``(3, h, w)`` in [0, 1] and bool ``(h, w)``.

        ``out_shape`` (h, w) resamples the window: area average when shrinking, bilinear when
        enlarging. Parts of the window outside the raster are 0 and invalid.
        """
        shape = tuple(out_shape) if out_shape is not None else (window.height, window.width)
        shrinking = shape[0] < window.height or shape[1] < window.width
        resampling = Resampling.average if shrinking else Resampling.bilinear
        if out_shape is None or tuple(shape) == (window.height, window.width):
            resampling = Resampling.nearest
        win = RioWindow(window.col_off, window.row_off, window.width, window.height)
        boundless = (window.col_off < 0 or window.row_off < 0
                     or window.col_end > self.width or window.row_end > self.height)
        try:
            with self._lock:
                data = self._ds.read(self._read_bands, window=win, out_shape=(len(self._read_bands), *shape),
                                     resampling=resampling, boundless=boundless, fill_value=0)
                if self._no_mask and not boundless:
                    valid = np.ones(shape, bool)
                else:
                    valid = self._valid(win, shape, resampling, boundless)
        except RasterioError as exc:
            raise InvalidRasterError(f"Reading {self.path} failed at window {window}: {exc}. The file may be corrupt.") from None
        if self._is_uint8:  # exact 0..255 -> [0, 1]: no clipping, no non-finite values to look for
            image = np.multiply(data, np.float32(1.0 / 255.0), dtype=np.float32)
        else:
            image = data.astype(np.float32)
            valid &= np.isfinite(image).all(axis=0)
            lo = self._lo.astype(np.float32)[:, None, None]
            hi = self._hi.astype(np.float32)[:, None, None]
            image = np.clip((image - lo) / (hi - lo), 0.0, 1.0)
        if not self._band_identity:
            image = image[self._band_pos]
        if not valid.all():
            image[:, ~valid] = 0.0
        return np.ascontiguousarray(image, dtype=np.float32), valid

    def close(self) -> None:
        self._ds.close()

    def __enter__(self) -> "RasterioSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
