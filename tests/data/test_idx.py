"""ember/data/datasets/idx.py: the IDX parser, its error messages, and fuzzing."""

import gzip
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ember.data.datasets.idx import (IDX_TYPES, MAGIC_IMAGES, MAGIC_LABELS, gunzip, parse_idx,
                                     read_idx)
from ember.data.errors import DataError

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("code", sorted(IDX_TYPES))
def test_round_trip_every_type(make_idx, code):
    array = (np.arange(24).reshape(2, 3, 4) % 100).astype(IDX_TYPES[code].newbyteorder("="))
    out = parse_idx(make_idx(array, code))
    assert out.shape == (2, 3, 4) and out.dtype == array.dtype and out.dtype.isnative
    np.testing.assert_array_equal(out, array)


def test_mnist_magic_numbers(make_idx):
    images = make_idx(np.zeros((2, 28, 28), np.uint8))
    labels = make_idx(np.zeros(2, np.uint8))
    assert int.from_bytes(images[:4], "big") == MAGIC_IMAGES == 2051
    assert int.from_bytes(labels[:4], "big") == MAGIC_LABELS == 2049
    assert parse_idx(images, expected_magic=MAGIC_IMAGES).shape == (2, 28, 28)


def test_bad_magic_names_the_file_and_both_numbers(make_idx):
    labels = make_idx(np.zeros(3, np.uint8))
    with pytest.raises(DataError) as info:
        parse_idx(labels, "/d/train-images-idx3-ubyte.gz", expected_magic=MAGIC_IMAGES)
    assert str(info.value) == ("ember.data: /d/train-images-idx3-ubyte.gz: bad magic number 2049,"
                               " expected 2051 (IDX images)")


@pytest.mark.parametrize("data,message", [
    (b"", "truncated IDX header"),
    (b"\x00\x00\x08", "truncated IDX header"),
    (b"\x01\x00\x08\x01" + b"\x00" * 8, "not an IDX file"),
    (b"\x00\x00\x07\x01" + b"\x00" * 8, "not an IDX file"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "truncated IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "truncated IDX data"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x02abc", "wrong length"),
    (b"\x00\x00\x0c\x01\x00\x00\x00\x01ab", "truncated IDX data"),
    (b"\x00\x00\x08\x04" + struct.pack(">4I", *[2**32 - 1] * 4), "truncated IDX data"),
])
def test_corrupt_content_raises_a_clear_error(data, message):
    with pytest.raises(DataError, match=message) as info:
        parse_idx(data, "x.idx")
    assert info.value.path == "x.idx"


def test_read_idx_plain_and_gzipped(tmp_path, make_idx):
    array = np.arange(10, dtype=np.uint8)
    (tmp_path / "a.idx").write_bytes(make_idx(array))
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(make_idx(array)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz", MAGIC_LABELS), array)


def test_bad_gzip_is_reported_with_the_file_name(tmp_path, make_idx):
    good = gzip.compress(make_idx(np.arange(5000, dtype=np.int32) % 7, 0x0C))
    cases = {
        "not-gzip.gz": b"this is not gzip at all",
        "truncated.gz": good[: len(good) // 2],
        "corrupt.gz": good[:20] + bytes(b ^ 0xFF for b in good[20:40]) + good[40:],
        "empty-member.gz": good[:10],
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(DataError, match="bad gzip data") as info:
            read_idx(path)
        assert info.value.path == str(path)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.gz")


@FUZZ
@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes_parse_or_raise_data_error(data):
    try:
        out = parse_idx(data)
    except DataError:
        return
    assert isinstance(out, np.ndarray)
    header = 4 + 4 * data[3]
    assert out.nbytes == len(data) - header


@FUZZ
@given(code=st.sampled_from(sorted(IDX_TYPES) + [0x00, 0x0A, 0xFF]),
       dims=st.lists(st.integers(0, 6), min_size=0, max_size=4),
       extra=st.integers(-8, 8), huge=st.booleans())
def test_fuzz_headers_with_plausible_structure(code, dims, extra, huge):
    if huge and dims:
        dims[0] = 2**32 - 1
    itemsize = IDX_TYPES[code].itemsize if code in IDX_TYPES else 1
    needed = itemsize * int(np.prod(dims, dtype=object)) if dims else 0
    payload = bytes(max(min(needed, 64) + extra, 0))
    data = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + payload
    valid = code in IDX_TYPES and len(dims) > 0 and len(payload) == needed
    try:
        out = parse_idx(data)
    except DataError:
        assert not valid
        return
    assert valid and out.shape == tuple(dims)


@FUZZ
@given(st.binary(max_size=300), st.integers(0, 299))
def test_fuzz_gzip_files(tmp_path, data, cut):
    path = tmp_path / "fuzz.gz"
    for blob in (data, gzip.compress(data)[:cut]):
        path.write_bytes(blob)
        try:
            out = read_idx(path)
        except DataError:
            continue
        assert isinstance(out, np.ndarray)


def test_gunzip_round_trip():
    assert gunzip(gzip.compress(b"abc" * 100), "x") == b"abc" * 100
