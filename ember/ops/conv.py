"""Convolution primitives: ``conv``, ``conv_transpose``, ``unfold``/``fold``.

Three primitives form a set closed under differentiation (the same set PyTorch's
``convolution_backward`` uses for double backward):

* :class:`Conv` ``y = conv(x, w) (+ b)``;
* :class:`ConvTranspose` ``x = conv_transpose(y, w) (+ b)``, the adjoint of ``conv`` in
  its first argument, which is also the gradient of ``conv`` with respect to ``x``;
* :class:`ConvWeightGrad` ``w = conv_weight_grad(x, y)``, the gradient of ``conv``
  with respect to ``w``.

All three are bilinear, so each one's vjp and jvp are written with the other two
(and themselves), and gradients of any order work. A :class:`ConvGeometry`
(sizes, stride, padding pairs, dilation, groups) describes the *forward*
convolution; the other two primitives reuse it. The array work lives in
``ember/kernels/conv.py`` (orchestration) and ``ember/kernels/im2col.py`` (the copies).

``unfold`` / ``fold`` (im2col and its adjoint, col2im) are a second, smaller pair,
used by log-sum-exp pooling and exposed as in PyTorch.
"""
from __future__ import annotations

from ..errors import ShapeError

from ..autograd.function import Function, LinearFunction, apply
from ..backend import array_module
from ..kernels import im2col as im2col_kernels
from ..kernels.geometry import ConvGeometry, output_size
from ..kernels.geometry import prod as _prod
from ..kernels import conv as K

__all__ = ["conv", "conv_transpose", "unfold", "fold", "ConvGeometry"]


# ------------------------------------------------------------------ argument checks
def as_tuple(op: str, name: str, value, d: int, minimum: int = 1) -> tuple:
    """An int or a length-``d`` sequence as a tuple of ints, each at least ``minimum``."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a tuple of {d} ints, got {value!r}")
    if isinstance(value, int) or hasattr(value, "__index__"):
        values = (int(value),) * d
    else:
        try:
            values = tuple(int(v) for v in value)
        except TypeError:
            raise TypeError(f"{op}: {name} must be an int or a tuple of {d} ints, got {value!r}") from None
        if len(values) == 1:
            values = values * d
        if len(values) != d:
            raise ValueError(f"{op}: {name} must have {d} values (one per spatial dimension), got {values}")
    if any(v < minimum for v in values):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {name} must be {kind}, got {values}")
    return values


def check_rank(op: str, x, d: int, what: str = "input") -> bool:
    """Raise unless ``x`` has ``d + 2`` (batched) or ``d + 1`` (unbatched) dimensions.

    Returns True when ``x`` is unbatched.
    """
    layout = "(N, C, " + {1: "L", 2: "H, W", 3: "D, H, W"}.get(d, f"{d} spatial") + ")"
    if x.ndim not in (d + 1, d + 2):
        raise ValueError(
            f"{op}: expected a {d + 2}-D {what} {layout} or a {d + 1}-D unbatched one, "
            f"got shape {tuple(x.shape)}"
        )
    return x.ndim == d + 1


def _float_pair(op, x, weight):
    from .checks import float_operand

    x = float_operand(op, x)
    weight = float_operand(op, weight)
    if x.dtype != weight.dtype:
        from ..amp.autocast_mode import will_cast  # lazy: amp sits above ops

        if not will_cast(x, weight):  # under autocast the mismatch is cast away before the op runs
            raise TypeError(f"{op}: input dtype {x.dtype} and weight dtype {weight.dtype} differ; "
                            "cast one with .astype()")
    return x, weight


def conv_padding(op: str, padding, kernel, dilation, stride) -> tuple:
    """``(before, after)`` pairs from an int, a tuple, ``'valid'`` or ``'same'``."""
    d = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
            pairs = []
            for k, dil in zip(kernel, dilation):
                total = dil * (k - 1)
                pairs.append((total // 2, total - total // 2))  # the extra one goes after
            return tuple(pairs)
        raise ValueError(f"{op}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}")
    return tuple((p, p) for p in as_tuple(op, "padding", padding, d, minimum=0))


def make_geometry(op: str, in_size, kernel, stride, dilation, pads, groups) -> ConvGeometry:
    """A :class:`ConvGeometry`, or an error naming ``op`` when the kernel does not fit."""
    padded = tuple(n + b + a for n, (b, a) in zip(in_size, pads))
    extent = tuple(dil * (k - 1) + 1 for k, dil in zip(kernel, dilation))
    if any(e > p for e, p in zip(extent, padded)):
        dilated = f" (dilated to {extent})" if extent != tuple(kernel) else ""
        raise ShapeError(
            f"{op}: kernel size {tuple(kernel)}{dilated} is larger than the padded input {padded} "
            f"(input spatial size {tuple(in_size)}, padding {tuple(pads)})"
        )
    out = output_size(in_size, kernel, stride, dilation, pads)
    return ConvGeometry(tuple(in_size), tuple(kernel), tuple(stride), tuple(dilation),
                        tuple(pads), int(groups), out)


def _check_groups(op, groups, channels, which):
    """``groups`` must be a positive int dividing the weight's first dimension."""
    if not isinstance(groups, int) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if channels % groups:
        raise ValueError(f"{op}: {channels} {which} channels are not divisible by groups={groups}")


def _check_bias(op, bias, channels, dtype):
    from ..tensor import as_tensor

    if bias is None:
        return None
    bias = as_tensor(bias)
    if bias.shape != (channels,):
        raise ValueError(f"{op}: expected a bias of shape ({channels},), got {tuple(bias.shape)}")
    return bias if bias.dtype == dtype else bias.astype(dtype)


def channel_sum(g):
    """Sum ``(N, C, *S)`` over everything but the channels: a bias gradient.

    Written as ``ones @ g`` on the channels-last ``(M, C)`` view: BLAS does in
    microseconds what a NumPy reduction over axes ``(0, 2, 3)`` of channels-last
    memory (inner runs of C numbers) takes a millisecond for.
    """
    from ..tensor import constant
    from .movement import reshape, transpose

    rows = reshape(transpose(g, (0,) + tuple(range(2, g.ndim)) + (1,)), (-1, g.shape[1]))
    xp = array_module(g._data)
    ones = constant(xp.ones(rows.shape[0], dtype=g.dtype))
    return ones @ rows


def _bias_shape(channels, ndim):
    return (1, channels) + (1,) * (ndim - 2)


# ------------------------------------------------------------------ primitives
class _LinearInWeightAndInput(Function):
    """Shared rules of :class:`Conv` and :class:`ConvTranspose`, each the other's adjoint.

    Both are bilinear in (input, weight): the input's gradient is the *other* op
    applied to the output gradient, the weight's gradient is a
    :class:`ConvWeightGrad` (with the roles of input and output gradient swapped for
    the transpose), and the jvp is the op itself on each tangent in turn.
    """

    save_inputs = (0, 1)

    @classmethod
    def vjp(cls, ctx, g):
        x, w = ctx.saved
        geom = ctx.params["geom"]
        gx = cls.adjoint(g, w, None, geom) if ctx.edges[0] is not None else None
        gw = None
        if ctx.edges[1] is not None:
            pair = (x, g) if cls is Conv else (g, x)
            gw = apply(ConvWeightGrad, pair, {"geom": geom, "weight_shape": tuple(w.shape)})
        if len(ctx.edges) == 2:
            return gx, gw
        gb = channel_sum(g) if ctx.edges[2] is not None else None
        return gx, gw, gb

    @classmethod
    def jvp(cls, ctx, tx, tw, *tb):
        x, w = ctx.inputs[:2]
        geom = ctx.params["geom"]
        out = None if tx is None else cls.itself(tx, w, None, geom)
        if tw is not None:
            term = cls.itself(x, tw, None, geom)
            out = term if out is None else out + term
        return _add_bias_tangent(out, tb, ctx.inputs[0].ndim)


class Conv(_LinearInWeightAndInput):
    """``conv(x, w[, b])``; param ``geom``."""

    name = "conv"

    @staticmethod
    def forward(ctx, x, w, *bias, geom):
        return K.conv_forward(x, w, geom, bias[0] if bias else None)

    @staticmethod
    def itself(x, w, b, geom):
        return _conv(x, w, b, geom)

    @staticmethod
    def adjoint(y, w, b, geom):
        return _conv_transpose(y, w, b, geom)


class ConvTranspose(_LinearInWeightAndInput):
    """``conv_transpose(y, w[, b])``: the adjoint of :class:`Conv` in ``x`` (param ``geom``)."""

    name = "conv_transpose"

    @staticmethod
    def forward(ctx, y, w, *bias, geom):
        return K.conv_input_grad(y, w, geom, bias[0] if bias else None)

    @staticmethod
    def itself(y, w, b, geom):
        return _conv_transpose(y, w, b, geom)

    @staticmethod
    def adjoint(x, w, b, geom):
        return _conv(x, w, b, geom)


class ConvWeightGrad(Function):
    """``conv_weight_grad(x, y)``: ``d<y, conv(x, w)>/dw``; params ``geom``, ``weight_shape``."""

    name = "conv_weight_grad"
    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, x, y, geom, weight_shape):
        return K.conv_weight_grad(x, y, geom, weight_shape)

    @staticmethod
    def vjp(ctx, v):
        x, y = ctx.saved
        geom = ctx.params["geom"]
        gx = _conv_transpose(y, v, None, geom) if ctx.edges[0] is not None else None
        gy = _conv(x, v, None, geom) if ctx.edges[1] is not None else None
        return gx, gy

    @staticmethod
    def jvp(ctx, tx, ty):
        x, y = ctx.inputs
        p = ctx.params
        out = None
        if tx is not None:
            out = apply(ConvWeightGrad, (tx, y), p)
        if ty is not None:
            term = apply(ConvWeightGrad, (x, ty), p)
            out = term if out is None else out + term
        return out


def _add_bias_tangent(out, tb, ndim):
    if not tb or tb[0] is None:
        return out
    from .movement import reshape

    shaped = reshape(tb[0], _bias_shape(tb[0].shape[0], ndim))
    return shaped if out is None else out + shaped


def _conv(x, w, b, geom):
    inputs = (x, w) if b is None else (x, w, b)
    return apply(Conv, inputs, {"geom": geom})


def _conv_transpose(y, w, b, geom):
    inputs = (y, w) if b is None else (y, w, b)
    return apply(ConvTranspose, inputs, {"geom": geom})


# ------------------------------------------------------------------ public functions
def _batched(op, x, d):
    from .movement import reshape

    unbatched = check_rank(op, x, d)
    return (reshape(x, (1,) + tuple(x.shape)), True) if unbatched else (x, False)


def _unbatch(y, unbatched):
    from .movement import reshape

    return reshape(y, tuple(y.shape[1:])) if unbatched else y


def conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups: int = 1, *, op: str = "conv"):
    """N-dimensional convolution (cross-correlation, as in every framework).

    The number of spatial dimensions comes from ``weight`` (``(O, C/groups, *kernel)``).

    Args:
        x: input ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``.
        weight: filters ``(out_channels, in_channels / groups, *kernel)``.
        bias: optional ``(out_channels,)``.
        stride, dilation: an int or one int per spatial dimension (positive).
        padding: an int, one int per dimension, ``'valid'`` (none) or ``'same'``
            (output as large as the input; stride 1 only; an odd total puts the
            extra zero after, as PyTorch does).
        groups: split input and output channels into this many independent groups
            (``groups == in_channels`` is a depthwise convolution).
        op: the name used in error messages (layers pass their own).

    Example:
        >>> import ember
        >>> from ember.ops.conv import conv
        >>> conv(ember.ones(1, 1, 4, 4), ember.ones(2, 1, 3, 3), padding=1).shape
        (1, 2, 4, 4)
    """
    from ..tensor import as_tensor

    x, weight = as_tensor(x), as_tensor(weight)
    if weight.ndim < 3:
        raise ValueError(f"{op}: weight must be (out_channels, in_channels/groups, *kernel), "
                         f"got shape {tuple(weight.shape)}")
    x, weight = _float_pair(op, x, weight)
    d = weight.ndim - 2
    x, unbatched = _batched(op, x, d)
    _check_groups(op, groups, weight.shape[0], "output")
    if x.shape[1] != weight.shape[1] * groups:
        raise ValueError(
            f"{op}: expected input with {weight.shape[1] * groups} channels (weight shape "
            f"{tuple(weight.shape)}, groups={groups}), got input of shape {tuple(x.shape[int(unbatched):])}"
        )
    stride = as_tuple(op, "stride", stride, d)
    dilation = as_tuple(op, "dilation", dilation, d)
    pads = conv_padding(op, padding, weight.shape[2:], dilation, stride)
    geom = make_geometry(op, x.shape[2:], weight.shape[2:], stride, dilation, pads, groups)
    bias = _check_bias(op, bias, weight.shape[0], x.dtype)
    return _unbatch(_conv(x, weight, bias, geom), unbatched)


def conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups: int = 1,
                   dilation=1, *, op: str = "conv_transpose"):
    """N-dimensional transposed convolution (the gradient of ``conv`` with respect to its input).

    Args:
        x: input ``(N, C_in, *spatial)`` or unbatched ``(C_in, *spatial)``.
        weight: ``(C_in, C_out / groups, *kernel)`` (PyTorch's layout).
        bias: optional ``(C_out,)``.
        stride, padding, dilation: those of the convolution this one transposes.
        output_padding: extra size added to one side of the output, to pick among
            the input sizes that a strided convolution maps to the same size; must
            be smaller than the stride or the dilation.
        groups: channel groups, as in :func:`conv`.

    The output size is ``(in - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``.

    Example:
        >>> import ember
        >>> from ember.ops.conv import conv_transpose
        >>> conv_transpose(ember.ones(1, 2, 4, 4), ember.ones(2, 3, 3, 3), stride=2, padding=1,
        ...                output_padding=1).shape
        (1, 3, 8, 8)
    """
    from ..tensor import as_tensor

    x, weight = as_tensor(x), as_tensor(weight)
    if weight.ndim < 3:
        raise ValueError(f"{op}: weight must be (in_channels, out_channels/groups, *kernel), "
                         f"got shape {tuple(weight.shape)}")
    x, weight = _float_pair(op, x, weight)
    d = weight.ndim - 2
    x, unbatched = _batched(op, x, d)
    _check_groups(op, groups, weight.shape[0], "input")
    if x.shape[1] != weight.shape[0]:
        raise ValueError(
            f"{op}: expected input with {weight.shape[0]} channels (weight shape {tuple(weight.shape)}), "
            f"got input of shape {tuple(x.shape[int(unbatched):])}"
        )
    stride = as_tuple(op, "stride", stride, d)
    dilation = as_tuple(op, "dilation", dilation, d)
    if isinstance(padding, str):
        raise ValueError(f"{op}: padding must be an int or a tuple, got {padding!r}")
    pads = conv_padding(op, padding, weight.shape[2:], dilation, stride)
    extra = as_tuple(op, "output_padding", output_padding, d, minimum=0)
    for e, s, dil in zip(extra, stride, dilation):
        if e >= s and e >= dil:
            raise ValueError(f"{op}: output_padding {extra} must be smaller than the stride {stride} "
                             f"or the dilation {dilation}")
    kernel = tuple(weight.shape[2:])
    out_size = tuple((n - 1) * s - b - a + dil * (k - 1) + e + 1
                     for n, s, (b, a), dil, k, e in zip(x.shape[2:], stride, pads, dilation, kernel, extra))
    if any(o < 1 for o in out_size):
        raise ValueError(f"{op}: the output size {out_size} would not be positive (input shape "
                         f"{tuple(x.shape)}, kernel {kernel}, stride {stride}, padding {padding})")
    geom = make_geometry(op, out_size, kernel, stride, dilation, pads, groups)
    # With output_padding >= stride (allowed when below the dilation) the convolution of
    # the output would have more positions than the input has; the extra ones are zero.
    geom = geom._replace(out_size=tuple(x.shape[2:]))
    bias = _check_bias(op, bias, weight.shape[1] * groups, x.dtype)
    return _unbatch(_conv_transpose(x, weight, bias, geom), unbatched)


# ------------------------------------------------------------------ unfold / fold
class Unfold(Function):
    """im2col: ``(N, C, *S)`` -> ``(N, C, *kernel, *out)``; params ``geom``, ``value`` (pad value)."""

    @staticmethod
    def forward(ctx, x, geom, value):
        return im2col_kernels.unfold(x, geom, value)

    @staticmethod
    def vjp(ctx, g):
        return apply(Fold, (g,), {"geom": ctx.params["geom"]})

    @staticmethod
    def jvp(ctx, t):
        return apply(Unfold, (t,), {"geom": ctx.params["geom"], "value": 0.0})


class Fold(LinearFunction):
    """col2im, the adjoint of :class:`Unfold`: overlapping windows add up."""

    @staticmethod
    def forward(ctx, cols, geom):
        return im2col_kernels.fold(cols, geom)

    @staticmethod
    def vjp(ctx, g):
        return apply(Unfold, (g,), {"geom": ctx.params["geom"], "value": 0.0})


def unfold_windows(x, geom: ConvGeometry, value: float = 0.0):
    """Every window of ``x`` as ``(N, C, *kernel, *out)`` (padding filled with ``value``)."""
    return apply(Unfold, (x,), {"geom": geom, "value": float(value)})


def unfold(x, kernel_size, dilation=1, padding=0, stride=1, *, op: str = "unfold"):
    """Extract sliding blocks (im2col), as PyTorch's ``unfold``: ``(N, C * prod(k), L)``.

    Works for any number of spatial dimensions (PyTorch: 2 only); the spatial rank
    is that of ``x`` minus 2.

    Example:
        >>> import ember
        >>> from ember.ops.conv import unfold
        >>> unfold(ember.ones(1, 2, 4, 4), 3).shape
        (1, 18, 4)
    """
    from .checks import float_operand
    from .movement import reshape

    x = float_operand(op, x)
    if x.ndim < 3:
        raise ValueError(f"{op}: expected an input (N, C, *spatial), got shape {tuple(x.shape)}")
    d = x.ndim - 2
    kernel = as_tuple(op, "kernel_size", kernel_size, d)
    dilation = as_tuple(op, "dilation", dilation, d)
    stride = as_tuple(op, "stride", stride, d)
    pads = tuple((p, p) for p in as_tuple(op, "padding", padding, d, minimum=0))
    geom = make_geometry(op, x.shape[2:], kernel, stride, dilation, pads, 1)
    cols = unfold_windows(x, geom)
    n, c = x.shape[:2]
    return reshape(cols, (n, c * _prod(kernel), _prod(geom.out_size)))


def fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1, *, op: str = "fold"):
    """Sum sliding blocks back into an image (col2im), as PyTorch's ``fold``.

    Example:
        >>> import ember
        >>> from ember.ops.conv import fold
        >>> fold(ember.ones(1, 18, 4), (4, 4), 3).shape
        (1, 2, 4, 4)
    """
    from .checks import float_operand
    from .movement import reshape

    cols = float_operand(op, cols)
    if cols.ndim != 3:
        raise ValueError(f"{op}: expected input (N, C * prod(kernel_size), L), got shape {tuple(cols.shape)}")
    size = tuple(output_size) if not isinstance(output_size, int) else (output_size,) * 2
    d = len(size)
    kernel = as_tuple(op, "kernel_size", kernel_size, d)
    dilation = as_tuple(op, "dilation", dilation, d)
    stride = as_tuple(op, "stride", stride, d)
    pads = tuple((p, p) for p in as_tuple(op, "padding", padding, d, minimum=0))
    geom = make_geometry(op, size, kernel, stride, dilation, pads, 1)
    taps, blocks = _prod(kernel), _prod(geom.out_size)
    if cols.shape[1] % taps or cols.shape[2] != blocks:
        raise ValueError(
            f"{op}: expected input (N, C * {taps}, {blocks}) for output size {size}, kernel {kernel}, "
            f"got shape {tuple(cols.shape)}"
        )
    n, c = cols.shape[0], cols.shape[1] // taps
    return apply(Fold, (reshape(cols, (n, c) + kernel + geom.out_size),), {"geom": geom})
