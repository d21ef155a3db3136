"""``Tensor``: an array from the backend plus what autograd needs to know about it.

A tensor holds ``_data`` (a NumPy or CuPy array), ``grad``, ``requires_grad`` and,
when an op produced it while recording, the ``node`` of the tape that made it.
As in PyTorch, the public ``.data`` is a detached Tensor sharing that memory and
``.numpy()`` is the array; Ember's own ops read ``_data`` directly.
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
from .ops import indexing as IX
from .ops import linalg as L
from .ops import movement as M
from .ops import reduce as R
from .ops import sampling as SP
from .ops import special as S
from .ops import scan as SC
from .ops import shift as SH
from .ops import sorting as SO
from .ops import triangular as TR
from .errors import LayoutError
from .size import Size


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

    __slots__ = ("_data", "_grad", "requires_grad", "node", "out_index", "_version", "_hooks",
                 "_tangent", "__weakref__")

    # NumPy must defer to Tensor's reflected operators (ndarray + Tensor -> Tensor.__radd__).
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype=None):
        if isinstance(data, Tensor):
            data = data._data
        array = _to_array(data, dtype)
        self._data = array
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
        t._data = data
        t._grad = None
        t.requires_grad = requires_grad
        t.node = node
        t.out_index = index
        t._version = 0
        t._hooks = None
        t._tangent = None
        return t

    @property
    def data(self) -> "Tensor":
        """This tensor's values as a detached Tensor sharing its memory (PyTorch's ``.data``).

        Assigning ``t.data = other`` replaces the values in place of the history-free
        kind PyTorch allows (shape and dtype may change; autograd is not told).
        """
        return constant(self._data)

    @data.setter
    def data(self, value) -> None:
        self._data = value._data if isinstance(value, Tensor) else _to_array(value)
        self._version += 1

    @property
    def grad(self) -> "Tensor | None":
        """The accumulated gradient of a leaf (or of a non-leaf after ``retain_grad()``)."""
        return self._grad

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"grad must be a Tensor or None, got {type(value).__name__}")
        if value is not None and value.shape != self._data.shape:
            raise ValueError(f"grad: shape {value.shape} does not match tensor shape {self._data.shape}")
        self._grad = value
        if _Trace.tracer is not None:
            _Trace.tracer.record_grad_assignment(self, value)

    # ------------------------------------------------------------ array facts
    @property
    def shape(self) -> tuple:
        """The tensor's dimensions."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._data.ndim

    def size(self, dim: int | None = None):
        """The shape as an ``ember.Size`` (a tuple), or the length of dimension ``dim``.

        Example:
            >>> ember.zeros(2, 3).size(), ember.zeros(2, 3).size(-1)
            (ember.Size([2, 3]), 3)
        """
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[M._axis("size", dim, self._data.ndim)]

    @property
    def dtype(self):
        """The element type (a NumPy dtype)."""
        return self._data.dtype

    @property
    def device(self) -> str:
        """``'cpu'`` or ``'cuda:N'``."""
        return backend.device_of(self._data)

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
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return self._data.size

    nelement = numel

    def ndimension(self) -> int:
        """The number of dimensions (PyTorch's older spelling of :meth:`dim`)."""
        return self._data.ndim

    def element_size(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the elements are laid out row-major without gaps."""
        return bool(self._data.flags.c_contiguous)

    def contiguous(self, memory_format=None) -> "Tensor":
        """This tensor if it is contiguous, else a row-major copy (differentiable)."""
        return self if self._data.flags.c_contiguous else apply(M.Copy, (self,), {})

    @property
    def is_cuda(self) -> bool:
        """Whether the data lives on a GPU."""
        return self.device != "cpu"

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of all elements."""
        return self._data.nbytes

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def numpy(self):
        """The data as a NumPy array (shared, not copied, on the CPU)."""
        if _Trace.tracer is not None:
            _Trace.tracer.check_read(self, "numpy")
        data = self._data
        return data if backend.device_of(data) == "cpu" else data.get()

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        if _Trace.tracer is not None:
            _Trace.tracer.check_read(self, "item")
        return self._data.item()

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
        if self._data.size != 1:
            raise ValueError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self._data)

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of one element can be used as an index")
        if _Trace.tracer is not None:
            _Trace.tracer.check_read(self, "index")
        return int(self._data)

    def __repr__(self) -> str:
        body = backend.numpy_module().array2string(
            self.numpy(), separator=", ", prefix="tensor(", precision=4
        )
        extras = []
        if self._data.dtype not in (backend.default_dtype(),) and self._data.dtype.kind == "f":
            extras.append(f"dtype={self._data.dtype}")
        elif self._data.dtype.kind in "iub" and self._data.size == 0:
            extras.append(f"dtype={self._data.dtype}")
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
            if self._data.size != 1:
                raise RuntimeError(
                    f"backward: gradient can be implicitly created only for one-element outputs; "
                    f"this tensor has shape {self.shape}, so pass gradient= of that shape"
                )
            gradient = constant(backend.array_module(self._data).ones_like(self._data))
        else:
            gradient = as_tensor(gradient)
            if gradient.shape != self.shape:
                raise ValueError(f"backward: gradient shape {gradient.shape} does not match tensor shape {self.shape}")
        if retain_graph is None:
            retain_graph = create_graph
        engine.run_backward([self], [gradient], retain_graph, create_graph)

    def detach(self) -> "Tensor":
        """A tensor sharing the data but cut from the graph (no gradient flows through it)."""
        return constant(self._data)

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
        if requires_grad and self._data.dtype.kind not in "fcV":  # "V": ml_dtypes' bfloat16
            raise TypeError(
                f"requires_grad_: only floating-point tensors can require gradients, got {self._data.dtype}"
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

    def __mod__(self, other):
        return E.remainder(self, other)

    def __rmod__(self, other):
        return E.remainder(other, self)

    def __floordiv__(self, other):
        return E.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return E.floor_divide(other, self)

    def __lshift__(self, other):
        return E.bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return E.bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return E.bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return E.bitwise_right_shift(other, self)

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

    # and/or/xor commute: the tensor's own method gives a Python number the tensor's dtype.
    def __rand__(self, other):
        return self.__and__(other)

    def __ror__(self, other):
        return self.__or__(other)

    def __rxor__(self, other):
        return self.__xor__(other)

    def __format__(self, spec: str) -> str:
        # A one-element tensor formats as its number (f"{loss:.4f}"), as in PyTorch.
        if self._data.ndim == 0 or (spec and self._data.size == 1):
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __invert__(self):
        return apply(E.UnaryNonDiff, (self,), {"op": "logical_not" if self.dtype.kind == "b" else "invert"})

    def isfinite(self) -> "Tensor":
        """Elementwise: not inf and not NaN."""
        return E.isfinite(self)

    def isnan(self) -> "Tensor":
        """Elementwise NaN test."""
        return E.isnan(self)

    def isinf(self) -> "Tensor":
        """Elementwise infinity test."""
        return E.isinf(self)

    def logical_and(self, other):
        """Elementwise logical and."""
        return E.logical_and(self, other)

    def logical_or(self, other):
        """Elementwise logical or."""
        return E.logical_or(self, other)

    def logical_xor(self, other):
        """Elementwise logical xor."""
        return E.logical_xor(self, other)

    def logical_not(self):
        """Elementwise logical not."""
        return E.logical_not(self)

    def bitwise_and(self, other):
        """Elementwise bitwise and (integers and bools)."""
        return E.bitwise_and(self, other)

    def bitwise_or(self, other):
        """Elementwise bitwise or (integers and bools)."""
        return E.bitwise_or(self, other)

    def bitwise_xor(self, other):
        """Elementwise bitwise xor (integers and bools)."""
        return E.bitwise_xor(self, other)

    def bitwise_not(self):
        """Elementwise bitwise not (integers and bools)."""
        return E.bitwise_not(self)

    def bitwise_left_shift(self, other):
        """Elementwise ``self << other``."""
        return E.bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other):
        """Elementwise ``self >> other``."""
        return E.bitwise_right_shift(self, other)

    def any(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """Whether any element (along ``dim``) is true."""
        return R.any(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def all(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None) -> "Tensor":
        """Whether every element (along ``dim``) is true."""
        return R.all(self, dim, keepdim, axis=axis, keepdims=keepdims)

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

    absolute = abs

    def tan(self):
        """Elementwise tangent."""
        return E.tan(self)

    def asin(self):
        """Elementwise inverse sine."""
        return E.asin(self)

    def acos(self):
        """Elementwise inverse cosine."""
        return E.acos(self)

    def atan(self):
        """Elementwise inverse tangent."""
        return E.atan(self)

    arcsin, arccos, arctan = asin, acos, atan

    def sinh(self):
        """Elementwise hyperbolic sine."""
        return E.sinh(self)

    def cosh(self):
        """Elementwise hyperbolic cosine."""
        return E.cosh(self)

    def asinh(self):
        """Elementwise inverse hyperbolic sine."""
        return E.asinh(self)

    def acosh(self):
        """Elementwise inverse hyperbolic cosine."""
        return E.acosh(self)

    def atanh(self):
        """Elementwise inverse hyperbolic tangent."""
        return E.atanh(self)

    def log2(self):
        """Elementwise base-2 logarithm."""
        return E.log2(self)

    def log10(self):
        """Elementwise base-10 logarithm."""
        return E.log10(self)

    def exp2(self):
        """Elementwise ``2 ** x``."""
        return E.exp2(self)

    def expm1(self):
        """Elementwise ``exp(x) - 1``, accurate near 0."""
        return E.expm1(self)

    def rsqrt(self):
        """Elementwise ``1 / sqrt(x)``."""
        return E.rsqrt(self)

    def reciprocal(self):
        """Elementwise ``1 / x``."""
        return E.reciprocal(self)

    def square(self):
        """Elementwise ``x * x``."""
        return E.square(self)

    def floor(self):
        """Round down (zero gradient)."""
        return E.floor(self)

    def ceil(self):
        """Round up (zero gradient)."""
        return E.ceil(self)

    def trunc(self):
        """Round toward zero (zero gradient)."""
        return E.trunc(self)

    fix = trunc

    def round(self, decimals: int = 0):
        """Round half to even, at ``decimals`` places (zero gradient)."""
        return E.round(self, decimals)

    def frac(self):
        """``x - trunc(x)`` (gradient 1)."""
        return E.frac(self)

    def erf(self):
        """The error function."""
        return S.erf(self)

    def erfc(self):
        """``1 - erf(x)``, accurate in the tail."""
        return S.erfc(self)

    def erfinv(self):
        """The inverse error function."""
        return S.erfinv(self)

    def atan2(self, other):
        """Elementwise ``atan(self / other)`` in the right quadrant."""
        return E.atan2(self, other)

    arctan2 = atan2

    def hypot(self, other):
        """Elementwise ``sqrt(self**2 + other**2)``."""
        return E.hypot(self, other)

    def logaddexp(self, other):
        """Elementwise ``log(exp(self) + exp(other))``, computed stably."""
        return E.logaddexp(self, other)

    def xlogy(self, other):
        """``self * log(other)``, 0 where ``self`` is 0."""
        return E.xlogy(self, other)

    def sign(self):
        """Elementwise sign."""
        return E.sign(self)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        """Clamp into ``[min, max]`` (either may be None or a tensor)."""
        return E.clip(self, min, max)

    clip = clamp

    def clamp_min(self, min):  # noqa: A002
        """``max(self, min)`` elementwise."""
        return E.clip(self, min, None)

    def clamp_max(self, max):  # noqa: A002
        """``min(self, max)`` elementwise."""
        return E.clip(self, None, max)

    def add(self, other, *, alpha=1):
        """``self + alpha * other``."""
        return E.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        """``self - alpha * other``."""
        return E.sub(self, other if alpha == 1 else other * alpha)

    subtract = sub

    def mul(self, other):
        """``self * other``."""
        return E.mul(self, other)

    multiply = mul

    def div(self, other, *, rounding_mode=None):
        """``self / other``; ``rounding_mode`` ``"trunc"`` or ``"floor"`` rounds the quotient."""
        return E.div(self, other, rounding_mode=rounding_mode)

    divide = div
    true_divide = div

    def neg(self):
        """``-self``."""
        return E.neg(self)

    negative = neg

    def remainder(self, other):
        """Python's ``%``: the remainder has the sign of the divisor."""
        return E.remainder(self, other)

    def fmod(self, other):
        """C's ``fmod``: the remainder has the sign of the dividend."""
        return E.fmod(self, other)

    def floor_divide(self, other):
        """``floor(self / other)``."""
        return E.floor_divide(self, other)

    def eq(self, other):
        """Elementwise ``==``."""
        return E.compare("equal", self, other)

    def ne(self, other):
        """Elementwise ``!=``."""
        return E.compare("not_equal", self, other)

    def lt(self, other):
        """Elementwise ``<``."""
        return E.compare("less", self, other)

    def le(self, other):
        """Elementwise ``<=``."""
        return E.compare("less_equal", self, other)

    def gt(self, other):
        """Elementwise ``>``."""
        return E.compare("greater", self, other)

    def ge(self, other):
        """Elementwise ``>=``."""
        return E.compare("greater_equal", self, other)

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other) -> bool:
        """True when ``other`` has the same shape and the same elements."""
        other = as_tensor(other)
        return self.shape == other.shape and bool((self == other).all())

    def allclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        """Whether all elements are close (``|a - b| <= atol + rtol * |b|``)."""
        return E.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> "Tensor":
        """Elementwise ``|self - other| <= atol + rtol * |other|`` (a bool tensor)."""
        return E.isclose(self, other, rtol, atol, equal_nan)

    def copysign(self, other) -> "Tensor":
        """The magnitude of ``self`` with the sign of ``other``."""
        return E.copysign(self, other)

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

    def where(self, condition, other):
        """``self`` where ``condition`` holds, else ``other``."""
        return E.where(condition, self, other)

    def nonzero(self, *, as_tuple: bool = False):
        """Indices of the non-zero elements: (n, ndim) int64, or a tuple of 1-D tensors."""
        return IX.nonzero(self, as_tuple=as_tuple)

    def argwhere(self) -> "Tensor":
        """Indices of the non-zero elements, (n, ndim) int64."""
        return IX.argwhere(self)

    def masked_select(self, mask) -> "Tensor":
        """The elements where ``mask`` is true, as a 1-D tensor."""
        return IX.masked_select(self, mask)

    def lerp(self, end, weight):
        """``self + weight * (end - self)``."""
        return E.lerp(self, end, weight)

    # ------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        """Sum over ``dim`` (an int, a tuple, or None for all)."""
        return R.sum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        """Mean over ``dim``."""
        return R.mean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The maximum; with ``dim``, a named tuple ``(values, indices)``; with a tensor, the
        elementwise maximum (see :func:`ember.max`)."""
        return R.max(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """The minimum; with ``dim``, a named tuple ``(values, indices)`` (see :func:`ember.min`)."""
        return R.min(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amax(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None):
        """Maximum over ``dim`` (several dims allowed); ties share the gradient."""
        return R.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amin(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None):
        """Minimum over ``dim`` (several dims allowed); ties share the gradient."""
        return R.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def prod(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None):
        """Product over ``dim``."""
        return R.prod(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
            keepdims=None):
        """Variance over ``dim`` (Bessel-corrected by default)."""
        return R.var(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)

    def std(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, axis=None,
            keepdims=None):
        """Standard deviation over ``dim`` (Bessel-corrected by default)."""
        return R.std(self, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """Stable ``log(sum(exp(x)))`` over ``dim``."""
        return R.logsumexp(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """Index of the maximum along ``dim`` (of the flattened tensor when None)."""
        return R.argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """Index of the minimum along ``dim`` (of the flattened tensor when None)."""
        return R.argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def cumsum(self, dim=None, *, dtype=None, axis=None):
        """Cumulative sum along ``dim``."""
        return R.cumsum(self, dim, dtype=dtype, axis=axis)

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None):
        """Vector p-norm over ``dim`` (see :func:`ember.norm`)."""
        return R.norm(self, p, dim, keepdim, dtype)

    def count_nonzero(self, dim=None):
        """Number of non-zero elements along ``dim``."""
        return R.count_nonzero(self, dim)

    # ------------------------------------------------------------ sorting, scans, triangles
    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """``(values, indices)`` sorted along ``dim`` (see :func:`ember.sort`)."""
        return SO.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False):
        """The indices that sort along ``dim``."""
        return SO.argsort(self, dim, descending, stable)

    def msort(self):
        """Sorted along the first dimension."""
        return SO.msort(self)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
        """The ``k`` largest (or smallest) ``(values, indices)`` along ``dim``."""
        return SO.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False):
        """The ``k``-th smallest ``(values, indices)`` along ``dim``."""
        return SO.kthvalue(self, k, dim, keepdim)

    def median(self, dim=None, keepdim: bool = False):
        """The lower median; with ``dim``, ``(values, indices)``."""
        return SO.median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim: bool = False):
        """:meth:`median` ignoring NaN."""
        return SO.nanmedian(self, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False):
        """The most frequent ``(values, indices)`` along ``dim``."""
        return SO.mode(self, dim, keepdim)

    def cumprod(self, dim: int, *, dtype=None):
        """Cumulative product along ``dim``."""
        return SC.cumprod(self, dim, dtype=dtype)

    def cummax(self, dim: int):
        """Running maxima ``(values, indices)`` along ``dim``."""
        return SC.cummax(self, dim)

    def cummin(self, dim: int):
        """Running minima ``(values, indices)`` along ``dim``."""
        return SC.cummin(self, dim)

    def logcumsumexp(self, dim: int):
        """``log(cumsum(exp(x)))`` along ``dim``, computed stably."""
        return SC.logcumsumexp(self, dim)

    def tril(self, diagonal: int = 0):
        """The lower triangle (the rest zeroed)."""
        return TR.tril(self, diagonal)

    def triu(self, diagonal: int = 0):
        """The upper triangle (the rest zeroed)."""
        return TR.triu(self, diagonal)

    def diag(self, diagonal: int = 0):
        """A 1-D tensor's diagonal matrix, or a matrix's diagonal."""
        return TR.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1):
        """The diagonal over dimensions ``dim1`` and ``dim2``."""
        return TR.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1):
        """Matrices with the last dimension on their diagonal."""
        return TR.diag_embed(self, offset, dim1, dim2)

    def trace(self):
        """The sum of a matrix's diagonal."""
        return TR.trace(self)

    def roll(self, shifts, dims=None):
        """Shift elements cyclically along ``dims`` (flattened when None)."""
        return SH.roll(self, shifts, dims)

    def rot90(self, k: int = 1, dims=(0, 1)):
        """Rotate by 90 degrees ``k`` times in the plane of ``dims``."""
        return SH.rot90(self, k, dims)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator=None):
        """Sample category indices from rows of weights."""
        return SP.multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli(self, p=None, *, generator=None):
        """0/1 samples with the probabilities in ``self`` (or ``p``)."""
        return SP.bernoulli(self, p, generator=generator)

    # ------------------------------------------------------------ movement
    def reshape(self, *shape):
        """Same elements, new shape (a view when the layout allows, else a copy)."""
        return M.reshape(self, *shape)

    def view(self, *shape):
        """Same elements, new shape, sharing memory; raises RuntimeError when the layout
        cannot express it (call ``.contiguous()`` first, or use :meth:`reshape`).

        ``view(dtype)`` reinterprets the bytes as ``dtype`` instead (PyTorch's bitcast): the
        last dimension scales by the ratio of the item sizes; the result has no gradient.
        """
        if len(shape) == 1 and (isinstance(shape[0], type) or isinstance(shape[0], backend.numpy_module().dtype)):
            return self._bitcast(shape[0])
        return M.view(self, *shape)

    def _bitcast(self, dtype) -> "Tensor":
        xp = backend.array_module(self._data)
        dt = backend.numpy_module().dtype(dtype)
        data = self._data
        if dt.itemsize != data.dtype.itemsize:
            if data.ndim == 0 or not data.flags.c_contiguous or (data.shape[-1] * data.dtype.itemsize) % dt.itemsize:
                raise LayoutError(f"view: cannot view a {data.dtype} tensor of shape {self.shape} as {dt}: the "
                                  "last dimension must be contiguous and its size in bytes divisible by "
                                  f"{dt.itemsize}")
        elif data.ndim == 0:
            return constant(data.reshape(1).view(dt).reshape(()))
        return constant(xp.ascontiguousarray(data).view(dt) if dt.itemsize != data.dtype.itemsize
                            else data.view(dt))

    def view_as(self, other: "Tensor"):
        """:meth:`view` to ``other``'s shape."""
        return M.view(self, other.shape)

    def reshape_as(self, other: "Tensor"):
        """:meth:`reshape` to ``other``'s shape."""
        return M.reshape(self, other.shape)

    def transpose(self, dim0: int, dim1: int):
        """Swap dimensions ``dim0`` and ``dim1``."""
        return M.transpose(self, dim0, dim1)

    def permute(self, *dims):
        """Reorder the dimensions (``x.permute(2, 0, 1)`` or ``x.permute((2, 0, 1))``)."""
        return M.permute(self, *dims)

    def swapaxes(self, axis0: int, axis1: int):
        """Exchange two dimensions (alias of :meth:`transpose`)."""
        return M.transpose(self, axis0, axis1)

    swapdims = swapaxes

    def movedim(self, source, destination):
        """Move dimension(s) to new position(s)."""
        return M.movedim(self, source, destination)

    def t(self):
        """The transpose of a matrix (a 0-D or 1-D tensor is returned as is)."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dimensions, got shape {self.shape}")
        return M.transpose(self, 0, 1) if self.ndim == 2 else self

    @property
    def T(self):
        """All dimensions reversed."""
        return M.transpose(self)

    @property
    def mT(self):
        """The last two dimensions swapped (batched matrix transpose)."""
        return M.transpose(self, -1, -2)

    def expand(self, *sizes):
        """Broadcast to ``sizes`` (-1 keeps a dimension)."""
        return M.expand(self, *sizes)

    def expand_as(self, other: "Tensor"):
        """Broadcast to ``other``'s shape."""
        return M.expand(self, other.shape)

    def broadcast_to(self, shape):
        """Broadcast to ``shape``."""
        return M.broadcast_to(self, shape)

    def squeeze(self, dim=None, *, axis=None):
        """Drop dimensions of size 1 (all, or those in ``dim`` that have size 1)."""
        return M.squeeze(self, dim, axis=axis)

    def unsqueeze(self, dim: int = None, *, axis=None):
        """Insert a dimension of size 1 at ``dim``."""
        return M.unsqueeze(self, dim, axis=axis)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        """Merge dimensions ``start_dim..end_dim`` into one."""
        return M.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes):
        """Split dimension ``dim`` into ``sizes``."""
        return M.unflatten(self, dim, sizes)

    def narrow(self, dim: int, start: int, length: int):
        """The slice ``start:start+length`` of dimension ``dim``."""
        return M.narrow(self, dim, start, length)

    def unbind(self, dim: int = 0):
        """The slices along ``dim`` as a tuple."""
        return M.unbind(self, dim)

    def flip(self, *dims, axis=None):
        """Reverse along ``dims`` (``x.flip(0, 1)`` or ``x.flip((0, 1))``)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = dims[0]
            if not dims:
                return M.flip(self, ())
        return M.flip(self, tuple(dims) if dims else None, axis=axis)

    def repeat(self, *sizes):
        """Tile the tensor ``sizes[i]`` times along dimension ``i`` (PyTorch's ``repeat``)."""
        return M.repeat(self, *sizes)

    def repeat_interleave(self, repeats, dim=None, *, output_size=None):
        """Repeat each element ``repeats`` times along ``dim`` (NumPy's ``repeat``)."""
        return M.repeat_interleave(self, repeats, dim, output_size=output_size)

    def tile(self, *dims):
        """Repeat the whole tensor along each dimension (missing leading entries are 1)."""
        return M.tile(self, M._shape_args(dims))

    def split(self, split_size, dim: int = 0):
        """Split into pieces of ``split_size`` (or of the listed sizes) along ``dim``."""
        return M.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0):
        """Split into ``chunks`` nearly equal pieces along ``dim``."""
        return M.chunk(self, chunks, dim)

    def gather(self, dim: int, index):
        """Pick elements along ``dim`` by ``index`` (PyTorch's ``gather``)."""
        return M.gather(self, dim, index)

    def scatter_add(self, dim: int, index, src):
        """Add ``src`` at ``index`` along ``dim`` (out of place)."""
        return M.scatter_add(self, dim, index, src)

    def index_select(self, dim: int, index):
        """Select entries along ``dim``."""
        return M.index_select(self, dim, index)

    def scatter(self, dim: int, index, src=None, *, value=None, reduce: str | None = None):
        """``self`` with ``src`` (a tensor or number) written at ``index`` along ``dim`` (out of place)."""
        return IX.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_reduce(self, dim: int, index, src, reduce: str, *, include_self: bool = True):
        """Combine ``src`` into ``self`` at ``index`` along ``dim`` by sum/prod/mean/amax/amin."""
        return IX.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def index_add(self, dim: int, index, source, *, alpha=1):
        """``self`` with ``alpha * source`` added at positions ``index`` of ``dim`` (out of place)."""
        return IX.index_add(self, dim, index, source, alpha=alpha)

    def index_put(self, indices, values, accumulate: bool = False):
        """``self`` with ``self[indices] = values`` (``+=`` when ``accumulate``), out of place."""
        return IX.index_put(self, indices, values, accumulate)

    def take_along_dim(self, indices, dim: int | None = None):
        """Values at ``indices`` along ``dim`` (``torch.take_along_dim``)."""
        return IX.take_along_dim(self, indices, dim)

    def unfold(self, dimension: int, size: int, step: int):
        """Slices of length ``size`` along ``dimension``, ``step`` apart, as a new last dimension."""
        return IX.unfold(self, dimension, size, step)

    def softmax(self, dim: int, dtype=None):
        """Softmax along ``dim``."""
        from .ops.nn import softmax

        return softmax(self if dtype is None else self.astype(dtype), dim)

    def log_softmax(self, dim: int, dtype=None):
        """Log-softmax along ``dim``."""
        from .ops.nn import log_softmax

        return log_softmax(self if dtype is None else self.astype(dtype), dim)

    def __getitem__(self, index):
        return M.getitem(self, index)

    def matmul(self, other):
        """Matrix product."""
        return L.matmul(self, other)

    def mm(self, other):
        """Product of two matrices."""
        return L.mm(self, other)

    def bmm(self, other):
        """Batched product of (B, n, m) and (B, m, p) tensors."""
        return L.bmm(self, other)

    def mv(self, vec):
        """Matrix-vector product."""
        return L.mv(self, vec)

    def dot(self, other):
        """Inner product of two 1-D tensors."""
        return L.dot(self, other)

    def outer(self, other):
        """Outer product of two 1-D tensors."""
        return L.outer(self, other)

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        """``beta * self + alpha * (mat1 @ mat2)``."""
        return L.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    # ------------------------------------------------------------ dtype and device
    def astype(self, dtype) -> "Tensor":
        """This tensor converted to ``dtype`` (NumPy's spelling of ``.to(dtype)``)."""
        dtype = backend.numpy_module().dtype(dtype)
        if dtype == self._data.dtype:
            return self
        return apply(E.Cast, (self,), {"dtype": dtype})

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False, copy: bool = False,
           memory_format=None) -> "Tensor":
        """Convert to a dtype and/or move to a device, as PyTorch's ``to``.

        Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)`` and the
        keywords. Devices are ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or an :class:`ember.device`.
        """
        from .device import as_device_or_none

        for arg in args:
            if isinstance(arg, Tensor):
                dtype, device = arg.dtype, arg.device
            elif as_device_or_none(arg) is not None:
                device = arg
            else:
                dtype = arg
        result = self
        if device is not None:
            target = str(as_device_or_none(device))
            if target != result.device and not (target == "cuda" and result.device.startswith("cuda")):
                from .ops.device import to_device

                result = to_device(result, target)
        if dtype is not None:
            result = result.astype(backend.resolve_dtype(dtype))
        if copy and result is self:
            result = self.clone()
        return result

    def type(self, dtype=None):
        """With no argument, the type name (``'ember.FloatTensor'``); otherwise ``to(dtype)``."""
        if dtype is None:
            return _TYPE_NAMES.get(self._data.dtype.name, f"ember.{self._data.dtype.name}")
        if isinstance(dtype, str) and dtype in _TYPE_NAMES.values():
            dtype = next(name for name, label in _TYPE_NAMES.items() if label == dtype)
        return self.astype(backend.resolve_dtype(dtype))

    def type_as(self, other: "Tensor") -> "Tensor":
        """Converted to ``other``'s dtype."""
        return self.astype(other.dtype)

    def cpu(self) -> "Tensor":
        """This tensor on the CPU."""
        return self.to("cpu")

    def cuda(self, device=None, non_blocking: bool = False) -> "Tensor":
        """This tensor on the (first) GPU."""
        return self.to("cuda" if device is None else device)

    def float(self) -> "Tensor":
        """Converted to float32."""
        return self.astype("float32")

    def double(self) -> "Tensor":
        """Converted to float64."""
        return self.astype("float64")

    def half(self) -> "Tensor":
        """Converted to float16."""
        return self.astype("float16")

    def bfloat16(self) -> "Tensor":
        """Converted to bfloat16 (ml_dtypes' dtype, see docs/amp.md)."""
        from .amp.dtypes import low_precision_dtype

        return self.astype(low_precision_dtype("bfloat16", "bfloat16"))

    def long(self) -> "Tensor":
        """Converted to int64."""
        return self.astype("int64")

    def int(self) -> "Tensor":
        """Converted to int32."""
        return self.astype("int32")

    def short(self) -> "Tensor":
        """Converted to int16."""
        return self.astype("int16")

    def char(self) -> "Tensor":
        """Converted to int8."""
        return self.astype("int8")

    def byte(self) -> "Tensor":
        """Converted to uint8."""
        return self.astype("uint8")

    def bool(self) -> "Tensor":
        """Converted to bool."""
        return self.astype("bool")

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating-point type."""
        return self._data.dtype.kind == "f" or self._data.dtype.name == "bfloat16"

    def is_complex(self) -> bool:
        """Whether the dtype is a complex type."""
        return self._data.dtype.kind == "c"

    def clone(self, memory_format=None) -> "Tensor":
        """A copy with its own memory (differentiable)."""
        return apply(M.Copy, (self,), {})

    copy = clone

    def zeros_like(self) -> "Tensor":
        """Zeros of this tensor's shape and dtype."""
        return constant(backend.array_module(self._data).zeros_like(self._data))

    def _new(self, fill, size, dtype, device, requires_grad):
        from .creation import full

        return full(M._shape_args(size), fill, dtype=self._data.dtype if dtype is None else dtype,
                    device=self.device if device is None else device, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """Zeros of ``size`` with this tensor's dtype and device (unless given)."""
        return self._new(0, size, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """Ones of ``size`` with this tensor's dtype and device (unless given)."""
        return self._new(1, size, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """An uninitialised tensor of ``size`` (Ember fills it with zeros)."""
        return self._new(0, size, dtype, device, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """``fill_value`` everywhere, of ``size``, with this tensor's dtype and device (unless given)."""
        return self._new(fill_value, size, dtype, device, requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad: bool = False) -> "Tensor":
        """A new tensor from ``data`` with this tensor's dtype and device (unless given)."""
        from .creation import tensor

        return tensor(data, dtype=self._data.dtype if dtype is None else dtype,
                      device=self.device if device is None else device, requires_grad=requires_grad)

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
        old = Tensor._make(self._data, self.requires_grad, self.node, self.out_index)
        old._tangent = self._tangent
        return old

    def _rebase(self, result: "Tensor") -> "Tensor":
        """Make ``self`` take over ``result``'s value and history (a recorded in-place op)."""
        self._data = result._data
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
        xp = backend.array_module(self._data)
        value = other._data if isinstance(other, Tensor) else other
        try:
            getattr(xp, ufunc)(self._data, value, out=self._data)
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

    def add_(self, other, *, alpha=1):
        """In-place ``self += alpha * other``."""
        return self.__iadd__(other if alpha == 1 else other * alpha)

    def sub_(self, other, *, alpha=1):
        """In-place ``self -= alpha * other``."""
        return self.__isub__(other if alpha == 1 else other * alpha)

    def mul_(self, other):
        """In-place ``self *= other``."""
        return self.__imul__(other)

    def div_(self, other, *, rounding_mode=None):
        """In-place ``self /= other`` (optionally rounded, see :meth:`div`)."""
        if rounding_mode is not None:
            return self._update_("div_", lambda x: E.div(x, other, rounding_mode=rounding_mode))
        return self.__itruediv__(other)

    def _update_(self, op: str, compute) -> "Tensor":
        """Run ``compute`` out of place and make ``self`` hold the result (any in-place method).

        Recorded (autograd sees the op) when the result carries a gradient; otherwise
        the result is written into this tensor's own memory, which views and
        ``.data`` aliases share, as PyTorch's in-place ops do.
        """
        self._check_inplace(op)
        result = compute(self._snapshot())
        if result.requires_grad or self._tangent is not None or result._tangent is not None:
            return self._rebase(result)
        if result.shape != self.shape:
            from .errors import ShapeError

            raise ShapeError(f"{op}: the result of shape {result.shape} cannot be written into a tensor "
                             f"of shape {self.shape} in place")
        self.__setitem__(Ellipsis, result)
        return self

    def clamp_(self, min=None, max=None):  # noqa: A002
        """In-place :meth:`clamp`."""
        return self._update_("clamp_", lambda x: E.clip(x, min, max))

    clip_ = clamp_

    def clamp_min_(self, min):  # noqa: A002
        """In-place :meth:`clamp_min`."""
        return self._update_("clamp_min_", lambda x: E.clip(x, min, None))

    def clamp_max_(self, max):  # noqa: A002
        """In-place :meth:`clamp_max`."""
        return self._update_("clamp_max_", lambda x: E.clip(x, None, max))

    def pow_(self, exponent):
        """In-place ``self **= exponent``."""
        return self._update_("pow_", lambda x: E.pow(x, exponent))

    def neg_(self):
        """In-place negation."""
        return self._update_("neg_", E.neg)

    def abs_(self):
        """In-place absolute value."""
        return self._update_("abs_", E.abs)

    def sqrt_(self):
        """In-place square root."""
        return self._update_("sqrt_", E.sqrt)

    def exp_(self):
        """In-place exponential."""
        return self._update_("exp_", E.exp)

    def log_(self):
        """In-place natural logarithm."""
        return self._update_("log_", E.log)

    def tanh_(self):
        """In-place tanh."""
        return self._update_("tanh_", E.tanh)

    def sigmoid_(self):
        """In-place sigmoid."""
        return self._update_("sigmoid_", E.sigmoid)

    def relu_(self):
        """In-place ReLU."""
        return self._update_("relu_", E.relu)

    def masked_fill_(self, mask, value):
        """In-place :meth:`masked_fill`."""
        return self._update_("masked_fill_", lambda x: M.masked_fill(x, mask, value))

    def addcmul_(self, tensor1, tensor2, *, value=1):
        """In-place ``self += value * tensor1 * tensor2``."""
        return self._update_("addcmul_", lambda x: x + value * tensor1 * tensor2)

    def addcdiv_(self, tensor1, tensor2, *, value=1):
        """In-place ``self += value * tensor1 / tensor2``."""
        return self._update_("addcdiv_", lambda x: x + value * tensor1 / tensor2)

    def lerp_(self, end, weight):
        """In-place :meth:`lerp`."""
        return self._update_("lerp_", lambda x: E.lerp(x, end, weight))

    def scatter_add_(self, dim: int, index, src):
        """In-place :meth:`scatter_add`."""
        return self._update_("scatter_add_", lambda x: M.scatter_add(x, dim, index, src))

    def index_fill_(self, dim: int, index, value):
        """Set the entries at ``index`` along ``dim`` to ``value``."""
        self.__setitem__((slice(None),) * M._axis("index_fill_", dim, self.ndim) + (as_tensor(index),), value)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator=None):
        """Fill with samples from U(a, b)."""
        return SP.uniform_(self, a, b, generator=generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None):
        """Fill with samples from N(mean, std^2)."""
        return SP.normal_(self, mean, std, generator=generator)

    def bernoulli_(self, p: float = 0.5, *, generator=None):
        """Fill with 0/1 samples, 1 with probability ``p``."""
        return SP.bernoulli_(self, p, generator=generator)

    def fill_(self, value) -> "Tensor":
        """Set every element to ``value``."""
        self._check_inplace("fill_")
        if _State.enabled and self.requires_grad:
            # The new value does not depend on the old one: the history is dropped.
            filled = backend.array_module(self._data).full_like(self._data, value)
            return self._rebase(constant(filled))
        self._data[...] = value
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
        key = M.normalize_index(index, backend.array_module(self._data))
        try:
            M.assign_index(self._data, key, value._data if isinstance(value, Tensor) else value)
        except (ValueError, IndexError) as error:
            raise type(error)(f"setitem: {error} (tensor of shape {self.shape})") from None
        self._version += 1
        if _Trace.tracer is not None:
            _Trace.tracer.record_setitem(self, key, value)


_TYPE_NAMES = {"float32": "ember.FloatTensor", "float64": "ember.DoubleTensor", "float16": "ember.HalfTensor",
               "bfloat16": "ember.BFloat16Tensor",
               "int64": "ember.LongTensor", "int32": "ember.IntTensor", "int16": "ember.ShortTensor",
               "int8": "ember.CharTensor", "uint8": "ember.ByteTensor", "bool": "ember.BoolTensor"}


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


def constant(array) -> Tensor:
    """Wrap backend ``array`` as a tensor that carries no gradient, without copying it.

    What ops and rules use for masks, saved statistics and other values that are
    inputs to a computation but never differentiated (no checks: ``array`` must
    already be a NumPy or CuPy array).

    Example:
        >>> import numpy as np
        >>> from ember.tensor import constant
        >>> c = constant(np.ones(2, dtype=np.float32))
        >>> c.requires_grad, c.tolist()
        (False, [1.0, 1.0])
    """
    return Tensor._make(array, False, None, 0)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Return ``data`` as a Tensor, without copying when it already is one or is an array
    (``device=`` moves it, as ``torch.as_tensor`` does)."""
    if isinstance(data, Tensor):
        out = data if dtype is None or data.dtype == backend.numpy_module().dtype(dtype) else data.astype(dtype)
    else:
        out = Tensor(data, dtype=dtype)
    return out if device is None or str(device) == out.device else out.to(str(device))
