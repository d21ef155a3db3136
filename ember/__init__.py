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

host_memory._apply_at_import()  # before the first large arrays: see ember/host_memory.py

from numpy import bool_ as bool  # noqa: A001,E402 - dtype aliases, as in torch.float32
from numpy import float16, float32, float64, int8, int16, int32, int64, uint8  # noqa: E402

from . import autograd, backend, data, nn, optim
from .autograd import enable_grad, grad, jvp, no_grad, set_grad_enabled, value_and_grad, vjp
from .autograd.grad_mode import is_grad_enabled
from .backend import default_dtype, get_rng_state, manual_seed, set_default_dtype, set_rng_state
from .creation import (arange, empty, eye, from_numpy, full, full_like, linspace, ones, ones_like,
                       rand, rand_like, randint, randn, randn_like, tensor, zeros, zeros_like)
from .ops.elementwise import (abs, add, clip, cos, div, exp, log, log1p, maximum, minimum, mul,
                              neg, pow, relu, sigmoid, sign, sin, sqrt, sub, tanh, where)
from .ops.linalg import einsum, matmul
from .ops.movement import (broadcast_to, chunk, concat, expand, flatten, flip, gather, index_select,
                           masked_fill, one_hot, pad, permute, repeat, reshape, scatter_add, split,
                           squeeze, stack, swapaxes, tile, transpose, unsqueeze)
from .ops.reduce import (argmax, argmin, cumsum, logsumexp, max, mean, min, prod, std, sum, var)
from .tensor import Tensor, as_tensor

clamp = clip
cat = concat

__version__ = "0.1.0"
from .io import load, save  # noqa: E402 - io builds on the names above
from .io.dlpack import from_dlpack  # noqa: E402
from . import onnx  # noqa: E402 - the onnx package itself is imported only when exporting
from . import distributed, functional, train  # noqa: E402 - train builds on nn, optim, data and io

# `ember.compile` is the function; the package of the same name stays importable
# (`from ember.compile import CompileError`) through sys.modules.
from .compile import compile  # noqa: E402,F811
