"""Depthwise convolutions (one input channel per group): per kernel offset, a broadcast
multiply-add of the shifted input, instead of one GEMM per group with a single column.

Called by :mod:`ember.kernels.conv` when ``groups == channels``; NumPy (or CuPy)
array code, channels-last like the rest of the convolution kernels.

Example::

    >>> import numpy as np
    >>> from ember.ops.conv import make_geometry
    >>> from ember.kernels.depthwise import depthwise_forward
    >>> geom = make_geometry("conv2d", (4, 4), (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0)), 2)
    >>> depthwise_forward(np.ones((1, 2, 4, 4)), np.ones((2, 1, 3, 3)), geom, None)[0, :, 0, 0].tolist()
    [9.0, 9.0]
"""
from __future__ import annotations

from ..backend import array_module
from .geometry import ConvGeometry, kernel_offsets, padded_size, window_slices
from .geometry import prod as _prod
from .im2col import accumulate_windows
from .layout import channels_first_view, channels_last, crop_padding, pad_or_crop


def is_depthwise(channels: int, geom: ConvGeometry) -> bool:
    """One input channel per group: a GEMM per group would have a single column."""
    return geom.groups > 1 and geom.groups == channels


def _depthwise_taps(w, geom: ConvGeometry):
    """``(O, 1, *K)`` as ``(K, C, multiplier)``."""
    return array_module(w).ascontiguousarray(w.reshape(geom.groups, w.shape[0] // geom.groups, -1).transpose(2, 0, 1))


def depthwise_forward(x, w, geom: ConvGeometry, bias):
    # Per kernel offset, a broadcast multiply-add of the shifted input: elementwise
    # work on the output's size instead of one tiny GEMM per channel.
    xp = array_module(x)
    padded = pad_or_crop(channels_last(x), geom.pads, 1)
    taps = _depthwise_taps(w, geom)
    y = xp.zeros((x.shape[0],) + geom.out_size + taps.shape[1:], dtype=xp.result_type(x, w))
    for t, offset in enumerate(kernel_offsets(geom.kernel)):
        y += padded[window_slices(geom, offset, 1, padded.ndim)][..., None] * taps[t]
    y = y.reshape(y.shape[:-2] + (w.shape[0],))
    if bias is not None:
        y += bias
    return channels_first_view(y)


def depthwise_weight_grad(x, g, geom: ConvGeometry, weight_shape):
    xp = array_module(g)
    padded = pad_or_crop(channels_last(x), geom.pads, 1)
    groups = geom.groups
    g5 = channels_last(g).reshape(g.shape[:1] + geom.out_size + (groups, -1))
    rows = _prod(g5.shape[:-2])
    ones = xp.ones(rows, dtype=g5.dtype)
    taps = []
    for offset in kernel_offsets(geom.kernel):
        product = padded[window_slices(geom, offset, 1, padded.ndim)][..., None] * g5
        taps.append(ones @ product.reshape(rows, -1))  # a GEMV: summing rows of channels-last data
    gw = xp.stack(taps, axis=-1)  # (C * multiplier, K)
    return gw.reshape(weight_shape)


def depthwise_input_grad(g, w, geom: ConvGeometry, bias):
    xp = array_module(g)
    groups = geom.groups
    g5 = channels_last(g).reshape(g.shape[:1] + geom.out_size + (groups, -1))
    taps = _depthwise_taps(w, geom)
    gx = xp.zeros((g.shape[0],) + padded_size(geom) + (groups,), dtype=xp.result_type(g, w))
    if taps.shape[-1] == 1:
        accumulate_windows(gx, geom, 1, lambda t, offset: g5[..., 0] * taps[t, :, 0])
    else:
        accumulate_windows(gx, geom, 1, lambda t, offset: (g5 * taps[t]).sum(axis=-1))
    gx = crop_padding(gx, geom, 1)
    if bias is not None:
        gx += bias
    return channels_first_view(gx)


__all__ = ["is_depthwise", "depthwise_forward", "depthwise_weight_grad", "depthwise_input_grad"]
