"""Ember: a readable, NumPy-native deep learning framework.

Example:
    >>> import ember
    >>> x = ember.randn(4, 3)
    >>> w = ember.randn(3, 2, requires_grad=True)
    >>> loss = (x @ w).relu().sum()
    >>> loss.backward()
    >>> w.grad.shape
    (3, 2)
"""
from . import host_memory

host_memory._apply_at_import()  # only with EMBER_KEEP_FREED_MEMORY=1: see ember/host_memory.py

from numpy import bool_ as bool  # noqa: A001,E402 - dtype aliases, as in torch.float32
from numpy import (complex64, complex128, float16, float32, float64, int8, int16, int32, int64,  # noqa: E402
                   uint8)

# PyTorch's other dtype names (torch.long, torch.float, ...), the same NumPy dtypes.
long = int64  # noqa: A001
int = int32  # noqa: A001
short = int16
double = float64
float = float32  # noqa: A001
half = float16
cfloat = complex64
cdouble = complex128

from . import autograd, backend, data, nn, optim  # noqa: E402
from .autograd import enable_grad, grad, jvp, no_grad, set_grad_enabled, value_and_grad, vjp  # noqa: E402
from .autograd.grad_mode import is_grad_enabled  # noqa: E402
from .backend import default_dtype, get_rng_state, manual_seed, set_default_dtype, set_rng_state  # noqa: E402
from .creation import (arange, empty, empty_like, eye, from_numpy, full, full_like, linspace, ones,  # noqa: E402
                       ones_like, rand, rand_like, randint, randint_like, randn, randn_like, tensor, zeros, zeros_like)
from .device import device  # noqa: E402
from .errors import DeviceError, LayoutError, ShapeError  # noqa: E402
from .generator import Generator  # noqa: E402
from .kernels import get_num_threads, set_num_threads  # noqa: E402
from .ops.elementwise import (abs, acos, acosh, add, arctan2, asin, asinh, atan, atan2, atanh,  # noqa: E402
                              allclose, bitwise_and, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift,
                              bitwise_xor, ceil, clamp, clip, copysign, cos, cosh, div, exp, exp2, expm1, floor,
                              floor_divide, fmod, frac, hypot, isclose, isfinite, isinf, isnan, lerp, log, log1p, log2,
                              log10, logaddexp, logical_and, logical_not, logical_or, logical_xor, maximum,
                              minimum, mul, neg, pow, reciprocal, relu, remainder, round, rsqrt, sigmoid, sign,
                              sin, sinh, sqrt, square, sub, tan, tanh, true_divide, trunc, where, xlogy)
from .ops.special import erf, erfc, erfinv  # noqa: E402
from .ops.indexing import (argwhere, index_add, index_put, masked_select, meshgrid, nonzero,  # noqa: E402
                           scatter, scatter_reduce, take_along_dim)
from .ops.linalg import addmm, baddbmm, bmm, dot, einsum, matmul, mm, mv, outer  # noqa: E402
from .ops.movement import (broadcast_to, cat, chunk, concat, concatenate, expand, flatten, flip,  # noqa: E402
                           gather, index_select, masked_fill, movedim, narrow, one_hot, pad, permute,
                           repeat_interleave, reshape, scatter_add, split, squeeze, stack, swapaxes,
                           swapdims, tile, transpose, unbind, unflatten, unsqueeze)
from .ops.reduce import (all, amax, amin, any, argmax, argmin, count_nonzero, cumsum, logsumexp,  # noqa: E402
                         max, mean, min, norm, prod, std, std_mean, sum, var, var_mean)
from .creation import logspace  # noqa: E402
from .ops.sampling import bernoulli, multinomial, normal, randperm  # noqa: E402
from .ops.scan import cummax, cummin, cumprod, logcumsumexp  # noqa: E402
from .ops.shift import roll, rot90  # noqa: E402
from .ops.sorting import argsort, kthvalue, median, mode, msort, nanmedian, searchsorted, sort, topk  # noqa: E402
from .ops.triangular import diag, diag_embed, diagonal, trace, tril, tril_indices, triu, triu_indices  # noqa: E402
from .size import Size  # noqa: E402
from .tensor import Tensor, as_tensor  # noqa: E402
from . import accelerator, backends, cuda, return_types, utils  # noqa: E402
from . import amp, cpu  # noqa: E402
from .amp import (autocast, get_autocast_cpu_dtype, get_autocast_dtype, is_autocast_cpu_enabled,  # noqa: E402
                  is_autocast_enabled)
from .amp.dtypes import bfloat16  # noqa: E402 - ml_dtypes' bfloat16 (None if ml_dtypes is missing)



def is_tensor(obj) -> bool:
    """Whether ``obj`` is an :class:`ember.Tensor`."""
    return isinstance(obj, Tensor)


subtract, multiply, divide, negative, absolute, fix = sub, mul, div, neg, abs, trunc
greater, greater_equal, less, less_equal = Tensor.gt, Tensor.ge, Tensor.lt, Tensor.le
eq, ne, gt, ge, lt, le = Tensor.eq, Tensor.ne, Tensor.gt, Tensor.ge, Tensor.lt, Tensor.le
t = Tensor.t


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    """Whether ``input`` has a floating-point dtype."""
    return input.is_floating_point()


inference_mode = no_grad

__version__ = "0.1.0"
from .io import load, save  # noqa: E402 - io builds on the names above
from .io.dlpack import from_dlpack  # noqa: E402
from .io import serialization  # noqa: E402 - torch.serialization (safe_globals, add_safe_globals)
import sys as _sys  # noqa: E402

_sys.modules[__name__ + ".serialization"] = serialization  # `import ember.serialization` works as torch's
from . import onnx  # noqa: E402 - the onnx package itself is imported only when exporting
from . import distributed, functional, train  # noqa: E402 - train builds on nn, optim, data and io

# `ember.compile` is the function; the package of the same name stays importable
# (`from ember.compile import CompileError`) through sys.modules.
from .compile import compile  # noqa: E402,F811
