"""FeatureCache: LRU order, memory bound, spill to disk and back, keys, clean-up, threads."""

import os
import threading

import numpy as np
import pytest

from engine.feature_cache import FeatureCache, cache_key
from engine.raster_source import Window

MB = 2**20


def _entry(seed: int, mb: float = 1.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(mb * MB / 4) // 64 * 64
    return {"features": rng.standard_normal(n).astype(np.float32).reshape(-1, 64),
            "valid": rng.integers(0, 2, size=(16, 16)).astype(bool)}


def _in_memory_bytes(cache: FeatureCache) -> int:
    return sum(a.nbytes for arrays in cache._memory.values() for a in arrays.values())


def test_hits_misses_and_lru_eviction_order(tmp_path):
    with FeatureCache(max_memory_bytes=int(3.5 * MB), spill_dir=str(tmp_path)) as cache:
        for i in range(3):
            cache.put(f"k{i}", _entry(i))
        assert cache.get("k0") is not None  # k0 becomes most recent: k1 is now the oldest
        assert cache.get("nope") is None
        cache.put("k3", _entry(3))
        assert list(cache._memory) == ["k2", "k0", "k3"]
        assert list(cache._disk) == ["k1"]
        assert (cache.hits, cache.misses, cache.spills, cache.reloads) == (1, 1, 1, 0)
        assert len(cache) == 4 and "k1" in cache and "k9" not in cache


def test_spill_and_reload_give_identical_arrays(tmp_path):
    with FeatureCache(max_memory_bytes=int(2.5 * MB), spill_dir=str(tmp_path)) as cache:
        originals = {f"k{i}": _entry(i) for i in range(6)}
        for key, arrays in originals.items():
            cache.put(key, arrays)
        assert cache.spills == 4 and cache.disk_bytes > 0
        for key, arrays in originals.items():
            got = cache.get(key)
            assert set(got) == set(arrays)
            for name in arrays:
                assert got[name].dtype == arrays[name].dtype
                np.testing.assert_array_equal(got[name], arrays[name])
        assert cache.reloads >= 4 and cache.hits == 6 and cache.misses == 0


def test_scans_larger_than_memory_keep_what_memory_holds_and_write_nothing_again(tmp_path):
    """A detection reads every tile in turn: plain LRU would miss on every read and write every
    entry back out; here the entries memory holds hit on every pass and nothing is written again."""
    with FeatureCache(max_memory_bytes=int(2.5 * MB), spill_dir=str(tmp_path)) as cache:
        originals = {f"k{i}": _entry(i) for i in range(6)}
        for key, arrays in originals.items():
            cache.put(key, arrays)
        assert list(cache._memory) == ["k4", "k5"] and cache.spills == 4
        for _ in range(3):
            for key, arrays in originals.items():
                np.testing.assert_array_equal(cache.get(key)["features"], arrays["features"])
        assert cache.spills == 4 and cache.reloads == 3 * 4 and cache.hits == 3 * 6
        assert list(cache._memory) == ["k4", "k5"] and len(cache) == 6
        assert sorted(os.listdir(cache.spill_path)) == sorted(os.path.basename(p) for p, _, _ in cache._disk.values())


def test_an_entry_read_back_is_not_written_again_when_evicted(tmp_path):
    with FeatureCache(max_memory_bytes=int(2.5 * MB), spill_dir=str(tmp_path)) as cache:
        for i in range(3):
            cache.put(f"k{i}", _entry(i))  # k0 spilled
        cache.put("k1", _entry(1, mb=0.4))  # room: k0 read back joins memory, its file kept
        assert cache.get("k0") is not None and "k0" in cache._memory and "k0" in cache._disk
        cache.get("k2"), cache.get("k1")  # k0 is now the least recent
        cache.put("k3", _entry(3))  # evicts k0 again: no write
        assert cache.spills == 1 and "k0" not in cache._memory and "k0" in cache._disk
        np.testing.assert_array_equal(cache.get("k0")["features"], _entry(0)["features"])
        assert len(cache) == 4


def test_memory_bound_is_respected(tmp_path):
    budget = 3 * MB
    with FeatureCache(max_memory_bytes=budget, spill_dir=str(tmp_path)) as cache:
        rng = np.random.default_rng(0)
        for step in range(40):
            key = f"k{int(rng.integers(0, 12))}"
            if rng.uniform() < 0.5:
                cache.put(key, _entry(step, mb=float(rng.uniform(0.2, 1.4))))
            else:
                cache.get(key)
            assert _in_memory_bytes(cache) <= budget
            assert cache.memory_bytes == _in_memory_bytes(cache)


def test_entry_larger_than_memory_budget_goes_straight_to_disk(tmp_path):
    with FeatureCache(max_memory_bytes=MB, spill_dir=str(tmp_path)) as cache:
        big = _entry(1, mb=2)
        cache.put("big", big)
        assert cache.memory_bytes == 0
        np.testing.assert_array_equal(cache.get("big")["features"], big["features"])
        assert cache.memory_bytes == 0


def test_disk_cap_deletes_oldest(tmp_path):
    with FeatureCache(max_memory_bytes=int(1.5 * MB), spill_dir=str(tmp_path),
                      max_disk_bytes=int(2.5 * MB)) as cache:
        for i in range(5):
            cache.put(f"k{i}", _entry(i))
        assert cache.disk_bytes <= 2.5 * MB
        assert list(cache._disk) == ["k2", "k3"]
        assert cache.get("k0") is None and cache.get("k1") is None
        assert cache.get("k2") is not None
        files = [f for f in os.listdir(cache.spill_path)]
        assert len(files) == len(cache._disk)


def test_cached_arrays_are_read_only():
    with FeatureCache() as cache:
        source = {"f": np.zeros((4, 4), np.float32)}
        cache.put("k", source)
        got = cache.get("k")
        with pytest.raises(ValueError):
            got["f"][0, 0] = 1.0
        source["f"][0, 0] = 0.0  # the caller's own array stays writable


def test_keys_differ_when_any_component_differs():
    base = ("abc123", Window(0, 0, 512, 512), 1.0, "deal-1.0")
    variants = [
        ("abc124", Window(0, 0, 512, 512), 1.0, "deal-1.0"),
        ("abc123", Window(1, 0, 512, 512), 1.0, "deal-1.0"),
        ("abc123", Window(0, 1, 512, 512), 1.0, "deal-1.0"),
        ("abc123", Window(0, 0, 511, 512), 1.0, "deal-1.0"),
        ("abc123", Window(0, 0, 512, 511), 1.0, "deal-1.0"),
        ("abc123", Window(0, 0, 512, 512), 0.5, "deal-1.0"),
        ("abc123", Window(0, 0, 512, 512), 1.0 + 1e-12, "deal-1.0"),
        ("abc123", Window(0, 0, 512, 512), 1.0, "deal-1.1"),
    ]
    keys = {cache_key(*base)} | {cache_key(*v) for v in variants}
    assert len(keys) == len(variants) + 1
    assert cache_key(*base) == cache_key("abc123", Window(0, 0, 512, 512), 1, "deal-1.0")


def test_temp_files_removed_after_close_and_context_exit(tmp_path):
    cache = FeatureCache(max_memory_bytes=MB, spill_dir=str(tmp_path))
    for i in range(3):
        cache.put(f"k{i}", _entry(i))
    spill = cache.spill_path
    assert spill is not None and os.path.dirname(spill) == str(tmp_path) and os.listdir(spill)
    cache.close()
    assert not os.path.exists(spill) and os.listdir(tmp_path) == []
    with FeatureCache(max_memory_bytes=MB, spill_dir=str(tmp_path)) as cache2:
        cache2.put("a", _entry(0))
        cache2.put("b", _entry(1))
        assert os.listdir(tmp_path)
    assert os.listdir(tmp_path) == []


def test_temp_files_removed_when_garbage_collected(tmp_path):
    cache = FeatureCache(max_memory_bytes=MB, spill_dir=str(tmp_path))
    cache.put("a", _entry(0))
    cache.put("b", _entry(1))
    assert os.listdir(tmp_path)
    del cache
    assert os.listdir(tmp_path) == []


def test_concurrent_use_from_threads(tmp_path):
    with FeatureCache(max_memory_bytes=2 * MB, spill_dir=str(tmp_path)) as cache:
        entries = {f"k{i}": _entry(i, mb=0.3) for i in range(16)}
        errors = []

        def work(offset):
            try:
                for step in range(60):
                    key = f"k{(step * 7 + offset) % 16}"
                    got = cache.get(key)
                    if got is None:
                        cache.put(key, entries[key])
                    else:
                        np.testing.assert_array_equal(got["features"], entries[key]["features"])
            except Exception as e:  # reported below; a thread cannot fail the test itself
                errors.append(e)

        threads = [threading.Thread(target=work, args=(o,)) for o in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert cache.memory_bytes <= 2 * MB
        assert cache.hits + cache.misses == 240
