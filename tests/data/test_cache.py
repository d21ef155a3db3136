"""ember/data/cache.py: decoded arrays cached as .npy, next to the data or in EMBER_CACHE."""

import os

import numpy as np

from ember.data.cache import cache_paths, cached_arrays, decoded_cache_dir, load_cached


class Decoder:
    def __init__(self, source):
        self.source, self.calls = source, 0

    def __call__(self):
        self.calls += 1
        values = np.frombuffer(self.source.read_bytes(), dtype=np.uint8)
        return {"values": values, "doubled": values.astype(np.int64) * 2}


def test_decodes_once_then_loads_the_npy_next_to_the_source(tmp_path):
    source = tmp_path / "raw.bin"
    source.write_bytes(bytes(range(10)))
    decode = Decoder(source)
    first = cached_arrays(source, decode, ["values", "doubled"])
    second = cached_arrays(source, decode, ["values", "doubled"])
    assert decode.calls == 1
    assert np.array_equal(first["doubled"], second["doubled"])
    assert second["doubled"].dtype == np.int64
    assert sorted(p.name.split(".")[2] for p in tmp_path.glob("raw.bin.*.npy")) == ["doubled",
                                                                                  "values"]


def test_read_only_sources_cache_into_ember_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "ro"
    folder.mkdir()
    source = folder / "raw.bin"
    source.write_bytes(b"abc")
    folder.chmod(0o555)
    try:
        assert decoded_cache_dir() == tmp_path / "cache"
        paths = cache_paths([source], "values")
        assert [p.parent for p in paths] == [tmp_path / "cache"]
        decode = Decoder(source)
        cached_arrays(source, decode, ["values"])
        cached_arrays(source, decode, ["values"])
        assert decode.calls == 1 and os.listdir(folder) == ["raw.bin"]
    finally:
        folder.chmod(0o755)


def test_changing_the_source_invalidates_the_cache(tmp_path):
    source = tmp_path / "raw.bin"
    source.write_bytes(b"abc")
    decode = Decoder(source)
    cached_arrays(source, decode, ["values"])
    source.write_bytes(b"abcd")
    assert cached_arrays(source, decode, ["values"])["values"].tolist() == [97, 98, 99, 100]
    assert decode.calls == 2


def test_unreadable_cache_is_rebuilt(tmp_path):
    source = tmp_path / "raw.bin"
    source.write_bytes(b"abc")
    decode = Decoder(source)
    cached_arrays(source, decode, ["values"])
    (cache,) = tmp_path.glob("*.npy")
    cache.write_bytes(b"\x93NUMPY garbage")
    assert cached_arrays(source, decode, ["values"])["values"].tolist() == [97, 98, 99]
    assert decode.calls == 2
    assert np.load(cache, allow_pickle=False).tolist() == [97, 98, 99]


def test_nothing_writable_still_decodes(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE", "/proc/ember-cannot-write-here")
    folder = tmp_path / "ro"
    folder.mkdir()
    source = folder / "raw.bin"
    source.write_bytes(b"xy")
    folder.chmod(0o555)
    try:
        decode = Decoder(source)
        assert cached_arrays(source, decode, ["values"])["values"].tolist() == [120, 121]
        assert cached_arrays(source, decode, ["values"])["values"].tolist() == [120, 121]
        assert decode.calls == 2
    finally:
        folder.chmod(0o755)


def test_pickled_object_arrays_are_never_loaded(tmp_path):
    path = tmp_path / "evil.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    assert load_cached([path]) is None  # refused (allow_pickle=False), treated as a miss
