"""Encoder features per tile, kept in bounded memory and spilled to disk beyond it.

Encoding is the expensive step; a cache keyed by raster fingerprint, window, scale and
model lets later clicks reuse every tile's features. Memory stays under a budget: least
recently used entries move to a private temporary folder and come back on demand.

A detection reads every tile of a scene in turn, so when a scene's features outgrow the memory
budget (a large scene, or test-time views: each view has its own tiles) plain LRU would miss on
every read and write every entry back out. Instead an entry read back from disk keeps its file
(evicting it again costs no write) and joins memory only if it fits without evicting another:
what memory holds stays there and hits on every pass; the rest is read from disk once a pass.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import OrderedDict

import numpy as np

from .raster_source import Window


def cache_key(fingerprint: str, window: Window, scale: float, model_id: str) -> str:
    """Key of one tile's features: raster ``fingerprint``, scene-pixel ``window``, resampling
    ``scale`` (model pixels per scene pixel) and ``model_id`` (name and version)."""
    return (f"{model_id}|{fingerprint}|{window.col_off},{window.row_off},{window.width},{window.height}"
            f"|{float(scale)!r}")


def _frozen(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Read-only views, so a caller cannot change what the cache holds."""
    out = {}
    for name, array in arrays.items():
        view = np.asarray(array).view()
        view.flags.writeable = False
        out[name] = view
    return out


def _nbytes(arrays: dict[str, np.ndarray]) -> int:
    return int(sum(a.nbytes for a in arrays.values()))


class FeatureCache:
    """LRU map ``key -> dict[str, np.ndarray]`` with a memory budget and a disk spill.

    Thread-safe: the plugin encodes in a background task while the map tool reads.
    Counters ``hits``, ``misses``, ``spills`` (entries written to disk) and ``reloads``
    (entries read back) describe how it was used. An entry may be in memory and on disk at once
    (read back, its file kept): evicting it from memory then writes nothing.
    """

    def __init__(self, max_memory_bytes: int = 512 * 2**20, spill_dir: str | None = None,
                 max_disk_bytes: int = 8 * 2**30):
        if max_memory_bytes < 0 or max_disk_bytes < 0:
            raise ValueError("cache budgets cannot be negative")
        self.max_memory_bytes = int(max_memory_bytes)
        self.max_disk_bytes = int(max_disk_bytes)
        self._spill_parent = spill_dir
        self._dir: str | None = None
        self._memory: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
        # key -> (file, array names in file order, bytes)
        self._disk: OrderedDict[str, tuple[str, list[str], int]] = OrderedDict()
        self._memory_bytes = 0
        self._disk_bytes = 0
        self._file_counter = 0
        self._lock = threading.RLock()
        self.hits = self.misses = self.spills = self.reloads = 0

    # -- public API ------------------------------------------------------------------------

    def put(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Store ``arrays`` under ``key`` (replacing any earlier entry) as the most recent entry."""
        arrays = _frozen(arrays)
        with self._lock:
            self._discard(key)
            self._remember(key, arrays)

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        """The arrays stored under ``key`` (read-only), or None; reloads spilled entries from disk."""
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                self.hits += 1
                return dict(self._memory[key])
            if key not in self._disk:
                self.misses += 1
                return None
            path, names, nbytes = self._disk[key]
            self._disk.move_to_end(key)
            with open(path, "rb") as f:
                arrays = _frozen({name: np.load(f, allow_pickle=False) for name in names})
            self.hits += 1
            self.reloads += 1
            if self._memory_bytes + nbytes <= self.max_memory_bytes:  # never evicts: see the module's docstring
                self._memory[key] = arrays
                self._memory_bytes += nbytes
            return dict(arrays)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._memory or key in self._disk

    def __len__(self) -> int:
        with self._lock:
            return len(self._memory) + sum(1 for key in self._disk if key not in self._memory)

    @property
    def memory_bytes(self) -> int:
        """Bytes of array data held in memory."""
        return self._memory_bytes

    @property
    def disk_bytes(self) -> int:
        """Bytes of array data spilled to disk (entries read back keep their files)."""
        return self._disk_bytes

    @property
    def spill_path(self) -> str | None:
        """The private folder spilled entries live in (None until the first spill)."""
        return self._dir

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"hits": self.hits, "misses": self.misses, "spills": self.spills, "reloads": self.reloads,
                    "entries": len(self), "memory_bytes": self._memory_bytes, "disk_bytes": self._disk_bytes}

    def clear(self) -> None:
        """Forget every entry (counters are kept)."""
        with self._lock:
            self._memory.clear()
            self._memory_bytes = 0
            for path, _, _ in self._disk.values():
                _remove_quietly(path)
            self._disk.clear()
            self._disk_bytes = 0

    def close(self) -> None:
        """Forget every entry and remove the spill folder."""
        with self._lock:
            self.clear()
            if self._dir is not None:
                shutil.rmtree(self._dir, ignore_errors=True)
                self._dir = None

    def __enter__(self) -> "FeatureCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        # best effort at interpreter exit; attributes may already be gone
        try:
            self.close()
        except Exception:
            pass

    # -- internals (called with the lock held) ---------------------------------------------

    def _discard(self, key: str) -> None:
        if key in self._memory:
            self._memory_bytes -= _nbytes(self._memory.pop(key))
        if key in self._disk:
            path, _, nbytes = self._disk.pop(key)
            self._disk_bytes -= nbytes
            _remove_quietly(path)

    def _remember(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        """Make ``key`` the most recent in-memory entry, spilling older ones to stay in budget."""
        nbytes = _nbytes(arrays)
        if nbytes > self.max_memory_bytes:
            self._spill(key, arrays)
            return
        self._memory[key] = arrays
        self._memory_bytes += nbytes
        while self._memory_bytes > self.max_memory_bytes:
            old_key, old_arrays = self._memory.popitem(last=False)
            self._memory_bytes -= _nbytes(old_arrays)
            if old_key not in self._disk:  # else its file already holds it
                self._spill(old_key, old_arrays)

    def _spill(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        nbytes = _nbytes(arrays)
        if nbytes > self.max_disk_bytes:
            return  # too large for the disk budget: dropped, recomputed if needed
        if self._dir is None:
            parent = self._spill_parent or tempfile.gettempdir()
            os.makedirs(parent, exist_ok=True)
            self._dir = tempfile.mkdtemp(prefix="deal-features-", dir=parent)
        self._file_counter += 1
        path = os.path.join(self._dir, f"{self._file_counter:08d}.npy")
        partial = path + ".part"
        # the arrays of one entry, one after the other, in one file
        with open(partial, "wb") as f:
            for array in arrays.values():
                np.save(f, array, allow_pickle=False)
        os.replace(partial, path)
        self._disk[key] = (path, list(arrays), nbytes)
        self._disk_bytes += nbytes
        self.spills += 1
        while self._disk_bytes > self.max_disk_bytes:
            _, (old_path, _, old_bytes) = self._disk.popitem(last=False)
            self._disk_bytes -= old_bytes
            _remove_quietly(old_path)


def _remove_quietly(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
