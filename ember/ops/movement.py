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
from ..errors import ArgumentError, DimensionError, LayoutError, ShapeError
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
        raise ShapeError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None


def sum_to(x, shape):
    """Sum ``x`` over broadcast dimensions so that it has ``shape``."""
    x = _tensor(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if lead < 0 or any(s != 1 and s != xs for s, xs in zip(shape, x.shape[lead:])):
        raise ShapeError(f"sum_to: shape {x.shape} cannot be summed down to {shape}")
    return apply(SumTo, (x,), {"shape": shape})


def expand(x, *shape):
    """Broadcast to ``shape``, where -1 keeps a dimension (PyTorch's ``expand``)."""
    x = _tensor(x)
    shape = _shape_args(shape)
    lead = len(shape) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: cannot expand shape {x.shape} to fewer dimensions {shape}")
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
        raise ShapeError(
            f"reshape: cannot reshape tensor of shape {x.shape} ({x.numel()} elements) into {shape}"
        ) from None


def view(x, *shape):
    """PyTorch's ``view``: :func:`reshape` that refuses to copy.

    The result must share memory with ``x``; when the strides of ``x`` (after a
    ``transpose`` or a stepped slice) cannot express the new shape, a
    RuntimeError says to call ``.contiguous()`` or ``.reshape()``, as PyTorch does.
    """
    x = _tensor(x)
    target = _shape_args(shape)
    data = x._data
    if not data.flags.c_contiguous and data.size > 1:
        try:
            data.reshape(target, copy=False)
        except (ValueError, TypeError):
            raise LayoutError(
                f"view: size {target} is not compatible with the layout of a tensor of shape {x.shape} "
                f"and strides {data.strides} (at least one dimension spans two contiguous subspaces); "
                "use .reshape(...) or .contiguous().view(...)") from None
    return reshape(x, target)


def flatten(x, start_dim: int = 0, end_dim: int = -1):
    """Merge dimensions ``start_dim..end_dim`` into one."""
    x = _tensor(x)
    if x.ndim == 0:
        return reshape(x, (1,))
    start = _axis("flatten", start_dim, x.ndim)
    end = _axis("flatten", end_dim, x.ndim)
    if start > end:
        raise ArgumentError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    merged = 1
    for s in x.shape[start:end + 1]:
        merged *= s
    return reshape(x, x.shape[:start] + (merged,) + x.shape[end + 1:])


def squeeze(x, dim=None, *, axis=None):
    """Remove dimensions of size 1: all of them, or those in ``dim`` that have size 1
    (PyTorch leaves a named dimension of another size alone)."""
    x = _tensor(x)
    dim = dim if axis is None else axis
    if dim is None:
        return reshape(x, tuple(s for s in x.shape if s != 1))
    axes = {_axis("squeeze", a, x.ndim) for a in (dim if isinstance(dim, (tuple, list)) else (dim,))}
    return reshape(x, tuple(s for i, s in enumerate(x.shape) if not (i in axes and s == 1)))


def unsqueeze(x, dim: int = None, *, axis=None):
    """Insert a dimension of size 1 at ``dim``."""
    x = _tensor(x)
    dim = dim if axis is None else axis
    if dim is None:
        raise TypeError("unsqueeze: missing the dim argument")
    a = _axis("unsqueeze", dim, x.ndim + 1)
    return reshape(x, x.shape[:a] + (1,) + x.shape[a:])


def unflatten(x, dim: int, sizes):
    """Split dimension ``dim`` into ``sizes`` (one entry may be -1)."""
    x = _tensor(x)
    d = _axis("unflatten", dim, x.ndim)
    sizes = tuple(int(s) for s in sizes)
    known = 1
    for s in sizes:
        known *= s if s != -1 else 1
    if sizes.count(-1) > 1 or (-1 not in sizes and known != x.shape[d]) or (
            -1 in sizes and (known == 0 or x.shape[d] % known)):
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply to dimension {d} of shape {x.shape}")
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])


def narrow(x, dim: int, start: int, length: int):
    """The slice ``start:start+length`` of dimension ``dim`` (shares memory, as in PyTorch)."""
    x = _tensor(x)
    d = _axis("narrow", dim, x.ndim)
    size = x.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size or length < 0 or start + length > size:
        raise IndexError(f"narrow: start {start} and length {length} exceed dimension {d} of shape {x.shape}")
    return getitem(x, (slice(None),) * d + (slice(start, start + length),))


def movedim(x, source, destination):
    """Move dimension(s) ``source`` to position(s) ``destination``, keeping the others in order."""
    x = _tensor(x)
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ArgumentError(f"movedim: {len(src)} source dims but {len(dst)} destinations")
    src = [_axis("movedim", a, x.ndim) for a in src]
    dst = [_axis("movedim", a, x.ndim) for a in dst]
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(x, *order)


def unbind(x, dim: int = 0):
    """The slices of ``x`` along ``dim``, as a tuple of tensors with that dimension removed."""
    x = _tensor(x)
    d = _axis("unbind", dim, x.ndim)
    return tuple(squeeze(piece, d) for piece in split(x, 1, d)) if x.shape[d] else ()


def _axis(op, axis, ndim):
    if not isinstance(axis, (int,)) and not hasattr(axis, "__index__"):
        raise TypeError(f"{op}: dim must be an integer, got {type(axis).__name__}")
    axis = int(axis)
    if not -max(ndim, 1) <= axis < max(ndim, 1):  # a 0-d tensor takes dim 0 or -1, as in PyTorch
        raise DimensionError(f"{op}: dim {axis} is out of range for a tensor with {ndim} dimensions "
                             f"(expected to be in range of [{-max(ndim, 1)}, {max(ndim, 1) - 1}])")
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
        return _permute(g, tuple(inverse))

def transpose(x, dim0=None, dim1=None):
    """PyTorch's ``transpose``: swap dimensions ``dim0`` and ``dim1``.

    NumPy's spellings are accepted as aliases: ``transpose(x)`` reverses the dimensions,
    and ``transpose(x, axes_tuple)`` permutes them (PyTorch's :func:`permute`).
    """
    x = _tensor(x)
    if dim0 is None and dim1 is None:
        return _permute(x, tuple(reversed(range(x.ndim))))
    if isinstance(dim0, (tuple, list)) and dim1 is None:
        return _permute(x, tuple(dim0))
    if dim1 is None:
        raise TypeError("transpose: expected two dimensions to swap, as transpose(x, dim0, dim1)")
    axes = list(range(x.ndim))
    a, b = _axis("transpose", dim0, x.ndim), _axis("transpose", dim1, x.ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return _permute(x, tuple(axes))


def _permute(x, axes):
    axes = tuple(_axis("permute", a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"permute: dims {axes} are not a permutation of a tensor of shape {x.shape}")
    if axes == tuple(range(x.ndim)):
        return x
    return apply(Transpose, (x,), {"axes": axes})


def permute(x, *dims):
    """Reorder the dimensions of ``x`` (``permute(x, 2, 0, 1)`` or ``permute(x, (2, 0, 1))``)."""
    return _permute(_tensor(x), _shape_args(dims))


def swapaxes(x, axis0: int, axis1: int):
    """Exchange two dimensions (PyTorch's alias of :func:`transpose`)."""
    return transpose(x, axis0, axis1)


swapdims = swapaxes


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
    """Turn an indexing key into a tuple of ints, slices, None, Ellipsis and ``xp`` arrays.

    Lists, nested tuples and ranges inside the key become integer (or boolean) arrays,
    as PyTorch reads them.
    """
    from ..tensor import Tensor

    if not isinstance(index, tuple):
        index = (index,)
    out = []
    for item in index:
        if isinstance(item, Tensor):
            item = item._data
        elif isinstance(item, (list, tuple, range)):
            item = xp.asarray(_plain_sequence(item))
            if item.size == 0:
                item = item.astype(xp.int64)
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


def _plain_sequence(item):
    """Nested lists/tuples/ranges with tensors inside, as plain Python values for ``asarray``."""
    from ..tensor import Tensor

    if isinstance(item, Tensor):
        return item.numpy()
    if isinstance(item, (list, tuple, range)):
        return [_plain_sequence(i) for i in item]
    return item


def _torch_order(index):
    """Split a key mixing ints and advanced indices into PyTorch's two steps, or None.

    PyTorch applies integer indices first, as basic indexing, so ``x[0, :, [1, 2]]`` of a
    (3, 4, 5) tensor has shape (4, 2); NumPy counts the int as an advanced index and
    gives (2, 4). Indexing first with the ints (everything else a full slice), then
    with the rest, reproduces PyTorch's order.
    """
    has_int = any(isinstance(i, int) and not isinstance(i, bool) for i in index)
    has_array = any(hasattr(i, "dtype") and i.ndim > 0 for i in index)
    if not (has_int and has_array):
        return None
    first, rest = [], []
    for item in index:
        if isinstance(item, int) and not isinstance(item, bool):
            first.append(item)
        elif item is None:
            rest.append(item)
        elif hasattr(item, "dtype"):
            first.extend([slice(None)] * (item.ndim if item.dtype.kind == "b" else 1))
            rest.append(item)
        else:  # a slice or Ellipsis
            first.append(slice(None) if isinstance(item, slice) else item)
            rest.append(item)
    return tuple(first), tuple(rest)


def assign_index(array, key, value) -> None:
    """``array[key] = value`` in place, with PyTorch's order for ints mixed with advanced indices."""
    steps = _torch_order(key)
    if steps is None:
        array[key] = value
    else:
        array[steps[0]][steps[1]] = value  # the int step is basic indexing: a view to write through


def getitem(x, index):
    """``x[index]`` with basic and advanced indexing in PyTorch's order; repeated indices
    accumulate gradients."""
    x = _tensor(x)
    index = normalize_index(index, array_module(x._data))
    steps = _torch_order(index)
    try:
        if steps is not None:
            return apply(GetItem, (apply(GetItem, (x,), {"index": steps[0]}),), {"index": steps[1]})
        return apply(GetItem, (x,), {"index": index})
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor of shape {x.shape})") from None


def index_select(x, dim: int, index, *, axis=None):
    """Select entries of ``x`` along ``axis`` by an integer index vector."""
    dim = dim if axis is None else axis
    x = _tensor(x)
    dim = _axis("index_select", dim, x.ndim)
    idx = normalize_index(index, array_module(x._data))[0]
    if getattr(idx, "ndim", 1) != 1:
        raise ShapeError(f"index_select: index must be 1-D, got shape {getattr(idx, 'shape', ())}")
    return getitem(x, (slice(None),) * dim + (idx,))


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
    idx = normalize_index(index, array_module(x._data))[0]
    if not hasattr(idx, "dtype") or idx.dtype.kind not in "iu":
        raise TypeError(f"{op}: index must be an integer tensor")
    if idx.ndim != ndim:
        raise ArgumentError(f"{op}: index has {idx.ndim} dimensions but the input has {ndim}")
    return idx


def gather(x, dim: int, index, *, axis=None):
    """``out[i][j] = x[i][index[i][j]]`` along ``axis`` (PyTorch's ``gather``)."""
    dim = dim if axis is None else axis
    x = _tensor(x)
    dim = _axis("gather", dim, x.ndim)
    idx = _index_array("gather", index, x)
    for d, size in enumerate(idx.shape):
        if d != dim and size > x.shape[d]:
            raise ShapeError(f"gather: index {idx.shape} is larger than the input {x.shape} in dimension {d} "
                             f"(only dimension {dim} may differ)")
    if any(size < x.shape[d] for d, size in enumerate(idx.shape) if d != dim):
        # PyTorch reads only the leading block of the other dims that the index covers.
        x = getitem(x, tuple(slice(None) if d == dim else slice(0, s) for d, s in enumerate(idx.shape)))
    try:
        return apply(Gather, (x,), {"index": idx, "axis": dim})
    except (IndexError, ValueError) as error:
        raise ShapeError(f"gather: {error} (input {x.shape}, index {idx.shape}, dim {dim})") from None


def scatter_add(x, dim: int, index, src, *, axis=None):
    """Return ``x`` with ``src`` added at ``index`` along ``axis`` (repeats accumulate)."""
    dim = dim if axis is None else axis
    x, src = _tensor(x), _tensor(src)
    dim = _axis("scatter_add", dim, x.ndim)
    idx = _index_array("scatter_add", index, x)
    if idx.shape != src.shape:
        raise ShapeError(f"scatter_add: index shape {idx.shape} must equal src shape {src.shape}")
    if src.dtype != x.dtype:
        src = src.astype(x.dtype)
    try:
        return apply(ScatterAdd, (x, src), {"index": idx, "axis": dim})
    except IndexError as error:
        raise ShapeError(f"scatter_add: {error} (input {x.shape}, index {idx.shape})") from None


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
    low = int(indices._data.min()) if indices.numel() else 0
    high = int(indices._data.max()) if indices.numel() else -1
    if num_classes == -1:
        num_classes = high + 1
    if low < 0 or high >= num_classes:
        raise ArgumentError(f"one_hot: class indices must lie in [0, {num_classes}), got [{low}, {high}]")
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


def cat(tensors, dim: int = 0, *, axis=None):
    """Join tensors along an existing axis (dtypes are promoted to a common one)."""
    dim = dim if axis is None else axis
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise ArgumentError("concat: expected a non-empty sequence of tensors")
    first = tensors[0]
    dim = _axis("concat", dim, first.ndim)
    for t in tensors[1:]:
        if t.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != dim
        ):
            raise ShapeError(f"concat: shapes {first.shape} and {t.shape} differ outside dim {dim}")
    dtype = array_module(first._data).result_type(*[t._data for t in tensors])
    tensors = tuple(t if t.dtype == dtype else t.astype(dtype) for t in tensors)
    return apply(Concat, tensors, {"axis": dim})


concat = cat
concatenate = cat


def stack(tensors, dim: int = 0, *, axis=None):
    """Join tensors of equal shape along a new axis."""
    dim = dim if axis is None else axis
    tensors = [_tensor(t) for t in tensors]
    if not tensors:
        raise ArgumentError("stack: expected a non-empty sequence of tensors")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack: all tensors must have one shape, got {tensors[0].shape} and {t.shape}")
    dim = _axis("stack", dim, tensors[0].ndim + 1)
    return concat([unsqueeze(t, dim) for t in tensors], dim)


class _Split(LinearFunction):
    """Consecutive pieces of ``x`` along ``dim`` (views); params ``dim``, ``sizes``.

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
        x = ctx.saved[0]._data
        shape = list(x.shape)
        shape[ctx.params["axis"]] = ctx.params["sizes"][index]
        return array_module(x).zeros(tuple(shape), x.dtype)


def split(x, split_size_or_sections, dim: int = 0, *, axis=None):
    """Split into pieces of a given size (the last may be smaller) or of listed sizes.

    The pieces are views of ``x``; their gradients are joined by one concatenation.

    Example:
        >>> import ember
        >>> a, b = ember.split(ember.arange(5), [2, 3])
        >>> a.tolist(), b.tolist()
        ([0, 1], [2, 3, 4])
    """
    dim = dim if axis is None else axis
    x = _tensor(x)
    dim = _axis("split", dim, x.ndim)
    length = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise ArgumentError(f"split: split size must be positive, got {size}")
        sizes = [size] * (length // size) + ([length % size] if length % size else [])
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if builtins.sum(sizes) != length:
            raise ShapeError(f"split: sizes {sizes} do not add up to dimension {dim} of {x.shape}")
    if len(sizes) == 1:
        return (x,)
    return apply(with_outputs(_Split, len(sizes)), (x,), {"axis": dim, "sizes": tuple(sizes)})


def chunk(x, chunks: int, dim: int = 0, *, axis=None):
    """Split into ``chunks`` nearly equal pieces (PyTorch's rule: ceil-sized pieces)."""
    dim = dim if axis is None else axis
    x = _tensor(x)
    if chunks <= 0:
        raise ArgumentError(f"chunk: number of chunks must be positive, got {chunks}")
    length = x.shape[_axis("chunk", dim, x.ndim)]
    size = -(-length // chunks) if length else 1
    return split(x, max(size, 1), dim)


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
            raise ArgumentError(f"pad: flat padding {tuple(widths)} must have an even length <= 2*{x.ndim}")
        pairs = [(0, 0)] * x.ndim
        for i in range(len(widths) // 2):
            pairs[x.ndim - 1 - i] = (widths[2 * i], widths[2 * i + 1])
        widths = pairs
    widths = tuple((int(a), int(b)) for a, b in widths)
    if len(widths) != x.ndim:
        raise ShapeError(f"pad: got {len(widths)} (before, after) pairs for a tensor of shape {x.shape}")
    if any(a < 0 or b < 0 for a, b in widths):
        raise ArgumentError(f"pad: padding must be non-negative, got {widths}")
    return apply(Pad, (x,), {"pad_width": widths, "value": value})


class Flip(LinearFunction):
    @staticmethod
    def forward(ctx, x, axes):
        return array_module(x).flip(x, axis=axes)

    @staticmethod
    def vjp(ctx, g):
        return flip(g, ctx.params["axes"])

def flip(x, dims=None, *, axis=None):
    """Reverse the order of elements along ``dims`` (all dims when None, a NumPy alias)."""
    dims = dims if axis is None else axis
    x = _tensor(x)
    if dims is None:
        axes = tuple(range(x.ndim))
    else:
        axes = tuple(_axis("flip", a, x.ndim) for a in (dims if isinstance(dims, (tuple, list)) else (dims,)))
    if len(set(axes)) != len(axes):
        raise ArgumentError(f"flip: dims {tuple(dims)} name a dimension more than once (tensor of shape {x.shape})")
    if not axes:
        return apply(Copy, (x,), {})  # flip(()) reverses nothing
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

        return reduce_sum(reshape(g, split_shape), axis + 1)

def repeat_interleave(x, repeats, dim=None, *, output_size=None, axis=None):
    """Repeat each element ``repeats`` times along ``dim`` (over the flattened tensor when None);
    ``repeats`` may be an int or one count per entry (PyTorch's ``repeat_interleave``, NumPy's ``repeat``).

    Example:
        >>> ember.tensor([1, 2]).repeat_interleave(2).tolist()
        [1, 1, 2, 2]
    """
    x = _tensor(x)
    dim = dim if axis is None else axis
    if dim is None:
        x, dim = reshape(x, (-1,)), 0
    dim = _axis("repeat_interleave", dim, x.ndim)
    if isinstance(repeats, int) or getattr(repeats, "ndim", 1) == 0:
        repeats = int(repeats)
        if repeats < 0:
            raise ArgumentError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
        return apply(Repeat, (x,), {"repeats": repeats, "axis": dim})
    xp = array_module(x._data)
    counts = xp.asarray(repeats._data if hasattr(repeats, "_data") else repeats)
    if counts.shape != (x.shape[dim],):
        raise ShapeError(f"repeat_interleave: {counts.size} repeat counts for dimension {dim} of size "
                         f"{x.shape[dim]}")
    if counts.size and counts.min() < 0:
        raise ArgumentError("repeat_interleave: repeats must be non-negative")
    # Uneven repeats are a gather of source positions, whose vjp is a scatter-add.
    return index_select(x, dim, xp.repeat(xp.arange(x.shape[dim]), counts))


def repeat(x, *sizes):
    """PyTorch's ``repeat``: tile the whole tensor ``sizes[i]`` times along dimension ``i``
    (``sizes`` may have more entries than ``x`` has dimensions; new ones lead).

    Example:
        >>> ember.tensor([1, 2]).repeat(2, 2).tolist()
        [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    x = _tensor(x)
    sizes = _shape_args(sizes)
    if len(sizes) < x.ndim:
        raise ShapeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller than the number "
                         f"of tensor dims ({x.ndim}, shape {x.shape})")
    return tile(x, sizes)


def tile(x, dims):
    """Repeat the whole tensor ``dims[i]`` times along each dimension (missing leading entries are 1)."""
    x = _tensor(x)
    reps = (dims,) if isinstance(dims, int) else tuple(int(d) for d in dims)
    if any(r < 0 for r in reps):
        raise ArgumentError(f"tile: repeats must be non-negative, got {reps}")
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
        assign_index(out, index, value)
        return out

    @staticmethod
    def vjp(ctx, g):
        index = ctx.params["index"]
        gx = gvalue = None
        if ctx.edges[0] is not None:
            # Overwritten positions pass no gradient back to the old value.
            xp = array_module(g._data)
            keep = xp.ones(g.shape, dtype=g._data.dtype)
            assign_index(keep, index, 0)
            gx = g * keep
        if ctx.edges[1] is not None:
            gvalue = getitem(g, index)
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
    key = normalize_index(index, array_module(x._data))
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
