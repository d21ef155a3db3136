"""``OptimizerWrapper``: an optimizer that lets another one do the update and adds communication.

Local SGD and EASGD keep the user's optimizer (SGD, Adam ...) for the local step
and add an exchange between ranks every few steps. The wrapper *is* an
:class:`ember.optim.Optimizer` (``param_groups``, ``state``, ``zero_grad``,
``state_dict``), sharing the inner optimizer's groups, so learning-rate schedules,
``ember.train.Model.compile`` and checkpoints work with it unchanged.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..autograd.tracing import opaque
from ..optim import Optimizer
from . import comm
from .data_parallel import broadcast_parameters
from .flat import FlatBuffer, flat_buffers

__all__ = ["OptimizerWrapper"]


class OptimizerWrapper(Optimizer):
    """Base class: delegate to ``optimizer``, then call :meth:`after_step` with the step count.

    Building it broadcasts rank 0's values of the optimized parameters, so every
    rank starts from the same point.

    Args:
        optimizer: the local optimizer (any :class:`ember.optim.Optimizer`).

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> class Counting(OptimizerWrapper):
        ...     def after_step(self, steps):
        ...         self.last = steps
        >>> w = ember.ones(2, requires_grad=True)
        >>> opt = Counting(SGD([w], lr=0.1))
        >>> (w * w).sum().backward(); opt.step(); opt.last
        1
    """

    #: The key under which :meth:`state_dict` keeps the wrapper's own state.
    state_key = "wrapper"

    def __init__(self, optimizer: Optimizer) -> None:  # noqa: super().__init__ is not called on purpose
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an ember.optim optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        self.steps = 0
        broadcast_parameters(self.parameters())
        self._flat: list[FlatBuffer] | None = None

    # The inner optimizer's groups and state are the wrapper's: schedules edit them in place.
    @property
    def param_groups(self) -> list[dict]:  # type: ignore[override]
        return self.optimizer.param_groups

    @param_groups.setter
    def param_groups(self, groups: list[dict]) -> None:
        self.optimizer.param_groups = groups

    @property
    def state(self):  # type: ignore[override]
        return self.optimizer.state

    @property
    def defaults(self) -> dict:  # type: ignore[override]
        return self.optimizer.defaults

    def parameters(self) -> list:
        """The optimized tensors, in group order."""
        return [p for group in self.param_groups for p in group["params"]]

    def flat(self) -> list[FlatBuffer]:
        """Flat buffers over the parameters (built once, reused every exchange)."""
        if self._flat is None:
            self._flat = flat_buffers(self.parameters())
        return self._flat

    def average_parameters(self) -> None:
        """Make every parameter the mean of its values over the ranks."""
        size = comm.world_size()
        if size == 1:
            return
        for flat in self.flat():
            comm.allreduce(flat.pack_data())
            flat.data *= 1.0 / size
            flat.unpack_data()

    @opaque
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One local step of the inner optimizer, then the wrapper's exchange if it is due."""
        self.before_step(self.steps + 1)
        loss = self.optimizer.step(closure)
        self.steps += 1
        self.after_step(self.steps)
        return loss

    def before_step(self, steps: int) -> None:
        """Called before local step number ``steps`` (1-based); override to communicate."""

    def after_step(self, steps: int) -> None:
        """Called after local step number ``steps`` (1-based); override to communicate."""

    @opaque
    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none)

    def extra_state(self) -> dict:
        """The wrapper's own state (arrays allowed) saved by :meth:`state_dict`."""
        return {"steps": self.steps}

    def load_extra_state(self, state: dict) -> None:
        self.steps = int(state["steps"])

    def state_dict(self) -> dict:
        state = self.optimizer.state_dict()
        state[self.state_key] = self.extra_state()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        inner = {k: v for k, v in state_dict.items() if k != self.state_key}
        self.optimizer.load_state_dict(inner)
        if self.state_key in state_dict:
            self.load_extra_state(state_dict[self.state_key])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.optimizer!r})"

