"""``Tensor``: an array from the backend plus what autograd needs to know about it.

A tensor holds ``data`` (a NumPy or CuPy array), ``grad``, ``requires_grad`` and,
when an op produced it while recording, the ``node`` of the tape that made it.
Its methods are thin: each one calls an op from ``ember.ops``.
"""
from __future__ import annotations

from typing import Any

from . import backend
from .autograd import engine
from .autograd.function import apply
from .autograd.grad_mode import _State
from .autograd.tracing import _Trace
from .ops import elementwise as E
from .ops import linalg as L
from .ops import movement as M
from .ops import reduce as R


class Tensor:
    """An n-dimensional array that records the ops applied to it for differentiation.

    Example:
        >>> import ember
        >>> x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 4., 6.])
    """

    __slots__ = ("data", "_grad", "requires_grad", "node", "out_index", "_version", "_hooks",
                 "_tangent", "__weakref__")

    # NumPy must defer to Tensor's reflected operators (ndarray + Tensor -> Tensor.__radd__).
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data.data
        array = _to_array(data, dtype)
        self.data = array
        self._grad = None
        self.node = None
        self.out_index = 0
        self._version = 0
        self._hooks = None
        self._tangent = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data, requires_grad: bool, node, index: int) -> "Tensor":
        """Wrap an array without any checks (the ops' fast path)."""
        t = object.__new__(cls)
        t.data = data
        t._grad = None
        t.requires_grad = requires_grad
        t.node = node
        t.out_index = index
        t._version = 0
        t._hooks = None
        t._tangent = None
        return t

    @property
    def grad(self) -> "Tensor | None":
        """The accumulated gradient of a leaf (or of a non-leaf after ``retain_grad()``)."""
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"grad must be a Tensor or None, got {type(value).__name__}")
        if value is not None and value.shape != self.data.shape:
            raise ValueError(f"grad: shape {value.shape} does not match tensor shape {self.data.shape}")
        self._grad = value
        if _Trace.tracer is not None:
            _Trace.tracer.record_grad_assignment(self, value)

    # ------------------------------------------------------------ array facts
    @property
    def shape(self) -> tuple:
        """The tensor's dimensions."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements."""
        return self.data.size

    @property
    def dtype(self):
        """The element type (a NumPy dtype)."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """``'cpu'`` or ``'cuda:N'``."""
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user rather than by a recorded op."""
        return self.node is None

    @property
    def grad_fn(self):
        """The tape node that produced this tensor, or None for leaves."""
        return self.node

    def dim(self) -> int:
        """The number of dimensions (PyTorch spelling)."""
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements (PyTorch spelling)."""
        return self.data.size

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def numpy(self):
        """The data as a NumPy array (shared, not copied, on the CPU)."""
        if _Trace.tracer is not None:
            _Trace.tracer.check_read(self, "numpy")
        data = self.data
        return data if backend.device_of(data) == "cpu" else data.get()

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        if _Trace.tracer is not None:
            _Trace.tracer.check_read(self, "item")
        return self.data.item()

    def tolist(self):
        """The data as (nested) Python lists."""
        return self.numpy().tolist()

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype)

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export the data through DLPack (zero-copy), for ``numpy.from_dlpack`` or ``torch.from_dlpack``."""
        from .io.dlpack import tensor_dlpack

        return tensor_dlpack(self, stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        """The DLPack device tuple of the data."""
        from .io.dlpack import tensor_dlpack_device

        return tensor_dlpack_device(self)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        if _Trace.tracer is not None:
            _Trace.tracer.check_read(self, "bool")
        if self.data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self.data)

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        if _Trace.tracer is not None:
            _Trace.tracer.check_read(self, "index")
        return int(self.data)

    def __repr__(self) -> str:
        body = backend.numpy_module().array2string(
            self.numpy(), separator=", ", prefix="tensor(", precision=4
        )
        extras = []
        if self.data.dtype not in (backend.default_dtype(),) and self.data.dtype.kind == "f":
            extras.append(f"dtype={self.data.dtype}")
        elif self.data.dtype.kind in "iub" and self.data.size == 0:
            extras.append(f"dtype={self.data.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self.node is not None:
            extras.append(f"grad_fn=<{self.node.fn.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __hash__ = object.__hash__

    # ------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        Args:
            gradient: the gradient of some scalar with respect to ``self``; may be
                omitted when ``self`` has one element.
            retain_graph: keep the saved values so that backward can run again
                (defaults to ``create_graph``).
            create_graph: record the backward pass itself, so the gradients can be
                differentiated again (for Hessian-vector products and the like).
        """
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward: gradient can be implicitly created only for one-element outputs; "
                    f"this tensor has shape {self.shape}, so pass gradient= of that shape"
                )
            gradient = Tensor._make(backend.array_module(self.data).ones_like(self.data), False, None, 0)
        else:
            gradient = as_tensor(gradient)
            if gradient.shape != self.shape:
                raise ValueError(f"backward: gradient shape {gradient.shape} does not match tensor shape {self.shape}")
        if retain_graph is None:
            retain_graph = create_graph
        engine.run_backward([self], [gradient], retain_graph, create_graph)

    def detach(self) -> "Tensor":
        """A tensor sharing the data but cut from the graph (no gradient flows through it)."""
        return Tensor._make(self.data, False, None, 0)

    def detach_(self) -> "Tensor":
        """Cut this tensor from the graph in place, making it a leaf."""
        self.node = None
        self.out_index = 0
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set whether gradients should be computed for this leaf tensor."""
        if self.node is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: cannot turn off gradients of a non-leaf tensor; use .detach()"
            )
        if requires_grad and self.data.dtype.kind not in "fc":
            raise TypeError(
                f"requires_grad_: only floating-point tensors can require gradients, got {self.data.dtype}"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep the gradient of this non-leaf tensor in ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: tensor does not require grad")
        if self.node is not None:
            engine.retain_output_grad(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None
        return value replaces the gradient. Returns a handle with ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_hook: tensor does not require grad")
        if self.node is None:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            return _HookHandle(self._hooks, hook)
        self.node.add_output_hook(self.out_index, hook)
        return _HookHandle(self.node.out_hooks[self.out_index], hook)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient."""
        self.grad = None

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return E.add(self, other)

    def __radd__(self, other):
        return E.add(other, self)

    def __sub__(self, other):
        return E.sub(self, other)

    def __rsub__(self, other):
        return E.sub(other, self)

    def __mul__(self, other):
        return E.mul(self, other)

    def __rmul__(self, other):
        return E.mul(other, self)

    def __truediv__(self, other):
        return E.div(self, other)

    def __rtruediv__(self, other):
        return E.div(other, self)

    def __pow__(self, other):
        return E.pow(self, other)

    def __rpow__(self, other):
        base, exponent = E.binary_operands("pow", other, self)
        return E.pow(base, exponent)

    def __matmul__(self, other):
        return L.matmul(self, other)

    def __rmatmul__(self, other):
        return L.matmul(other, self)

    def __neg__(self):
        return E.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return E.abs(self)

    # ------------------------------------------------------------ comparisons and logic
    def __lt__(self, other):
        return E.compare("less", self, other)

    def __le__(self, other):
        return E.compare("less_equal", self, other)

    def __gt__(self, other):
        return E.compare("greater", self, other)

    def __ge__(self, other):
        return E.compare("greater_equal", self, other)

    def __eq__(self, other):
        return E.compare("equal", self, other)

    def __ne__(self, other):
        return E.compare("not_equal", self, other)

    def __and__(self, other):
        return E.compare("logical_and" if self.dtype.kind == "b" else "bitwise_and", self, other)

    def __or__(self, other):
        return E.compare("logical_or" if self.dtype.kind == "b" else "bitwise_or", self, other)

    def __xor__(self, other):
        return E.compare("logical_xor" if self.dtype.kind == "b" else "bitwise_xor", self, other)

    def __invert__(self):
        return apply(E.UnaryNonDiff, (self,), {"op": "logical_not" if self.dtype.kind == "b" else "invert"})

    def isfinite(self) -> "Tensor":
        """Elementwise: not inf and not NaN."""
        return apply(E.UnaryNonDiff, (self,), {"op": "isfinite"})

    def isnan(self) -> "Tensor":
        """Elementwise NaN test."""
        return apply(E.UnaryNonDiff, (self,), {"op": "isnan"})

    def isinf(self) -> "Tensor":
        """Elementwise infinity test."""
        return apply(E.UnaryNonDiff, (self,), {"op": "isinf"})

    def any(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Whether any element (along ``axis``) is true."""
        return Tensor._make(self.data.any(axis=axis, keepdims=keepdims), False, None, 0)

    def all(self, axis=None, keepdims: bool = False) -> "Tensor":
        """Whether every element (along ``axis``) is true."""
        return Tensor._make(self.data.all(axis=axis, keepdims=keepdims), False, None, 0)

    # ------------------------------------------------------------ elementwise math
    def exp(self):
        """Elementwise exponential."""
        return E.exp(self)

    def log(self):
        """Elementwise natural logarithm."""
        return E.log(self)

    def log1p(self):
        """Elementwise ``log(1 + x)``."""
        return E.log1p(self)

    def sqrt(self):
        """Elementwise square root."""
        return E.sqrt(self)

    def tanh(self):
        """Elementwise hyperbolic tangent."""
        return E.tanh(self)

    def sigmoid(self):
        """Elementwise logistic sigmoid."""
        return E.sigmoid(self)

    def relu(self):
        """Elementwise ``max(x, 0)``."""
        return E.relu(self)

    def sin(self):
        """Elementwise sine."""
        return E.sin(self)

    def cos(self):
        """Elementwise cosine."""
        return E.cos(self)

    def abs(self):
        """Elementwise absolute value."""
        return E.abs(self)

    def sign(self):
        """Elementwise sign."""
        return E.sign(self)

    def clip(self, low=None, high=None):
        """Clamp into ``[low, high]``."""
        return E.clip(self, low, high)

    clamp = clip

    def pow(self, exponent):
        """``self ** exponent``."""
        return E.pow(self, exponent)

    def maximum(self, other):
        """Elementwise maximum with ``other``."""
        return E.maximum(self, other)

    def minimum(self, other):
        """Elementwise minimum with ``other``."""
        return E.minimum(self, other)

    def masked_fill(self, mask, value):
        """Replace elements where ``mask`` is true by ``value``."""
        return M.masked_fill(self, mask, value)

    # ------------------------------------------------------------ reductions
    def sum(self, axis=None, keepdims: bool = False):
        """Sum over ``axis``."""
        return R.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims: bool = False):
        """Mean over ``axis``."""
        return R.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims: bool = False):
        """Maximum over ``axis``."""
        return R.max(self, axis, keepdims)

    def min(self, axis=None, keepdims: bool = False):
        """Minimum over ``axis``."""
        return R.min(self, axis, keepdims)

    def prod(self, axis=None, keepdims: bool = False):
        """Product over ``axis``."""
        return R.prod(self, axis, keepdims)

    def var(self, axis=None, keepdims: bool = False, correction: int = 1):
        """Variance over ``axis`` (unbiased by default)."""
        return R.var(self, axis, keepdims, correction)

    def std(self, axis=None, keepdims: bool = False, correction: int = 1):
        """Standard deviation over ``axis`` (unbiased by default)."""
        return R.std(self, axis, keepdims, correction)

    def logsumexp(self, axis=None, keepdims: bool = False):
        """Stable ``log(sum(exp(x)))`` over ``axis``."""
        return R.logsumexp(self, axis, keepdims)

    def argmax(self, axis=None, keepdims: bool = False):
        """Index of the maximum along ``axis``."""
        return R.argmax(self, axis, keepdims)

    def argmin(self, axis=None, keepdims: bool = False):
        """Index of the minimum along ``axis``."""
        return R.argmin(self, axis, keepdims)

    def cumsum(self, axis: int):
        """Cumulative sum along ``axis``."""
        return R.cumsum(self, axis)

    # ------------------------------------------------------------ movement
    def reshape(self, *shape):
        """Same elements, new shape."""
        return M.reshape(self, *shape)

    view = reshape

    def view_as(self, other: "Tensor"):
        """Reshape to ``other``'s shape."""
        return M.reshape(self, other.shape)

    def transpose(self, *axes):
        """Permute dimensions; with two integers, swap those two (PyTorch's rule)."""
        if len(axes) == 2 and all(isinstance(a, int) for a in axes):
            return M.swapaxes(self, *axes)
        if not axes:
            return M.transpose(self)
        return M.transpose(self, M._shape_args(axes))

    def permute(self, *axes):
        """Permute dimensions into the given order."""
        return M.permute(self, *axes)

    def swapaxes(self, axis1: int, axis2: int):
        """Exchange two dimensions."""
        return M.swapaxes(self, axis1, axis2)

    @property
    def T(self):
        """All dimensions reversed."""
        return M.transpose(self)

    @property
    def mT(self):
        """The last two dimensions swapped (batched matrix transpose)."""
        return M.swapaxes(self, -1, -2)

    def expand(self, *shape):
        """Broadcast to ``shape`` (-1 keeps a dimension)."""
        return M.expand(self, *shape)

    def broadcast_to(self, shape):
        """Broadcast to ``shape``."""
        return M.broadcast_to(self, shape)

    def squeeze(self, axis=None):
        """Drop dimensions of size 1."""
        return M.squeeze(self, axis)

    def unsqueeze(self, axis: int):
        """Insert a dimension of size 1."""
        return M.unsqueeze(self, axis)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Merge dimensions into one."""
        return M.flatten(self, start_dim, end_dim)

    def flip(self, axis=None):
        """Reverse along ``axis``."""
        return M.flip(self, axis)

    def repeat(self, repeats, axis=None):
        """Repeat elements (NumPy's ``repeat``)."""
        return M.repeat(self, repeats, axis)

    def tile(self, reps):
        """Repeat the whole tensor (NumPy's ``tile``)."""
        return M.tile(self, reps)

    def split(self, split_size_or_sections, axis: int = 0):
        """Split into pieces along ``axis``."""
        return M.split(self, split_size_or_sections, axis)

    def chunk(self, chunks: int, axis: int = 0):
        """Split into ``chunks`` pieces along ``axis``."""
        return M.chunk(self, chunks, axis)

    def gather(self, axis: int, index):
        """Pick elements along ``axis`` by ``index`` (PyTorch's ``gather``)."""
        return M.gather(self, axis, index)

    def scatter_add(self, axis: int, index, src):
        """Add ``src`` at ``index`` along ``axis`` (out of place)."""
        return M.scatter_add(self, axis, index, src)

    def index_select(self, axis: int, index):
        """Select entries along ``axis``."""
        return M.index_select(self, axis, index)

    def __getitem__(self, index):
        return M.getitem(self, index)

    def matmul(self, other):
        """Matrix product."""
        return L.matmul(self, other)

    # ------------------------------------------------------------ dtype and device
    def astype(self, dtype) -> "Tensor":
        """This tensor converted to ``dtype`` (differentiable between float types)."""
        dtype = backend.numpy_module().dtype(dtype)
        if dtype == self.data.dtype:
            return self
        return apply(E.Cast, (self,), {"dtype": dtype})

    def to(self, target) -> "Tensor":
        """Convert to a dtype (``'float64'``, ``ember.float64``) or move to a device (``'cuda'``)."""
        if isinstance(target, str) and (target == "cpu" or target.startswith("cuda")):
            from .ops.device import to_device

            return to_device(self, target)
        return self.astype(target)

    def cpu(self) -> "Tensor":
        """This tensor on the CPU."""
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        """This tensor on the (first) GPU."""
        return self.to("cuda")

    def float(self) -> "Tensor":
        """Converted to float32."""
        return self.astype("float32")

    def double(self) -> "Tensor":
        """Converted to float64."""
        return self.astype("float64")

    def half(self) -> "Tensor":
        """Converted to float16."""
        return self.astype("float16")

    def long(self) -> "Tensor":
        """Converted to int64."""
        return self.astype("int64")

    def int(self) -> "Tensor":
        """Converted to int32."""
        return self.astype("int32")

    def bool(self) -> "Tensor":
        """Converted to bool."""
        return self.astype("bool")

    def clone(self) -> "Tensor":
        """A copy with its own memory (differentiable)."""
        return apply(M.Copy, (self,), {})

    copy = clone

    def zeros_like(self) -> "Tensor":
        """Zeros of this tensor's shape and dtype."""
        return Tensor._make(backend.array_module(self.data).zeros_like(self.data), False, None, 0)

    def new_zeros(self, shape) -> "Tensor":
        """Zeros of ``shape`` with this tensor's dtype and device."""
        return Tensor._make(backend.array_module(self.data).zeros(tuple(shape), self.data.dtype), False, None, 0)

    # ------------------------------------------------------------ in-place ops
    def _check_inplace(self, op: str) -> None:
        if self.requires_grad and self.node is None and _State.enabled:
            raise RuntimeError(
                f"{op}: a leaf tensor that requires grad (shape {self.shape}) cannot be modified in "
                "place while gradients are recorded; wrap the update in `with ember.no_grad():` or "
                "use the out-of-place form"
            )

    def _snapshot(self) -> "Tensor":
        """A separate tensor object for the current value and history of ``self``.

        A recorded in-place op computes out of place from the snapshot and then
        rebases ``self``; nodes that save their inputs then hold the snapshot, whose
        value never changes, while nodes that saved ``self`` earlier see its version
        bump and refuse to use a stale value.
        """
        old = Tensor._make(self.data, self.requires_grad, self.node, self.out_index)
        old._tangent = self._tangent
        return old

    def _rebase(self, result: "Tensor") -> "Tensor":
        """Make ``self`` take over ``result``'s value and history (a recorded in-place op)."""
        self.data = result.data
        self.node = result.node
        self.out_index = result.out_index
        self.requires_grad = result.requires_grad
        self._tangent = result._tangent
        self._version += 1
        return self

    def _inplace(self, op: str, out_of_place, ufunc: str, other) -> "Tensor":
        self._check_inplace(op)
        other_requires = isinstance(other, Tensor) and other.requires_grad
        if _State.enabled and (self.requires_grad or other_requires) or self._tangent:
            return self._rebase(out_of_place(self._snapshot(), other))
        xp = backend.array_module(self.data)
        value = other.data if isinstance(other, Tensor) else other
        try:
            getattr(xp, ufunc)(self.data, value, out=self.data)
        except (TypeError, ValueError) as error:
            raise type(error)(f"{op}: {error} (tensor {self.shape} {self.dtype})") from None
        self._version += 1
        if _Trace.tracer is not None:
            _Trace.tracer.record_inplace(ufunc, self, other)
        return self

    def __iadd__(self, other):
        return self._inplace("add_", E.add, "add", other)

    def __isub__(self, other):
        return self._inplace("sub_", E.sub, "subtract", other)

    def __imul__(self, other):
        return self._inplace("mul_", E.mul, "multiply", other)

    def __itruediv__(self, other):
        return self._inplace("div_", E.div, "true_divide", other)

    def add_(self, other):
        """In-place ``self += other``."""
        return self.__iadd__(other)

    def sub_(self, other):
        """In-place ``self -= other``."""
        return self.__isub__(other)

    def mul_(self, other):
        """In-place ``self *= other``."""
        return self.__imul__(other)

    def div_(self, other):
        """In-place ``self /= other``."""
        return self.__itruediv__(other)

    def fill_(self, value) -> "Tensor":
        """Set every element to ``value``."""
        self._check_inplace("fill_")
        if _State.enabled and self.requires_grad:
            # The new value does not depend on the old one: the history is dropped.
            filled = backend.array_module(self.data).full_like(self.data, value)
            return self._rebase(Tensor._make(filled, False, None, 0))
        self.data[...] = value
        self._version += 1
        if _Trace.tracer is not None:
            _Trace.tracer.record_setitem(self, (Ellipsis,), value)
        return self

    def zero_(self) -> "Tensor":
        """Set every element to zero."""
        return self.fill_(0)

    def copy_(self, source) -> "Tensor":
        """Copy ``source``'s values into this tensor (broadcasting)."""
        self.__setitem__(Ellipsis, source)
        return self

    def __setitem__(self, index, value) -> None:
        self._check_inplace("setitem")
        value = as_tensor(value) if not isinstance(value, (int, float, bool)) else value
        value_requires = isinstance(value, Tensor) and value.requires_grad
        if (_State.enabled and (self.requires_grad or value_requires)) or self._tangent:
            from .ops.movement import setitem

            self._rebase(setitem(self._snapshot(), index, value))
            return
        key = M.normalize_index(index, backend.array_module(self.data))
        try:
            self.data[key] = value.data if isinstance(value, Tensor) else value
        except (ValueError, IndexError) as error:
            raise type(error)(f"setitem: {error} (tensor of shape {self.shape})") from None
        self._version += 1
        if _Trace.tracer is not None:
            _Trace.tracer.record_setitem(self, key, value)


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _to_array(data, dtype=None, xp=None):
    """Convert Python data or an array to a backend array, following PyTorch's dtype defaults."""
    np = backend.numpy_module()
    if xp is None:
        xp = backend.array_module(data) if hasattr(data, "dtype") and hasattr(data, "shape") else np
    if dtype is not None:
        dtype = np.dtype(dtype)
    if hasattr(data, "__array_namespace__") or isinstance(data, np.ndarray) or hasattr(data, "__cuda_array_interface__"):
        array = data
        if dtype is not None and array.dtype != dtype:
            array = array.astype(dtype)
    elif isinstance(data, np.generic):
        array = np.asarray(data, dtype=dtype)
    else:
        try:
            array = np.asarray(data)
        except (ValueError, TypeError) as error:
            raise TypeError(f"tensor: cannot convert {type(data).__name__} to a tensor ({error})") from None
        if dtype is not None:
            array = array.astype(dtype)
        elif array.dtype == np.float64:
            # Python floats become the default float (float32), as in PyTorch.
            array = array.astype(backend.default_dtype())
        if xp is not np:
            array = xp.asarray(array)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"tensor: unsupported element type {array.dtype} (expected numbers or booleans)")
    return array


def as_tensor(data, dtype=None) -> Tensor:
    """Return ``data`` as a Tensor, without copying when it already is one or is an array."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.astype(dtype)
    return Tensor(data, dtype=dtype)
