"""Memory-layout helpers: channels-last views, padding and cropping (NumPy; CuPy alike).

Example::

    >>> import numpy as np
    >>> from ember.kernels.layout import pad_or_crop
    >>> pad_or_crop(np.ones((1, 1, 2)), ((1, 0),), 2).tolist()
    [[[0.0, 1.0, 1.0]]]
"""
from __future__ import annotations

from ..backend import array_module
from .geometry import ConvGeometry


def channels_last(x):
    """``(N, C, *S)`` -> contiguous ``(N, *S, C)`` (free when ``x`` already is channels-last)."""
    xp = array_module(x)
    return xp.ascontiguousarray(xp.moveaxis(x, 1, -1))


def channels_first_view(y):
    """``(N, *S, C)`` -> a ``(N, C, *S)`` view of the same memory."""
    return array_module(y).moveaxis(y, -1, 1)


def pad_or_crop(x, pads, first_axis: int, value=0):
    """Pad (positive) or crop (negative) the axes from ``first_axis`` on with ``value``.

    Faster than ``numpy.pad``: the interior is copied once and only the borders
    are filled. Returns ``x`` itself when every amount is zero.
    """
    if all(b == 0 and a == 0 for b, a in pads):
        return x
    xp = array_module(x)
    crop = [slice(None)] * x.ndim
    for i, (b, a) in enumerate(pads):
        n = x.shape[first_axis + i]
        crop[first_axis + i] = slice(max(-b, 0), n - max(-a, 0))
    x = x[tuple(crop)]
    pads = [(max(b, 0), max(a, 0)) for b, a in pads]
    if all(b == 0 and a == 0 for b, a in pads):
        return x
    shape = list(x.shape)
    for i, (b, a) in enumerate(pads):
        shape[first_axis + i] += b + a
    # empty_like keeps the source's axis order in memory: channels-last stays so.
    out = xp.empty_like(x, shape=tuple(shape))
    inner = [slice(None)] * x.ndim
    for i, (b, a) in enumerate(pads):
        inner[first_axis + i] = slice(b, b + x.shape[first_axis + i])
    out[tuple(inner)] = x
    for i, (b, a) in enumerate(pads):
        axis = first_axis + i
        edge = [slice(None)] * x.ndim
        if b:
            edge[axis] = slice(0, b)
            out[tuple(edge)] = value
        if a:
            edge[axis] = slice(shape[axis] - a, shape[axis])
            out[tuple(edge)] = value
    return out


def crop_padding(x, geom: ConvGeometry, first_axis: int):
    """The unpadded part of a padded array (a view)."""
    index = [slice(None)] * x.ndim
    for i, (n, (b, _)) in enumerate(zip(geom.in_size, geom.pads)):
        index[first_axis + i] = slice(b, b + n)
    return x[tuple(index)]


def like(a, layout):
    """``a`` in ``layout``'s memory order: mixed orders make every elementwise op slow."""
    if a.strides == tuple(s * a.itemsize // layout.itemsize for s in layout.strides):
        return a
    out = array_module(a).empty_like(layout, dtype=a.dtype)
    out[...] = a
    return out
