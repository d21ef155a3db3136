"""A corpus of crafted files: every loader raises its documented error naming the file, never a bare one.

Each case is named; they come from issue 24 (deep nesting, absurd shapes, booleans
passing as integers, state JSON of the wrong types...) and from the format's rules.
"""
import io
import json
import struct

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.io import CheckpointError, SafetensorsError, load_checkpoint, read_checkpoint, save_checkpoint
from ember.io import safetensors_io as st

from ._hostile import blob, split

DEEP_LIST = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000


def _entry(dtype="U8", shape=(1,), offsets=(0, 1)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


HEADERS = {
    "deeply nested list": (blob(raw=DEEP_LIST), "nested too deeply"),
    "deeply nested object": (blob(raw=DEEP_OBJECT), "nested too deeply"),
    "deeply nested entry": (blob(raw=b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"), "nested too deeply"),
    "zero-size shape with a 10**20 dim": (blob({"a": _entry("F32", [0, 10**20], [0, 0])}), "too large"),
    "65 dimensions": (blob({"a": _entry("F32", [1] * 65, [0, 4])}, bytes(4)), "65 dimensions"),
    "dims overflowing despite a zero": (blob({"a": _entry("F32", [2**40, 2**40, 0], [0, 0])}), "too large"),
    "dim beyond int64": (blob({"a": _entry("U8", [2**64], [0, 0])}), "too large"),
    "boolean dim": (blob({"a": _entry("F32", [True], [0, 4])}, bytes(4)), "non-negative integers"),
    "boolean offsets": (blob({"a": _entry("U8", [1], [False, True])}, bytes(1)), "data_offsets"),
    "float dim": (blob({"a": _entry("U8", [1.0], [0, 1])}, bytes(1)), "non-negative integers"),
    "NaN dim": (blob(raw=b'{"a":{"dtype":"U8","shape":[NaN],"data_offsets":[0,1]}}', data=bytes(1)),
                "non-negative integers"),
    "negative dim": (blob({"a": _entry("U8", [-1], [0, 1])}, bytes(1)), "non-negative integers"),
    "shape not a list": (blob({"a": _entry("U8", "1", [0, 1])}, bytes(1)), "shape"),
    "negative offset": (blob({"a": _entry("U8", [1], [-1, 0])}, bytes(1)), "data_offsets"),
    "float offsets": (blob({"a": _entry("U8", [1], [0.0, 1.0])}, bytes(1)), "data_offsets"),
    "three offsets": (blob({"a": _entry("U8", [1], [0, 1, 2])}, bytes(1)), "data_offsets"),
    "begin after end": (blob({"a": _entry("U8", [0], [3, 2])}, bytes(3)), "data_offsets"),
    "offsets past the file": (blob({"a": _entry("U8", [8], [0, 8])}, bytes(4)), "truncated"),
    "offsets far past the file": (blob({"a": _entry("F64", [10**6, 10**6], [0, 8 * 10**12])}, bytes(8)),
                                  "truncated"),
    "overlapping tensors": (blob({"a": _entry("U8", [4], [0, 4]), "b": _entry("U8", [2], [2, 4])}, bytes(4)),
                            "overlaps"),
    "gap between tensors": (blob({"a": _entry("U8", [2], [2, 4])}, bytes(4)), "gap"),
    "data not covered": (blob({"a": _entry("U8", [1], [0, 1])}, bytes(9)), "longer than its header says"),
    "size not matching the shape": (blob({"a": _entry("F32", [2], [0, 4])}, bytes(4)), "needs 8 bytes"),
    "unknown dtype": (blob({"a": _entry("Q7")}, bytes(1)), "unknown dtype 'Q7'"),
    "dtype not a string": (blob({"a": _entry(["U8"])}, bytes(1)), "dtype is not a string"),
    "entry not an object": (blob({"a": [1, 2, 3]}), "malformed"),
    "entry missing offsets": (blob({"a": {"dtype": "U8", "shape": [1]}}, bytes(1)), "no data_offsets"),
    "header length beyond the file": (struct.pack("<Q", 10**6) + b"{}      ", "exceeds|truncated"),
    "header length absurd": (struct.pack("<Q", 2**63) + b"{}      ", "exceeds|too large"),
    "header not UTF-8": (blob(raw=b'{"\xff\xfe":1}'), "not UTF-8"),
    "header not JSON": (blob(raw=b"{oops"), "not valid JSON"),
    "header integer too long": (blob(raw=b'{"a":{"dtype":"U8","shape":[' + b"9" * 5000 + b'],"data_offsets":[0,1]}}',
                                     data=bytes(1)), "not valid JSON"),
    "duplicate keys": (blob(raw=b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                b'"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', data=bytes(1)),
                       "duplicate key 'a'"),
    "header a list": (blob([1, 2]), "a JSON list, expected an object"),
    "header a string": (blob("x"), "a JSON str, expected an object"),
    "metadata with a number": (blob({"__metadata__": {"k": 3}}), "must map strings to strings"),
    "metadata a list": (blob({"__metadata__": []}), "must map strings to strings"),
    "metadata deeply nested": (blob(raw=b'{"__metadata__":{"k":' + DEEP_LIST + b"}}"), "nested too deeply"),
    "empty file": (b"", "too short"),
    "seven bytes": (b"\x08\x00\x00\x00\x00\x00\x00", "too short"),
    "header cut": (blob({"a": _entry()}, bytes(1))[:20], "exceeds|truncated"),
    "payload cut": (blob({"a": _entry("U8", [8], [0, 8])}, bytes(8))[:-3], "truncated"),
}


class _Unseekable(io.RawIOBase):
    """A pipe-like stream: no seek, no length, short reads."""

    def __init__(self, data: bytes):
        self._data, self._position = data, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), 5, len(self._data) - self._position)
        buffer[:count] = self._data[self._position:self._position + count]
        self._position += count
        return count


@pytest.mark.parametrize("case", sorted(HEADERS))
def test_crafted_safetensors_headers(tmp_path, case):
    data, match = HEADERS[case]
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(data)
    for name, load in [("read_file", lambda: st.read_file(path)), ("read_metadata", lambda: st.read_metadata(path)),
                       ("loads", lambda: st.loads(data, str(path))),
                       ("ember.load", lambda: ember.load(path)),
                       ("ember.io.read_metadata", lambda: ember.io.read_metadata(path)),
                       ("load_weights", lambda: ember.io.load_weights(nn.Linear(1, 1), path))]:
        with pytest.raises(SafetensorsError, match=match) as info:
            load()
        assert str(path) in str(info.value), name
    if "longer" in match:  # a stream may hold more after the object: several objects are read in turn
        return
    with pytest.raises(SafetensorsError, match=match):
        st.read_stream(io.BytesIO(data), str(path))
    if "truncated" not in match:  # an unseekable stream cannot know its length in advance
        with pytest.raises(SafetensorsError, match=match):
            st.read_stream(_Unseekable(data), str(path))


def test_an_unseekable_stream_with_an_absurd_size_fails_without_allocating_it():
    # 8 TB declared, 64 bytes sent: the reader must not allocate the 8 TB (MemoryError) before the bytes come.
    data = blob({"big": _entry("F64", [10**6, 10**6], [0, 8 * 10**12])}, bytes(64))
    with pytest.raises(SafetensorsError, match="<pipe>: the stream ends inside tensor 'big'"):
        st.read_stream(_Unseekable(data), "<pipe>")
    with pytest.raises(SafetensorsError, match="<_Unseekable>: the stream ends inside tensor 'big'"):
        ember.load(_Unseekable(data))


def test_absurd_header_length_in_an_unseekable_stream():
    with pytest.raises(SafetensorsError, match="declared header length 9223372036854775808 is too large"):
        st.read_stream(_Unseekable(struct.pack("<Q", 2**63) + b"{}"), "<pipe>")


# ---------------------------------------------------------------- checkpoint state JSON
def _setup():
    ember.manual_seed(0)
    model = nn.Linear(2, 2)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    (model(ember.randn(3, 2)) ** 2).mean().backward()
    opt.step()
    return model, opt


def _crafted_checkpoint(path, **changes):
    """A checkpoint whose state JSON has ``changes``, with valid checksums: the state checks alone must refuse it."""
    save_checkpoint(path, *_setup(), step=1, extra={"a": 1})
    arrays, metadata = st.read_file(path)
    del metadata[st.CHECKSUM_KEY]
    state = json.loads(metadata["ember.checkpoint"])
    raw = changes.pop("raw", None)
    state.update(changes)
    metadata["ember.checkpoint"] = raw if raw is not None else json.dumps(state)
    st.write_file(path, arrays, metadata, checksums=True)


_DEEP = "[" * 100_000 + "]" * 100_000
STATES = {
    "deeply nested state": ({"raw": _DEEP}, "nested too deeply"),
    "deeply nested extra": ({"raw": '{"version": 1, "extra": ' + _DEEP + "}"}, "nested too deeply"),
    "state not JSON": ({"raw": "{oops"}, "not valid JSON"),
    "state a list": ({"raw": "[1]"}, "unsupported checkpoint format version"),
    "no version": ({"raw": "{}"}, "unsupported checkpoint format version"),
    "optimizer dict tag on a number": ({"optimizer": {"__dict__": 5}}, "not \\[key, value\\] pairs"),
    "array tag on a list": ({"optimizer": {"__array__": [1]}}, "tensor reference is \\[1\\], not a name"),
    "optimizer a number": ({"optimizer": 5}, "optimizer is a int, expected a state_dict"),
    "scheduler a list": ({"scheduler": [1, 2]}, "scheduler is a list"),
    "model a number": ({"model": 5}, "model's tensor names are 5"),
    "model names not strings": ({"model": [1]}, "model's tensor names"),
    "model names repeated": ({"model": ["weight", "weight"]}, "distinct strings"),
    "model tensor missing": ({"model": ["weight", "nowhere"]}, "does not hold: \\['nowhere'\\]"),
    "extra key unhashable": ({"extra": {"__dict__": [[{"a": 1}, 2]]}}, "key cannot be used"),
    "extra a list": ({"extra": [1]}, "extra is a list, expected a dict"),
    "step a string": ({"step": "abc"}, "step is 'abc', expected an integer"),
    "step a boolean": ({"step": True}, "step is True"),
    "epoch a float": ({"epoch": 1.5}, "epoch is 1.5"),
    "metric a string": ({"metric": "x"}, "metric is 'x'"),
    "metric a boolean": ({"metric": False}, "metric is False"),
    "metric beyond float": ({"metric": 10**400}, "metric is 1000"),
    "rng unknown generator": ({"rng": {"x": 1}}, "unknown generator 'x'"),
    "rng a list": ({"rng": [1]}, "RNG state is corrupt \\(a list"),
    "rng bad seed": ({"rng": {"seed": "a"}}, "seed 'a'"),
    "rng numpy not a dict": ({"rng": {"seed": 0, "numpy": 5}}, "generator 'numpy' has state 5"),
    "rng numpy garbage": ({"rng": {"seed": 0, "numpy": {"bit_generator": "PCG64", "state": "x"}}},
                          "generator 'numpy'"),
    "rng numpy wrong generator": ({"rng": {"seed": 0, "numpy": {"bit_generator": "MT19937"}}}, "generator 'numpy'"),
    "rng mt19937 short key": ({"rng": {"seed": 0, "numpy.mt19937": {"bit_generator": "MT19937",
                                                                    "state": {"key": [1, 2], "pos": 0}}}},
                              "generator 'numpy.mt19937'"),
}


@pytest.mark.parametrize("case", sorted(STATES))
def test_crafted_checkpoint_states(tmp_path, case):
    changes, match = STATES[case]
    path = tmp_path / "crafted.safetensors"
    _crafted_checkpoint(path, **dict(changes))
    model, opt = _setup()
    ember.randn(3)  # move the RNG away from the checkpoint's
    weights, rng = model.weight.numpy().copy(), ember.get_rng_state()
    with pytest.raises(CheckpointError, match=match) as info:
        load_checkpoint(path, model, opt)
    assert str(path) in str(info.value)
    assert np.array_equal(model.weight.numpy(), weights) and ember.get_rng_state() == rng  # nothing changed
    with pytest.raises(CheckpointError, match=match):
        read_checkpoint(path)
    with pytest.raises(SafetensorsError, match=match) as info:  # ember.load's one error class
        ember.load(path)
    assert str(path) in str(info.value)


def test_a_negative_step_still_loads(tmp_path):
    # save_checkpoint accepts any int, so its files with one must keep loading.
    path = tmp_path / "c.safetensors"
    _crafted_checkpoint(path, step=-1)
    assert read_checkpoint(path).step == -1


# ---------------------------------------------------------------- ember.save structures
def _crafted_tree(path, tree_text):
    ember.save({"w": ember.arange(3.0), "n": 2}, path)
    arrays, metadata = st.read_file(path)
    del metadata[st.CHECKSUM_KEY]
    metadata["ember.tree"] = tree_text
    st.write_file(path, arrays, metadata, checksums=True)


TREES = {
    "deeply nested": (_DEEP, "nested too deeply"),
    "dict tag on a number": ('{"__dict__": 5}', "not \\[key, value\\] pairs"),
    "array tag on a list": ('{"__array__": [1]}', "tensor reference is \\[1\\]"),
    "unhashable key": ('{"__dict__": [[{"a": 1}, 2]]}', "key cannot be used"),
    "dangling tensor": ('{"x": {"__tensor__": "nowhere"}}', "refers to tensor 'nowhere'"),
    "bogus device": ('{"__tensor__": "w", "__device__": "bogus"}', "device 'bogus'"),
    "device not a string": ('{"__tensor__": "w", "__device__": 5}', "device 5 is not a string"),
    "scalar of a vector": ('{"__scalar__": "w"}', "scalar 'w' has shape \\(3,\\)"),
    "bytes of floats": ('{"__bytes__": "w"}', "bytes 'w' are a float32 array"),
    "float tag not a number": ('{"__float__": "import os"}', "float 'import os'"),
    "tuple tag on a number": ('{"__tuple__": 3}', "a tuple is not a list"),
    "tags mixed with keys": ('{"__float__": "1", "x": 2}', "mixes tags and keys"),
}


@pytest.mark.parametrize("case", sorted(TREES))
def test_crafted_ember_save_structures(tmp_path, case):
    tree_text, match = TREES[case]
    path = tmp_path / "crafted.pt"
    _crafted_tree(path, tree_text)
    with pytest.raises(SafetensorsError, match=match) as info:
        ember.load(path)
    assert str(path) in str(info.value)
    with pytest.raises(SafetensorsError, match=match):
        ember.load(io.BytesIO(path.read_bytes()))


def test_the_corpus_helpers_build_what_they_say():
    header, data = split(blob({"a": _entry()}, b"\x07"))
    assert header == {"a": _entry()} and data == b"\x07"
    assert st.loads(blob({"a": _entry()}, b"\x07"))[0]["a"].tolist() == [7]
