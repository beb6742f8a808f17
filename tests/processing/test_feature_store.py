"""FeatureStore: encoded tiles written to a folder are found again by a new store (a new process)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from deal_qgis.processing.feature_store import FeatureStore
from engine.errors import OutputError
from engine.feature_cache import cache_key
from engine.raster_source import Window

KEY = cache_key("scene-fingerprint", Window(0, 0, 256, 256), 1.0, "deal-test-0.1-abcd")
OTHER_KEY = cache_key("scene-fingerprint", Window(224, 0, 256, 256), 1.0, "deal-test-0.1-abcd")


def _features(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"p8": rng.random((1, 8, 32, 32), dtype=np.float32), "valid8": np.ones((32, 32), np.float32)}


def test_new_store_on_the_same_folder_reads_what_an_earlier_one_wrote(tmp_path):
    FeatureStore(tmp_path).put(KEY, _features(1))
    later = FeatureStore(tmp_path)
    assert KEY in later and OTHER_KEY not in later
    got = later.get(KEY)
    for name, array in _features(1).items():
        np.testing.assert_array_equal(got[name], array)
    assert not got["p8"].flags.writeable
    assert (later.hits, later.stored_hits, later.misses) == (1, 1, 0)
    assert later.get(OTHER_KEY) is None
    assert later.misses == 1
    assert later.get(KEY) is not None and later.stored_hits == 1  # now from memory


def test_folder_holds_one_complete_file_per_key(tmp_path):
    store = FeatureStore(tmp_path)
    store.put(KEY, _features(1))
    store.put(OTHER_KEY, _features(2))
    store.put(KEY, _features(1))
    assert sorted(tmp_path.iterdir()) == sorted([Path(store.path_of(KEY)), Path(store.path_of(OTHER_KEY))])


def test_unreadable_file_is_dropped_and_the_tile_encoded_again(tmp_path):
    FeatureStore(tmp_path).put(KEY, _features(1))
    later = FeatureStore(tmp_path)
    with open(later.path_of(KEY), "r+b") as f:
        f.truncate(100)
    assert later.get(KEY) is None
    assert later.misses == 1
    assert not Path(later.path_of(KEY)).exists()


@pytest.mark.parametrize("budget", [0, 10 * 2**20])
def test_memory_budget_still_applies(tmp_path, budget):
    store = FeatureStore(tmp_path, max_memory_bytes=budget)
    store.put(KEY, _features(1))
    assert store.memory_bytes <= budget
    np.testing.assert_array_equal(store.get(KEY)["p8"], _features(1)["p8"])


def test_unwritable_folder_is_an_output_error_naming_it(tmp_path):
    store = FeatureStore(tmp_path / "features")
    (tmp_path / "features").rmdir()
    (tmp_path / "features").write_text("a file where the folder was")
    with pytest.raises(OutputError, match="Cannot write to the feature cache folder .*features"):
        store.put(KEY, _features(1))
