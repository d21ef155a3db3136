"""Activation layers: the module form of each function in :mod:`ember.functional.activation`.

Example:
    >>> import ember, ember.nn as nn
    >>> nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2), nn.LogSoftmax(dim=1))(ember.ones(3, 4)).shape
    (3, 2)
"""
from __future__ import annotations

from ...creation import full
from ...functional import activation as F
from ...tensor import Tensor
from ..module import Module, Parameter

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "Threshold", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
           "Sigmoid", "Hardsigmoid", "Hardswish", "Tanh", "Softplus", "LogSigmoid", "Softsign", "Hardtanh",
           "Softshrink", "Hardshrink", "Tanhshrink", "GLU", "Abs", "Maxout", "Softmax", "Softmin", "LogSoftmax"]


class _Elementwise(Module):
    """An activation without parameters: ``forward`` applies ``function`` with the stored settings."""

    function = None
    settings: tuple = ()

    def forward(self, x: Tensor) -> Tensor:
        return type(self).function(x, *(getattr(self, name) for name in self.settings))

    def extra_repr(self) -> str:
        # PyTorch's style: settings as name=value, and "inplace=True" only when set.
        parts = []
        for name in self.settings:
            value = getattr(self, name)
            if name == "inplace":
                if value:
                    parts.append("inplace=True")
            else:
                parts.append(f"{name}={value!r}" if isinstance(value, str) else f"{name}={value}")
        return ", ".join(parts)


class ReLU(_Elementwise):
    """``max(x, 0)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.ReLU()(ember.tensor([-1.0, 1.0])).tolist()
        [0.0, 1.0]
    """

    function = staticmethod(F.relu)
    settings = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class ReLU6(_Elementwise):
    """``min(max(x, 0), 6)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.ReLU6()(ember.tensor([-1.0, 7.0])).tolist()
        [0.0, 6.0]
    """

    function = staticmethod(F.relu6)
    settings = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class LeakyReLU(_Elementwise):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LeakyReLU(0.5)(ember.tensor([-2.0])).tolist()
        [-1.0]
    """

    function = staticmethod(F.leaky_relu)
    settings = ("negative_slope", "inplace")

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace


class PReLU(Module):
    """Leaky ReLU with learned slopes: one shared (``num_parameters=1``) or one per channel.

    Attributes:
        weight: ``(num_parameters,)`` slopes, initialised to ``init``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.PReLU()(ember.tensor([-4.0, 1.0])).tolist()
        [-1.0, 1.0]
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters = int(num_parameters)
        self.init = init
        kwargs = {} if device is None else {"device": device}
        self.weight = Parameter(full((num_parameters,), float(init), dtype=dtype, **kwargs))

    def reset_parameters(self) -> None:
        """Set every slope back to ``init``."""
        from ..init import constant_

        constant_(self.weight, self.init)

    def forward(self, x: Tensor) -> Tensor:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Threshold(_Elementwise):
    """``x`` where ``x > threshold``, else ``value``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Threshold(0.1, 20.0)(ember.tensor([0.0, 1.0])).tolist()
        [20.0, 1.0]
    """

    function = staticmethod(F.threshold)
    settings = ("threshold", "value", "inplace")

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace


class ELU(_Elementwise):
    """``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.ELU()(ember.tensor([0.0])).tolist()
        [0.0]
    """

    function = staticmethod(F.elu)
    settings = ("alpha", "inplace")

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class SELU(_Elementwise):
    """Self-normalising ELU (pair it with ``AlphaDropout``).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.SELU()(ember.tensor([0.0])).tolist()
        [0.0]
    """

    function = staticmethod(F.selu)
    settings = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class CELU(_Elementwise):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.CELU(alpha=1.0)(ember.tensor([0.0, 1.0])).tolist()
        [0.0, 1.0]
    """

    function = staticmethod(F.celu)
    settings = ("alpha", "inplace")

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class GELU(_Elementwise):
    """``x * Phi(x)``, exact (``approximate='none'``) or with the tanh formula.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.GELU()(ember.tensor([0.0])).tolist()
        [0.0]
    """

    function = staticmethod(F.gelu)
    settings = ("approximate",)

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate


class SiLU(_Elementwise):
    """``x * sigmoid(x)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.SiLU()(ember.tensor([0.0])).tolist()
        [0.0]
    """

    function = staticmethod(F.silu)
    settings = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class Mish(_Elementwise):
    """``x * tanh(softplus(x))``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Mish()(ember.tensor([0.0])).tolist()
        [0.0]
    """

    function = staticmethod(F.mish)
    settings = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class Sigmoid(_Elementwise):
    """The logistic function.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Sigmoid()(ember.tensor([0.0])).tolist()
        [0.5]
    """

    function = staticmethod(F.sigmoid)


class Hardsigmoid(_Elementwise):
    """``relu6(x + 3) / 6``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Hardsigmoid()(ember.tensor([0.0, 5.0])).tolist()
        [0.5, 1.0]
    """

    function = staticmethod(F.hardsigmoid)
    settings = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class Hardswish(_Elementwise):
    """``x * relu6(x + 3) / 6``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Hardswish()(ember.tensor([0.0, 5.0])).tolist()
        [0.0, 5.0]
    """

    function = staticmethod(F.hardswish)
    settings = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace


class Tanh(_Elementwise):
    """Hyperbolic tangent.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Tanh()(ember.tensor([0.0])).tolist()
        [0.0]
    """

    function = staticmethod(F.tanh)


class Softplus(_Elementwise):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Softplus()(ember.tensor([100.0])).tolist()
        [100.0]
    """

    function = staticmethod(F.softplus)
    settings = ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold


class LogSigmoid(_Elementwise):
    """``log(sigmoid(x))``, stable.

    Example:
        >>> import ember, ember.nn as nn
        >>> [round(v, 4) for v in nn.LogSigmoid()(ember.tensor([0.0, -100.0])).tolist()]
        [-0.6931, -100.0]
    """

    function = staticmethod(F.log_sigmoid)


class Softsign(_Elementwise):
    """``x / (1 + |x|)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Softsign()(ember.tensor([3.0])).tolist()
        [0.75]
    """

    function = staticmethod(F.softsign)


class Hardtanh(_Elementwise):
    """Clamp to ``[min_val, max_val]``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Hardtanh()(ember.tensor([2.0])).tolist()
        [1.0]
    """

    function = staticmethod(F.hardtanh)
    settings = ("min_val", "max_val", "inplace")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace


class Softshrink(_Elementwise):
    """Soft thresholding: shrink toward 0 by ``lambd``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Softshrink(1.0)(ember.tensor([3.0])).tolist()
        [2.0]
    """

    function = staticmethod(F.softshrink)
    settings = ("lambd",)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(_Elementwise):
    """Zero the elements with ``|x| <= lambd``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Hardshrink(1.0)(ember.tensor([0.5, 3.0])).tolist()
        [0.0, 3.0]
    """

    function = staticmethod(F.hardshrink)
    settings = ("lambd",)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def extra_repr(self) -> str:
        return str(self.lambd)


class Tanhshrink(_Elementwise):
    """``x - tanh(x)``.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Tanhshrink()(ember.tensor([0.0])).tolist()
        [0.0]
    """

    function = staticmethod(F.tanhshrink)


class GLU(_Elementwise):
    """Gated linear unit over ``dim``: ``a * sigmoid(b)`` of its two halves.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.GLU()(ember.ones(3, 4)).shape
        (3, 2)
    """

    function = staticmethod(F.glu)
    settings = ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim


class Abs(_Elementwise):
    """``|x|`` (Torch7's ``nn.Abs``).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Abs()(ember.tensor([-3.0])).tolist()
        [3.0]
    """

    function = staticmethod(F.abs)


class Maxout(_Elementwise):
    """Maximum over groups of ``pool_size`` consecutive features along ``dim``.

    Put it after a layer with ``units * pool_size`` outputs:
    ``Sequential(Linear(784, 240 * 5), Maxout(5))`` has 240 maxout units.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Maxout(2)(ember.tensor([[1.0, 5.0, 3.0, 2.0]])).tolist()
        [[5.0, 3.0]]
    """

    function = staticmethod(F.maxout)
    settings = ("pool_size", "dim")

    def __init__(self, pool_size: int, dim: int = -1) -> None:
        super().__init__()
        if pool_size < 1:
            raise ValueError(f"Maxout: pool_size must be positive, got {pool_size}")
        self.pool_size, self.dim = int(pool_size), dim


class Softmax(_Elementwise):
    """Probabilities along ``dim`` (the last by default); all ``-inf`` rows give zeros.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Softmax(dim=1)(ember.zeros(1, 4)).tolist()
        [[0.25, 0.25, 0.25, 0.25]]
    """

    function = staticmethod(F.softmax)
    settings = ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim


class Softmin(_Elementwise):
    """``softmax(-x)`` along ``dim`` (PyTorch's implicit choice when None).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Softmin(dim=1)(ember.zeros(1, 2)).tolist()
        [[0.5, 0.5]]
    """

    function = staticmethod(F.softmin)
    settings = ("dim",)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim


class LogSoftmax(_Elementwise):
    """Log-probabilities along ``dim`` (the last by default), stable for any finite logits.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LogSoftmax(dim=1)(ember.tensor([[1e4, 0.0]])).tolist()
        [[0.0, -10000.0]]
    """

    function = staticmethod(F.log_softmax)
    settings = ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim
