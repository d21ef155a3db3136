"""The static description of a convolution or pooling window, shared by every window kernel.

Example::

    >>> from ember.kernels.geometry import output_size, kernel_offsets
    >>> output_size((5, 5), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)))
    (5, 5)
    >>> kernel_offsets((1, 2))
    [(0, 0), (0, 1)]
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class ConvGeometry(NamedTuple):
    """Static facts about one convolution; hashable, so it can be an op parameter.

    ``pads`` holds a ``(before, after)`` pair per spatial dimension. ``in_size`` is
    the unpadded input's spatial size and ``out_size`` the output's.
    """

    in_size: tuple
    kernel: tuple
    stride: tuple
    dilation: tuple
    pads: tuple
    groups: int
    out_size: tuple


def output_size(in_size, kernel, stride, dilation, pads) -> tuple:
    """Spatial output size of a convolution (may contain values below 1 for bad input)."""
    return tuple((n + b + a - d * (k - 1) - 1) // s + 1
                 for n, k, s, d, (b, a) in zip(in_size, kernel, stride, dilation, pads))


def prod(values) -> int:
    """The product of some ints (1 for none)."""
    out = 1
    for v in values:
        out *= v
    return out


def kernel_offsets(kernel) -> list:
    """Every kernel offset as a tuple, in row-major (C) order."""
    offsets = [()]
    for k in kernel:
        offsets = [o + (i,) for o in offsets for i in range(k)]
    return offsets


def padded_size(geom: ConvGeometry) -> tuple:
    """The spatial size of the padded input."""
    return tuple(n + b + a for n, (b, a) in zip(geom.in_size, geom.pads))


def window_slices(geom: ConvGeometry, offset, first_axis: int, ndim: int) -> tuple:
    """The index that picks, for kernel ``offset``, the input element of every output.

    Applied to the padded input it gives an array of the output's spatial size.
    """
    index = [slice(None)] * ndim
    for i, (k, s, d, n) in enumerate(zip(offset, geom.stride, geom.dilation, geom.out_size)):
        start = k * d
        index[first_axis + i] = slice(start, start + s * (n - 1) + 1, s)
    return tuple(index)


#: The numba kernels are written for three spatial dimensions; 1-D and 2-D problems get leading unit ones.
SPATIAL_DIMS = 3


def geometry_table(geom: ConvGeometry):
    """``int64 (4, 3)``: kernel, stride, dilation and before-padding, padded to three dimensions.

    The numba kernels read their geometry from this table; a missing leading
    dimension has kernel, stride and dilation 1 and no padding.
    """
    missing = SPATIAL_DIMS - len(geom.kernel)
    if missing < 0:
        raise ValueError(f"ember.kernels: at most {SPATIAL_DIMS} spatial dimensions, got kernel {geom.kernel}")
    ones = (1,) * missing
    return np.array([ones + tuple(geom.kernel), ones + tuple(geom.stride), ones + tuple(geom.dilation),
                     (0,) * missing + tuple(b for b, _ in geom.pads)], dtype=np.int64)


def spatial3(a, first_axis: int):
    """A view of ``a`` (two non-spatial axes) with unit spatial axes inserted at ``first_axis``.

    ``(N, C, *S)`` with ``first_axis=2`` or ``(N, *S, C)`` with ``first_axis=1``
    becomes five-dimensional, the shape the numba kernels take.
    """
    missing = SPATIAL_DIMS - (a.ndim - 2)
    return a[(slice(None),) * first_axis + (None,) * missing]
