"""``ember.autocast``: PyTorch's automatic mixed precision, as one policy applied where every op passes.

Inside ``with ember.autocast("cpu", dtype=ember.bfloat16):`` each primitive on a listed name has its
floating inputs cast before it runs:

* :data:`LOWER_PRECISION_OPS` (matrix products and convolutions) run in the region's dtype
  (bfloat16 or float16) and return it;
* :data:`FLOAT32_OPS` (softmax, log-softmax, normalisation, exp/log/pow, sums and products, the
  losses' primitives) run in float32, whatever lower precision their inputs arrived in;
* every other op runs in the dtype of its inputs, as in PyTorch.

The policy sits in one place: ``ember.autograd.function.apply`` calls :func:`_autocast_hook` while a
region is live (one global read per op when none is). The casts are ordinary ``Cast`` primitives, so
gradients flow back through them and reach float32 parameters in float32 ("master weights").
float64 tensors are never cast (PyTorch's eligibility rule).

Example:
    >>> import ember, ember.amp
    >>> w = ember.randn(3, 4, requires_grad=True)
    >>> with ember.amp.autocast("cpu", dtype=ember.amp.bfloat16):
    ...     y = ember.randn(2, 4) @ w.t()
    ...     p = y.softmax(-1)
    >>> str(y.dtype), str(p.dtype)
    ('bfloat16', 'float32')
    >>> p.sum().backward(); str(w.grad.dtype)
    'float32'
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy

from ..autograd import function as _function
from ..errors import ArgumentError
from ..ops.elementwise import Cast
from .dtypes import ELIGIBLE_DTYPES, bfloat16, float16, low_precision_dtype

#: Primitives (by ``Function.name``) that autocast runs in the lower precision: PyTorch's
#: ``lower_precision_fp`` list for the ops Ember has (mm, bmm, addmm, baddbmm, mv and dot are
#: built on ``matmul``; conv1d/2d/3d are ``conv``; conv_transpose1d/2d/3d are ``conv_transpose``).
LOWER_PRECISION_OPS: frozenset = frozenset({"matmul", "linear", "conv", "conv_transpose", "einsum"})

#: Primitives autocast runs in float32: PyTorch's float32 list (the CUDA one, which also covers the
#: CPU list's losses) for the primitives Ember's softmax, norms, reductions and losses are made of.
#: ``nll`` serves nll_loss and cross_entropy; mse, bce, kl_div, huber... are composed of ``pow``,
#: ``log``, ``sum`` and friends; ``moments``/``normalize`` serve layer, group and batch norm.
FLOAT32_OPS: frozenset = frozenset({
    "softmax", "log_softmax", "nll", "ctc_loss",
    "moments", "normalize", "normalize_statistics",
    "exp", "expm1", "log", "log1p", "log2", "log10", "pow", "powscalar", "reciprocal", "rsqrt",
    "acos", "asin", "cosh", "sinh", "tan", "erfinv",
    "sum", "prod", "cumsum", "cumprod", "logcumsumexp", "logaddexp", "xlogy",
})

_DEVICE_TYPES = ("cpu", "cuda")
_DEFAULT_DTYPE = {"cpu": bfloat16 if bfloat16 is not None else float16, "cuda": float16}
_FLOAT32 = numpy.dtype(numpy.float32)


class _AutocastState:
    """Per device type: whether autocast is on, its dtype, whether casts of leaf tensors are cached.

    Process-wide rather than per thread (Ember's grad mode is process-wide too).
    """

    enabled: dict = {"cpu": False, "cuda": False}
    dtype: dict = {d: numpy.dtype(_DEFAULT_DTYPE[d]) for d in _DEVICE_TYPES}
    cache_enabled: bool = True
    depth: int = 0  # live regions, enabled or not: the cast cache is cleared when the outermost exits
    #: (id(tensor), dtype) -> (tensor, version, cast tensor) for leaf tensors that require grad.
    cache: dict = {}


def _device_type(array) -> str:
    return "cpu" if isinstance(array, numpy.ndarray) else "cuda"


def _cast(tensor, dtypes: tuple):
    """``tensor`` cast through each of ``dtypes`` in turn by the differentiable ``Cast`` primitive.

    The casts of leaf tensors that require grad (the weights) are cached for the outermost region.
    """
    cacheable = _AutocastState.cache_enabled and tensor.requires_grad and tensor.node is None
    if cacheable:
        key = (id(tensor), dtypes)
        hit = _AutocastState.cache.get(key)
        if hit is not None and hit[0] is tensor and hit[1] == tensor._version:
            return hit[2]
    out = tensor
    for dtype in dtypes:
        out = _function.apply(Cast, (out,), {"dtype": dtype})
    if cacheable:
        _AutocastState.cache[key] = (tensor, tensor._version, out)
    return out


def _lower_precision_casts(dtype, low) -> tuple:
    """The casts that give a float32 array holding ``low``-precision values, from ``dtype``.

    NumPy has no BLAS for float16 and a slow loop for bfloat16 (about 350 and 2.5 times slower
    than float32 for a 128x784 @ 784x1000 product), so a lower-precision op computes in float32 on inputs rounded to ``low`` and its result
    is rounded to ``low``: the roundings of a low-precision op, with float32 accumulation as CPUs'
    bf16/fp16 units do. Its vjp then sees float32 arrays only.
    """
    # float32 (or the other low-precision dtype) is rounded to ``low`` first; ``low`` itself widens exactly.
    return (_FLOAT32,) if dtype == low else (low, _FLOAT32)


def _autocast_hook(fn, inputs: tuple, params: dict):
    """Run ``fn`` under the autocast policy, or return None when the policy leaves it alone.

    Installed as ``ember.autograd.function._autocast_hook`` while any region is enabled.
    """
    name = fn.name
    lower = name in LOWER_PRECISION_OPS
    if not lower and name not in FLOAT32_OPS:
        return None
    enabled = _AutocastState.enabled
    cast_inputs = None
    low = None
    for i, t in enumerate(inputs):
        dtype = t._data.dtype
        if dtype not in ELIGIBLE_DTYPES:
            continue
        device = _device_type(t._data)
        if not enabled[device]:
            continue
        if lower:
            low = _AutocastState.dtype[device]
            casts = _lower_precision_casts(dtype, low)
        elif dtype == _FLOAT32:
            continue
        else:
            casts = (_FLOAT32,)
        if cast_inputs is None:
            cast_inputs = list(inputs)
        cast_inputs[i] = _cast(t, casts)
    if cast_inputs is None:
        return None  # nothing to cast: the op runs as usual
    # Run the op itself with the hook off: its inputs are final, and nothing inside should recast.
    _function._autocast_hook = None
    try:
        out = _function.apply(fn, tuple(cast_inputs), params)
    finally:
        _function._autocast_hook = _autocast_hook
    if low is not None:
        out = _function.apply(Cast, (out,), {"dtype": low})
    return out


def _install_hook() -> None:
    live = any(_AutocastState.enabled.values())
    _function._autocast_hook = _autocast_hook if live else None


def _check_device_type(op: str, device_type) -> str:
    if not isinstance(device_type, str) or device_type.split(":")[0] not in _DEVICE_TYPES:
        raise ArgumentError(f"{op}: device_type must be 'cpu' or 'cuda', got {device_type!r}")
    return device_type.split(":")[0]


class autocast:
    """Context manager and decorator that runs a region in mixed precision, as ``torch.autocast``.

    Args:
        device_type: ``"cpu"`` or ``"cuda"``; only tensors on that device are cast.
        dtype: ``ember.bfloat16`` or ``ember.float16``; default bfloat16 on the CPU, float16 on CUDA.
        enabled: ``False`` makes the region run everything in its inputs' dtypes (it also switches
            off an enclosing region for its duration, as in PyTorch).
        cache_enabled: cache the casts of leaf tensors that require grad (the weights) inside the
            outermost region, so that a weight used twice is cast once; ``None`` keeps the current setting.

    Example:
        >>> import ember, ember.amp
        >>> with ember.amp.autocast("cpu"):
        ...     (ember.ones(2, 3) @ ember.ones(3, 2)).dtype.name
        'bfloat16'
        >>> @ember.amp.autocast("cpu", dtype=ember.float16)
        ... def f(a, b):
        ...     return a @ b
        >>> f(ember.ones(2, 3), ember.ones(3, 2)).dtype.name
        'float16'
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled: bool | None = None):
        self.device_type = _check_device_type("autocast", device_type)
        self.fast_dtype = (numpy.dtype(_DEFAULT_DTYPE[self.device_type]) if dtype is None
                           else low_precision_dtype("autocast", dtype))
        self._enabled = bool(enabled)
        self._cache_enabled = cache_enabled
        self._saved: list = []

    def __enter__(self) -> "autocast":
        state = _AutocastState
        device = self.device_type
        self._saved.append((state.enabled[device], state.dtype[device], state.cache_enabled))
        state.enabled[device] = self._enabled
        state.dtype[device] = self.fast_dtype
        if self._cache_enabled is not None:
            state.cache_enabled = bool(self._cache_enabled)
        state.depth += 1
        _install_hook()
        return self

    def __exit__(self, *exc) -> bool:
        state = _AutocastState
        device = self.device_type
        state.enabled[device], state.dtype[device], state.cache_enabled = self._saved.pop()
        state.depth -= 1
        if state.depth == 0:
            state.cache.clear()
        _install_hook()
        return False

    def __call__(self, func: Callable) -> Callable:
        """Use as a decorator: ``func`` runs inside this region on every call."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with autocast(self.device_type, dtype=self.fast_dtype, enabled=self._enabled,
                          cache_enabled=self._cache_enabled):
                return func(*args, **kwargs)

        return wrapper


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type``; with no argument, for CUDA (PyTorch's legacy meaning).

    Example:
        >>> import ember.amp
        >>> with ember.amp.autocast("cpu"):
        ...     ember.amp.is_autocast_enabled("cpu"), ember.amp.is_autocast_enabled()
        (True, False)
    """
    device = "cuda" if device_type is None else _check_device_type("is_autocast_enabled", device_type)
    return _AutocastState.enabled[device]


def is_autocast_cpu_enabled() -> bool:
    """Whether CPU autocast is on (PyTorch's older spelling of ``is_autocast_enabled("cpu")``)."""
    return _AutocastState.enabled["cpu"]


def get_autocast_dtype(device_type: str) -> numpy.dtype:
    """The dtype autocast lowers to on ``device_type`` (bfloat16 on the CPU, float16 on CUDA by default)."""
    return _AutocastState.dtype[_check_device_type("get_autocast_dtype", device_type)]


def get_autocast_cpu_dtype() -> numpy.dtype:
    """The CPU autocast dtype (PyTorch's older spelling of ``get_autocast_dtype("cpu")``)."""
    return _AutocastState.dtype["cpu"]


def is_autocast_cache_enabled() -> bool:
    """Whether casts of weights are cached inside autocast regions."""
    return _AutocastState.cache_enabled


def clear_autocast_cache() -> None:
    """Drop the cached casts of weights (they are dropped anyway when the outermost region exits)."""
    _AutocastState.cache.clear()


def is_autocast_active(device_type: str) -> bool:
    """Whether an enabled autocast region casts tensors on ``device_type`` now."""
    return _AutocastState.enabled[_check_device_type("is_autocast_active", device_type)]


def will_cast(*tensors) -> bool:
    """Whether a live autocast region will cast all of ``tensors`` (floating, float64 excepted, on an
    enabled device) for a listed op, so a dtype mismatch among them is not an error.

    For the dtype checks that run before a listed op (matmul, einsum, conv, linear layers): a float32
    layer legitimately meets float16 activations under autocast. Call it only once dtypes differ.

    Example:
        >>> import ember, ember.amp
        >>> a = ember.ones(2, 2).half()
        >>> ember.amp.will_cast(a, ember.ones(2, 2))
        False
        >>> with ember.amp.autocast("cpu", dtype=ember.float16):
        ...     ember.amp.will_cast(a, ember.ones(2, 2))
        True
    """
    if _function._autocast_hook is None:
        return False
    enabled = _AutocastState.enabled
    return all(t._data.dtype in ELIGIBLE_DTYPES and enabled[_device_type(t._data)] for t in tensors)


__all__ = ["autocast", "is_autocast_enabled", "is_autocast_cpu_enabled", "get_autocast_dtype",
           "get_autocast_cpu_dtype", "is_autocast_cache_enabled", "clear_autocast_cache", "is_autocast_active", "will_cast",
           "LOWER_PRECISION_OPS", "FLOAT32_OPS"]
