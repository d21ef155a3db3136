"""Index-driven ops beyond ``getitem`` and ``gather``: scatter, scatter_reduce, index_add,
index_put, take_along_dim, masked_select, nonzero / argwhere, meshgrid and unfold.

Each follows PyTorch's argument names and shape rules; the differentiable ones are
built on the primitives of ``movement.py`` (``getitem``, ``gather``, ``scatter_add``)
or declare their own forward and vjp side by side.
"""
from __future__ import annotations

from ..autograd.function import Function, apply
from ..backend import array_module
from ..errors import ArgumentError, DimensionError, DTypeError, ShapeError
from . import movement as M
from .checks import to_tensor


def _index_tensor(op: str, index, x):
    """``index`` as an integer array with ``x``'s number of dimensions (PyTorch's scatter/gather rule)."""
    xp = array_module(x._data)
    idx = M.normalize_index(index, xp)[0]
    if not hasattr(idx, "dtype") or idx.dtype.kind not in "iu":
        raise DTypeError(f"{op}: index must be an integer tensor, got {getattr(idx, 'dtype', type(idx))}")
    if idx.ndim != x.ndim and not (idx.ndim <= 1 and x.ndim <= 1):
        raise ShapeError(f"{op}: index has {idx.ndim} dimensions but the input (shape {x.shape}) has {x.ndim}")
    # Reshape only the 0-d case: a new array object would hide the index's origin from ember.compile.
    return idx.reshape(()) if x.ndim == 0 and idx.shape != () else idx


def _check_index_fits(op: str, idx, dim: int, x_shape, src_shape=None) -> None:
    """PyTorch: ``index.size(d) <= src.size(d)`` for every d, ``<= self.size(d)`` for d != dim."""
    for d, size in enumerate(idx.shape):
        if src_shape is not None and size > src_shape[d]:
            raise ShapeError(f"{op}: expected index {idx.shape} to be no larger than src {tuple(src_shape)} "
                             f"in every dimension (dimension {d})")
        if d != dim and size > x_shape[d]:
            raise ShapeError(f"{op}: expected index {idx.shape} to be no larger than self {tuple(x_shape)} "
                             f"apart from dimension {dim} (dimension {d})")
    if idx.size and (int(idx.max()) >= x_shape[dim] or int(idx.min()) < -x_shape[dim]):
        raise IndexError(f"{op}: index out of range for dimension {dim} of size {x_shape[dim]}")


def _leading_block(array, shape):
    """``array[:shape[0], :shape[1], ...]``: the part that an index of ``shape`` addresses."""
    return array[tuple(slice(0, s) for s in shape)]


_SCATTER_REDUCE = {"sum": "add", "prod": "multiply", "amax": "maximum", "amin": "minimum", "mean": "add"}


class Scatter(Function):
    """``out = x`` with ``src`` written (or combined by ``reduce``) at ``index`` along ``axis``."""

    name = "scatter"

    @staticmethod
    def forward(ctx, x, src, index, axis, reduce, include_self):
        xp = array_module(x)
        where = M._along_axis(index, axis, xp)
        src = _leading_block(xp.broadcast_to(src, xp.broadcast_shapes(src.shape, index.shape))
                             if src.ndim == 0 else src, index.shape)
        out = x.copy()
        if reduce is None:
            out[where] = src
            return out
        ufunc = getattr(xp, _SCATTER_REDUCE[reduce])
        if not include_self:
            hit = xp.zeros(x.shape, dtype=bool)
            hit[where] = True
            identity = {"add": 0, "multiply": 1, "maximum": _lowest(xp, x.dtype), "minimum": _highest(xp, x.dtype)}
            out[hit] = identity[_SCATTER_REDUCE[reduce]]
        ufunc.at(out, where, src)
        if reduce == "mean":
            count = xp.zeros(x.shape, dtype=xp.int64) if not include_self else xp.ones(x.shape, dtype=xp.int64)
            xp.add.at(count, where, 1)
            count = xp.maximum(count, 1)
            out = (out / count).astype(x.dtype) if x.dtype.kind in "fc" else xp.floor_divide(out, count)
        return out

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        if p["reduce"] not in (None, "add", "sum"):
            raise NotImplementedError(f"scatter: the gradient of reduce={p['reduce']!r} is not implemented")
        index, axis = p["index"], p["axis"]
        xp = array_module(g._data)
        gx = g
        if p["reduce"] is None or not p["include_self"]:
            keep = xp.ones(g.shape, dtype=g.dtype)
            keep[M._along_axis(index, axis, xp)] = 0
            gx = g * keep
        gsrc = None
        if ctx.edges[1] is not None:
            picked = M.gather(g, axis, index)
            src_shape = ctx.in_meta[1][0]
            gsrc = M.pad(picked, [(0, s - i) for s, i in zip(src_shape, index.shape)]) if src_shape else picked.sum()
        return gx, gsrc


def _lowest(xp, dtype):
    return -xp.inf if dtype.kind == "f" else xp.iinfo(dtype).min


def _highest(xp, dtype):
    return xp.inf if dtype.kind == "f" else xp.iinfo(dtype).max


def _scatter(op: str, x, dim, index, src, reduce, include_self: bool):
    x = to_tensor(x)
    dim = M._axis(op, dim, x.ndim)
    idx = _index_tensor(op, index, x)
    from ..tensor import Tensor, constant

    if isinstance(src, Tensor):
        if src.dtype != x.dtype:
            raise DTypeError(f"{op}: expected self and src to have the same dtype, got {x.dtype} and {src.dtype}")
        if src.ndim != x.ndim and src.ndim:
            raise ShapeError(f"{op}: src has {src.ndim} dimensions but the input (shape {x.shape}) has {x.ndim}")
        _check_index_fits(op, idx, dim, x.shape, src.shape if src.ndim else None)
    else:
        _check_index_fits(op, idx, dim, x.shape)
        src = constant(array_module(x._data).asarray(src, dtype=x.dtype))
    return apply(Scatter, (x, src), {"index": idx, "axis": dim, "reduce": reduce, "include_self": include_self})


def scatter(input, dim: int, index, src=None, *, value=None, reduce: str | None = None):
    """Out-of-place ``torch.scatter``: ``input`` with ``src`` (a tensor or a number) written at ``index``.

    ``out[index[i][j][k]][j][k] = src[i][j][k]`` for ``dim == 0`` (and likewise for the other
    dims); ``reduce='add'`` or ``'multiply'`` combines instead of overwriting.

    Example:
        >>> import ember
        >>> ember.zeros(3).scatter(0, ember.tensor([2, 0]), ember.tensor([5.0, 7.0])).tolist()
        [7.0, 0.0, 5.0]
    """
    if src is None:
        src = value
    elif value is not None:
        raise TypeError("scatter: give src or value, not both")
    if src is None:
        raise TypeError("scatter: missing src (a tensor) or value (a number)")
    if reduce not in (None, "add", "multiply"):
        raise ArgumentError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    return _scatter("scatter", input, dim, index, src, {"add": "sum", "multiply": "prod"}.get(reduce), True)


def scatter_reduce(input, dim: int, index, src, reduce: str, *, include_self: bool = True):
    """``torch.scatter_reduce``: combine ``src`` into ``input`` at ``index`` by ``reduce``.

    ``reduce`` is ``'sum'``, ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``; with
    ``include_self=False`` the targeted entries of ``input`` are left out of the reduction.

    Example:
        >>> import ember
        >>> x = ember.tensor([1.0, 1.0])
        >>> x.scatter_reduce(0, ember.tensor([0, 0]), ember.tensor([2.0, 3.0]), "amax").tolist()
        [3.0, 1.0]
    """
    if reduce not in _SCATTER_REDUCE:
        raise ArgumentError(f"scatter_reduce: reduce must be one of {sorted(_SCATTER_REDUCE)}, got {reduce!r}")
    return _scatter("scatter_reduce", input, dim, index, to_tensor(src), reduce, include_self)


def index_add(input, dim: int, index, source, *, alpha=1):
    """``torch.index_add``: ``input`` with ``alpha * source`` added at positions ``index`` of ``dim``.

    Example:
        >>> import ember
        >>> ember.zeros(3).index_add(0, ember.tensor([0, 0, 2]), ember.tensor([1.0, 2.0, 3.0])).tolist()
        [3.0, 0.0, 3.0]
    """
    x, source = to_tensor(input), to_tensor(source)
    dim = M._axis("index_add", dim, x.ndim)
    xp = array_module(x._data)
    idx = M.normalize_index(index, xp)[0]
    if getattr(idx, "ndim", 0) > 1:
        raise ShapeError(f"index_add: index must be 0-d or 1-d, got shape {idx.shape}")
    idx = xp.asarray(idx).reshape(-1)
    expected = x.shape[:dim] + (idx.size,) + x.shape[dim + 1:] if x.ndim else ()
    if source.ndim and source.shape != expected:
        raise ShapeError(f"index_add: source shape {source.shape} must be {expected} for input {x.shape}, "
                         f"index of {idx.size} entries along dim {dim}")
    full_index = xp.broadcast_to(idx.reshape((-1,) + (1,) * (x.ndim - dim - 1)), expected) if x.ndim else idx
    return M.scatter_add(x, dim, full_index.astype(xp.int64), source.expand(*expected) * alpha)


def index_put(input, indices, values, accumulate: bool = False):
    """``torch.index_put``: ``input`` with ``input[indices] = values`` (or ``+=`` when ``accumulate``).

    Example:
        >>> import ember
        >>> ember.zeros(3).index_put((ember.tensor([0, 0]),), ember.tensor(1.0), accumulate=True).tolist()
        [2.0, 0.0, 0.0]
    """
    x = to_tensor(input)
    key = tuple(indices)
    if accumulate:
        positions = M.getitem(x, key)
        contribution = M.index_add_into_zeros(to_tensor(values).astype(x.dtype).expand(*positions.shape), x.shape,
                                              M.normalize_index(key, array_module(x._data)))
        return x + contribution
    out = x.clone()
    out[key] = values
    return out


def take_along_dim(input, indices, dim: int | None = None):
    """``torch.take_along_dim``: pick values at ``indices`` along ``dim`` (indices broadcast with input).

    With ``dim=None`` the input is flattened first.

    Example:
        >>> import ember
        >>> x = ember.tensor([[10.0, 30.0, 20.0]])
        >>> ember.take_along_dim(x, x.argsort(dim=1), dim=1).tolist()
        [[10.0, 20.0, 30.0]]
    """
    x, idx = to_tensor(input), to_tensor(indices)
    if idx.dtype.kind not in "iu":
        raise DTypeError(f"take_along_dim: indices must be an integer tensor, got {idx.dtype}")
    if dim is None:
        return M.gather(x.reshape(-1), 0, idx.reshape(-1))
    dim = M._axis("take_along_dim", dim, x.ndim)
    if idx.ndim != x.ndim:
        raise ShapeError(f"take_along_dim: input {x.shape} and indices {idx.shape} must have as many dimensions")
    shape_x, shape_i = list(x.shape), list(idx.shape)
    shape_x[dim] = shape_i[dim] = 1
    common = M.broadcast_shapes(tuple(shape_x), tuple(shape_i))
    x = x.expand(*[x.shape[d] if d == dim else common[d] for d in range(x.ndim)])
    idx = idx.expand(*[idx.shape[d] if d == dim else common[d] for d in range(idx.ndim)])
    return M.gather(x, dim, idx)


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (broadcast with it) is true, as a 1-D tensor.

    Example:
        >>> import ember
        >>> x = ember.tensor([1.0, -2.0, 3.0])
        >>> ember.masked_select(x, x > 0).tolist()
        [1.0, 3.0]
    """
    x, mask = to_tensor(input), to_tensor(mask)
    if mask.dtype.kind != "b":
        raise DTypeError(f"masked_select: expected a bool mask, got {mask.dtype}")
    shape = M.broadcast_shapes(x.shape, mask.shape)
    x = x.expand(*shape) if x.shape != tuple(shape) else x
    return M.getitem(x, array_module(mask._data).broadcast_to(mask._data, shape))


def nonzero(input, *, as_tuple: bool = False):
    """The indices of the non-zero elements of ``input``: an (n, ndim) int64 tensor, or one
    1-D tensor per dimension when ``as_tuple`` (``torch.nonzero``).

    Example:
        >>> import ember
        >>> ember.nonzero(ember.tensor([0, 3, 0, 5])).tolist()
        [[1], [3]]
    """
    from ..tensor import constant

    from ..autograd.tracing import _Trace

    x = to_tensor(input)
    if _Trace.tracer is not None:  # the result's shape depends on the values: a compiled step cannot replay it
        _Trace.tracer.check_read(x, "nonzero")
    xp = array_module(x._data)
    data = x._data.reshape(1) if x.ndim == 0 else x._data
    found = xp.nonzero(data)
    if as_tuple:
        return tuple(constant(f.astype(xp.int64)) for f in found)
    stacked = xp.stack(found, axis=1) if found else xp.zeros((0, 0), dtype=xp.int64)
    if x.ndim == 0:
        stacked = stacked[:, :0]
    return constant(stacked.astype(xp.int64))


def argwhere(input):
    """``torch.argwhere``: the same as ``nonzero(input)``."""
    return nonzero(input)


def meshgrid(*tensors, indexing: str | None = None):
    """Coordinate grids from 1-D (or 0-d) tensors, as ``torch.meshgrid``.

    ``indexing='ij'`` (the default) gives grids of shape ``(len(t0), len(t1), ...)``;
    ``'xy'`` swaps the first two dimensions (NumPy's and MATLAB's convention).

    Example:
        >>> import ember
        >>> a, b = ember.meshgrid(ember.tensor([1, 2]), ember.tensor([3, 4, 5]), indexing="ij")
        >>> a.shape, b.shape
        ((2, 3), (2, 3))
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ArgumentError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = [to_tensor(t) for t in tensors]
    for t in tensors:
        if t.ndim > 1:
            raise ShapeError(f"meshgrid: expected 0-d or 1-d tensors, got shape {t.shape}")
    if not tensors:
        raise ArgumentError("meshgrid: expected at least one tensor")
    if len({t.dtype for t in tensors}) > 1:
        raise DTypeError(f"meshgrid: expected tensors of one dtype, got {[str(t.dtype) for t in tensors]}")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = tuple(t.shape[0] for t in flat)
    grids = []
    for i, t in enumerate(flat):
        view = [1] * len(flat)
        view[i] = shape[i]
        grids.append(t.reshape(*view).expand(*shape))
    if swap:  # the grids of the swapped inputs, handed back in the callers' order
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def unfold(input, dimension: int, size: int, step: int):
    """``Tensor.unfold``: every slice of length ``size`` along ``dimension``, ``step`` apart.

    The slices become a new last dimension: a (8,) tensor unfolded with size 2, step 2
    has shape (4, 2).

    Example:
        >>> import ember
        >>> ember.arange(5).unfold(0, 2, 1).tolist()
        [[0, 1], [1, 2], [2, 3], [3, 4]]
    """
    x = to_tensor(input)
    ndim = max(x.ndim, 1)
    if not -ndim <= dimension < ndim:
        raise DimensionError(f"unfold: dimension {dimension} is out of range for a tensor with {x.ndim} "
                             f"dimensions (expected to be in range of [{-ndim}, {ndim - 1}])")
    if x.ndim == 0:
        x = x.reshape(1)
    dimension %= x.ndim
    length = x.shape[dimension]
    if step <= 0:
        raise ArgumentError(f"unfold: step must be positive, got {step}")
    if size < 0 or size > length:
        raise ShapeError(f"unfold: maximum size for tensor at dimension {dimension} is {length} but size is {size}")
    count = (length - size) // step + 1
    xp = array_module(x._data)
    windows = xp.arange(count)[:, None] * step + xp.arange(size)[None, :]  # (count, size)
    picked = M.getitem(x, (slice(None),) * dimension + (windows,))  # (..., count, size, ...)
    return M.movedim(picked, dimension + 1, -1) if dimension + 1 != x.ndim else picked
