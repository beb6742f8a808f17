"""Engine Sessions kept alive between runs, so new clicks on the same scene reuse its encoding."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from engine.feature_cache import FeatureCache

# Each Session holds its scene's encoded tiles; a few scenes are enough to switch back and forth.
_MAX_SESSIONS = 3


@dataclass
class SessionEntry:
    """A Session and how many runs it served (its ``encoder_calls``/``seconds_encode`` say how
    much encoding it holds)."""

    session: object
    runs: int = 0


class SessionCache:
    """Sessions by key (raster fingerprint, model, device, tile settings), most recent kept.

    Models are shared between Sessions of the same model folder and device, and all Sessions
    share one FeatureCache (its keys name raster, window, scale and model), so QGIS holds one
    bounded amount of encoded tiles however many rasters the analyst switches between.
    """

    def __init__(self) -> None:
        self._entries: "OrderedDict[tuple, SessionEntry]" = OrderedDict()
        self._models: dict[tuple, object] = {}
        self.features = FeatureCache()

    def get(self, key: tuple) -> SessionEntry | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: tuple, session: object) -> SessionEntry:
        entry = self._entries[key] = SessionEntry(session)
        while len(self._entries) > _MAX_SESSIONS:
            self._entries.popitem(last=False)
        return entry

    def model(self, model_path: str, device: str, load) -> object:
        """The loaded model for (path, device), loading it with ``load(path or None, device)`` once."""
        key = (model_path, device)
        if key not in self._models:
            self._models[key] = load(model_path or None, device)
        return self._models[key]

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        """Forget every Session and model and delete the encoded tiles (memory and spill files)."""
        self._entries.clear()
        self._models.clear()
        self.features.close()
