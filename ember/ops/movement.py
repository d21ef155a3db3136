"""Movement primitives: reshape, transpose, broadcast, indexing, gather/scatter, concat, pad.

These ops move elements without arithmetic, so their rules are mostly each
other: the vjp of ``broadcast_to`` is ``sum_to``, of ``getitem`` a scatter-add
(``index_add_into_zeros``), of ``gather`` a ``scatter_add``, and every jvp is the
op itself applied to the tangent.
"""
from __future__ import annotations

import builtins

from ..autograd.function import Function, LinearFunction, apply, with_outputs
from ..backend import array_module
from .checks import broadcast_error, to_tensor


_tensor = to_tensor


# ------------------------------------------------------------------ broadcasting
class BroadcastTo(LinearFunction):
    name = "broadcast_to"

    @staticmethod
    def forward(ctx, x, shape):
        return array_module(x).broadcast_to(x, shape)

    @staticmethod
    def vjp(ctx, g):
        return sum_to(g, ctx.in_meta[0][0])

class SumTo(LinearFunction):
    """Sum a broadcast array back down to ``shape``: the one place broadcasting is undone."""

    name = "sum_to"

    @staticmethod
    def forward(ctx, x, shape):
        lead = x.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, size in enumerate(shape) if size == 1 and x.shape[lead + i] != 1
        )
        out = x.sum(axis=axes, keepdims=True) if axes else x
        return out.reshape(shape) if lead else out

    @staticmethod
    def vjp(ctx, g):
        return broadcast_to(g, ctx.in_meta[0][0])

def broadcast_to(x, shape):
    """Broadcast ``x`` to ``shape`` (a read-only view; no copy)."""
    x = _tensor(x)
    shape = tuple(int(s) for s in shape)
    if x.shape == shape:
        return x
    try:
        return apply(BroadcastTo, (x,), {"shape": shape})
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None


def sum_to(x, shape):
    """Sum ``x`` over broadcast dimensions so that it has ``shape``."""
    x = _tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != xs for s, xs in zip(shape, x.shape[lead:])):
        raise ValueError(f"sum_to: shape {x.shape} cannot be summed down to {shape}")
    return apply(SumTo, (x,), {"shape": shape})


def expand(x, *shape):
    """Broadcast to ``shape``, where -1 keeps a dimension (PyTorch's ``expand``)."""
    x = _tensor(x)
    shape = _shape_args(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ValueError(f"expand: cannot expand shape {x.shape} to fewer dimensions {shape}")
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
    return broadcast_to(x, full)


# ------------------------------------------------------------------ reshaping
class Reshape(LinearFunction):
    @staticmethod
    def forward(ctx, x, shape):
        return x.reshape(shape)

    @staticmethod
    def vjp(ctx, g):
        return reshape(g, ctx.in_meta[0][0])

def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(x, *shape):
    """Give ``x`` a new shape with the same number of elements (one entry may be -1)."""
    x = _tensor(x)
    shape = _shape_args(shape)
    if shape == x.shape:
        return x
    try:
        return apply(Reshape, (x,), {"shape": shape})
    except ValueError:
        raise ValueError(
            f"reshape: cannot reshape tensor of shape {x.shape} ({x.size} elements) into {shape}"
        ) from None


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Merge dimensions ``start_dim..end_dim`` into one."""
    x = _tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start = _axis("flatten", start_dim, x.ndim)
    end = _axis("flatten", end_dim, x.ndim)
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = 1
    for s in x.shape[start:end + 1]:
        merged *= s
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def squeeze(x, axis=None):
    """Remove dimensions of size 1 (all of them, or those in ``axis``)."""
    x = _tensor(x)
    if axis is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    axes = {_axis("squeeze", a, x.ndim) for a in (axis if isinstance(axis, (tuple, list)) else (axis,))}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: dimension {a} of shape {x.shape} has size {x.shape[a]}, not 1")
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if i not in axes))


def unsqueeze(x, axis: int):
    """Insert a dimension of size 1 at ``axis``."""
    x = _tensor(x)
    a = _axis("unsqueeze", axis, x.ndim + 1)
    return reshape(x, x.shape[:a] + (1,) + x.shape[a:])


def _axis(op, axis, ndim):
    if not isinstance(axis, (int,)) and not hasattr(axis, "__index__"):
        raise TypeError(f"{op}: axis must be an integer, got {type(axis).__name__}")
    axis = int(axis)
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions")
    return axis % ndim if ndim else 0


class Transpose(LinearFunction):
    @staticmethod
    def forward(ctx, x, axes):
        return x.transpose(axes)

    @staticmethod
    def vjp(ctx, g):
        axes = ctx.params["axes"]
        inverse = [0] * len(axes)
        for i, a in enumerate(axes):
            inverse[a] = i
        return transpose(g, tuple(inverse))

def transpose(x, axes=None):
    """Permute dimensions (reverse them when ``axes`` is None), like ``numpy.transpose``."""
    x = _tensor(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(_axis("transpose", a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of a tensor of shape {x.shape}")
    if axes == tuple(range(x.ndim)):
        return x
    return apply(Transpose, (x,), {"axes": axes})


def permute(x, *axes):
    """PyTorch's name for :func:`transpose` with explicit axes."""
    return transpose(x, _shape_args(axes))


def swapaxes(x, axis1: int, axis2: int):
    """Exchange two dimensions."""
    x = _tensor(x)
    axes = list(range(x.ndim))
    a, b = _axis("swapaxes", axis1, x.ndim), _axis("swapaxes", axis2, x.ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, tuple(axes))


# ------------------------------------------------------------------ indexing
def _is_basic(index) -> bool:
    """True when no element of ``index`` is an integer array (so targets never repeat)."""
    for item in index:
        if item is None or item is Ellipsis or isinstance(item, (int, slice)):
            continue
        kind = getattr(getattr(item, "dtype", None), "kind", None)
        if kind == "b":
            continue
        return False
    return True


class GetItem(LinearFunction):
    name = "getitem"

    @staticmethod
    def forward(ctx, x, index):
        return x[index]

    @staticmethod
    def vjp(ctx, g):
        return index_add_into_zeros(g, ctx.in_meta[0][0], ctx.params["index"])

class IndexAddIntoZeros(LinearFunction):
    """Scatter ``g`` into zeros of ``shape`` at ``index``, adding where indices repeat."""

    name = "index_add"

    @staticmethod
    def forward(ctx, g, shape, index):
        xp = array_module(g)
        out = xp.zeros(shape, dtype=g.dtype)
        if _is_basic(index):
            out[index] = g
        else:
            xp.add.at(out, index, g)
        return out

    @staticmethod
    def vjp(ctx, g):
        return apply(GetItem, (g,), {"index": ctx.params["index"]})

def index_add_into_zeros(g, shape, index):
    return apply(IndexAddIntoZeros, (g,), {"shape": tuple(shape), "index": index})


def normalize_index(index, xp):
    """Turn an indexing key into a tuple of ints, slices, None, Ellipsis and ``xp`` arrays."""
    from ..tensor import Tensor

    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, Tensor):
            item = item.data
        elif isinstance(item, list):
            item = xp.asarray(item)
        elif isinstance(item, bool) or (item is not None and item is not Ellipsis
                                        and not isinstance(item, (int, slice))
                                        and not hasattr(item, "dtype")):
            if hasattr(item, "__index__"):
                item = int(item)
            else:
                raise TypeError(f"getitem: unsupported index of type {type(item).__name__}")
        if hasattr(item, "dtype") and item.dtype.kind not in "biu":
            raise TypeError(f"getitem: index arrays must be integer or boolean, got {item.dtype}")
        out.append(item)
    return tuple(out)


def getitem(x, index):
    """``x[index]`` with basic and advanced indexing; repeated indices accumulate gradients."""
    x = _tensor(x)
    index = normalize_index(index, array_module(x.data))
    try:
        return apply(GetItem, (x,), {"index": index})
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor of shape {x.shape})") from None


def index_select(x, axis: int, index):
    """Select entries of ``x`` along ``axis`` by an integer index vector."""
    x = _tensor(x)
    axis = _axis("index_select", axis, x.ndim)
    idx = normalize_index(index, array_module(x.data))[0]
    if getattr(idx, "ndim", 1) != 1:
        raise ValueError(f"index_select: index must be 1-D, got shape {getattr(idx, 'shape', ())}")
    return getitem(x, (slice(None),) * axis + (idx,))


def _along_axis(index, axis, xp):
    """The fancy-index tuple that addresses ``index`` positions along ``axis``."""
    grids = []
    for dim, size in enumerate(index.shape):
        if dim == axis:
            grids.append(index)
        else:
            shape = [1] * index.ndim
            shape[dim] = size
            grids.append(xp.arange(size).reshape(shape))
    return tuple(grids)


class Gather(LinearFunction):
    @staticmethod
    def forward(ctx, x, index, axis):
        return array_module(x).take_along_axis(x, index, axis=axis)

    @staticmethod
    def vjp(ctx, g):
        zeros = g.new_zeros(ctx.in_meta[0][0])
        return scatter_add(zeros, ctx.params["axis"], ctx.params["index"], g)

class ScatterAdd(Function):
    name = "scatter_add"

    @staticmethod
    def forward(ctx, x, src, index, axis):
        xp = array_module(x)
        out = x.copy()
        xp.add.at(out, _along_axis(index, axis, xp), src)
        return out

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        return g, apply(Gather, (g,), {"index": p["index"], "axis": p["axis"]})

    @staticmethod
    def jvp(ctx, tx, tsrc):
        x, src = ctx.inputs
        tx = tx if tx is not None else x.zeros_like()
        tsrc = tsrc if tsrc is not None else src.zeros_like()
        return apply(ScatterAdd, (tx, tsrc), ctx.params)


def _index_array(op, index, x):
    ndim = x.ndim
    idx = normalize_index(index, array_module(x.data))[0]
    if not hasattr(idx, "dtype") or idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor")
    if idx.ndim != ndim:
        raise ValueError(f"{op}: index has {idx.ndim} dimensions but the input has {ndim}")
    return idx


def gather(x, axis: int, index):
    """``out[i][j] = x[i][index[i][j]]`` along ``axis`` (PyTorch's ``gather``)."""
    x = _tensor(x)
    axis = _axis("gather", axis, x.ndim)
    idx = _index_array("gather", index, x)
    try:
        return apply(Gather, (x,), {"index": idx, "axis": axis})
    except (IndexError, ValueError) as error:
        raise ValueError(f"gather: {error} (input {x.shape}, index {idx.shape}, axis {axis})") from None


def scatter_add(x, axis: int, index, src):
    """Return ``x`` with ``src`` added at ``index`` along ``axis`` (repeats accumulate)."""
    x, src = _tensor(x), _tensor(src)
    axis = _axis("scatter_add", axis, x.ndim)
    idx = _index_array("scatter_add", index, x)
    if idx.shape != src.shape:
        raise ValueError(f"scatter_add: index shape {idx.shape} must equal src shape {src.shape}")
    if src.dtype != x.dtype:
        src = src.astype(x.dtype)
    try:
        return apply(ScatterAdd, (x, src), {"index": idx, "axis": axis})
    except IndexError as error:
        raise ValueError(f"scatter_add: {error} (input {x.shape}, index {idx.shape})") from None


def masked_fill(x, mask, value):
    """Replace the elements of ``x`` where ``mask`` is true by ``value``."""
    from .elementwise import where

    return where(mask, value, x)


class OneHot(Function):
    name = "one_hot"
    differentiable = False

    @staticmethod
    def forward(ctx, indices, num_classes, dtype):
        xp = array_module(indices)
        return xp.eye(num_classes, dtype=dtype)[indices]


def one_hot(indices, num_classes: int = -1, dtype=None):
    """Encode integer class indices as one-hot rows (float32 unless ``dtype``)."""
    from ..backend import default_dtype

    indices = _tensor(indices)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be integers, got {indices.dtype}")
    low = int(indices.data.min()) if indices.size else 0
    high = int(indices.data.max()) if indices.size else -1
    if num_classes == -1:
        num_classes = high + 1
    if low < 0 or high >= num_classes:
        raise ValueError(f"one_hot: class indices must lie in [0, {num_classes}), got [{low}, {high}]")
    return apply(OneHot, (indices,), {"num_classes": int(num_classes), "dtype": dtype or default_dtype()})


# ------------------------------------------------------------------ joining and splitting
class Concat(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        if ctx is not None:
            # Inputs without grad have no in_meta entry; the vjp still needs every width.
            ctx.stash = [a.shape[axis] for a in arrays]
        return array_module(arrays[0]).concatenate(arrays, axis=axis)

    @staticmethod
    def vjp(ctx, g):
        axis = ctx.params["axis"]
        grads, start = [], 0
        for edge, width in zip(ctx.edges, ctx.stash):
            if edge is not None:
                grads.append(getitem(g, (slice(None),) * axis + (slice(start, start + width),)))
            else:
                grads.append(None)
            start += width
        return tuple(grads)

    @staticmethod
    def jvp(ctx, *tangents):
        filled = [t if t is not None else x.zeros_like() for t, x in zip(tangents, ctx.inputs)]
        return concat(filled, ctx.params["axis"])


def concat(tensors, axis: int = 0):
    """Join tensors along an existing axis (dtypes are promoted to a common one)."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concat: expected a non-empty sequence of tensors")
    first = tensors[0]
    axis = _axis("concat", axis, first.ndim)
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis
        ):
            raise ValueError(f"concat: shapes {first.shape} and {t.shape} differ outside axis {axis}")
    dtype = array_module(first.data).result_type(*[t.data for t in tensors])
    tensors = tuple(t if t.dtype == dtype else t.astype(dtype) for t in tensors)
    return apply(Concat, tensors, {"axis": axis})


def stack(tensors, axis: int = 0):
    """Join tensors of equal shape along a new axis."""
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: all tensors must have one shape, got {tensors[0].shape} and {t.shape}")
    axis = _axis("stack", axis, tensors[0].ndim + 1)
    return concat([unsqueeze(t, axis) for t in tensors], axis)


class _Split(LinearFunction):
    """Consecutive pieces of ``x`` along ``axis`` (views); params ``axis``, ``sizes``.

    One primitive with an output per piece, rather than one slice each: the slices'
    backward would scatter every gradient into a zero array of the whole input and
    add those arrays up (for a transformer's fused q/k/v projection: three zero
    fills and two adds of the full array). Here the pieces' gradients are joined
    by one concatenation, and an unused piece contributes zeros of its own size.
    Used through :func:`with_outputs`, one subclass per piece count.
    """

    name = "split"
    save_inputs = (0,)  # for an unused piece's zeros (shape, dtype, array module)

    @staticmethod
    def forward(ctx, x, axis, sizes):
        index = [slice(None)] * x.ndim
        pieces, start = [], 0
        for size in sizes:
            index[axis] = slice(start, start + size)
            pieces.append(x[tuple(index)])
            start += size
        return tuple(pieces)

    @staticmethod
    def vjp(ctx, *grads):
        return concat(grads, ctx.params["axis"])

    @staticmethod
    def zeros_like_output(ctx, index):
        x = ctx.saved[0].data
        shape = list(x.shape)
        shape[ctx.params["axis"]] = ctx.params["sizes"][index]
        return array_module(x).zeros(tuple(shape), x.dtype)


def split(x, split_size_or_sections, axis: int = 0):
    """Split into pieces of a given size (the last may be smaller) or of listed sizes.

    The pieces are views of ``x``; their gradients are joined by one concatenation.

    Example:
        >>> import ember
        >>> a, b = ember.split(ember.arange(5), [2, 3])
        >>> a.tolist(), b.tolist()
        ([0, 1], [2, 3, 4])
    """
    x = _tensor(x)
    axis = _axis("split", axis, x.ndim)
    length = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ValueError(f"split: split size must be positive, got {size}")
        sizes = [size] * (length // size) + ([length % size] if length % size else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != length:
            raise ValueError(f"split: sizes {sizes} do not add up to dimension {axis} of {x.shape}")
    if len(sizes) == 1:
        return (x,)
    return apply(with_outputs(_Split, len(sizes)), (x,), {"axis": axis, "sizes": tuple(sizes)})


def chunk(x, chunks: int, axis: int = 0):
    """Split into ``chunks`` nearly equal pieces (PyTorch's rule: ceil-sized pieces)."""
    x = _tensor(x)
    if chunks <= 0:
        raise ValueError(f"chunk: number of chunks must be positive, got {chunks}")
    length = x.shape[_axis("chunk", axis, x.ndim)]
    size = -(-length // chunks) if length else 1
    return split(x, max(size, 1), axis)


# ------------------------------------------------------------------ pad, flip, repeat, tile
class Pad(Function):
    @staticmethod
    def forward(ctx, x, pad_width, value):
        return array_module(x).pad(x, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def vjp(ctx, g):
        index = tuple(slice(before, g.shape[i] - after)
                      for i, (before, after) in enumerate(ctx.params["pad_width"]))
        return getitem(g, index)

    @staticmethod
    def jvp(ctx, t):
        return apply(Pad, (t,), {"pad_width": ctx.params["pad_width"], "value": 0})


def pad(x, pad_width, value: float = 0.0):
    """Pad with a constant; ``pad_width`` is NumPy's ``((before, after), ...)`` per axis.

    A flat PyTorch-style tuple ``(left, right, top, bottom, ...)`` (last axis first) is
    accepted too.
    """
    x = _tensor(x)
    widths = list(pad_width)
    if widths and isinstance(widths[0], int):
        if len(widths) % 2 or len(widths) // 2 > x.ndim:
            raise ValueError(f"pad: flat padding {tuple(widths)} must have an even length <= 2*{x.ndim}")
        pairs = [(0, 0)] * x.ndim
        for i in range(len(widths) // 2):
            pairs[x.ndim - 1 - i] = (widths[2 * i], widths[2 * i + 1])
        widths = pairs
    widths = tuple((int(a), int(b)) for a, b in widths)
    if len(widths) != x.ndim:
        raise ValueError(f"pad: got {len(widths)} (before, after) pairs for a tensor of shape {x.shape}")
    if any(a < 0 or b < 0 for a, b in widths):
        raise ValueError(f"pad: padding must be non-negative, got {widths}")
    return apply(Pad, (x,), {"pad_width": widths, "value": value})


class Flip(LinearFunction):
    @staticmethod
    def forward(ctx, x, axes):
        return array_module(x).flip(x, axis=axes)

    @staticmethod
    def vjp(ctx, g):
        return flip(g, ctx.params["axes"])

def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (all axes when None)."""
    x = _tensor(x)
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        axes = tuple(_axis("flip", a, x.ndim) for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
    return apply(Flip, (x,), {"axes": axes})


class Repeat(LinearFunction):
    @staticmethod
    def forward(ctx, x, repeats, axis):
        return array_module(x).repeat(x, repeats, axis=axis)

    @staticmethod
    def vjp(ctx, g):
        shape = ctx.in_meta[0][0]
        r, axis = ctx.params["repeats"], ctx.params["axis"]
        split_shape = shape[:axis] + (shape[axis], r) + shape[axis + 1:]
        from .reduce import sum as reduce_sum

        return reduce_sum(reshape(g, split_shape), axis=axis + 1)

def repeat(x, repeats, axis=None):
    """Repeat each element ``repeats`` times along ``axis`` (NumPy's ``repeat``)."""
    x = _tensor(x)
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis("repeat", axis, x.ndim)
    if isinstance(repeats, int):
        if repeats < 0:
            raise ValueError(f"repeat: repeats must be non-negative, got {repeats}")
        return apply(Repeat, (x,), {"repeats": repeats, "axis": axis})
    xp = array_module(x.data)
    counts = xp.asarray(repeats.data if hasattr(repeats, "data") else repeats)
    if counts.shape != (x.shape[axis],):
        raise ValueError(f"repeat: {counts.size} repeat counts for dimension {axis} of size {x.shape[axis]}")
    # Uneven repeats are a gather of source positions, whose vjp is a scatter-add.
    return index_select(x, axis, xp.repeat(xp.arange(x.shape[axis]), counts))


def tile(x, reps):
    """Repeat the whole tensor ``reps`` times along each axis (NumPy's ``tile``)."""
    x = _tensor(x)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    ndim = max(len(reps), x.ndim)
    reps = (1,) * (ndim - len(reps)) + reps
    shape = (1,) * (ndim - x.ndim) + x.shape
    interleaved = []
    for s in shape:
        interleaved += [1, s]
    target = []
    for r, s in zip(reps, shape):
        target += [r, s]
    y = broadcast_to(reshape(x, tuple(interleaved)), tuple(target))
    return reshape(y, tuple(r * s for r, s in zip(reps, shape)))


class SetItem(Function):
    """``x`` with ``x[index] = value``, out of place (what a recorded ``x[i] = v`` becomes)."""

    name = "setitem"

    @staticmethod
    def forward(ctx, x, value, index):
        out = x.copy()
        out[index] = value
        return out

    @staticmethod
    def vjp(ctx, g):
        index = ctx.params["index"]
        gx = gvalue = None
        if ctx.edges[0] is not None:
            # Overwritten positions pass no gradient back to the old value.
            xp = array_module(g.data)
            keep = xp.ones(g.shape, dtype=g.data.dtype)
            keep[index] = 0
            gx = g * keep
        if ctx.edges[1] is not None:
            gvalue = apply(GetItem, (g,), {"index": index})
        return gx, gvalue

    @staticmethod
    def jvp(ctx, tx, tvalue):
        x, value = ctx.inputs
        tx = tx if tx is not None else x.zeros_like()
        tvalue = tvalue if tvalue is not None else value.zeros_like()
        return apply(SetItem, (tx, tvalue), ctx.params)


def setitem(x, index, value):
    """Return a copy of ``x`` with ``x[index] = value`` (differentiable in both)."""
    from .checks import binary_operands

    x = _tensor(x)
    x, value = binary_operands("setitem", x, value)
    if value.dtype != x.dtype:
        value = value.astype(x.dtype)
    key = normalize_index(index, array_module(x.data))
    try:
        return apply(SetItem, (x, value), {"index": key})
    except (ValueError, IndexError) as error:
        raise type(error)(f"setitem: {error} (tensor {x.shape}, value {value.shape})") from None


class Identity(LinearFunction):
    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def vjp(ctx, g):
        return g

class Copy(LinearFunction):
    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def vjp(ctx, g):
        return g

def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to, or a ValueError naming them."""
    from ..backend import numpy_module

    try:
        return numpy_module().broadcast_shapes(*shapes)
    except ValueError:
        raise broadcast_error("broadcast", *shapes) from None
