"""The supervised baseline's learned vector per category (``deal train --supervised``).

They take the place of clicked exemplars in the prompt head, so the baseline runs on the very
same ONNX graphs; the file is a small ``.npz`` written beside the run's checkpoints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FILE_NAME = "class_embeddings.npz"


def save_class_embeddings(path: str | Path, names: list[str], vectors: np.ndarray) -> None:
    """``names`` and their ``(N, C)`` vectors, written atomically."""
    from .io.atomic import atomic_path

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, names=np.asarray(names), vectors=np.asarray(vectors, np.float32))


def load_class_embeddings(path: str | Path) -> dict[str, np.ndarray]:
    """``{category: (C,) vector}`` from :func:`save_class_embeddings`'s file."""
    from .errors import ModelError

    try:
        with np.load(path, allow_pickle=False) as z:
            return {str(n): z["vectors"][i] for i, n in enumerate(z["names"])}
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"{path} is not a class-embeddings file written by 'deal train --supervised' ({exc}).") from None
