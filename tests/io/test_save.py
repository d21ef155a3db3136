"""``ember.save`` / ``ember.load`` as PyTorch users call them: paths and file objects, nested checkpoints."""
import io
import json
import math
import os
import struct
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.io import SafetensorsError, load_weights, read_metadata, save_checkpoint
from ember.io import safetensors_io as st
from ember.nn import StateDictError

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _net():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def _arrays(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def _trained():
    """A model and an Adam optimizer after two steps (so the optimizer holds moments)."""
    ember.manual_seed(0)
    model = _net()
    opt = optim.Adam(model.parameters(), lr=1e-2, betas=(0.8, 0.9))
    for _ in range(2):
        loss = (model(ember.randn(5, 4)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model, opt


def _checkpoint(model, opt):
    return {"epoch": 3, "model": model.state_dict(), "optimizer": opt.state_dict(), "best": 0.91,
            "args": {"lr": 1e-2, "layers": [4, 8, 3], "name": "mlp", "seed": None, "shuffle": True,
                     "betas": (0.8, 0.9), "tag": b"\x00\xffraw"},
            "history": [(1, 0.5), (2, 0.25)], "confusion": np.eye(3, dtype=np.int64), "nan": math.nan,
            "huge": 2**100, "np_scalar": np.float32(1.5), "empty": {}, "nothing": []}


def _assert_same(loaded, expected, where="obj"):
    """Same structure, types, dtypes, shapes and values (tensors stay tensors, arrays arrays)."""
    if isinstance(expected, ember.Tensor):
        assert isinstance(loaded, ember.Tensor), where
        assert loaded.dtype == expected.dtype and loaded.shape == expected.shape, where
        np.testing.assert_array_equal(loaded.numpy(), expected.numpy(), err_msg=where)
        return
    assert type(loaded) is type(expected), f"{where}: {type(loaded)} vs {type(expected)}"
    if isinstance(expected, np.ndarray):
        assert loaded.dtype == expected.dtype and loaded.shape == expected.shape, where
        np.testing.assert_array_equal(loaded, expected, err_msg=where)
    elif isinstance(expected, dict):
        assert list(loaded) == list(expected), where
        for key in expected:
            _assert_same(loaded[key], expected[key], f"{where}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(loaded) == len(expected), where
        for i, (a, b) in enumerate(zip(loaded, expected)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(loaded), where
    else:
        assert loaded == expected, where


def _through(obj, target, tmp_path):
    """Save and load ``obj`` through a path or a BytesIO."""
    if target == "path":
        ember.save(obj, tmp_path / "obj.safetensors")
        return ember.load(tmp_path / "obj.safetensors")
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return ember.load(buffer)


# ---------------------------------------------------------------- round trips
@pytest.mark.parametrize("target", ["path", "bytesio"])
def test_training_checkpoint_round_trips_exactly(tmp_path, target):
    model, opt = _trained()
    checkpoint = _checkpoint(model, opt)
    loaded = _through(checkpoint, target, tmp_path)
    _assert_same(loaded, checkpoint)
    assert isinstance(loaded["model"], OrderedDict)
    assert all(isinstance(k, int) for k in loaded["optimizer"]["state"])  # int keys stay ints
    assert type(loaded["args"]["betas"]) is tuple and type(loaded["history"][0]) is tuple
    assert type(loaded["np_scalar"]) is np.float32 and loaded["huge"] == 2**100


def test_resuming_from_a_loaded_checkpoint_matches_the_original_run(tmp_path):
    model, opt = _trained()
    ember.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, tmp_path / "ckpt.safetensors")
    x = ember.randn(5, 4)

    def step(m, o):
        loss = (m(x) ** 2).mean()
        o.zero_grad()
        loss.backward()
        o.step()
        return _arrays(m)

    expected = step(model, opt)
    fresh = _net()
    fresh_opt = optim.Adam(fresh.parameters(), lr=1.0)
    loaded = ember.load(tmp_path / "ckpt.safetensors")
    assert fresh.load_state_dict(loaded["model"]) == ([], [])
    fresh_opt.load_state_dict(loaded["optimizer"])
    assert fresh_opt.param_groups[0]["betas"] == (0.8, 0.9)
    for key, value in step(fresh, fresh_opt).items():
        np.testing.assert_array_equal(value, expected[key], err_msg=key)


def test_model_state_dict_round_trip_with_load_state_dict(tmp_path):
    source, target = _net(), _net()
    with open(tmp_path / "net.pt", "wb") as f:
        ember.save(source.state_dict(), f)
    with open(tmp_path / "net.pt", "rb") as f:
        assert target.load_state_dict(ember.load(f)) == ([], [])
    x = ember.randn(5, 4)
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())
    assert read_metadata(tmp_path / "net.pt")["ember.kind"] == "state_dict"
    assert load_weights(_net(), tmp_path / "net.pt") == ([], [])


def test_state_dict_files_keep_plain_safetensors_names(tmp_path):
    """A state dict's tensors are named by its keys, so other safetensors readers see PyTorch's names."""
    model = _net()
    ember.save(model.state_dict(), tmp_path / "net.safetensors")
    arrays, _ = st.read_file(tmp_path / "net.safetensors")
    assert sorted(arrays) == sorted(model.state_dict())
    numpy_api = pytest.importorskip("safetensors.numpy")
    theirs = numpy_api.load_file(str(tmp_path / "net.safetensors"))
    np.testing.assert_array_equal(theirs["2.weight"], model[2].weight.numpy())


def test_single_tensor_round_trip(tmp_path):
    x = ember.randn(3, 5)
    y = _through(x, "path", tmp_path)
    assert isinstance(y, ember.Tensor) and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), x.numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes_zero_d_and_empty_tensors(tmp_path, dtype):
    rng = np.random.default_rng(0)
    values = (rng.standard_normal((2, 3)) * 50).astype(dtype)
    obj = {"t": ember.tensor(values), "zero_d": ember.tensor(values[0, 0]), "empty": ember.tensor(values[:0]),
           "empty_3d": ember.tensor(np.zeros((2, 0, 4), dtype)), "array": values, "array_0d": np.array(values[1, 2]),
           "scalar": values.reshape(-1)[4]}
    assert obj["zero_d"].shape == () and obj["array_0d"].shape == () and isinstance(obj["scalar"], np.generic)
    for target in ("path", "bytesio"):
        loaded = _through(obj, target, tmp_path)
        _assert_same(loaded, obj)
        assert loaded["t"].dtype == np.dtype(dtype) and loaded["empty_3d"].shape == (2, 0, 4)


def test_transposed_and_strided_tensors_save_their_values(tmp_path):
    base = ember.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    views = {"T": base.T, "perm": base.permute(1, 2, 0), "step": base[:, ::2, 1::2], "flip": base.flip(2),
             "col": base[:, :, 1], "expanded": ember.arange(3.0).expand(4, 3),
             "array_view": np.arange(12.0).reshape(3, 4)[:, ::2]}
    loaded = _through(views, "path", tmp_path)
    for key, view in views.items():
        expected = view if isinstance(view, np.ndarray) else view.numpy()
        got = loaded[key] if isinstance(view, np.ndarray) else loaded[key].numpy()
        np.testing.assert_array_equal(got, expected, err_msg=key)


def test_dict_keys_of_every_kind_and_ordered_dicts(tmp_path):
    obj = {"by_int": {0: "a", 1: "b", -5: "c"}, "by_tuple": {(1, "x"): 1.0}, "by_none": {None: 1, True: 2},
           "by_float": {0.5: "half", math.inf: "inf"}, "numpy_key": {np.int64(7): "seven"},
           "ordered": OrderedDict([("z", 1), ("a", 2)]), "tag_like": {"__tensor__": 1, "__tuple__": [2]},
           "mixed": {"1": "str", 1: "int"}, "unicode": {"clé": "é"}}
    loaded = _through(obj, "bytesio", tmp_path)
    expected = dict(obj, numpy_key={7: "seven"})
    _assert_same(loaded, expected)
    assert list(loaded["ordered"]) == ["z", "a"]


def test_several_objects_in_one_stream_read_back_in_turn():
    buffer = io.BytesIO()
    ember.save({"first": ember.ones(2)}, buffer)
    ember.save([1, "two", ember.zeros(3)], buffer)
    buffer.seek(0)
    first, second = ember.load(buffer), ember.load(buffer)
    assert first["first"].tolist() == [1.0, 1.0]
    assert second[:2] == [1, "two"] and second[2].shape == (3,)
    assert buffer.read() == b""


class _Unseekable(io.RawIOBase):
    """A pipe-like stream: short reads and no seeking."""

    def __init__(self, data):
        self._data, self._pos = data, 0

    def readable(self):
        return True

    def readinto(self, view):
        count = min(len(view), 5, len(self._data) - self._pos)  # at most 5 bytes per call
        view[:count] = self._data[self._pos:self._pos + count]
        self._pos += count
        return count


def test_load_from_an_unseekable_stream_with_short_reads():
    buffer = io.BytesIO()
    obj = {"w": ember.randn(7, 3), "step": 4}
    ember.save(obj, buffer)
    _assert_same(ember.load(_Unseekable(buffer.getvalue())), obj)


def test_save_to_a_file_object_writes_once_at_its_position():
    class Recorder(io.BytesIO):
        writes = 0

        def write(self, data):
            Recorder.writes += 1
            return super().write(data)

    stream = Recorder()
    stream.write(b"prefix")
    Recorder.writes = 0
    ember.save({"a": ember.ones(3), "b": np.zeros(2), "c": [1, 2]}, stream)
    assert Recorder.writes == 1
    stream.seek(6)
    assert ember.load(stream)["c"] == [1, 2]


def test_metadata_is_kept_and_ember_keys_are_reserved(tmp_path):
    ember.save({"w": ember.ones(1)}, tmp_path / "m.safetensors", metadata={"author": "me"})
    metadata = read_metadata(tmp_path / "m.safetensors")
    assert metadata["author"] == "me" and metadata["ember.kind"] == "state_dict"
    assert json.loads(metadata["ember.tree"]) == {"w": {"__tensor__": "w"}}
    with open(tmp_path / "m.safetensors", "rb") as f:
        assert read_metadata(f) == metadata
    with pytest.raises(ValueError, match="'ember.kind' is reserved"):
        ember.save({}, tmp_path / "r.safetensors", metadata={"ember.kind": "x"})
    with pytest.raises(TypeError, match="metadata must map str to str"):
        ember.save({}, tmp_path / "r.safetensors", metadata={"k": 1})
    assert not (tmp_path / "r.safetensors").exists()


# ---------------------------------------------------------------- map_location / weights_only
def test_map_location_and_weights_only_are_accepted(tmp_path):
    path = tmp_path / "w.safetensors"
    ember.save({"w": ember.ones(2), "a": np.ones(2)}, path)
    for kwargs in ({}, {"map_location": "cpu"}, {"map_location": {"cpu": "cpu"}}, {"weights_only": True},
                   {"weights_only": False}, {"device": "cpu"}):
        loaded = ember.load(path, **kwargs)
        assert loaded["w"].device == "cpu" and isinstance(loaded["a"], np.ndarray), kwargs
    torch = pytest.importorskip("torch")
    assert ember.load(path, map_location=torch.device("cpu"))["w"].device == "cpu"


def test_bad_map_location_and_weights_only_are_refused(tmp_path):
    path = tmp_path / "w.safetensors"
    ember.save({"w": ember.ones(2)}, path)
    with pytest.raises(ValueError, match="map_location gives device 'tpu'"):
        ember.load(path, map_location="tpu")
    with pytest.raises(TypeError, match="map_location as a function is not supported"):
        ember.load(path, map_location=lambda storage, location: storage)
    with pytest.raises(TypeError, match="weights_only must be a bool"):
        ember.load(path, weights_only="yes")
    with pytest.raises(TypeError, match="not both"):
        ember.load(path, map_location="cpu", device="cpu")


def test_tensors_saved_on_a_gpu_record_their_device(tmp_path):
    """The device is recorded; map_location='cpu' brings them back without a GPU (as in PyTorch)."""
    skeleton = {"w": {"__tensor__": "w", "__device__": "cuda:0"}}
    path = tmp_path / "gpu.safetensors"
    st.write_file(path, {"w": np.arange(3.0)}, {"ember.kind": "state_dict", "ember.tree": json.dumps(skeleton)})
    loaded = ember.load(path, map_location="cpu")
    assert loaded["w"].device == "cpu" and loaded["w"].tolist() == [0.0, 1.0, 2.0]
    assert ember.load(path, map_location={"cuda:0": "cpu"})["w"].device == "cpu"
    if ember.backend.cupy_module() is None:
        with pytest.raises(RuntimeError, match=r"gpu\.safetensors: a tensor was saved on cuda:0.*map_location='cpu'"):
            ember.load(path)


# ---------------------------------------------------------------- refused saves
def _ready(tmp_path):
    """An existing file that a refused save must leave alone."""
    path = tmp_path / "existing.safetensors"
    ember.save({"keep": ember.ones(2)}, path)
    return path, path.read_bytes()


class Config:
    pass


@pytest.mark.parametrize("obj, match", [
    (_net(), r"cannot save a whole module \(Sequential\).*ember\.save\(model\.state_dict\(\), f\)"),
    ({"model": nn.Linear(2, 2)}, r'obj\["model"\] is a module \(Linear\); save obj\["model"\]\.state_dict\(\)'),
    ({"args": {"fn": lambda x: x}}, r'cannot save obj\["args"\]\["fn"\], a function'),
    ({"args": {"cfg": Config()}}, r'cannot save obj\["args"\]\["cfg"\], a .*Config'),
    ({"opt": [optim.SGD([nn.Parameter(ember.ones(1))], lr=0.1)]}, r'obj\["opt"\]\[0\], a .*SGD.*state_dict\(\)'),
    ({"state": {0: {"f": print}}}, r'obj\["state"\]\[0\]\["f"\]'),
    ({"path": __import__("pathlib").Path("x")}, r'save str\(obj\["path"\]\)'),
    ({"tags": {"a", "b"}}, r"a set"),
    ({"c": 1 + 2j}, r"a complex"),
    ({"objects": np.array([None, 1], dtype=object)}, r'obj\["objects"\], an array of dtype object'),
    ({object(): 1}, r"cannot save the key <object object at .*> of obj, a object"),
    (ember, r"a module"),
])
def test_refused_saves_name_the_value_and_touch_no_file(tmp_path, obj, match):
    path, before = _ready(tmp_path)
    with pytest.raises(TypeError, match=match):
        ember.save(obj, path)
    assert path.read_bytes() == before
    with pytest.raises(TypeError, match=match):
        ember.save(obj, tmp_path / "new.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.safetensors"]  # no temporary file either
    buffer = io.BytesIO(b"old")
    with pytest.raises(TypeError, match=match):
        ember.save(obj, buffer)
    assert buffer.getvalue() == b"old"


def test_argparse_namespace_gets_the_vars_hint(tmp_path):
    import argparse

    with pytest.raises(TypeError, match=r'save vars\(obj\["args"\]\) instead'):
        ember.save({"args": argparse.Namespace(lr=0.1)}, tmp_path / "a.safetensors")
    ember.save({"args": vars(argparse.Namespace(lr=0.1))}, tmp_path / "a.safetensors")
    assert ember.load(tmp_path / "a.safetensors") == {"args": {"lr": 0.1}}


def test_a_tree_that_contains_itself_is_refused(tmp_path):
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r'obj\["a"\]\[0\] contains itself'):
        ember.save(loop, tmp_path / "loop.safetensors")
    assert not (tmp_path / "loop.safetensors").exists()
    shared = [1, 2]
    assert ember.load(_save_bytes({"x": shared, "y": shared})) == {"x": [1, 2], "y": [1, 2]}  # sharing is fine


def _save_bytes(obj):
    buffer = io.BytesIO()
    ember.save(obj, buffer)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("f, match", [
    (b"raw bytes", "pass a path, or wrap the data in io.BytesIO"),
    (42, "must be a path"),
    (io.StringIO(), "open in text mode"),
])
def test_what_is_not_a_file_is_refused(f, match):
    with pytest.raises(TypeError, match=match):
        ember.save({"a": 1}, f)
    with pytest.raises(TypeError, match=match):
        ember.load(f)


def test_a_failing_write_leaves_the_existing_file(tmp_path, monkeypatch):
    path, before = _ready(tmp_path)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(st, "_raw_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        ember.save({"w": ember.ones(3)}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing.safetensors"]


# ---------------------------------------------------------------- corrupt and truncated files
def _blob():
    model, opt = _trained()
    return _save_bytes(_checkpoint(model, opt)).getvalue()


def _set_tree(blob, tree_text):
    """``blob`` with its JSON structure replaced (the header re-encoded around it).

    The checksums go too, as a crafted file would drop them: the structure's own checks are tested.
    """
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    header["__metadata__"]["ember.tree"] = tree_text
    del header["__metadata__"]["ember.checksums"]
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blob[8 + length:]


DAMAGES = {
    "empty": (lambda b: b"", "too short"),
    "truncated header": (lambda b: b[:40], "truncated"),
    "truncated payload": (lambda b: b[:-7], "truncated"),
    "garbage start": (lambda b: b"\xff" * 16 + b[16:], "truncated or not safetensors"),
    "header not json": (lambda b: b[:8] + b"\x00" * 40 + b[48:], "not valid JSON"),
    "structure not json": (lambda b: _set_tree(b, "{oops"), "saved structure in the header is not valid JSON"),
    "dangling tensor": (lambda b: _set_tree(b, '{"w": {"__tensor__": "nowhere"}}'), "refers to tensor 'nowhere'"),
    "bad tag": (lambda b: _set_tree(b, '{"w": {"__tuple__": 3}}'), "structure in the header is corrupt"),
    "mixed tag": (lambda b: _set_tree(b, '{"w": {"__float__": "1", "x": 2}}'), "mixes tags and keys"),
    "bad float": (lambda b: _set_tree(b, '{"w": {"__float__": "import os"}}'), "corrupt .float 'import os'"),
    "bad pairs": (lambda b: _set_tree(b, '{"w": {"__dict__": [[1]]}}'), "not \\[key, value\\] pairs"),
    "unhashable key": (lambda b: _set_tree(b, '{"w": {"__dict__": [[{"a": 1}, 2]]}}'), "key cannot be used"),
    "deep nesting": (lambda b: _set_tree(b, "[" * 100000 + "]" * 100000), "nested too deeply|not valid JSON"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_corrupt_files_and_streams_raise_naming_them(tmp_path, damage):
    corrupt, match = DAMAGES[damage]
    data = corrupt(_blob())
    path = tmp_path / "ckpt.safetensors"
    path.write_bytes(data)
    with pytest.raises(SafetensorsError, match=match) as info:
        ember.load(path)
    assert str(path) in str(info.value)
    with pytest.raises(SafetensorsError, match=match) as info:
        ember.load(io.BytesIO(data))
    assert "<BytesIO>" in str(info.value)
    with open(path, "rb") as f, pytest.raises(SafetensorsError, match="ckpt.safetensors"):
        ember.load(f)
    with pytest.raises(SafetensorsError, match=match):
        ember.load(_Unseekable(data))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_file_names_it_and_leaves_the_module_unchanged(tmp_path, damage):
    path = tmp_path / "net.safetensors"
    ember.save(_net().state_dict(), path)
    blob = path.read_bytes()
    path.write_bytes({"truncate": blob[:-10], "garbage": b"\x93NUMPY" + blob[6:], "empty": b""}[damage])
    net = _net()
    before = _arrays(net)
    with pytest.raises(SafetensorsError, match="net.safetensors"):
        load_weights(net, path)
    with pytest.raises(SafetensorsError, match="net.safetensors"):
        ember.load(path)
    for key, value in _arrays(net).items():
        np.testing.assert_array_equal(value, before[key])


# ---------------------------------------------------------------- files of earlier formats
def test_reads_files_written_before_the_json_structure(tmp_path):
    """Earlier ember.save wrote a flat state dict or one tensor with only an 'ember.kind' marker."""
    weights = {"0.weight": np.ones((8, 4), np.float32), "0.bias": np.zeros(8, np.float32)}
    st.write_file(tmp_path / "old.safetensors", weights, {"ember.kind": "state_dict"})
    loaded = ember.load(tmp_path / "old.safetensors")
    assert isinstance(loaded, OrderedDict) and set(loaded) == set(weights)
    assert all(isinstance(v, ember.Tensor) for v in loaded.values())
    st.write_file(tmp_path / "one.safetensors", {"tensor": np.arange(3)}, {"ember.kind": "tensor"})
    assert ember.load(tmp_path / "one.safetensors").tolist() == [0, 1, 2]
    numpy_api = pytest.importorskip("safetensors.numpy")
    numpy_api.save_file({"x": np.arange(4.0)}, str(tmp_path / "foreign.safetensors"))
    assert ember.load(tmp_path / "foreign.safetensors")["x"].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_a_checkpoint_file_loads_as_a_dict_of_its_parts(tmp_path):
    model, opt = _trained()
    path = save_checkpoint(tmp_path / "ckpt.safetensors", model, opt, step=7, extra={"note": "hi"})
    loaded = ember.load(path)
    assert loaded["step"] == 7 and loaded["extra"] == {"note": "hi"}
    fresh = _net()
    fresh.load_state_dict(loaded["model"])
    for key, value in _arrays(fresh).items():
        np.testing.assert_array_equal(value, _arrays(model)[key])
    with open(path, "rb") as f:
        assert load_weights(_net(), f) == ([], [])


# ---------------------------------------------------------------- load_weights
def test_mismatched_file_names_it_and_leaves_the_module_unchanged(tmp_path):
    ember.save(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 5)).state_dict(), tmp_path / "other.safetensors")
    net = _net()
    before = _arrays(net)
    with pytest.raises(StateDictError, match=r"(?s)other\.safetensors.*shape mismatches: 2\.weight"):
        load_weights(net, tmp_path / "other.safetensors")
    for key, value in _arrays(net).items():
        np.testing.assert_array_equal(value, before[key])
    ember.save({"0.weight": ember.zeros(8, 4)}, tmp_path / "partial.safetensors")
    with pytest.raises(StateDictError, match=r"(?s)partial\.safetensors.*missing keys: 0\.bias"):
        load_weights(net, tmp_path / "partial.safetensors")
    np.testing.assert_array_equal(net[0].weight.numpy(), before["0.weight"])
    missing, unexpected = load_weights(net, tmp_path / "partial.safetensors", strict=False)
    assert "0.bias" in missing and unexpected == []
    np.testing.assert_array_equal(net[0].weight.numpy(), 0)


def test_load_weights_refuses_a_file_that_is_not_a_state_dict(tmp_path):
    model, opt = _trained()
    ember.save(_checkpoint(model, opt), tmp_path / "ckpt.safetensors")
    with pytest.raises(StateDictError, match=r"ckpt\.safetensors: holds a dict with keys \['epoch', 'model'"):
        load_weights(_net(), tmp_path / "ckpt.safetensors")


def test_loaded_weights_are_converted_to_the_module_dtype(tmp_path):
    source = _net()
    ember.save({k: v.astype("float64") for k, v in source.state_dict().items()}, tmp_path / "f64.safetensors")
    target = _net()
    load_weights(target, tmp_path / "f64.safetensors")
    assert target[0].weight.dtype == np.float32
    np.testing.assert_array_equal(target[0].weight.numpy(), source[0].weight.numpy())


def test_save_is_atomic_and_names_a_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ember.save({"a": 1}, tmp_path / "no" / "such" / "dir.safetensors")
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        ember.load(tmp_path / "nope.safetensors")
    ember.save({"a": 1}, os.fspath(tmp_path / "str_path.safetensors"))
    assert ember.load(os.fspath(tmp_path / "str_path.safetensors")) == {"a": 1}
