"""Encoded tiles kept in a folder, so runs in later processes (QGIS sessions, qgis_process) reuse them.

The engine's FeatureCache lives and dies with its process (its spill folder is private and
removed on close). A FeatureStore is a FeatureCache that also writes every entry to a folder
the user chose, one ``.npz`` file per cache key, and looks there before reporting a miss.
Keys carry the raster fingerprint (file, size, modification time, bands), the tile window,
the scale and the model's name and version, so a changed raster or model never matches.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile

import numpy as np

from engine.errors import OutputError
from engine.feature_cache import FeatureCache


class FeatureStore(FeatureCache):
    """A FeatureCache backed by ``folder``: entries put here outlive the process.

    ``stored_hits`` counts entries read back from the folder (also counted in ``hits``).
    """

    def __init__(self, folder: str | os.PathLike, **budgets):
        super().__init__(**budgets)
        self.folder = os.fspath(folder)
        os.makedirs(self.folder, exist_ok=True)
        self.stored_hits = 0

    def path_of(self, key: str) -> str:
        """The file holding ``key``'s arrays (keys are long and full of '|': hashed into the name)."""
        return os.path.join(self.folder, hashlib.sha1(key.encode()).hexdigest() + ".npz")

    def put(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        super().put(key, arrays)
        path = self.path_of(key)
        if os.path.exists(path):
            return
        # Written beside the final name then renamed: a crash or a parallel writer never
        # leaves a truncated file under the final name.
        partial = None
        try:
            fd, partial = tempfile.mkstemp(prefix=".partial-", suffix=".npz", dir=self.folder)
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **{name: np.asarray(a) for name, a in arrays.items()})
            os.replace(partial, path)
        except BaseException as error:
            if partial is not None:
                _remove_quietly(partial)
            if isinstance(error, OSError):
                raise OutputError(f"Cannot write to the feature cache folder {self.folder} ({error.strerror}). "
                                  f"Free some space or choose another folder, or leave it unset.") from None
            raise

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        if super().__contains__(key):
            return super().get(key)
        path = self.path_of(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except FileNotFoundError:
            return super().get(key)  # counts the miss
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            # unreadable (disk full on an earlier write, file edited): encode this tile again
            _remove_quietly(path)
            return super().get(key)
        for array in arrays.values():
            array.flags.writeable = False
        super().put(key, arrays)
        self.hits += 1
        self.stored_hits += 1
        return dict(arrays)

    def __contains__(self, key: str) -> bool:
        return super().__contains__(key) or os.path.exists(self.path_of(key))


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
