"""Resizing, pixel shuffling and local normalisations: PyTorch parity, a NumPy reference, gradients, errors."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.autograd import gradcheck, gradgradcheck
from tests.nn.oracle import LayerCase, check_against_torch, check_gradients, normal


def t(array, requires_grad=False):
    return ember.tensor(np.asarray(array), requires_grad=requires_grad)


@pytest.mark.parametrize("shape,kwargs", [
    ((1, 2, 5), dict(scale_factor=2, mode="nearest")),
    ((1, 2, 5, 4), dict(size=(7, 3), mode="nearest")),
    ((1, 2, 5, 4), dict(scale_factor=1.7, mode="nearest")),
    ((1, 2, 3, 4, 2), dict(scale_factor=(2, 1, 3), mode="nearest")),
    ((1, 2, 5), dict(size=9, mode="linear")),
    ((1, 2, 5, 4), dict(scale_factor=2, mode="bilinear")),
    ((1, 2, 5, 4), dict(size=(3, 7), mode="bilinear", align_corners=True)),
    ((1, 2, 5, 4), dict(scale_factor=0.6, mode="bilinear")),
    ((1, 2, 3, 4, 2), dict(size=(5, 2, 3), mode="trilinear", align_corners=False)),
    ((1, 1, 4, 4), dict(size=1, mode="bilinear", align_corners=True)),
])
def test_interpolate_matches_torch(shape, kwargs):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape)
    xe, xt = t(x, True), torch.tensor(x, requires_grad=True)
    y = F.interpolate(xe, **kwargs)
    yt = torch.nn.functional.interpolate(xt, **kwargs)
    np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(t(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_interpolate_gradients(mode):
    x = t(np.random.default_rng(0).standard_normal((1, 2, 3, 3)), True)
    assert gradcheck(lambda x: F.interpolate(x, size=(5, 4), mode=mode), (x,))
    assert gradgradcheck(lambda x: F.upsample(x, scale_factor=2, mode=mode), (x,))


@pytest.mark.parametrize("r", [1, 2, 3])
def test_pixel_shuffle_and_unshuffle_match_torch_and_invert_each_other(r):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(r).standard_normal((2, 3, 2 * r * r, 4, 5))  # extra leading dimension
    y = F.pixel_shuffle(t(x), r)
    np.testing.assert_array_equal(y.numpy(), torch.nn.functional.pixel_shuffle(torch.tensor(x), r).numpy())
    np.testing.assert_array_equal(F.pixel_unshuffle(y, r).numpy(), x)


@pytest.mark.parametrize("shape", [(2, 7, 5), (2, 7, 4, 3), (1, 6, 2, 3, 2)])
def test_local_response_norm_matches_torch(shape):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape)
    for size in (1, 2, 3, 5):
        kwargs = dict(size=size, alpha=0.1, beta=0.7, k=1.5)
        xe, xt = t(x, True), torch.tensor(x, requires_grad=True)
        y = F.local_response_norm(xe, **kwargs)
        yt = torch.nn.functional.local_response_norm(xt, **kwargs)
        np.testing.assert_allclose(y.numpy(), yt.detach().numpy(), rtol=1e-12)
        y.sum().backward()
        yt.sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-10)


def lcn_reference(x, kernel, sigma, eps):
    """Straight from the definition, with explicit loops over windows (tiny inputs only)."""
    n, c, h, w = x.shape
    r = kernel // 2
    taps = np.exp(-0.5 * ((np.arange(kernel) - r) / sigma) ** 2)
    window = np.outer(taps, taps)
    window /= window.sum() * c

    def local_mean(v):
        out = np.zeros((n, 1, h, w))
        for i in range(h):
            for j in range(w):
                total = weight = 0.0
                for p in range(kernel):
                    for q in range(kernel):
                        a, b = i + p - r, j + q - r
                        if 0 <= a < h and 0 <= b < w:
                            total = total + v[:, :, a, b].sum(axis=1) * window[p, q]
                            weight += window[p, q] * c
                out[:, 0, i, j] = total / weight
        return out

    centred = x - local_mean(x)
    std = np.sqrt(np.maximum(local_mean(centred ** 2), eps ** 2))
    return centred / np.maximum(std, std.mean(axis=(2, 3), keepdims=True))


def test_local_contrast_norm_matches_its_definition():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7)) * 3 + 1
    y = F.local_contrast_norm(t(x), kernel_size=5, sigma=1.2, eps=1e-3)
    np.testing.assert_allclose(y.numpy(), lcn_reference(x, 5, 1.2, 1e-3), rtol=1e-10, atol=1e-12)


def test_local_contrast_norm_removes_brightness_and_contrast():
    x = np.random.default_rng(0).standard_normal((1, 2, 8, 8))
    base = F.local_contrast_norm(t(x), 5).numpy()
    shifted = F.local_contrast_norm(t(x * 10 + 3), 5).numpy()
    np.testing.assert_allclose(base, shifted, rtol=1e-8, atol=1e-8)


def test_local_contrast_norm_gradients_including_a_flat_image():
    x = t(np.random.default_rng(0).standard_normal((1, 2, 5, 5)), True)
    assert gradcheck(lambda x: F.local_contrast_norm(x, 3), (x,))
    flat = t(np.ones((1, 1, 4, 4)), True)
    F.local_contrast_norm(flat, 3).sum().backward()
    assert np.isfinite(flat.grad.numpy()).all()


LAYERS = [
    LayerCase("Upsample-bilinear", lambda: nn.Upsample(scale_factor=2, mode="bilinear"),
              lambda torch: torch.nn.Upsample(scale_factor=2, mode="bilinear"), normal(1, 2, 3, 4)),
    LayerCase("UpsamplingNearest2d", lambda: nn.UpsamplingNearest2d(size=(5, 6)),
              lambda torch: torch.nn.UpsamplingNearest2d(size=(5, 6)), normal(1, 2, 3, 4)),
    LayerCase("UpsamplingBilinear2d", lambda: nn.UpsamplingBilinear2d(scale_factor=2),
              lambda torch: torch.nn.UpsamplingBilinear2d(scale_factor=2), normal(1, 2, 3, 4)),
    LayerCase("PixelShuffle", lambda: nn.PixelShuffle(2), lambda torch: torch.nn.PixelShuffle(2),
              normal(1, 8, 2, 3)),
    LayerCase("PixelUnshuffle", lambda: nn.PixelUnshuffle(2), lambda torch: torch.nn.PixelUnshuffle(2),
              normal(1, 2, 4, 6)),
    LayerCase("LocalResponseNorm", lambda: nn.LocalResponseNorm(3, alpha=0.5), lambda torch:
              torch.nn.LocalResponseNorm(3, alpha=0.5), normal(2, 5, 3, 3), second_order=True),
]


@pytest.mark.parametrize("case", LAYERS, ids=repr)
def test_layers_match_torch(case):
    torch = pytest.importorskip("torch")
    check_against_torch(torch, case, dtype="float64")


@pytest.mark.parametrize("case", LAYERS, ids=repr)
def test_layer_gradients(case):
    check_gradients(case)


def test_local_contrast_norm_layer():
    layer = nn.LocalContrastNorm(5, sigma=1.2, eps=1e-3)
    x = np.random.default_rng(0).standard_normal((1, 2, 6, 6))
    np.testing.assert_allclose(layer(t(x)).numpy(), lcn_reference(x, 5, 1.2, 1e-3), rtol=1e-10, atol=1e-12)
    assert list(layer.parameters()) == []


@pytest.mark.parametrize("call,message", [
    (lambda: F.interpolate(ember.ones(1, 1, 4, 4), mode="bilinear"), r"give exactly one of size and scale_factor"),
    (lambda: F.interpolate(ember.ones(1, 1, 4), size=3, mode="bilinear"), r"got 3D input, but bilinear mode needs 4D input \(shape \(1, 1, 4\)\)"),
    (lambda: F.interpolate(ember.ones(1, 1, 4), size=3, mode="cubic"), r"mode must be"),
    (lambda: F.interpolate(ember.ones(1, 1, 4), size=3, align_corners=True), r"align_corners option can only be set with the interpolating modes"),
    (lambda: F.interpolate(ember.ones(4, 4), size=3), r"expected a 3-D, 4-D or 5-D \(N, C, \*spatial\) input, got shape \(4, 4\)"),
    (lambda: F.pixel_shuffle(ember.ones(1, 6, 2, 2), 2), r"6 channels \(input shape \(1, 6, 2, 2\)\) are not divisible by upscale_factor\*\*2 = 4"),
    (lambda: F.pixel_unshuffle(ember.ones(1, 1, 3, 4), 2), r"spatial size \(3, 4\).*not divisible"),
    (lambda: F.local_response_norm(ember.ones(2, 3), 2), r"at least 3 dimensions, got shape \(2, 3\)"),
    (lambda: F.local_contrast_norm(ember.ones(1, 1, 5, 5), 4), r"kernel_size must be odd"),
    (lambda: nn.Upsample(), r"Upsample: give exactly one of size and scale_factor"),
])
def test_bad_input_raises_with_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()
