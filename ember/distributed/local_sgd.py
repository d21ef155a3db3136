"""Local SGD: every rank steps on its own data; every ``period`` steps the parameters are averaged.

Data parallelism averages gradients at every step; local SGD (Stich 2019, "Local
SGD converges fast and communicates little"; the lectures' "model averaging")
averages the *parameters* once every ``period`` steps, so ranks communicate
``period`` times less, at the price of drifting apart in between. With
``period=1`` and plain SGD it is exactly data parallelism.
"""
from __future__ import annotations

from ..optim import Optimizer
from .wrapper import OptimizerWrapper

__all__ = ["LocalSGD"]


class LocalSGD(OptimizerWrapper):
    """Wrap ``optimizer`` so that parameters are averaged over the ranks every ``period`` steps.

    The inner optimizer's state (momentum, Adam's moments) stays local to each rank.

    Args:
        optimizer: the local optimizer, built over the model's parameters.
        period: local steps between two averagings.

    Example:
        >>> import ember, ember.nn as nn
        >>> from ember.optim import SGD
        >>> net = nn.Linear(4, 1)
        >>> opt = LocalSGD(SGD(net.parameters(), lr=0.1), period=8)
        >>> net(ember.ones(2, 4)).sum().backward(); opt.step()
        >>> opt.steps
        1
    """

    state_key = "local_sgd"

    def __init__(self, optimizer: Optimizer, period: int = 8) -> None:
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise ValueError(f"LocalSGD: period must be a positive int, got {period!r}")
        super().__init__(optimizer)
        self.period = period

    def after_step(self, steps: int) -> None:
        if steps % self.period == 0:
            self.average_parameters()
