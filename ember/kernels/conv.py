"""The convolution's orchestration: layouts, batch blocks and GEMMs around the im2col kernels (no autograd).

The primitives that call it are in :mod:`ember.ops.conv`; depthwise convolutions (one input
channel per group) are in :mod:`ember.kernels.depthwise`.

The window copies and slice-adds themselves (a NumPy reference and a numba
version each) live in :mod:`ember.kernels.im2col`; this file decides which copy,
in which blocks, feeds which GEMM.

Everything is N-dimensional: one code path serves 1-D, 2-D and 3-D. Tensors keep
PyTorch's ``(N, C, *spatial)`` shape at the API, but the kernels compute in
*channels-last* memory ``(N, *spatial, C)`` and hand their results back as
``(N, C, *spatial)``-shaped views of channels-last data (PyTorch calls this the
``channels_last`` memory format). Elementwise ops and pooling keep that layout,
so the next convolution finds its input already channels-last and converts
nothing.

A convolution is an *im2col* copy followed by one BLAS GEMM per group, done one
block of the batch at a time so that the columns stay in the L2 cache between
the copy and the GEMM. The copy reads contiguous inner runs of ``k * C``
numbers (the kernel's last axis merged with the channels). Which copy is cheaper depends on the shape, so
:class:`Unfolder` picks per call (``docs/conv.md`` has the measurements):

* channels-last columns ``(M, G, *kernel, Cg)``: inner runs of ``kernel[-1] * C``
  numbers; best once there are a few channels;
* channels-first columns ``(G, Cg, *kernel, M)``: inner runs of a whole output
  row; best for the first layer of a network (1 or 3 channels), whose input
  usually arrives channels-first anyway.

The weight gradient unfolds the input again, block by block (cheaper than keeping
a column matrix ``prod(kernel)`` times the input's size), and multiplies by the
output gradient. The input gradient of a stride-1 convolution with 16 or more
channels is the forward convolution of the output gradient with the flipped
kernel (one big GEMM per block, which OpenBLAS spreads over the cores);
otherwise it is a col2im without a column buffer: per block and kernel offset,
one GEMM and one strided slice-add. The loops here run over kernel offsets,
groups and batch blocks, never over pixels.

Example::

    >>> import numpy as np
    >>> from ember.ops.conv import make_geometry
    >>> from ember.kernels.conv import conv_forward
    >>> geom = make_geometry("conv2d", (4, 4), (3, 3), (1, 1), (1, 1), ((0, 0), (0, 0)), 1)
    >>> y = conv_forward(np.ones((1, 2, 4, 4)), np.ones((3, 2, 3, 3)), geom)
    >>> y.shape, y[0, :, 0, 0].tolist()
    ((1, 3, 2, 2), [18.0, 18.0, 18.0])
"""
from __future__ import annotations

from ..backend import array_module
from ..blas_threads import blas_thread_count
from . import depthwise
from . import im2col as im2col_kernels
from .geometry import ConvGeometry, kernel_offsets, output_size, padded_size, window_slices
from .geometry import prod as _prod
from .im2col import accumulate_windows
from .layout import channels_first_view, channels_last, crop_padding, pad_or_crop

__all__ = ["ConvGeometry", "output_size", "conv_forward", "conv_weight_grad", "conv_input_grad", "im2col",
           "Unfolder", "kernel_offsets", "window_slices", "pad_or_crop"]


# ------------------------------------------------------------------ im2col, one batch block at a time
#: Bytes of im2col columns per batch block, and of the input gradient's working set
#: (one GEMM result plus the rows it is added into), per BLAS thread. Blocks this
#: small stay in the L2 cache between the copy and the GEMM that reads it; measured
#: on W3's layers, blocking made forward + weight gradient 15-25% faster than one big
#: column matrix, even though the weight gradient then unfolds the input a second
#: time. OpenBLAS splits each block's GEMM between its threads, so the budget grows
#: with their number (:func:`block_budget`): with two threads, blocks twice as large
#: made the W2/W3 convolutions 5-15% faster (forward, weight and input gradients),
#: and with one thread the blocks stay as they were.
COLUMN_BLOCK_BYTES = 1 << 20
GRADIENT_BLOCK_BYTES = 1 << 18


def block_budget(per_thread: int) -> int:
    """A batch block's byte budget: ``per_thread`` for every thread the BLAS library uses."""
    return per_thread * blas_thread_count()


def batch_blocks(n: int, bytes_per_image: int, budget: int):
    """``(start, stop)`` ranges over the batch, each about ``budget`` bytes of work."""
    size = max(1, min(n, budget // max(1, bytes_per_image)))
    return [(s, min(n, s + size)) for s in range(0, n, size)]


def _prefer_channels_first(x, geom: ConvGeometry) -> bool:
    """Pick the im2col layout by the length of its copy's contiguous inner runs.

    Channels-last copies runs of ``kernel[-1] * C`` numbers, channels-first runs of
    one output row. Measured (``docs/conv.md``), channels-first only pays when its
    runs are more than twice as long: the first layer of LeNet (1 channel) or of
    a CIFAR network (3 channels), not 8 or more channels.
    """
    channels = x.shape[1]
    run_last = channels // geom.groups
    if geom.groups == 1 and geom.dilation[-1] == 1:
        run_last *= geom.kernel[-1]
    run_first = geom.out_size[-1] if geom.stride[-1] == 1 else 1
    return run_first > 2 * run_last


class Unfolder:
    """The padded input of one convolution, ready to be unfolded block by block.

    ``columns(start, stop)`` copies the receptive fields of images ``start:stop``
    (one strided view, copied once) and ``matrix(cols, g)`` is group ``g``'s
    ``(rows, taps)`` view of them. Two layouts, chosen per call by
    :func:`_prefer_channels_first`: ``'last'`` columns ``(M, G, *kernel, Cg)`` from
    channels-last memory and ``'first'`` columns ``(G, Cg, *kernel, M)`` from
    channels-first memory.
    """

    def __init__(self, x, geom: ConvGeometry):
        xp = self.xp = array_module(x)
        self.geom = geom
        self.layout = "first" if _prefer_channels_first(x, geom) else "last"
        # Unpadded: the im2col kernels read the padding as zeros (see ember/kernels/im2col.py).
        self.source = x if self.layout == "first" else channels_last(x)
        self.batch = x.shape[0]
        self.per_group = x.shape[1] // geom.groups
        self.taps = _prod(geom.kernel) * self.per_group
        self.bytes_per_image = _prod(geom.out_size) * self.taps * geom.groups * x.dtype.itemsize

    def blocks(self):
        return batch_blocks(self.batch, self.bytes_per_image, block_budget(COLUMN_BLOCK_BYTES))

    def columns(self, start: int, stop: int):
        if self.layout == "first":
            return im2col_kernels.columns_first(self.source, self.geom, start, stop)
        return im2col_kernels.columns_last(self.source, self.geom, start, stop)

    def matrices(self, cols):
        """The columns as a ``(G, rows, taps)`` stack of matrices, one per group (a view)."""
        return cols.transpose(0, 2, 1) if self.layout == "first" else cols.transpose(1, 0, 2)

    def weight_matrix(self, w):
        """The weight ``(O, Cg, *K)`` as ``(G, taps, O/G)``, its rows ordered like the columns."""
        groups = self.geom.groups
        out_channels = w.shape[0]
        grouped = w.reshape(groups, out_channels // groups, self.per_group, -1)
        if self.layout == "first":
            return grouped.reshape(groups, out_channels // groups, -1).transpose(0, 2, 1)
        return self.xp.ascontiguousarray(grouped.transpose(0, 3, 2, 1)).reshape(groups, self.taps, -1)

    def weight_from_matrix(self, gw, weight_shape):
        """The inverse of :meth:`weight_matrix`: ``(G, taps, O/G)`` back to ``(O, Cg, *K)``."""
        groups, kernel = self.geom.groups, tuple(weight_shape[2:])
        per_out = weight_shape[0] // groups
        if self.layout == "first":  # rows (Cg, *K)
            gw = gw.transpose(0, 2, 1)
        else:  # rows (*K, Cg)
            d = len(kernel)
            gw = gw.reshape((groups,) + kernel + (self.per_group, per_out))
            gw = gw.transpose((0, d + 2, d + 1) + tuple(range(1, d + 1)))
        return self.xp.ascontiguousarray(gw).reshape(weight_shape)


def im2col(x, geom: ConvGeometry):
    """All receptive fields of ``x`` at once, as ``(layout, columns)`` (tests and small inputs)."""
    unfolder = Unfolder(x, geom)
    return unfolder.layout, unfolder.columns(0, x.shape[0])


# ------------------------------------------------------------------ the three kernels
def conv_forward(x, w, geom: ConvGeometry, bias=None):
    """``y = conv(x, w) (+ bias)`` as a ``(N, O, *out)`` view of channels-last data."""
    if depthwise.is_depthwise(x.shape[1], geom):
        return depthwise.depthwise_forward(x, w, geom, bias)
    xp = array_module(x)
    unfolder = Unfolder(x, geom)
    wmat = unfolder.weight_matrix(w)
    n, out_channels, groups = x.shape[0], w.shape[0], geom.groups
    per_out = out_channels // groups
    y = xp.empty((n,) + geom.out_size + (out_channels,), dtype=xp.result_type(x, w))
    rows = y.reshape(-1, groups, per_out)
    per_image = _prod(geom.out_size)
    for start, stop in unfolder.blocks():
        cols = unfolder.columns(start, stop)
        # One call for every group: NumPy loops over the stack in C, one GEMM each.
        target = rows[start * per_image:stop * per_image].transpose(1, 0, 2)
        xp.matmul(unfolder.matrices(cols), wmat, out=target)
    if bias is not None:
        y += bias
    return channels_first_view(y)


def conv_weight_grad(x, g, geom: ConvGeometry, weight_shape):
    """``d<g, conv(x, w)>/dw``: the columns of ``x`` times the output gradient, block by block."""
    if depthwise.is_depthwise(x.shape[1], geom):
        return depthwise.depthwise_weight_grad(x, g, geom, weight_shape)
    xp = array_module(g)
    unfolder = Unfolder(x, geom)
    groups, out_channels = geom.groups, weight_shape[0]
    per_out = out_channels // groups
    per_image = _prod(geom.out_size)
    g3 = channels_last(g).reshape(-1, groups, per_out)
    gw = xp.zeros((groups, unfolder.taps, per_out), dtype=xp.result_type(x, g))
    for start, stop in unfolder.blocks():
        cols = unfolder.matrices(unfolder.columns(start, stop))
        rows = g3[start * per_image:stop * per_image].transpose(1, 0, 2)
        gw += xp.matmul(cols.transpose(0, 2, 1), rows)
    return unfolder.weight_from_matrix(gw, weight_shape)


def conv_input_grad(g, w, geom: ConvGeometry, bias=None):
    """``d<g, conv(x, w)>/dx``, which is also the transposed convolution of ``g``.

    Per batch block and kernel offset, one GEMM ``g @ w[:, :, offset]`` whose
    ``(rows, C)`` result is added into that offset's strided window: a col2im
    without a column buffer. It beat one big GEMM followed by a strided col2im at
    every W2/W3 shape. Where :func:`_input_grad_prefers_convolution` says so
    (stride 1, wide layers), the convolution of the padded ``g`` with the flipped
    kernel runs instead.
    """
    if depthwise.is_depthwise(w.shape[1] * geom.groups, geom):
        return depthwise.depthwise_input_grad(g, w, geom, bias)
    if _input_grad_prefers_convolution(w, geom):
        return conv_forward(g, flipped_transposed_weight(w, geom.groups), full_convolution_geometry(geom), bias)
    xp = array_module(g)
    groups = geom.groups
    out_channels, per_in = w.shape[0], w.shape[1]
    per_out = out_channels // groups
    n = g.shape[0]
    dtype = xp.result_type(g, w)
    per_image = _prod(geom.out_size)
    g_last = channels_last(g)
    taps = xp.ascontiguousarray(
        w.reshape(groups, per_out, per_in, -1).transpose(3, 0, 1, 2))  # (K, G, Og, Cg)
    gx = xp.zeros((n,) + padded_size(geom) + (groups * per_in,), dtype=dtype)
    working_set = (per_image + _prod(padded_size(geom))) * groups * per_in * dtype.itemsize
    blocks = batch_blocks(n, working_set, block_budget(GRADIENT_BLOCK_BYTES))
    buffer = xp.empty((groups, (blocks[0][1] - blocks[0][0]) * per_image, per_in), dtype=dtype)
    for start, stop in blocks:
        lhs = g_last[start:stop].reshape(-1, groups, per_out).transpose(1, 0, 2)  # (G, rows, Og)
        piece = buffer[:, :lhs.shape[1]]
        window_shape = (stop - start,) + geom.out_size + (groups * per_in,)

        def offset_piece(t, offset, lhs=lhs, piece=piece, window_shape=window_shape):
            xp.matmul(lhs, taps[t], out=piece)
            return piece.transpose(1, 0, 2).reshape(window_shape)

        accumulate_windows(gx[start:stop], geom, 1, offset_piece)
    gx = crop_padding(gx, geom, 1)
    if bias is not None:
        gx += bias
    return channels_first_view(gx)


#: Channels per group from which a stride-1 input gradient runs as a convolution.
FULL_CONVOLUTION_MIN_CHANNELS = 16


def _input_grad_prefers_convolution(w, geom: ConvGeometry) -> bool:
    """Whether :func:`conv_input_grad` should run as a forward convolution of the gradient.

    A stride-1 input gradient is the convolution of the output gradient, padded
    by ``dilation * (kernel - 1) - pad``, with the flipped kernel: one im2col and
    one GEMM with ``prod(kernel) * O`` taps per block, against a small GEMM and a
    strided slice-add per kernel offset. Measured on W3's 3x3 layers (32 and 64
    channels) it is as fast on one thread and 15-30% faster on two, because the
    big GEMM is what OpenBLAS spreads over the cores; on LeNet's 6 and 12 channels
    its GEMMs are too thin and it is 1.6x slower, hence the channel threshold.
    """
    per_out, per_in = w.shape[0] // geom.groups, w.shape[1]
    return (all(s == 1 for s in geom.stride)
            and min(per_out, per_in) >= FULL_CONVOLUTION_MIN_CHANNELS)


def full_convolution_geometry(geom: ConvGeometry) -> ConvGeometry:
    """The stride-1 convolution that maps an output gradient back to the input's size.

    Its padding ``dilation * (kernel - 1) - pad`` is negative (a crop) when the
    forward padding was wider than the dilated kernel.
    """
    pads = tuple((d * (k - 1) - b, d * (k - 1) - a) for k, d, (b, a) in zip(geom.kernel, geom.dilation, geom.pads))
    return ConvGeometry(geom.out_size, geom.kernel, geom.stride, geom.dilation, pads, geom.groups, geom.in_size)


def flipped_transposed_weight(w, groups: int):
    """``(O, Cg, *K)`` -> ``(C, O/G, *K)`` with every kernel axis reversed: the adjoint convolution's weight."""
    xp = array_module(w)
    out_channels, per_in, kernel = w.shape[0], w.shape[1], w.shape[2:]
    flip = (slice(None), slice(None)) + (slice(None, None, -1),) * len(kernel)
    grouped = w[flip].reshape((groups, out_channels // groups, per_in) + kernel)
    swapped = grouped.transpose((0, 2, 1) + tuple(range(3, 3 + len(kernel))))
    return xp.ascontiguousarray(swapped).reshape((groups * per_in, out_channels // groups) + kernel)
