"""MaxoutLinear / MaxoutConv2d against torch (values and gradients)."""
import numpy as np
import pytest
import torch

import ember
from ember.errors import ArgumentError
from ember.nn.layers.maxout import MaxoutConv2d, MaxoutLinear


def _grads(layer, x):
    x = ember.tensor(x, requires_grad=True)
    out = layer(x)
    weights = ember.tensor(np.random.default_rng(1).standard_normal(out.shape).astype(np.float32))
    (out * weights).sum().backward()
    return out.numpy(), x.grad.numpy(), weights.numpy()


def test_maxout_linear_matches_torch_values_and_gradients():
    ember.manual_seed(0)
    layer = MaxoutLinear(6, 4, pieces=3)
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    out, dx, upstream = _grads(layer, x)
    w = torch.tensor(layer.linear.weight.numpy(), requires_grad=True)
    b = torch.tensor(layer.linear.bias.numpy(), requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.linear(tx, w, b).reshape(5, 4, 3).max(dim=2).values
    (ref * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.linear.weight.grad.numpy(), w.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.linear.bias.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_maxout_conv2d_matches_torch_values_and_gradients():
    ember.manual_seed(0)
    layer = MaxoutConv2d(2, 3, pieces=2, kernel_size=3, padding=1)
    x = np.random.default_rng(0).standard_normal((2, 2, 5, 5)).astype(np.float32)
    out, dx, upstream = _grads(layer, x)
    w = torch.tensor(layer.conv.weight.numpy(), requires_grad=True)
    b = torch.tensor(layer.conv.bias.numpy(), requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.conv2d(tx, w, b, padding=1).reshape(2, 3, 2, 5, 5).max(dim=2).values
    (ref * torch.tensor(upstream)).sum().backward()
    assert out.shape == (2, 3, 5, 5)
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.conv.weight.grad.numpy(), w.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_maxout_linear_gradcheck_float64():
    layer = MaxoutLinear(3, 2, pieces=2).double()
    x = ember.tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: layer(t), (x,))


@pytest.mark.parametrize("cls,args", [(MaxoutLinear, (3, 2)), (MaxoutConv2d, (3, 2))])
def test_bad_pieces_named(cls, args):
    kwargs = {"kernel_size": 3} if cls is MaxoutConv2d else {}
    with pytest.raises(ArgumentError, match=f"{cls.__name__}: pieces must be a positive integer, got 0"):
        cls(*args, pieces=0, **kwargs)
