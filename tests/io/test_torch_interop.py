"""Weights move between PyTorch and Ember through safetensors, and both compute the same.

One test per layer family: PyTorch weights -> safetensors file -> Ember, compare
outputs; then fresh Ember weights -> file -> PyTorch, compare again. Families whose
Ember layer does not exist yet skip with the layer's name.
"""
import numpy as np
import pytest

import ember
from ember import nn
from ember.io import load_torch_state_dict, save_torch_state_dict
from ember.nn import StateDictError

torch = pytest.importorskip("torch")
safetensors_torch = pytest.importorskip("safetensors.torch")


def _layer(name):
    layer = getattr(nn, name, None)
    if layer is None:
        pytest.skip(f"ember.nn.{name} does not exist yet")
    return layer


def _first(out):
    return out[0] if isinstance(out, tuple) else out


def _torch_forward(module, x):
    with torch.no_grad():
        return _first(module(torch.from_numpy(x))).numpy()


def _ember_forward(module, x):
    with ember.no_grad():
        return _first(module(ember.tensor(x))).numpy()


def _scramble_torch(module, seed):
    """Non-default values everywhere (running stats too), so a missed tensor shows."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.dtype.is_floating_point:
                values = torch.randn(tensor.shape, generator=generator) * 0.3
                tensor.copy_(values.abs() + 0.5 if "running_var" in name else values)
            else:
                tensor.fill_(7)


def _round_trip(tmp_path, make_torch, make_ember, x, atol=1e-5, train_first=False):
    """PyTorch -> Ember and Ember -> PyTorch through files; outputs must agree both ways."""
    torch_module, ember_module = make_torch(), make_ember()
    _scramble_torch(torch_module, 0)
    torch_module.eval()
    ember_module.eval()
    assert list(ember_module.state_dict()) == list(torch_module.state_dict())

    path = tmp_path / "from_torch.safetensors"
    safetensors_torch.save_file(torch_module.state_dict(), str(path))
    assert load_torch_state_dict(ember_module, path) == ([], [])
    np.testing.assert_allclose(_ember_forward(ember_module, x), _torch_forward(torch_module, x), atol=atol, rtol=1e-5)

    # Back: give the Ember module other weights, write them, load them into a fresh PyTorch module.
    fresh = make_ember()
    for name, value in fresh.state_dict().items():
        if value.dtype.kind == "f":
            value.data[...] = np.random.default_rng(1).standard_normal(value.shape) * 0.3 + \
                (1.0 if "running_var" in name else 0.0)
    fresh.eval()
    back = tmp_path / "from_ember.safetensors"
    save_torch_state_dict(fresh, back)
    torch_again = make_torch()
    torch_again.load_state_dict(safetensors_torch.load_file(str(back)))
    torch_again.eval()
    np.testing.assert_allclose(_torch_forward(torch_again, x), _ember_forward(fresh, x), atol=atol, rtol=1e-5)
    return torch_module, ember_module


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_linear(tmp_path):
    Linear = _layer("Linear")
    _round_trip(tmp_path,
                lambda: torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3, bias=False)),
                lambda: nn.Sequential(Linear(5, 8), nn.ReLU(), Linear(8, 3, bias=False)), _x(4, 5))


@pytest.mark.parametrize("dims", [1, 2])
def test_conv(tmp_path, dims):
    Conv = _layer(f"Conv{dims}d")
    spatial = (11,) * dims
    _round_trip(tmp_path,
                lambda: getattr(torch.nn, f"Conv{dims}d")(4, 6, 3, stride=2, padding=1, groups=2),
                lambda: Conv(4, 6, 3, stride=2, padding=1, groups=2), _x(2, 4, *spatial), atol=1e-4)


def test_conv_transpose(tmp_path):
    ConvTranspose2d = _layer("ConvTranspose2d")
    _round_trip(tmp_path, lambda: torch.nn.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1),
                lambda: ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1), _x(2, 4, 5, 5), atol=1e-4)


@pytest.mark.parametrize("name, shape", [("BatchNorm1d", (6, 5)), ("BatchNorm2d", (3, 5, 4, 4))])
def test_batch_norm_with_running_statistics(tmp_path, name, shape):
    Norm = _layer(name)
    _, ember_bn = _round_trip(tmp_path, lambda: getattr(torch.nn, name)(5), lambda: Norm(5), _x(*shape))
    assert int(ember_bn.num_batches_tracked.item()) == 7  # the integer buffer came across too


@pytest.mark.parametrize("name, args, shape", [("LayerNorm", ((4, 6),), (3, 4, 6)),
                                               ("GroupNorm", (2, 6), (3, 6, 5))])
def test_layer_and_group_norm(tmp_path, name, args, shape):
    Norm = _layer(name)
    _round_trip(tmp_path, lambda: getattr(torch.nn, name)(*args), lambda: Norm(*args), _x(*shape))


def test_embedding(tmp_path):
    Embedding = _layer("Embedding")
    ids = np.array([[0, 3, 9], [9, 9, 1]])
    torch_module, ember_module = torch.nn.Embedding(10, 4, padding_idx=0), Embedding(10, 4, padding_idx=0)
    _scramble_torch(torch_module, 0)
    path = tmp_path / "emb.safetensors"
    safetensors_torch.save_file(torch_module.state_dict(), str(path))
    load_torch_state_dict(ember_module, path)
    expected = torch_module(torch.from_numpy(ids)).detach().numpy()
    np.testing.assert_array_equal(ember_module(ember.tensor(ids)).numpy(), expected)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_recurrent(tmp_path, name):
    Layer = _layer(name)
    kwargs = {"num_layers": 2, "batch_first": True, "bidirectional": True}
    _round_trip(tmp_path, lambda: getattr(torch.nn, name)(5, 7, **kwargs), lambda: Layer(5, 7, **kwargs),
                _x(3, 6, 5), atol=1e-5)


def test_multihead_attention(tmp_path):
    MultiheadAttention = _layer("MultiheadAttention")

    class SelfAttention:
        """Adapts (query, key, value) -> (output, weights) to one input for _round_trip."""

        def __init__(self, module):
            self.module = module

        def __call__(self, x):
            return self.module(x, x, x)[0]

        def __getattr__(self, name):
            return getattr(self.module, name)

    torch_module = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    ember_module = MultiheadAttention(8, 2, batch_first=True)
    _scramble_torch(torch_module, 0)
    torch_module.eval()
    ember_module.eval()
    assert list(ember_module.state_dict()) == list(torch_module.state_dict())
    path = tmp_path / "mha.safetensors"
    safetensors_torch.save_file(torch_module.state_dict(), str(path))
    load_torch_state_dict(ember_module, path)
    x = _x(2, 5, 8)
    np.testing.assert_allclose(_ember_forward(SelfAttention(ember_module), x),
                               _torch_forward(SelfAttention(torch_module), x), atol=1e-5, rtol=1e-5)


def test_in_memory_state_dict_and_bfloat16(tmp_path):
    torch_module = torch.nn.Linear(3, 2)
    ember_module = nn.Linear(3, 2)
    state = {k: v.to(torch.bfloat16) for k, v in torch_module.state_dict().items()}
    load_torch_state_dict(ember_module, state)
    assert ember_module.weight.dtype == np.float32
    np.testing.assert_array_equal(ember_module.weight.numpy(), state["weight"].float().numpy())
    # A bfloat16 file goes through ml_dtypes (or is widened exactly to float32 without it).
    path = tmp_path / "bf16.safetensors"
    safetensors_torch.save_file(state, str(path))
    other = nn.Linear(3, 2)
    load_torch_state_dict(other, path)
    np.testing.assert_array_equal(other.weight.numpy(), ember_module.weight.numpy())


def test_mismatch_names_the_problem_and_changes_nothing(tmp_path):
    path = tmp_path / "wide.safetensors"
    safetensors_torch.save_file(torch.nn.Linear(3, 4).state_dict(), str(path))
    ember_module = nn.Linear(3, 2)
    before = ember_module.weight.numpy().copy()
    with pytest.raises(StateDictError, match=r"(?s)wide\.safetensors.*weight: checkpoint \(4, 3\) vs model \(2, 3\)"):
        load_torch_state_dict(ember_module, path)
    np.testing.assert_array_equal(ember_module.weight.numpy(), before)
    with pytest.raises(TypeError, match="expected a path or a state_dict mapping"):
        load_torch_state_dict(ember_module, [1, 2])


def test_file_written_for_torch_says_pt(tmp_path):
    from safetensors import safe_open

    path = tmp_path / "pt.safetensors"
    save_torch_state_dict(nn.Linear(2, 2), path)
    with safe_open(str(path), "pt") as f:
        assert f.metadata()["format"] == "pt" and set(f.metadata()) == {"format", "ember.checksums"}
