"""Affine layers: ``Linear``, ``Bilinear`` and ``Identity``.

Weights use PyTorch's layout and default initialisation, so ``state_dict``
keys, shapes and starting distributions match ``torch.nn``.

Example:
    >>> import ember, ember.nn as nn
    >>> nn.Linear(784, 10)(ember.zeros(32, 784)).shape
    (32, 10)
"""
from __future__ import annotations

import math

from ...creation import empty
from ...functional.linear import bilinear
from ...functional._checks import check_dtype, check_last_dim
from ...ops import nn as N
from ...ops.checks import float_operand
from ...tensor import Tensor
from .. import init
from ..module import Module, Parameter

__all__ = ["Linear", "Bilinear", "Identity"]


def _device(device) -> str:
    """PyTorch's ``device=None`` (the default device) as Ember's creation functions spell it."""
    return "cpu" if device is None else str(device)


class Linear(Module):
    """``y = x @ weight.T + bias`` over the last dimension (Torch7's ``nn.Linear``).

    Args:
        in_features: size of each input's last dimension.
        out_features: size of each output's last dimension.
        bias: whether to learn an additive bias.
        device: ``'cpu'`` (default) or ``'cuda'``.
        dtype: parameter dtype (default: the default float dtype, float32).

    Attributes:
        weight: ``(out_features, in_features)``, initialised from
            ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` as in PyTorch.
        bias: ``(out_features,)``, same distribution, or None.

    Example:
        >>> import ember, ember.nn as nn
        >>> layer = nn.Linear(3, 2)
        >>> layer(ember.ones(4, 3)).shape
        (4, 2)
        >>> [k for k in layer.state_dict()]
        ['weight', 'bias']
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=_device(device)))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=_device(device)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the parameters with PyTorch's defaults."""
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = float_operand("Linear", x)
        check_last_dim("Linear", x, self.in_features)
        check_dtype("Linear", x, self.weight)
        return N.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """``y[..., o] = x1 @ weight[o] @ x2 + bias[o]``: multiplicative (three-way) interactions.

    Args:
        in1_features, in2_features: sizes of the two inputs' last dimensions.
        out_features: number of bilinear forms.
        bias: whether to learn an additive bias.
        device, dtype: where and of what dtype the parameters are made (as in :class:`Linear`).

    Attributes:
        weight: ``(out_features, in1_features, in2_features)`` from ``U(-k, k)``,
            ``k = 1/sqrt(in1_features)`` (PyTorch's default); bias likewise.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Bilinear(3, 4, 2)(ember.ones(5, 3), ember.ones(5, 4)).shape
        (5, 2)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        self.weight = Parameter(empty(out_features, in1_features, in2_features, dtype=dtype, device=_device(device)))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=_device(device)))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Redraw the parameters with PyTorch's defaults."""
        bound = 1.0 / math.sqrt(self.in1_features) if self.in1_features > 0 else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        x1, x2 = float_operand("Bilinear", x1), float_operand("Bilinear", x2)
        check_last_dim("Bilinear", x1, self.in1_features, "first input")
        check_last_dim("Bilinear", x2, self.in2_features, "second input")
        return bilinear(x1, x2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class Identity(Module):
    """Return the input unchanged (a placeholder, e.g. to remove a layer); arguments are ignored.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.Identity(54, unused="x")(ember.ones(2)).tolist()
        [1.0, 1.0]
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, x: Tensor) -> Tensor:
        return x
