"""Pooling kernels: window maxima with their offsets, the max-pool scatter and gather, window sums.

Every function takes ``(N, C, *spatial)`` arrays in any memory layout and
returns its result in the input's layout (a channels-last network stays
channels-last). The NumPy references loop over kernel offsets with whole-array
operations; the numba versions loop over output rows in ``prange`` and over the
kernel inside, reading the padding as -inf (maxima) or 0 (sums) by bounds checks
instead of a padded copy. The adjoints (:func:`max_pool_scatter`,
:func:`window_spread`) are written as gathers in the numba version: each input
element sums the windows that cover it, in kernel-offset order, so no two
threads write one place and the sums are those of the reference, bit for bit.

Example::

    >>> import numpy as np
    >>> from ember.kernels.geometry import ConvGeometry
    >>> from ember.kernels.pool import max_pool
    >>> geom = ConvGeometry((4,), (2,), (2,), (1,), ((0, 0),), 1, (2,))
    >>> values, offsets = max_pool(np.array([[[1.0, 3.0, 2.0, 0.0]]]), geom)
    >>> values.tolist(), offsets.tolist()
    ([[[3.0, 2.0]]], [[[1, 0]]])
"""
from __future__ import annotations

import numpy as np

from ..backend import array_module
from . import engine
from .geometry import ConvGeometry, geometry_table, kernel_offsets, padded_size, prod, spatial3, window_slices
from .jit import numba_kernel, prange
from .layout import crop_padding, like, pad_or_crop


#: The kernels whose numba version runs when numba is on (the others measured no faster than their
#: NumPy reference on 2 threads, W3/W10 shapes, docs/kernels.md): one pass over the input instead
#: of NumPy's three per kernel offset made max_pool 3-4x faster; the non-overlapping scatter was as
#: fast on one thread and slower on two. The tests run every numba version regardless.
NUMBA_KERNELS = frozenset({"max_pool", "max_pool_gather", "window_sum"})


#: The numba loops run over the channels innermost; with fewer channels than this the loop is too
#: short to vectorize and NumPy's whole-array passes win (W2's 6-channel max-pool: 0.48 ms NumPy,
#: 0.69 ms numba; its training step 9.0 ms against 12.3 ms end to end, isolated, two threads).
NUMBA_MIN_CHANNELS = 16


def _numba(kernel: str, *arrays) -> bool:
    return (kernel in NUMBA_KERNELS and arrays[0].ndim >= 2 and arrays[0].shape[1] >= NUMBA_MIN_CHANNELS
            and engine.numba_runs(*arrays))


def _windows(x, geom: ConvGeometry):
    """``(t, view)`` for every kernel offset of a padded ``(N, C, *S)`` array."""
    for t, offset in enumerate(kernel_offsets(geom.kernel)):
        yield t, x[window_slices(geom, offset, 2, x.ndim)]


def index_dtype(xp, taps: int):
    """The smallest integer type that holds a kernel offset below ``taps``."""
    return xp.uint8 if taps <= 255 else (xp.int16 if taps <= 32767 else xp.int32)


def _overlapping(geom: ConvGeometry) -> bool:
    return any(s < d * (k - 1) + 1 for k, s, d in zip(geom.kernel, geom.stride, geom.dilation))


# ------------------------------------------------------------------ numba loop nests (three spatial dims)
# The kernels index ``(N, D, H, W, C)`` views (``_last``): channels-last data, the layout of every
# convolution's output, is then C-contiguous with the channels innermost, so each inner loop runs over
# contiguous channels with the window position computed once.
@numba_kernel
def _max_pool_rows(x, best, arg, kernel, geo):
    """Per output: the window maximum (padding skipped; NaN wins, ties go first) and its offset.

    The first tap always lies inside the input (padding is at most half the kernel), so
    skipping the padding gives the reference's -inf padding result.
    """
    n_images, od, oh, ow, channels = best.shape
    depth, height, width = x.shape[1], x.shape[2], x.shape[3]
    kd, kh, kw = kernel[0], kernel[1], kernel[2]
    for row in prange(n_images * od * oh):
        n = row // (od * oh)
        i = (row // oh) % od
        j = row % oh
        for l in range(ow):
            t = 0
            for a in range(kd):
                z = i * geo[1, 0] - geo[3, 0] + a * geo[2, 0]
                for b in range(kh):
                    y = j * geo[1, 1] - geo[3, 1] + b * geo[2, 1]
                    for e in range(kw):
                        w = l * geo[1, 2] - geo[3, 2] + e * geo[2, 2]
                        inside = 0 <= z < depth and 0 <= y < height and 0 <= w < width
                        if t == 0:
                            for c in range(channels):
                                best[n, i, j, l, c] = x[n, z, y, w, c] if inside else -np.inf
                                arg[n, i, j, l, c] = 0
                        elif inside:
                            for c in range(channels):
                                v = x[n, z, y, w, c]
                                if v > best[n, i, j, l, c] or v != v:
                                    best[n, i, j, l, c] = v
                                    arg[n, i, j, l, c] = t
                        t += 1


@numba_kernel
def _max_pool_gather_rows(x, arg, out, kernel, geo, taps):
    """``out = x[the winning position of each window]`` (0 when it lies in the padding)."""
    n_images, od, oh, ow, channels = out.shape
    depth, height, width = x.shape[1], x.shape[2], x.shape[3]
    for row in prange(n_images * od * oh):
        n = row // (od * oh)
        i = (row // oh) % od
        j = row % oh
        for l in range(ow):
            for c in range(channels):
                t = arg[n, i, j, l, c]
                z = i * geo[1, 0] - geo[3, 0] + taps[t, 0]
                y = j * geo[1, 1] - geo[3, 1] + taps[t, 1]
                w = l * geo[1, 2] - geo[3, 2] + taps[t, 2]
                if 0 <= z < depth and 0 <= y < height and 0 <= w < width:
                    out[n, i, j, l, c] = x[n, z, y, w, c]
                else:
                    out[n, i, j, l, c] = 0


@numba_kernel
def _max_pool_scatter_rows(g, arg, out, kernel, geo, taps):
    """Non-overlapping windows: ``out[winner] = g`` (``out`` zeroed; output rows own disjoint input rows)."""
    n_images, od, oh, ow, channels = g.shape
    depth, height, width = out.shape[1], out.shape[2], out.shape[3]
    for row in prange(n_images * od * oh):
        n = row // (od * oh)
        i = (row // oh) % od
        j = row % oh
        for l in range(ow):
            for c in range(channels):
                t = arg[n, i, j, l, c]
                z = i * geo[1, 0] - geo[3, 0] + taps[t, 0]
                y = j * geo[1, 1] - geo[3, 1] + taps[t, 1]
                w = l * geo[1, 2] - geo[3, 2] + taps[t, 2]
                if 0 <= z < depth and 0 <= y < height and 0 <= w < width:
                    out[n, z, y, w, c] = g[n, i, j, l, c]


@numba_kernel
def _covering_sum_rows(g, arg, out, use_arg, kernel, geo):
    """Per input element: the sum, in kernel-offset order, of ``g`` over the windows covering it.

    With ``use_arg`` only windows whose maximum sits here count (overlapping max-pool
    backward); otherwise every covering window does (average-pool backward). ``out``
    starts zeroed.
    """
    n_images, depth, height, width, channels = out.shape
    od, oh, ow = g.shape[1], g.shape[2], g.shape[3]
    kd, kh, kw = kernel[0], kernel[1], kernel[2]
    for row in prange(n_images * depth * height):
        n = row // (depth * height)
        z = (row // height) % depth
        y = row % height
        for w in range(width):
            t = 0
            for a in range(kd):
                pi = z + geo[3, 0] - a * geo[2, 0]
                i = pi // geo[1, 0]
                inside_i = pi >= 0 and pi % geo[1, 0] == 0 and i < od
                for b in range(kh):
                    pj = y + geo[3, 1] - b * geo[2, 1]
                    j = pj // geo[1, 1]
                    inside_j = inside_i and pj >= 0 and pj % geo[1, 1] == 0 and j < oh
                    for e in range(kw):
                        pl = w + geo[3, 2] - e * geo[2, 2]
                        l = pl // geo[1, 2]
                        if inside_j and pl >= 0 and pl % geo[1, 2] == 0 and l < ow:
                            if use_arg:
                                for c in range(channels):
                                    if arg[n, i, j, l, c] == t:
                                        out[n, z, y, w, c] += g[n, i, j, l, c]
                            else:
                                for c in range(channels):
                                    out[n, z, y, w, c] += g[n, i, j, l, c]
                        t += 1


@numba_kernel
def _window_sum_rows(x, out, kernel, geo):
    """Per output: the sum of its window in kernel-offset order (0 outside the input)."""
    n_images, od, oh, ow, channels = out.shape
    depth, height, width = x.shape[1], x.shape[2], x.shape[3]
    kd, kh, kw = kernel[0], kernel[1], kernel[2]
    for row in prange(n_images * od * oh):
        n = row // (od * oh)
        i = (row // oh) % od
        j = row % oh
        for l in range(ow):
            t = 0
            for a in range(kd):
                z = i * geo[1, 0] - geo[3, 0] + a * geo[2, 0]
                for b in range(kh):
                    y = j * geo[1, 1] - geo[3, 1] + b * geo[2, 1]
                    for e in range(kw):
                        w = l * geo[1, 2] - geo[3, 2] + e * geo[2, 2]
                        inside = 0 <= z < depth and 0 <= y < height and 0 <= w < width
                        if t == 0:
                            for c in range(channels):
                                out[n, i, j, l, c] = x[n, z, y, w, c] if inside else 0
                        elif inside:
                            for c in range(channels):
                                out[n, i, j, l, c] += x[n, z, y, w, c]
                        else:  # the reference adds the zero padding: keeps -0.0 + 0.0 == 0.0 alike
                            for c in range(channels):
                                out[n, i, j, l, c] += 0
                        t += 1


def _last(a):
    """``(N, C, *S)`` as the ``(N, D, H, W, C)`` view the kernels index (free; contiguous when channels-last)."""
    return np.moveaxis(spatial3(a, 2), 1, -1)


def _tables(geom: ConvGeometry):
    geo = geometry_table(geom)
    return geo[0].copy(), geo


def _tap_offsets(geom: ConvGeometry):
    """``int64 (taps, 3)``: each kernel offset's dilated displacement, so kernels never divide."""
    geo = geometry_table(geom)
    kd, kh, kw = (int(k) for k in geo[0])
    t = np.arange(kd * kh * kw)
    return np.stack([(t // (kh * kw)) * geo[2, 0], ((t // kw) % kh) * geo[2, 1], (t % kw) * geo[2, 2]], axis=1)


# ------------------------------------------------------------------ max pooling
# ------------------------------------------------------------------ adaptive bins
def adaptive_bins(length: int, size: int):
    """PyTorch's adaptive bins: ``(start, end)`` host arrays for ``size`` outputs."""
    i = np.arange(size)
    return (i * length) // size, -((-(i + 1) * length) // size)


def adaptive_max_indices(data, out):
    """Per output, the flat index (in its input plane) of the first maximum of its PyTorch adaptive bin.

    ``data`` is ``(N, C, *in)``, ``out`` the output size; NumPy (or CuPy) gathers, no numba version:
    uneven bins are the rare case of adaptive max pooling (even ones go through :func:`max_pool`).
    """
    xp = array_module(data)
    d = len(out)
    in_size = data.shape[2:]
    tables, index = [], []
    for i, (n, o) in enumerate(zip(in_size, out)):
        start, end = adaptive_bins(n, o)
        width = int((end - start).max())
        # Short bins repeat their last element: a repeat never changes the first maximum.
        table = xp.asarray(np.minimum(start[:, None] + np.arange(width), end[:, None] - 1))
        shape = [1] * (2 * d)
        shape[i], shape[d + i] = o, width
        tables.append(table)
        index.append(table.reshape(shape))
    windows = data[(Ellipsis,) + tuple(index)]  # (N, C, *out, *widths)
    best = windows.reshape(windows.shape[:2 + d] + (-1,)).argmax(axis=-1)
    taps = xp.unravel_index(best, windows.shape[2 + d:])
    flat = 0
    for i, o in enumerate(out):
        grid = xp.arange(o).reshape((1,) * (2 + i) + (o,) + (1,) * (d - 1 - i))
        flat = flat * in_size[i] + tables[i][grid, taps[i]]
    return flat



def max_pool(x, geom: ConvGeometry):
    """Window maxima of ``x`` (``(N, C, *S)``, any memory layout) and the winning offsets.

    The offsets (the kernel position of each maximum, row-major) are what the
    backward pass needs; ties go to the first maximum and NaN wins, as in PyTorch.
    """
    xp = array_module(x)
    if _numba("max_pool", x):
        # empty_like keeps x's axis order: channels-last input gives channels-last output.
        best = xp.empty_like(x, shape=x.shape[:2] + geom.out_size)
        arg = xp.empty_like(best, dtype=index_dtype(xp, prod(geom.kernel)))
        _max_pool_rows(_last(x), _last(best), _last(arg), *_tables(geom))
        return best, arg
    padded = pad_or_crop(x, geom.pads, 2, -xp.inf)
    best, arg = _running_max(padded, geom, nan_wins=False)
    if xp.isnan(best).any():  # rare: redo with PyTorch's NaN rule, at twice the cost
        best, arg = _running_max(padded, geom, nan_wins=True)
    return best, arg


def _running_max(padded, geom: ConvGeometry, nan_wins: bool):
    # Offsets grow, so ``max(arg, better * t)`` records the latest improvement. That
    # arithmetic is 3 to 30 times faster here than a masked copyto or an 8-bit where
    # (their data-dependent branches mispredict on random masks).
    xp = array_module(padded)
    windows = _windows(padded, geom)
    _, first = next(windows)
    best = first.copy(order="K")
    index = index_dtype(xp, prod(geom.kernel))
    arg = xp.zeros_like(best, dtype=index)
    better = xp.empty_like(best, dtype=bool)
    for t, view in windows:
        xp.greater(view, best, out=better)
        if nan_wins:
            better |= xp.isnan(view)
        xp.maximum(arg, better * index(t), out=arg)
        if nan_wins:
            best = xp.where(better, view, best)
        else:
            xp.maximum(best, view, out=best)
    return best, arg


def max_pool_scatter(g, arg, geom: ConvGeometry):
    """Send each window's gradient to its maximum (the adjoint of :func:`max_pool_gather`).

    The result takes ``arg``'s memory layout (the pooled input's), so a channels-last
    network keeps channels-last gradients.
    """
    xp = array_module(g)
    if _numba("max_pool_scatter", g):
        out = xp.zeros_like(arg, dtype=g.dtype, shape=g.shape[:2] + tuple(geom.in_size))
        g = like(g, arg)
        if _overlapping(geom):
            _covering_sum_rows(_last(g), _last(arg), _last(out), True, *_tables(geom))
        else:
            _max_pool_scatter_rows(_last(g), _last(arg), _last(out), *_tables(geom), _tap_offsets(geom))
        return out
    out = xp.zeros_like(arg, dtype=g.dtype, shape=g.shape[:2] + padded_size(geom))
    g = like(g, arg)
    mask = xp.empty_like(arg, dtype=bool)
    overlapping = _overlapping(geom)
    for t, view in _windows(out, geom):
        xp.equal(arg, t, out=mask)
        if overlapping:
            view += g * mask
        else:
            xp.multiply(g, mask, out=view)
    return crop_padding(out, geom, 2)


def max_pool_gather(x, arg, geom: ConvGeometry):
    """Pick from ``x`` the element that won each window (the tangent of max pooling)."""
    xp = array_module(x)
    if _numba("max_pool_gather", x):
        out = xp.empty_like(arg, dtype=x.dtype)
        _max_pool_gather_rows(_last(x), _last(arg), _last(out), *_tables(geom), _tap_offsets(geom))
        return out
    padded = pad_or_crop(x, geom.pads, 2, 0)
    out = xp.zeros_like(arg, dtype=x.dtype)
    mask = xp.empty_like(arg, dtype=bool)
    for t, view in _windows(padded, geom):
        xp.equal(arg, t, out=mask)
        out = xp.where(mask, view, out)
    return out


def max_pool_indices(arg, geom: ConvGeometry):
    """Flat indices into each input plane (PyTorch's ``return_indices``) from the offsets."""
    xp = array_module(arg)
    d = len(geom.kernel)
    flat = None
    taps = xp.asarray(arg, dtype=xp.int64)
    for i in reversed(range(d)):
        k, s, dil, (b, _) = geom.kernel[i], geom.stride[i], geom.dilation[i], geom.pads[i]
        tap = taps % k
        taps = taps // k
        shape = [1] * arg.ndim
        shape[2 + i] = geom.out_size[i]
        start = (xp.arange(geom.out_size[i]) * s - b).reshape(shape)
        position = start + tap * dil
        scale = prod(geom.in_size[i + 1:])
        flat = position * scale if flat is None else flat + position * scale
    return flat


# ------------------------------------------------------------------ average pooling
def window_sum(x, geom: ConvGeometry):
    """The sum over every window of ``x`` (zero padding), in ``x``'s memory layout."""
    xp = array_module(x)
    if _numba("window_sum", x):
        out = xp.empty_like(x, shape=x.shape[:2] + geom.out_size)
        _window_sum_rows(_last(x), _last(out), *_tables(geom))
        return out
    padded = pad_or_crop(x, geom.pads, 2, 0)
    windows = _windows(padded, geom)
    _, first = next(windows)
    out = first.copy(order="K")
    for _, view in windows:
        out += view
    return out


def window_spread(g, geom: ConvGeometry):
    """The adjoint of :func:`window_sum`: every window receives its output's value."""
    xp = array_module(g)
    if _numba("window_spread", g):
        out = xp.zeros_like(g, shape=g.shape[:2] + tuple(geom.in_size))
        _covering_sum_rows(_last(g), _last(g), _last(out), False, *_tables(geom))
        return out
    out = xp.zeros_like(g, shape=g.shape[:2] + padded_size(geom))
    for _, view in _windows(out, geom):
        view += g
    return crop_padding(out, geom, 2)
