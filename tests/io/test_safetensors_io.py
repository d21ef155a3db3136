"""The pure-NumPy safetensors reader/writer, checked against the ``safetensors`` package."""
import json
import struct

import numpy as np
import pytest

from ember.io import safetensors_io as st
from ember.io.safetensors_io import SafetensorsError

DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.float16, np.int32, np.uint32,
          np.float32, np.float64, np.int64, np.uint64]


def _sample(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 50).astype(dtype)


def _mixed():
    arrays = {f"t_{np.dtype(d).name}": _sample(d, (2, 3), i) for i, d in enumerate(DTYPES)}
    arrays.update({"scalar": np.array(3.5, np.float32), "empty": np.zeros((0, 4), np.float64),
                   "vector": np.arange(7, dtype=np.int64), "é-ünïcode": np.ones(2, np.float32)})
    return arrays


def _assert_same(loaded, expected):
    assert set(loaded) == set(expected)
    for name, array in expected.items():
        assert loaded[name].dtype == array.dtype, name
        assert loaded[name].shape == array.shape, name
        np.testing.assert_array_equal(loaded[name], array, err_msg=name)


@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_dtype(tmp_path, dtype):
    arrays = {"a": _sample(dtype, (3, 4)), "zero_d": _sample(dtype, ()), "empty": _sample(dtype, (0, 2))}
    st.write_file(tmp_path / "x.safetensors", arrays)
    loaded, metadata = st.read_file(tmp_path / "x.safetensors")
    _assert_same(loaded, arrays)
    assert metadata == {}
    _assert_same(st.loads(st.dumps(arrays))[0], arrays)


def test_non_contiguous_arrays_keep_their_values(tmp_path):
    base = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    views = {"transposed": base.T, "strided": base[:, ::2, 1::2], "reversed": base[::-1, :, ::-1],
             "broadcast": np.broadcast_to(np.arange(3.0), (4, 3)), "fortran": np.asfortranarray(base),
             "big_endian": base.astype(">f8")}
    assert not any(v.flags.c_contiguous for k, v in views.items() if k not in ("big_endian",))
    st.write_file(tmp_path / "v.safetensors", views)
    loaded, _ = st.read_file(tmp_path / "v.safetensors")
    for name, view in views.items():
        np.testing.assert_array_equal(loaded[name], view, err_msg=name)
    assert loaded["big_endian"].dtype == np.float64 and loaded["big_endian"].dtype.isnative


def test_bytes_identical_to_the_safetensors_package():
    numpy_api = pytest.importorskip("safetensors.numpy")
    arrays = _mixed()
    assert st.dumps(arrays) == numpy_api.save(arrays)
    # One metadata key: the reference serialises its metadata from a hash map, so the
    # order of several keys is not deterministic there.
    assert st.dumps(arrays, {"format": "np"}) == numpy_api.save(arrays, metadata={"format": "np"})


def test_interoperates_with_the_safetensors_package(tmp_path):
    numpy_api = pytest.importorskip("safetensors.numpy")
    arrays = _mixed()
    metadata = {"a": "1", "b": "two", "json": json.dumps({"x": [1, 2]})}
    numpy_api.save_file(arrays, str(tmp_path / "theirs.safetensors"), metadata=metadata)
    loaded, read_meta = st.read_file(tmp_path / "theirs.safetensors")
    _assert_same(loaded, arrays)
    assert read_meta == metadata
    transposed = {"t": np.arange(6.0).reshape(2, 3).T}
    st.write_file(tmp_path / "ours.safetensors", transposed, metadata)
    _assert_same(numpy_api.load_file(str(tmp_path / "ours.safetensors")), transposed)


def test_the_package_itself_mangles_non_contiguous_arrays():
    """Why Ember writes its own files: the package's NumPy API saves a transpose's buffer."""
    numpy_api = pytest.importorskip("safetensors.numpy")
    transposed = np.arange(6.0).reshape(2, 3).T
    theirs = numpy_api.load(numpy_api.save({"t": transposed}))["t"]
    ours = st.loads(st.dumps({"t": transposed}))[0]["t"]
    np.testing.assert_array_equal(ours, transposed)
    if np.array_equal(theirs, transposed):
        pytest.skip("this safetensors version handles non-contiguous arrays")
    assert not np.array_equal(theirs, transposed)


def test_tensors_are_aligned_to_their_item_size():
    arrays = {"b": np.ones(3, np.uint8), "f": np.ones(3, np.float32), "d": np.ones(1, np.float64),
              "h": np.ones(5, np.float16)}
    blob = st.dumps(arrays)
    (length,) = struct.unpack("<Q", blob[:8])
    assert (8 + length) % 8 == 0
    header = json.loads(blob[8:8 + length])
    for name, array in arrays.items():
        assert header[name]["data_offsets"][0] % array.itemsize == 0, name


def test_bfloat16_and_float8_with_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    arrays = {"bf": np.array([1.5, -2.25, 3e38], dtype=ml_dtypes.bfloat16),
              "e4": np.array([0.5, -1.0], dtype=ml_dtypes.float8_e4m3fn),
              "e5": np.array([2.0, -4.0], dtype=ml_dtypes.float8_e5m2)}
    loaded, _ = st.loads(st.dumps(arrays))
    _assert_same(loaded, arrays)
    numpy_api = pytest.importorskip("safetensors.numpy")
    assert st.dumps(arrays) == numpy_api.save(arrays)


def test_bfloat16_without_ml_dtypes_widens_exactly_to_float32(monkeypatch):
    # bfloat16 1.5, -2.25, 1.0 are the high halves of these float32 bit patterns.
    bits = np.array([0x3FC0, 0xC010, 0x3F80], dtype="<u2")
    header = json.dumps({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}).encode()
    blob = struct.pack("<Q", len(header)) + header + bits.tobytes()
    monkeypatch.setattr(st, "_ml_dtypes", lambda: None)
    loaded, _ = st.loads(blob)
    assert loaded["w"].dtype == np.float32
    np.testing.assert_array_equal(loaded["w"], [1.5, -2.25, 1.0])
    header8 = json.dumps({"w": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}).encode()
    with pytest.raises(SafetensorsError, match="ml_dtypes"):
        st.loads(struct.pack("<Q", len(header8)) + header8 + b"\x00")


def test_read_selected_names_and_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    st.write_file(path, {"a": np.ones(2), "b": np.zeros(3)}, {"note": "hello"})
    arrays, metadata = st.read_file(path, names=["b"])
    assert list(arrays) == ["b"] and metadata == {"note": "hello"}
    assert st.read_metadata(path) == {"note": "hello"}
    with pytest.raises(KeyError, match="no tensor named c"):
        st.read_file(path, names=["c"])


@pytest.mark.parametrize("arrays, metadata, error, match", [
    ({1: np.ones(1)}, None, TypeError, "names must be strings"),
    ({"__metadata__": np.ones(1)}, None, ValueError, "reserved"),
    ({"a": [1, 2]}, None, TypeError, "must be a NumPy array"),
    ({"a": np.ones(1, np.complex64)}, None, SafetensorsError, r"dtype complex64 \(tensor 'a'\)"),
    ({"a": np.array(["s"])}, None, SafetensorsError, "cannot store dtype"),
    ({"a": np.ones(1)}, {"k": 1}, TypeError, "metadata must map str to str"),
])
def test_write_rejects_what_the_format_cannot_hold(tmp_path, arrays, metadata, error, match):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(b"previous content")
    with pytest.raises(error, match=match):
        st.write_file(path, arrays, metadata)
    assert path.read_bytes() == b"previous content"
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


# ---------------------------------------------------------------- corrupt files
def _valid_blob():
    return st.dumps({"a": np.arange(4, dtype=np.float32), "b": np.ones((2, 2), np.int64)})


def _raw_header(text: bytes, payload: bytes) -> bytes:
    return struct.pack("<Q", len(text)) + text + payload


def _with_header(header: dict, payload: bytes) -> bytes:
    return _raw_header(json.dumps(header).encode(), payload)


CORRUPTIONS = {
    "empty": (lambda blob: b"", "too short"),
    "four bytes": (lambda blob: blob[:4], "too short"),
    "huge header length": (lambda blob: struct.pack("<Q", 10**12) + blob[8:], "exceeds"),
    "truncated payload": (lambda blob: blob[:-3], "truncated"),
    "truncated header": (lambda blob: blob[:20], "exceeds"),
    "trailing garbage": (lambda blob: blob + b"xyz", "longer than its header says"),
    "not json": (lambda blob: blob[:8] + b"\xff" * (len(blob) - 8), "not valid JSON"),
    "header is a list": (lambda blob: _with_header([], b""), "expected an object"),
    "shape does not match bytes": (lambda blob: _with_header(
        {"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}, bytes(16)), "needs 12 bytes"),
    "gap": (lambda blob: _with_header(
        {"a": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}}, bytes(4)), "gap"),
    "overlap": (lambda blob: _with_header(
        {"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]},
         "b": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}}, bytes(4)), "overlaps"),
    "unknown dtype": (lambda blob: _with_header(
        {"a": {"dtype": "Q7", "shape": [1], "data_offsets": [0, 1]}}, bytes(1)), "unknown dtype 'Q7'"),
    "missing field": (lambda blob: _with_header({"a": {"dtype": "U8", "shape": [1]}}, bytes(1)), "malformed"),
    "negative dim": (lambda blob: _with_header(
        {"a": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 1]}}, bytes(1)), "malformed"),
    "duplicate key": (lambda blob: _raw_header(b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                               b'"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', bytes(2)),
                      "duplicate key 'a'"),
    "bad metadata": (lambda blob: _with_header({"__metadata__": {"k": 3}}, b""), "must map strings"),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_corrupt_files_raise_naming_the_file_and_the_problem(tmp_path, kind):
    corrupt, match = CORRUPTIONS[kind]
    path = tmp_path / "broken.safetensors"
    path.write_bytes(corrupt(_valid_blob()))
    with pytest.raises(SafetensorsError, match=match) as info:
        st.read_file(path)
    assert str(path) in str(info.value)
    with pytest.raises(SafetensorsError, match=match):
        st.loads(path.read_bytes())


def test_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        st.read_file(tmp_path / "nope.safetensors")


@pytest.mark.parametrize("kind", sorted(set(CORRUPTIONS) - {"trailing garbage"}))
def test_corrupt_streams_raise_naming_the_stream_and_the_problem(kind):
    import io

    corrupt, match = CORRUPTIONS[kind]
    with pytest.raises(SafetensorsError, match=match) as info:
        st.read_stream(io.BytesIO(corrupt(_valid_blob())), "<upload>")
    assert str(info.value).startswith("<upload>: ")


def test_read_stream_consumes_exactly_one_object():
    import io

    first, second = _mixed(), {"x": np.arange(3)}
    stream = io.BytesIO(st.dumps(first, {"n": "1"}) + st.dumps(second) + b"tail")
    arrays, metadata = st.read_stream(stream, "s")
    _assert_same(arrays, first)
    assert metadata == {"n": "1"}
    _assert_same(st.read_stream(stream, "s")[0], second)
    assert stream.read() == b"tail"
    stream = io.BytesIO(st.dumps(first, {"n": "1"}))
    assert st.read_stream(stream, "s", tensors=False) == ({}, {"n": "1"})


def test_a_truncated_seekable_stream_fails_before_allocating(monkeypatch):
    import io

    header = json.dumps({"big": {"dtype": "F64", "shape": [10**6, 10**6], "data_offsets": [0, 8 * 10**12]}}).encode()
    blob = struct.pack("<Q", len(header)) + header + bytes(16)
    monkeypatch.setattr(st.np, "empty", lambda *a, **k: pytest.fail("allocated before checking the size"))
    with pytest.raises(SafetensorsError, match="truncated: the header declares 8000000000000 bytes"):
        st.read_stream(io.BytesIO(blob), "s")
