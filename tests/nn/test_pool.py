"""Pooling layers and functions: PyTorch parity, gradients, adaptive bins, unpooling, LSE pooling, errors."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.autograd import gradcheck, gradgradcheck
from tests.nn.oracle import LayerCase, check_against_torch, check_gradients


def distinct(*shape):
    """Inputs without ties, so finite differences never straddle a switch of the maximum."""
    return lambda rng: rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0


def positive(*shape):
    return lambda rng: np.abs(rng.standard_normal(shape)) + 0.5


CASES = [
    LayerCase("MaxPool1d", lambda: nn.MaxPool1d(3, 2, padding=1, ceil_mode=True),
              lambda torch: torch.nn.MaxPool1d(3, 2, padding=1, ceil_mode=True), distinct(2, 3, 8)),
    LayerCase("MaxPool2d", lambda: nn.MaxPool2d(2), lambda torch: torch.nn.MaxPool2d(2), distinct(2, 3, 6, 7)),
    LayerCase("MaxPool3d", lambda: nn.MaxPool3d(2, stride=1, dilation=(1, 2, 1)),
              lambda torch: torch.nn.MaxPool3d(2, stride=1, dilation=(1, 2, 1)), distinct(1, 2, 3, 5, 3)),
    LayerCase("AvgPool1d", lambda: nn.AvgPool1d(3, 2, padding=1, count_include_pad=False),
              lambda torch: torch.nn.AvgPool1d(3, 2, padding=1, count_include_pad=False), distinct(2, 3, 8)),
    LayerCase("AvgPool2d", lambda: nn.AvgPool2d(3, 2, padding=1, ceil_mode=True),
              lambda torch: torch.nn.AvgPool2d(3, 2, padding=1, ceil_mode=True), distinct(1, 2, 6, 7),
              second_order=True),
    LayerCase("AvgPool3d", lambda: nn.AvgPool3d(2, divisor_override=3),
              lambda torch: torch.nn.AvgPool3d(2, divisor_override=3), distinct(1, 2, 4, 4, 4)),
    LayerCase("LPPool1d", lambda: nn.LPPool1d(2, 3, 2), lambda torch: torch.nn.LPPool1d(2, 3, 2), positive(2, 3, 7)),
    LayerCase("LPPool2d", lambda: nn.LPPool2d(3.0, 2, ceil_mode=True),
              lambda torch: torch.nn.LPPool2d(3.0, 2, ceil_mode=True), positive(1, 2, 5, 5), second_order=True),
    LayerCase("AdaptiveAvgPool1d", lambda: nn.AdaptiveAvgPool1d(3), lambda torch: torch.nn.AdaptiveAvgPool1d(3),
              distinct(2, 3, 7)),
    LayerCase("AdaptiveAvgPool2d-uneven", lambda: nn.AdaptiveAvgPool2d((3, None)),
              lambda torch: torch.nn.AdaptiveAvgPool2d((3, None)), distinct(1, 2, 5, 4), second_order=True),
    LayerCase("AdaptiveAvgPool2d-even", lambda: nn.AdaptiveAvgPool2d(2), lambda torch: torch.nn.AdaptiveAvgPool2d(2),
              distinct(1, 2, 6, 4)),
    LayerCase("AdaptiveAvgPool3d", lambda: nn.AdaptiveAvgPool3d((2, 3, 1)),
              lambda torch: torch.nn.AdaptiveAvgPool3d((2, 3, 1)), distinct(1, 2, 3, 5, 4)),
    LayerCase("AdaptiveMaxPool1d", lambda: nn.AdaptiveMaxPool1d(4), lambda torch: torch.nn.AdaptiveMaxPool1d(4),
              distinct(2, 3, 7)),
    LayerCase("AdaptiveMaxPool2d-uneven", lambda: nn.AdaptiveMaxPool2d((3, 2)),
              lambda torch: torch.nn.AdaptiveMaxPool2d((3, 2)), distinct(1, 2, 5, 7), second_order=True),
    LayerCase("AdaptiveMaxPool3d", lambda: nn.AdaptiveMaxPool3d(2), lambda torch: torch.nn.AdaptiveMaxPool3d(2),
              distinct(1, 2, 3, 5, 4)),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_torch(case):
    torch = pytest.importorskip("torch")
    check_against_torch(torch, case, dtype="float64")


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradients(case):
    check_gradients(case)


@pytest.mark.parametrize("d,shape,out", [(1, (2, 3, 11), 4), (2, (2, 3, 7, 10), (3, 4)), (3, (1, 2, 5, 6, 7), (2, 4, 3))])
def test_adaptive_max_indices_match_torch(d, shape, out):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(d).integers(0, 4, shape).astype(float)  # many ties: first maximum wins
    y, i = getattr(F, f"adaptive_max_pool{d}d")(ember.tensor(x), out, return_indices=True)
    yt, it = getattr(torch.nn.functional, f"adaptive_max_pool{d}d")(torch.tensor(x), out, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), yt.numpy())
    np.testing.assert_array_equal(i.numpy(), it.numpy())


@pytest.mark.parametrize("kind", ["avg", "max"])
def test_adaptive_pools_with_many_taps_per_bin_match_torch(kind):
    """Equal bins of more than 16 taps take a reshape/gather path instead of the offset loop."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).integers(0, 5, (2, 3, 12, 10)).astype(float)  # ties everywhere
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = getattr(F, f"adaptive_{kind}_pool2d")(xe, (2, 1))
    yt = getattr(torch.nn.functional, f"adaptive_{kind}_pool2d")(xt, (2, 1))
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(ember.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_unpool_inverts_max_pool_like_torch(d):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(d).standard_normal((2, 2) + (7,) * d)
    # Overlapping windows: one input can win twice; the value lands once (assignment, not a sum).
    y, i = getattr(F, f"max_pool{d}d")(ember.tensor(x), 3, stride=2, return_indices=True)
    yt, it = getattr(torch.nn.functional, f"max_pool{d}d")(torch.tensor(x), 3, stride=2, return_indices=True)
    unpool = getattr(nn, f"MaxUnpool{d}d")(3, stride=2)
    out = unpool(y, i, output_size=x.shape)
    expected = getattr(torch.nn.functional, f"max_unpool{d}d")(yt, it, 3, stride=2, output_size=x.shape[2:])
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_max_unpool_gradient():
    x = ember.tensor(np.random.default_rng(0).permutation(32).reshape(1, 2, 4, 4) * 1.0)
    _, i = F.max_pool2d(x, 2, return_indices=True)
    values = ember.tensor(np.random.default_rng(1).standard_normal((1, 2, 2, 2)), requires_grad=True)
    assert gradcheck(lambda v: F.max_unpool2d(v, i, 2), (values,))


def lse_reference(x, k, beta):
    n, c, h, w = x.shape
    windows = x[:, :, :h // k * k, :w // k * k].reshape(n, c, h // k, k, w // k, k)
    return np.log(np.exp(beta * windows).mean(axis=(3, 5))) / beta


@pytest.mark.parametrize("beta", [0.5, 4.0])
def test_lse_pool_matches_its_definition(beta):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7))
    np.testing.assert_allclose(nn.LSEPool2d(2, beta=beta)(ember.tensor(x)).numpy(), lse_reference(x, 2, beta),
                               rtol=1e-12)


def test_lse_pool_interpolates_between_average_and_max_without_overflow():
    x = ember.tensor(np.random.default_rng(0).standard_normal((1, 1, 4, 4)) * 1000)
    sharp = F.lse_pool2d(x, 2, beta=100.0).numpy()
    np.testing.assert_allclose(sharp, F.max_pool2d(x, 2).numpy(), atol=0.02)
    smooth = F.lse_pool2d(x / 1000, 2, beta=1e-6).numpy()
    np.testing.assert_allclose(smooth, F.avg_pool2d(x / 1000, 2).numpy(), atol=1e-5)


def test_lse_pool_gradients():
    x = ember.tensor(np.random.default_rng(0).standard_normal((1, 2, 4, 5)), requires_grad=True)
    assert gradcheck(lambda x: F.lse_pool2d(x, 2, stride=1, beta=2.0), (x,))
    assert gradgradcheck(lambda x: F.lse_pool1d(x[0], 2, beta=2.0), (x,))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_global_pools_match_adaptive_pools(d):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3) + (4,) * d)
    avg = getattr(nn, f"GlobalAvgPool{d}d")()(ember.tensor(x))
    mx = getattr(nn, f"GlobalMaxPool{d}d")(keepdim=True)(ember.tensor(x))
    ta = getattr(torch.nn.functional, f"adaptive_avg_pool{d}d")(torch.tensor(x), 1)
    tm = getattr(torch.nn.functional, f"adaptive_max_pool{d}d")(torch.tensor(x), 1)
    assert avg.shape == (2, 3) and mx.shape == (2, 3) + (1,) * d
    np.testing.assert_allclose(avg.numpy(), ta.numpy().reshape(2, 3), rtol=1e-12)
    np.testing.assert_array_equal(mx.numpy(), tm.numpy())


def test_layers_have_no_parameters_and_readable_reprs():
    layer = nn.MaxPool2d(3, stride=2, padding=1)
    assert list(layer.parameters()) == [] and layer.state_dict() == {}
    assert repr(layer) == ("MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False, "
                           "return_indices=False)")


def test_return_indices_from_the_layer():
    _, i = nn.MaxPool2d(2, return_indices=True)(ember.arange(16.0).reshape(1, 1, 4, 4))
    assert i.tolist() == [[[[5, 7], [13, 15]]]]


@pytest.mark.parametrize("call,message", [
    (lambda: nn.MaxPool2d(2)(ember.zeros(4)), r"^MaxPool2d: expected a 4-D input \(N, C, H, W\) or a 3-D unbatched one, got shape \(4,\)"),
    (lambda: nn.AvgPool1d(5)(ember.zeros(1, 2, 3)), r"^AvgPool1d: kernel size \(5,\).*larger than the padded input"),
    (lambda: nn.MaxPool2d(2, stride=0)(ember.zeros(1, 1, 4, 4)), r"^MaxPool2d: stride must be positive"),
    (lambda: nn.LPPool2d(0, 2)(ember.ones(1, 1, 4, 4)), r"^LPPool2d: norm_type must be positive"),
    (lambda: nn.LSEPool2d(2, beta=-1.0)(ember.ones(1, 1, 4, 4)), r"^LSEPool2d: beta must be positive"),
    (lambda: nn.AdaptiveAvgPool2d((2, 0))(ember.ones(1, 1, 4, 4)), r"^AdaptiveAvgPool2d: output_size must hold positive ints"),
    (lambda: nn.AdaptiveMaxPool3d(2)(ember.ones(1, 4, 4)), r"^AdaptiveMaxPool3d: expected a 5-D input"),
    (lambda: nn.GlobalAvgPool2d()(ember.ones(1, 2, 4)), r"^GlobalAvgPool2d: expected a 4-D input"),
    (lambda: nn.MaxUnpool2d(2)(ember.ones(1, 1, 2, 2), ember.zeros(1, 1, 2, 2, dtype="int64") + 16),
     r"^MaxUnpool2d: indices must lie in \[0, 16\) for output size \(4, 4\)"),
    (lambda: nn.MaxUnpool2d(2)(ember.ones(1, 1, 2, 2), ember.zeros(1, 1, 2, 1, dtype="int64")),
     r"^MaxUnpool2d: indices shape \(1, 1, 2, 1\) must equal the input shape \(1, 1, 2, 2\)"),
])
def test_bad_input_names_the_layer_and_shapes(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def _values_plus_indices(x):
    values, indices = F.max_pool2d(x, 3, stride=2, return_indices=True)  # overlapping windows
    return values + indices.astype("float64")


@pytest.mark.parametrize("pool", [
    _values_plus_indices,
    lambda x: F.adaptive_max_pool2d(x, (3, 2)),
    lambda x: F.max_unpool2d(*F.max_pool2d(x, 2, return_indices=True), 2),
])
def test_compiled_pooling_recomputes_the_winners_for_every_batch(pool):
    """ember.compile replays kernels: the argmax search must be one, not a frozen constant."""
    scale = ember.tensor(np.linspace(0.5, 1.5, 8), requires_grad=True)  # a parameter

    def step(x):
        scale.grad = None
        y = pool(x * scale)
        (y * y).sum().backward()
        return y

    run = ember.compile(step)
    for seed in range(3):
        x = ember.tensor(np.random.default_rng(seed).standard_normal((2, 3, 7, 8)))
        expected, expected_grad = step(x).numpy(), scale.grad.numpy().copy()
        np.testing.assert_array_equal(run(x).numpy(), expected)
        np.testing.assert_array_equal(scale.grad.numpy(), expected_grad)
