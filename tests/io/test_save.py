"""``ember.save`` / ``ember.load`` / ``load_weights``: tensors, state dicts and modules."""
import numpy as np
import pytest

import ember
from ember import nn
from ember.io import SafetensorsError, load_weights, read_metadata
from ember.nn import StateDictError


def _net():
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))


def _arrays(module):
    return {k: v.numpy().copy() for k, v in module.state_dict().items()}


def test_single_tensor_round_trip(tmp_path):
    x = ember.randn(3, 5)
    ember.save(x, tmp_path / "x.safetensors")
    y = ember.load(tmp_path / "x.safetensors")
    assert isinstance(y, ember.Tensor) and not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), x.numpy())


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64", "bool"])
def test_dict_round_trip_keeps_dtypes(tmp_path, dtype):
    values = {"a": ember.tensor(np.arange(6).reshape(2, 3)).astype(dtype), "b": np.ones(2, dtype=dtype)}
    ember.save(values, tmp_path / "d.safetensors")
    loaded = ember.load(tmp_path / "d.safetensors")
    assert set(loaded) == {"a", "b"}
    for key, value in values.items():
        expected = np.asarray(value)
        assert loaded[key].dtype == expected.dtype
        np.testing.assert_array_equal(loaded[key].numpy(), expected)


def test_transposed_and_strided_tensors_save_their_values(tmp_path):
    base = ember.tensor(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    views = {"T": base.T, "perm": base.permute(1, 2, 0), "step": base[:, ::2, 1::2], "flip": base.flip(2),
             "col": base[:, :, 1], "expanded": ember.arange(3.0).expand(4, 3)}
    assert not all(v.data.flags.c_contiguous for v in views.values())
    ember.save(views, tmp_path / "v.safetensors")
    loaded = ember.load(tmp_path / "v.safetensors")
    for key, view in views.items():
        np.testing.assert_array_equal(loaded[key].numpy(), view.numpy(), err_msg=key)


def test_module_state_dict_round_trip(tmp_path):
    source, target = _net(), _net()
    ember.save(source, tmp_path / "net.safetensors")
    assert read_metadata(tmp_path / "net.safetensors") == {"ember.kind": "state_dict"}
    assert load_weights(target, tmp_path / "net.safetensors") == ([], [])
    x = ember.randn(5, 4)
    np.testing.assert_array_equal(target(x).numpy(), source(x).numpy())
    # ember.load gives a plain dict that load_state_dict accepts too.
    again = _net()
    again.load_state_dict(ember.load(tmp_path / "net.safetensors"))
    np.testing.assert_array_equal(again(x).numpy(), source(x).numpy())


def test_user_metadata_is_kept(tmp_path):
    ember.save({"w": ember.ones(1)}, tmp_path / "m.safetensors", metadata={"author": "me"})
    assert read_metadata(tmp_path / "m.safetensors") == {"author": "me", "ember.kind": "state_dict"}


def test_mismatched_file_names_it_and_leaves_the_module_unchanged(tmp_path):
    ember.save(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 5)), tmp_path / "other.safetensors")
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


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_file_names_it_and_leaves_the_module_unchanged(tmp_path, damage):
    path = tmp_path / "net.safetensors"
    ember.save(_net(), path)
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


def test_loaded_weights_are_converted_to_the_module_dtype(tmp_path):
    source = _net()
    ember.save({k: v.astype("float64") for k, v in source.state_dict().items()}, tmp_path / "f64.safetensors")
    target = _net()
    load_weights(target, tmp_path / "f64.safetensors")
    assert target[0].weight.dtype == np.float32
    np.testing.assert_array_equal(target[0].weight.numpy(), source[0].weight.numpy())


def test_save_rejects_what_is_not_a_tensor(tmp_path):
    with pytest.raises(TypeError, match="the value of 'lr' is a float"):
        ember.save({"lr": 0.1}, tmp_path / "bad.safetensors")
    with pytest.raises(TypeError, match="keys must be strings"):
        ember.save({1: ember.ones(1)}, tmp_path / "bad.safetensors")
    with pytest.raises(TypeError, match="expected a Tensor, a dict of tensors or a Module"):
        ember.save([ember.ones(1)], tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()


def test_load_on_a_device(tmp_path):
    ember.save({"w": ember.ones(2)}, tmp_path / "w.safetensors")
    assert ember.load(tmp_path / "w.safetensors", device="cpu")["w"].device == "cpu"
