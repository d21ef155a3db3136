"""``QuantizedUpdates``: parameters kept in dynamic fixed point after every optimizer step.

The paper stores the parameters at the *update* precision (12 bits in its best
setting, against 10 for propagations): after each update every parameter is rounded
to its own dynamic fixed-point format, whose scaling factor follows the parameter's
overflows. :class:`QuantizedUpdates` wraps any optimizer to do that.

Example:
    >>> import ember, ember.nn as nn
    >>> from ember.quantization import QuantizedUpdates
    >>> layer = nn.Linear(3, 2)
    >>> opt = QuantizedUpdates(ember.optim.SGD(layer.parameters(), lr=0.1), width=12, integer_bits=0)
    >>> layer(ember.randn(4, 3)).sum().backward(); opt.step()     # then the scales update
    >>> w = layer.weight.numpy() * 2 ** 12
    >>> bool((w == w.round()).all())                         # multiples of 2**-12
    True
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .dynamic import DynamicFixedPoint

__all__ = ["QuantizedUpdates"]


class QuantizedUpdates:
    """Wrap ``optimizer`` so that each ``step`` leaves every parameter in its own fixed-point format.

    Args:
        optimizer: any Ember optimizer.
        width: magnitude bits of each parameter's format (plus a sign).
        integer_bits: the initial radix point of every parameter.
        max_overflow: overflow rate tolerated before the range grows.
        update_every: steps between scaling-factor updates (statistics accumulate in between).
    """

    def __init__(self, optimizer, width: int = 12, integer_bits: int = 0, max_overflow: float = 1e-4,
                 update_every: int = 1) -> None:
        self.optimizer = optimizer
        self.formats: Dict[int, DynamicFixedPoint] = {}
        for group in optimizer.param_groups:
            for p in group["params"]:
                self.formats[id(p)] = DynamicFixedPoint(width, integer_bits, max_overflow)
        self.update_every, self.steps = int(update_every), 0

    @property
    def param_groups(self):
        """The wrapped optimizer's parameter groups (schedulers can act on them)."""
        return self.optimizer.param_groups

    def format_of(self, parameter: Tensor) -> DynamicFixedPoint:
        """The dynamic fixed-point format of one parameter."""
        return self.formats[id(parameter)]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """As the wrapped optimizer's ``zero_grad``."""
        self.optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure: Optional[Callable] = None):
        """One optimizer step, then every parameter quantized in place (and scales updated on schedule)."""
        loss = self.optimizer.step(closure) if closure is not None else self.optimizer.step()
        self.steps += 1
        due = self.steps % self.update_every == 0
        with no_grad():
            for group in self.optimizer.param_groups:
                for p in group["params"]:
                    fmt = self.formats[id(p)]
                    p.copy_(fmt.quantize(p))
                    if due:
                        fmt.update()
        return loss

    def state_dict(self) -> dict:
        """The wrapped optimizer's state plus each parameter's radix point (by position)."""
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        return {"optimizer": self.optimizer.state_dict(),
                "integer_bits": [self.formats[id(p)].integer_bits for p in params], "steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.optimizer.load_state_dict(state["optimizer"])
        params = [p for g in self.optimizer.param_groups for p in g["params"]]
        for p, bits in zip(params, state["integer_bits"]):
            self.formats[id(p)].integer_bits = int(bits)
        self.steps = int(state["steps"])
