"""Exemplar embeddings: the features of F at each click, sampled once, usable on any tile.

Bilinear sampling with the same convention as the training code (``engine.model.deal.
sample_exemplars``): cell (i, j) of a stride-s map is centred on pixel ((j+0.5)s, (i+0.5)s);
points beyond the outermost cell centres take the border value.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def bilinear_sample(fmap: np.ndarray, xy_px: np.ndarray, stride: int) -> np.ndarray:
    """Sample ``fmap (C,h,w)`` at tile-pixel points ``xy_px (P,2)`` -> ``(P,C)``."""
    c, h, w = fmap.shape
    xy = np.asarray(xy_px, dtype=np.float64).reshape(-1, 2)
    fx = np.clip(xy[:, 0] / stride - 0.5, 0, w - 1)
    fy = np.clip(xy[:, 1] / stride - 0.5, 0, h - 1)
    x0 = np.floor(fx).astype(int); y0 = np.floor(fy).astype(int)
    x1 = np.minimum(x0 + 1, w - 1); y1 = np.minimum(y0 + 1, h - 1)
    ax = (fx - x0)[None]; ay = (fy - y0)[None]
    top = fmap[:, y0, x0] * (1 - ax) + fmap[:, y0, x1] * ax
    bottom = fmap[:, y1, x0] * (1 - ax) + fmap[:, y1, x1] * ax
    return (top * (1 - ay) + bottom * ay).T.astype(np.float32)


@dataclass
class ExemplarSet:
    """Embeddings of the clicked objects, per category, with the scale they were taken at.

    ``embeddings[c]`` is ``(M_c, C)``; ``scales[c]`` the resampling factor (model px per scene px)
    the category is detected at; ``model_id`` the model they belong to (embeddings of one model
    are meaningless to another).
    """

    embeddings: dict[str, np.ndarray]
    scales: dict[str, float]
    model_id: str
    sizes_px: dict[str, float] = field(default_factory=dict)
    bracket: tuple["ExemplarSet", ...] = ()
    """The same clicks taken at the neighbouring factors their categories are also detected at
    (scale bracketing, see ``engine.session``); empty: one factor per category."""

    @property
    def categories(self) -> list[str]:
        return list(self.embeddings)

    def digest(self, category: str) -> str:
        """Identity of one category's exemplars (embeddings and scale), for caching its results."""
        h = hashlib.sha1(np.ascontiguousarray(self.embeddings[category], dtype=np.float32).tobytes())
        h.update(repr(float(self.scales[category])).encode())
        return h.hexdigest()

    def batch(self, categories: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Padded ``(K,M,C)`` embeddings and ``(K,M)`` mask for the given categories."""
        m = max(self.embeddings[c].shape[0] for c in categories)
        dim = next(iter(self.embeddings.values())).shape[1]
        ex = np.zeros((len(categories), m, dim), np.float32)
        mask = np.zeros((len(categories), m), np.float32)
        for k, c in enumerate(categories):
            e = self.embeddings[c]
            ex[k, : len(e)] = e
            mask[k, : len(e)] = 1.0
        return ex, mask

    def save(self, path: str | Path) -> None:
        """Write an ``.npz`` (atomically) that ``load`` reads back, e.g. on a batch worker."""
        from .io.atomic import atomic_path

        arrays = {f"emb::{c}": e for c, e in self.embeddings.items()}
        for i, other in enumerate(self.bracket):
            arrays.update({f"bracket{i}::{c}": e for c, e in other.embeddings.items()})
        arrays["meta"] = np.array([repr({"scales": self.scales, "model_id": self.model_id, "sizes_px": self.sizes_px,
                                         "bracket_scales": [other.scales for other in self.bracket]})])
        with atomic_path(Path(path)) as tmp:
            buf = io.BytesIO()
            np.savez(buf, **arrays)
            Path(tmp).write_bytes(buf.getvalue())

    @staticmethod
    def load(path: str | Path) -> "ExemplarSet":
        import ast

        from .errors import PromptError

        try:
            with np.load(path, allow_pickle=False) as data:
                meta = ast.literal_eval(str(data["meta"][0]))
                emb = {k.split("::", 1)[1]: data[k] for k in data.files if k.startswith("emb::")}
                bracket = tuple(ExemplarSet({k.split("::", 1)[1]: data[k] for k in data.files if k.startswith(f"bracket{i}::")},
                                            scales, meta["model_id"], meta.get("sizes_px", {}))
                                for i, scales in enumerate(meta.get("bracket_scales", [])))
        except (OSError, KeyError, ValueError, SyntaxError) as exc:
            raise PromptError(f"{path} is not an exemplar file written by `deal exemplars save` ({exc})") from None
        return ExemplarSet(emb, meta["scales"], meta["model_id"], meta.get("sizes_px", {}), bracket)
