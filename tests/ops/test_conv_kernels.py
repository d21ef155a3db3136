"""The convolution orchestration: both im2col layouts, both input-gradient algorithms, padding, memory layout.

The pooling kernels are tested in tests/kernels/test_pool.py."""
import numpy as np
import pytest

from ember.kernels import conv as K


def geometry(x_shape, w_shape, stride=1, pad=0, dilation=1, groups=1):
    d = len(x_shape) - 2
    stride, dilation = (stride,) * d, (dilation,) * d
    pads = ((pad, pad),) * d
    out = K.output_size(x_shape[2:], w_shape[2:], stride, dilation, pads)
    return K.ConvGeometry(tuple(x_shape[2:]), tuple(w_shape[2:]), stride, dilation, pads, groups, out)


def direct_conv(x, w, geom):
    """A slow reference: one tensordot per kernel offset over explicitly sliced windows."""
    n, c = x.shape[:2]
    groups = geom.groups
    padded = np.pad(x, ((0, 0), (0, 0)) + geom.pads)
    out = np.zeros((n, w.shape[0]) + geom.out_size)
    per_in, per_out = c // groups, w.shape[0] // groups
    for offset in K.kernel_offsets(geom.kernel):
        window = padded[K.window_slices(geom, offset, 2, padded.ndim)]
        for g in range(groups):
            taps = w[(slice(g * per_out, (g + 1) * per_out), slice(None)) + offset]
            out[:, g * per_out:(g + 1) * per_out] += np.einsum(
                "nc...,oc->no...", window[:, g * per_in:(g + 1) * per_in], taps)
    return out


CASES = [
    ((2, 3, 9, 8), (4, 3, 3, 3), dict(pad=1)),
    ((2, 6, 9, 8), (6, 2, 3, 2), dict(stride=2, groups=3)),
    ((1, 4, 7, 7, 6), (2, 4, 2, 3, 2), dict(dilation=2, pad=1)),
    ((3, 2, 11), (4, 1, 4), dict(stride=3, groups=2, pad=2)),
]


@pytest.mark.parametrize("layout", ["first", "last"])
@pytest.mark.parametrize("x_shape,w_shape,kw", CASES)
def test_both_im2col_layouts_compute_the_same_convolution(monkeypatch, layout, x_shape, w_shape, kw):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    geom = geometry(x_shape, w_shape, **kw)
    monkeypatch.setattr(K, "_prefer_channels_first", lambda x, g: layout == "first")
    assert K.im2col(x, geom)[0] == layout
    y = K.conv_forward(x, w, geom)
    np.testing.assert_allclose(y, direct_conv(x, w, geom), rtol=1e-10, atol=1e-10)
    g = rng.standard_normal(y.shape)
    # <g, conv(x, w)> is linear in w, so its gradient is conv(x, .) evaluated at g's adjoint.
    gw = K.conv_weight_grad(x, g, geom, w.shape)
    v = rng.standard_normal(w.shape)
    assert np.isclose((gw * v).sum(), (g * direct_conv(x, v, geom)).sum())


@pytest.mark.parametrize("x_shape,w_shape,kw", CASES)
def test_results_do_not_depend_on_the_batch_blocking(monkeypatch, x_shape, w_shape, kw):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    geom = geometry(x_shape, w_shape, **kw)
    g = rng.standard_normal((x_shape[0], w_shape[0]) + geom.out_size)
    whole = (K.conv_forward(x, w, geom), K.conv_weight_grad(x, g, geom, w.shape), K.conv_input_grad(g, w, geom))
    monkeypatch.setattr(K, "COLUMN_BLOCK_BYTES", 1)  # one image per block
    monkeypatch.setattr(K, "GRADIENT_BLOCK_BYTES", 1)
    assert len(K.batch_blocks(x_shape[0], 10, K.COLUMN_BLOCK_BYTES)) == x_shape[0]
    blocked = (K.conv_forward(x, w, geom), K.conv_weight_grad(x, g, geom, w.shape), K.conv_input_grad(g, w, geom))
    for a, b in zip(whole, blocked):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_batch_blocks_cover_the_batch_once():
    assert K.batch_blocks(10, 300, 1000) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert K.batch_blocks(4, 10 ** 9, 1000) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    assert K.batch_blocks(4, 1, 1000) == [(0, 4)]


@pytest.mark.parametrize("x_shape,w_shape,kw", CASES)
def test_input_gradient_is_the_adjoint(x_shape, w_shape, kw):
    """<g, conv(x)> == <conv_input_grad(g), x> for random x and g."""
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    geom = geometry(x_shape, w_shape, **kw)
    y = K.conv_forward(x, w, geom)
    g = rng.standard_normal(y.shape)
    assert np.isclose((g * y).sum(), (K.conv_input_grad(g, w, geom) * x).sum())


STRIDE_ONE_CASES = [
    ((2, 3, 9, 8), (4, 3, 3, 3), dict(pad=1)),
    ((2, 6, 9, 8), (6, 2, 3, 2), dict(groups=3, dilation=2)),
    ((1, 4, 7, 7, 6), (2, 4, 2, 3, 2), dict(dilation=2, pad=1)),
    ((3, 4, 11), (4, 2, 3), dict(groups=2, pad=3)),  # padding wider than the kernel: a crop
]


@pytest.mark.parametrize("x_shape,w_shape,kw", STRIDE_ONE_CASES)
def test_both_input_gradient_algorithms_agree(monkeypatch, x_shape, w_shape, kw):
    rng = np.random.default_rng(5)
    w = rng.standard_normal(w_shape)
    geom = geometry(x_shape, w_shape, **kw)
    # 'same' with an even kernel pads unevenly: (0, 1) before and after.
    uneven = geom._replace(pads=tuple((p, p + 1) for p, _ in geom.pads))
    for g_geom in (geom, uneven._replace(out_size=K.output_size(geom.in_size, geom.kernel, geom.stride,
                                                                 geom.dilation, uneven.pads))):
        g = rng.standard_normal((x_shape[0], w_shape[0]) + g_geom.out_size)
        bias = rng.standard_normal(x_shape[1])
        monkeypatch.setattr(K, "FULL_CONVOLUTION_MIN_CHANNELS", 10 ** 9)
        per_offset = K.conv_input_grad(g, w, g_geom, bias)
        monkeypatch.setattr(K, "FULL_CONVOLUTION_MIN_CHANNELS", 1)
        assert K._input_grad_prefers_convolution(w, g_geom)
        as_convolution = K.conv_input_grad(g, w, g_geom, bias)
        assert as_convolution.shape == x_shape
        np.testing.assert_allclose(as_convolution, per_offset, rtol=1e-10, atol=1e-10)


def test_input_gradient_algorithm_choice():
    w3 = np.zeros((32, 32, 3, 3))
    assert K._input_grad_prefers_convolution(w3, geometry((32, 32, 32, 32), w3.shape))
    assert not K._input_grad_prefers_convolution(w3, geometry((32, 32, 32, 32), w3.shape, stride=2))
    lenet = np.zeros((12, 6, 5, 5))
    assert not K._input_grad_prefers_convolution(lenet, geometry((64, 6, 14, 14), lenet.shape))


def test_layout_choice_follows_the_inner_copy_length():
    first = np.zeros((32, 3, 32, 32))
    assert K._prefer_channels_first(first, geometry(first.shape, (32, 3, 3, 3), pad=1))
    lenet = np.zeros((64, 1, 32, 32))
    assert K._prefer_channels_first(lenet, geometry(lenet.shape, (6, 1, 5, 5)))
    deep = np.zeros((32, 32, 32, 32))
    assert not K._prefer_channels_first(deep, geometry(deep.shape, (32, 32, 3, 3)))
    strided = np.zeros((2, 3, 32, 32))
    assert not K._prefer_channels_first(strided, geometry(strided.shape, (4, 3, 3, 3), stride=2))


def test_pad_or_crop_pads_crops_and_keeps_channels_last():
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    out = K.pad_or_crop(x, ((1, -1), (-1, 2)), 2, value=-5)
    expected = np.pad(x[:, :, :2, 1:], ((0, 0), (0, 0), (1, 0), (0, 2)), constant_values=-5)
    np.testing.assert_array_equal(out, expected)
    last = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    padded = K.pad_or_crop(np.moveaxis(last, -1, 1), ((1, 1), (1, 1)), 2)
    assert np.moveaxis(padded, 1, -1).flags.c_contiguous
    assert K.pad_or_crop(x, ((0, 0), (0, 0)), 2) is x


def test_conv_result_is_a_channels_last_view():
    x, w = np.ones((2, 3, 6, 6)), np.ones((4, 3, 3, 3))
    y = K.conv_forward(x, w, geometry(x.shape, w.shape))
    assert y.shape == (2, 4, 4, 4) and np.moveaxis(y, 1, -1).flags.c_contiguous
    np.testing.assert_allclose(y, 27.0)
