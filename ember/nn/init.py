"""Initialisers: fill a parameter in place, as ``torch.nn.init`` does.

Every function writes into ``tensor._data`` without recording anything (it acts
like PyTorch's ``with torch.no_grad()``), draws from the seeded global
generator (:func:`ember.backend.generator`, so ``ember.manual_seed`` makes it
reproducible) and returns the tensor. Layers use the same defaults as PyTorch,
so equal architectures start from the same distributions.

Fan-in and fan-out follow PyTorch: for a weight of shape
``(out, in, *kernel)`` (a linear layer's ``(out, in)``, a convolution's
``(out, in / groups, kh, kw)``), ``fan_in = in * prod(kernel)`` and
``fan_out = out * prod(kernel)``.

Example:
    >>> import ember
    >>> from ember.nn import init
    >>> w = ember.nn.Parameter(ember.empty(3, 5))
    >>> _ = init.xavier_uniform_(w)
    >>> bool((w.abs() <= (6 / 8) ** 0.5).all())
    True
"""
from __future__ import annotations

import math
import warnings

from .. import backend
from ..tensor import Tensor

__all__ = ["calculate_gain", "default_layer_init_", "fan_in_and_fan_out", "uniform_", "normal_", "trunc_normal_", "constant_",
           "zeros_", "ones_", "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_",
           "kaiming_normal_", "orthogonal_"]

_LINEAR_GAINS = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                 "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale of weights feeding ``nonlinearity`` (PyTorch's table).

    ``linear``/``conv*``/``sigmoid``: 1; ``tanh``: 5/3; ``relu``: sqrt(2);
    ``leaky_relu``: sqrt(2 / (1 + slope**2)) with slope ``param`` (default 0.01);
    ``selu``: 3/4.

    Example:
        >>> from ember.nn import init
        >>> round(init.calculate_gain("relu"), 4)
        1.4142
    """
    if nonlinearity in _LINEAR_GAINS:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight with at least two dimensions.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> init.fan_in_and_fan_out(ember.empty(16, 3, 5, 5))
        (75, 400)
    """
    if tensor.ndim < 2:
        raise ValueError(
            f"fan_in_and_fan_out: fan in and fan out need a tensor with at least 2 dimensions, "
            f"got shape {tensor.shape}"
        )
    receptive = 1
    for size in tensor.shape[2:]:
        receptive *= size
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _write(tensor: Tensor, values) -> Tensor:
    """Store ``values`` into ``tensor`` in place (no graph), keeping its dtype."""
    data = tensor._data
    data[...] = values.astype(data.dtype, copy=False) if hasattr(values, "astype") else values
    tensor._version += 1
    return tensor


def _draw_dtype(tensor: Tensor):
    return tensor.dtype if tensor.dtype.itemsize >= 4 else "float32"


def _check_float(name: str, tensor: Tensor) -> None:
    if tensor.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating tensor, got {tensor.dtype}")


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples from ``U(a, b)``.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> w = init.uniform_(ember.empty(100), -1.0, 1.0)
        >>> bool((w.abs() <= 1).all())
        True
    """
    _check_float("uniform_", tensor)
    if a > b:
        raise ValueError(f"uniform_: lower bound {a} exceeds upper bound {b}")
    xp = backend.array_module(tensor._data)
    sample = backend.generator(xp).random(tensor.shape, dtype=_draw_dtype(tensor))
    return _write(tensor, sample * (b - a) + a)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples from ``N(mean, std**2)``.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> w = init.normal_(ember.empty(10000), 0.0, 0.01)
        >>> bool(abs(w.numpy().std() - 0.01) < 0.001)
        True
    """
    _check_float("normal_", tensor)
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    xp = backend.array_module(tensor._data)
    sample = backend.generator(xp).standard_normal(tensor.shape, dtype=_draw_dtype(tensor))
    return _write(tensor, sample * std + mean)


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0) -> Tensor:
    """Fill with ``N(mean, std**2)`` samples redrawn until they lie in ``[a, b]``.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> w = init.trunc_normal_(ember.empty(1000), std=1.0, a=-0.5, b=0.5)
        >>> bool((w.abs() <= 0.5).all())
        True
    """
    _check_float("trunc_normal_", tensor)
    if a >= b:
        raise ValueError(f"trunc_normal_: empty interval [{a}, {b}]")
    xp = backend.array_module(tensor._data)
    gen = backend.generator(xp)
    values = gen.standard_normal(tensor.shape) * std + mean
    outside = (values < a) | (values > b)
    # Rejection sampling: each round keeps most of what is left, so few rounds are needed
    # unless [a, b] holds almost no mass (then fall back to clipping after 100 rounds).
    for _ in range(100):
        count = int(outside.sum())
        if not count:
            break
        values[outside] = gen.standard_normal(count) * std + mean
        outside = (values < a) | (values > b)
    return _write(tensor, xp.clip(values, a, b))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> init.constant_(ember.empty(2), 0.5).tolist()
        [0.5, 0.5]
    """
    return _write(tensor, val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with zeros.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> init.zeros_(ember.ones(2)).tolist()
        [0.0, 0.0]
    """
    return _write(tensor, 0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with ones.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> init.ones_(ember.zeros(2)).tolist()
        [1.0, 1.0]
    """
    return _write(tensor, 1)


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity (ones on the diagonal of a rectangle).

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> init.eye_(ember.empty(2, 3)).tolist()
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    """
    if tensor.ndim != 2:
        raise ValueError(f"eye_: expected a 2-D tensor, got shape {tensor.shape}")
    xp = backend.array_module(tensor._data)
    return _write(tensor, xp.eye(*tensor.shape, dtype=tensor.dtype))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a ``(out, in, *kernel)`` convolution weight so that it copies its input (per group).

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> w = init.dirac_(ember.empty(2, 2, 3))
        >>> w[0, 0].tolist(), w[0, 1].tolist()
        ([0.0, 1.0, 0.0], [0.0, 0.0, 0.0])
    """
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: expected a 3-, 4- or 5-D convolution weight, got shape {tensor.shape}")
    out_channels = tensor.shape[0]
    if out_channels % groups:
        raise ValueError(f"dirac_: {out_channels} output channels cannot be split into {groups} groups")
    per_group = out_channels // groups
    xp = backend.array_module(tensor._data)
    values = xp.zeros(tensor.shape, dtype=tensor.dtype)
    centre = tuple(k // 2 for k in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d) + centre] = 1
    return _write(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio's uniform init: ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> w = init.xavier_uniform_(ember.empty(20, 30))
        >>> bool((w.abs() <= (6 / 50) ** 0.5).all())
        True
    """
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound)


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Glorot & Bengio's normal init: ``N(0, std**2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> init.xavier_normal_(ember.empty(20, 30)).shape
        (20, 30)
    """
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al.'s uniform init: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan)``.

    With ``a=math.sqrt(5)`` this is PyTorch's default for linear and convolution
    weights, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Example:
        >>> import ember, math
        >>> from ember.nn import init
        >>> w = init.kaiming_uniform_(ember.empty(10, 25), a=math.sqrt(5))
        >>> bool((w.abs() <= 1 / 5).all())
        True
    """
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op")  # PyTorch's behaviour (no fan to divide by)
        return tensor
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """He et al.'s normal init: ``N(0, std**2)`` with ``std = gain / sqrt(fan)``.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> init.kaiming_normal_(ember.empty(10, 25), nonlinearity="relu").shape
        (10, 25)
    """
    if 0 in tuple(tensor.shape):
        warnings.warn("Initializing zero-element tensors is a no-op")  # PyTorch's behaviour (no fan to divide by)
        return tensor
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(_fan(tensor, mode)))


def orthogonal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Saxe et al.'s init: a (semi-)orthogonal matrix from the QR of a Gaussian one, times ``gain``.

    Tensors with more than two dimensions are treated as ``(shape[0], rest)``.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> q = init.orthogonal_(ember.empty(4, 4)).numpy()
        >>> bool(abs(q @ q.T - ember.eye(4).numpy()).max() < 1e-5)
        True
    """
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: expected a tensor with at least 2 dimensions, got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    xp = backend.array_module(tensor._data)
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = backend.generator(xp).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    # Fix the signs so that the result is uniformly distributed (Mezzadri 2007).
    signs = xp.sign(xp.diagonal(r))
    signs[signs == 0] = 1
    q = q * signs
    if rows < cols:
        q = q.T
    return _write(tensor, (gain * q).reshape(tensor.shape))


def default_layer_init_(weight: Tensor, bias: Tensor | None = None) -> None:
    """PyTorch's default for Linear and convolution layers, shared by Ember's.

    ``kaiming_uniform_(weight, a=sqrt(5))`` (uniform in ``±1/sqrt(fan_in)``) and the bias
    uniform in ``±1/sqrt(fan_in)``, so that equal seeds give comparable starts.

    Example:
        >>> import ember
        >>> from ember.nn import init
        >>> w, b = ember.empty(4, 3), ember.empty(4)
        >>> init.default_layer_init_(w, b)
        >>> bool((w.abs() <= 3 ** -0.5).all())
        True
    """
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = fan_in_and_fan_out(weight)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        uniform_(bias, -bound, bound)
