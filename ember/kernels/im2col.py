"""im2col and col2im: the window copies behind convolution, ``unfold`` and ``fold``.

Each kernel has a NumPy reference (one strided view copied once, or one strided
slice-add per kernel offset) and a numba version (a ``prange`` loop over the
batch and its rows or channels, padding handled by bounds checks instead of a
padded copy). Both copy or add the same numbers in the same order, so their
results are bit-identical. The numba loops are written for three spatial
dimensions; 1-D and 2-D inputs get leading unit dimensions (free views).

* :func:`columns_last`: channels-last columns ``(M, G, taps)`` of
  ``(N, *S, C)`` data, taps ordered ``(*kernel, Cg)``;
* :func:`columns_first`: channels-first columns ``(G, taps, M)``, taps ordered
  ``(Cg, *kernel)``;
* :func:`unfold` / :func:`fold`: PyTorch's im2col ``(N, C, *kernel, *out)`` and
  its adjoint;
* :func:`accumulate_windows`: ``out[window(offset)] += piece(offset)`` over every
  kernel offset, the col2im of the convolution's input gradient.

Example::

    >>> import numpy as np
    >>> from ember.kernels.geometry import ConvGeometry
    >>> from ember.kernels.im2col import unfold
    >>> geom = ConvGeometry((3,), (2,), (1,), (1,), ((0, 0),), 1, (2,))
    >>> unfold(np.arange(3.0).reshape(1, 1, 3), geom).tolist()
    [[[[0.0, 1.0], [1.0, 2.0]]]]
"""
from __future__ import annotations

from ..backend import array_module
from . import engine
from .geometry import ConvGeometry, geometry_table, kernel_offsets, padded_size, prod, spatial3, window_slices
from .jit import numba_kernel, prange
from .layout import crop_padding, pad_or_crop


#: The kernels whose numba version runs when numba is on; the others run their NumPy reference in
#: both engines, because it measured faster (2 threads, W2/W3 shapes, docs/kernels.md): NumPy's
#: strided copies and slice-adds move long contiguous runs at memory speed, and these loops, with
#: numba's index checks, took 1.0-3.5x as long on one thread (columns_last: as fast, slower on
#: two threads). fold, a scatter NumPy does as one slice-add per offset, is 3x faster in numba on
#: two threads. The tests run every numba version against its reference regardless.
NUMBA_KERNELS = frozenset({"fold"})


def _numba(kernel: str, *arrays) -> bool:
    return kernel in NUMBA_KERNELS and engine.numba_runs(*arrays)


# ------------------------------------------------------------------ numba loop nests (three spatial dims)
@numba_kernel
def _windows_channels_first(x, out, value, geo):
    """``out[c, a, b, e, n, i, j, l] = x[n, c, window]`` (``value`` outside); x ``(N, C, D, H, W)``.

    ``out`` is indexed in the memory order of :func:`columns_first`'s columns, so its
    inner loop over an output row is contiguous; the row's in-bounds range is computed
    once instead of testing every element.
    """
    channels, kd, kh, kw, n_images = out.shape[0], out.shape[1], out.shape[2], out.shape[3], out.shape[4]
    od, oh, ow = out.shape[5], out.shape[6], out.shape[7]
    depth, height, width = x.shape[2], x.shape[3], x.shape[4]
    sw = geo[1, 2]
    for plane in prange(n_images * channels):
        n = plane // channels
        c = plane % channels
        for a in range(kd):
            for b in range(kh):
                for e in range(kw):
                    shift = e * geo[2, 2] - geo[3, 2]  # w = l * sw + shift
                    lo = 0 if shift >= 0 else min(ow, (-shift + sw - 1) // sw)
                    hi = 0 if width - 1 - shift < 0 else min(ow, (width - 1 - shift) // sw + 1)
                    hi = max(hi, lo)
                    for i in range(od):
                        z = i * geo[1, 0] - geo[3, 0] + a * geo[2, 0]
                        for j in range(oh):
                            y = j * geo[1, 1] - geo[3, 1] + b * geo[2, 1]
                            if 0 <= z < depth and 0 <= y < height:
                                for l in range(lo):
                                    out[c, a, b, e, n, i, j, l] = value
                                for l in range(lo, hi):
                                    out[c, a, b, e, n, i, j, l] = x[n, c, z, y, l * sw + shift]
                                for l in range(hi, ow):
                                    out[c, a, b, e, n, i, j, l] = value
                            else:
                                for l in range(ow):
                                    out[c, a, b, e, n, i, j, l] = value


@numba_kernel
def _windows_channels_last(x, out, geo):
    """``out[n, i, j, l, g, a, b, e, ci] = x[n, window, g * Cg + ci]`` (zero outside); x ``(N, D, H, W, C)``."""
    n_images, od, oh, ow = out.shape[0], out.shape[1], out.shape[2], out.shape[3]
    groups, kd, kh, kw, per_group = out.shape[4], out.shape[5], out.shape[6], out.shape[7], out.shape[8]
    depth, height, width = x.shape[1], x.shape[2], x.shape[3]
    for row in prange(n_images * od * oh):
        n = row // (od * oh)
        i = (row // oh) % od
        j = row % oh
        for l in range(ow):
            for g in range(groups):
                for a in range(kd):
                    z = i * geo[1, 0] - geo[3, 0] + a * geo[2, 0]
                    for b in range(kh):
                        y = j * geo[1, 1] - geo[3, 1] + b * geo[2, 1]
                        for e in range(kw):
                            w = l * geo[1, 2] - geo[3, 2] + e * geo[2, 2]
                            if 0 <= z < depth and 0 <= y < height and 0 <= w < width:
                                for ci in range(per_group):
                                    out[n, i, j, l, g, a, b, e, ci] = x[n, z, y, w, g * per_group + ci]
                            else:
                                for ci in range(per_group):
                                    out[n, i, j, l, g, a, b, e, ci] = 0


@numba_kernel
def _fold_channels_first(cols, out, geo):
    """``out[n, c, window] += cols[n, c, offset, ...]`` over offsets in order (inside points only)."""
    n_images, channels = cols.shape[0], cols.shape[1]
    kd, kh, kw = cols.shape[2], cols.shape[3], cols.shape[4]
    od, oh, ow = cols.shape[5], cols.shape[6], cols.shape[7]
    depth, height, width = out.shape[2], out.shape[3], out.shape[4]
    for plane in prange(n_images * channels):
        n = plane // channels
        c = plane % channels
        for a in range(kd):
            for b in range(kh):
                for e in range(kw):
                    for i in range(od):
                        z = i * geo[1, 0] - geo[3, 0] + a * geo[2, 0]
                        if z < 0 or z >= depth:
                            continue
                        for j in range(oh):
                            y = j * geo[1, 1] - geo[3, 1] + b * geo[2, 1]
                            if y < 0 or y >= height:
                                continue
                            for l in range(ow):
                                w = l * geo[1, 2] - geo[3, 2] + e * geo[2, 2]
                                if 0 <= w < width:
                                    out[n, c, z, y, w] += cols[n, c, a, b, e, i, j, l]


@numba_kernel
def _add_window_channels_last(out, piece, origin, step):
    """``out[n, origin + step * (i, j, l), :] += piece[n, i, j, l, :]``; out ``(N, D, H, W, C)``."""
    n_images, od, oh, ow, channels = piece.shape
    for row in prange(n_images * od * oh):
        n = row // (od * oh)
        i = (row // oh) % od
        j = row % oh
        z = origin[0] + i * step[0]
        y = origin[1] + j * step[1]
        for l in range(ow):
            w = origin[2] + l * step[2]
            for c in range(channels):
                out[n, z, y, w, c] += piece[n, i, j, l, c]


def _cols8(cols, d: int):
    """``(N, C, *kernel, *out)`` with ``d`` spatial dims as an 8-D view (unit dims in both groups)."""
    missing = (None,) * (3 - d)
    return cols[(slice(None), slice(None)) + missing + (slice(None),) * d + missing]


# ------------------------------------------------------------------ im2col for the convolution
def columns_last(x_last, geom: ConvGeometry, start: int, stop: int):
    """Receptive fields of images ``start:stop`` of channels-last ``(N, *S, C)`` data: ``(M, G, taps)``.

    Each tap row is ``(*kernel, Cg)``, zero outside the input.
    """
    d = len(geom.kernel)
    groups = geom.groups
    per_group = x_last.shape[-1] // groups
    n = stop - start
    taps = prod(geom.kernel) * per_group
    part = x_last[start:stop]
    if _numba("columns_last", part):
        xp = array_module(part)
        cols = xp.empty((n,) + geom.out_size + (groups,) + geom.kernel + (per_group,), dtype=part.dtype)
        unit = (None,) * (3 - d)
        view = cols[(slice(None),) + unit + (slice(None),) * (d + 1) + unit]
        _windows_channels_last(spatial3(part, 1), view, geometry_table(geom))
        return cols.reshape(-1, groups, taps)
    xp = array_module(part)
    part = pad_or_crop(part, geom.pads, 1)
    st = part.strides
    shape = (n,) + geom.out_size + (groups,) + geom.kernel + (per_group,)
    strides = ((st[0],) + tuple(st[1 + i] * geom.stride[i] for i in range(d)) + (per_group * st[-1],)
               + tuple(st[1 + i] * geom.dilation[i] for i in range(d)) + (st[-1],))
    cols = xp.ascontiguousarray(xp.lib.stride_tricks.as_strided(part, shape, strides))
    return cols.reshape(-1, groups, taps)


def columns_first(x, geom: ConvGeometry, start: int, stop: int):
    """Receptive fields of images ``start:stop`` of ``(N, C, *S)`` data: ``(G, taps, M)``.

    Each tap column is ``(Cg, *kernel)``; a row of ``M`` is ``(n, *out)``.
    """
    d = len(geom.kernel)
    groups = geom.groups
    channels = x.shape[1]
    per_group = channels // groups
    n = stop - start
    taps = prod(geom.kernel) * per_group
    part = x[start:stop]
    if _numba("columns_first", part):
        xp = array_module(part)
        cols = xp.empty((channels,) + geom.kernel + (n,) + geom.out_size, dtype=part.dtype)
        unit = (None,) * (3 - d)
        view = cols[(slice(None),) + unit + (slice(None),) * (d + 1) + unit]  # (C, kD, kH, kW, n, oD, oH, oW)
        _windows_channels_first(spatial3(part, 2), view, part.dtype.type(0), geometry_table(geom))
        return cols.reshape(groups, taps, -1)
    xp = array_module(part)
    part = pad_or_crop(xp.ascontiguousarray(part), geom.pads, 2)
    st = part.strides
    shape = (groups, per_group) + geom.kernel + (n,) + geom.out_size
    strides = ((per_group * st[1], st[1]) + tuple(st[2 + i] * geom.dilation[i] for i in range(d))
               + (st[0],) + tuple(st[2 + i] * geom.stride[i] for i in range(d)))
    cols = xp.ascontiguousarray(xp.lib.stride_tricks.as_strided(part, shape, strides))
    return cols.reshape(groups, taps, -1)


# ------------------------------------------------------------------ unfold / fold
def unfold(x, geom: ConvGeometry, value=0.0):
    """Every window of ``x`` ``(N, C, *S)`` as a contiguous ``(N, C, *kernel, *out)`` array.

    Positions outside the input read ``value``.
    """
    xp = array_module(x)
    d = len(geom.kernel)
    if _numba("unfold", x):
        out = xp.empty(x.shape[:2] + geom.kernel + geom.out_size, dtype=x.dtype)
        view = xp.moveaxis(_cols8(out, d), 0, 4)  # indexed (C, *kernel, n, *out) like columns_first's
        _windows_channels_first(spatial3(x, 2), view, x.dtype.type(value), geometry_table(geom))
        return out
    padded = pad_or_crop(x, geom.pads, 2, value)
    st = padded.strides
    shape = x.shape[:2] + geom.kernel + geom.out_size
    strides = (st[:2] + tuple(st[2 + i] * geom.dilation[i] for i in range(d))
               + tuple(st[2 + i] * geom.stride[i] for i in range(d)))
    return xp.ascontiguousarray(xp.lib.stride_tricks.as_strided(padded, shape, strides))


def fold(cols, geom: ConvGeometry):
    """The adjoint of :func:`unfold`: add every window of ``(N, C, *kernel, *out)`` back into place."""
    xp = array_module(cols)
    if _numba("fold", cols):
        out = xp.zeros(cols.shape[:2] + tuple(geom.in_size), dtype=cols.dtype)
        _fold_channels_first(_cols8(cols, len(geom.kernel)), spatial3(out, 2), geometry_table(geom))
        return out
    out = xp.zeros(cols.shape[:2] + padded_size(geom), dtype=cols.dtype)
    lead = (slice(None), slice(None))
    accumulate_windows(out, geom, 2, lambda t, offset: cols[lead + offset])
    return crop_padding(out, geom, 2)


# ------------------------------------------------------------------ col2im by slice-adds
def add_window(out, geom: ConvGeometry, offset, first_axis: int, piece):
    """``out[window(offset)] += piece``: one kernel offset's share of a col2im (``out`` is padded).

    Two pixels of one offset never land on the same place, so the add needs no ``add.at``.
    """
    if first_axis == 1 and out.ndim == len(geom.kernel) + 2 and _numba("add_window", out, piece) \
            and piece.dtype == out.dtype:
        d = len(geom.kernel)
        unit = (0,) * (3 - d)
        origin = array_module(out).array(unit + tuple(k * dil for k, dil in zip(offset, geom.dilation)),
                                         dtype="int64")
        step = array_module(out).array((1,) * (3 - d) + tuple(geom.stride), dtype="int64")
        _add_window_channels_last(spatial3(out, 1), spatial3(piece, 1), origin, step)
        return out
    view = out[window_slices(geom, offset, first_axis, out.ndim)]
    view += piece
    return out


def accumulate_windows(out, geom: ConvGeometry, first_axis: int, piece):
    """``out[window(offset)] += piece(t, offset)`` for every kernel offset, in row-major order."""
    for t, offset in enumerate(kernel_offsets(geom.kernel)):
        add_window(out, geom, offset, first_axis, piece(t, offset))
    return out
