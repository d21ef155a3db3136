r"""Elastic averaging SGD (EASGD; Zhang, Choromanska and LeCun, NIPS 2015).

Each of the :math:`p` ranks keeps its own parameters :math:`x_i` and explores on
its own data; a *center variable* :math:`\tilde x` ties them together with an
elastic force. Every ``period`` (:math:`\tau`) steps, with
:math:`\alpha = \eta\rho` the elasticity (the paper's equations 5 and 6):

.. math::

    x_i \leftarrow x_i - \alpha (x_i - \tilde x), \qquad
    \tilde x \leftarrow \tilde x + \alpha \sum_i (x_i - \tilde x)

then the local optimizer steps :math:`x_i \leftarrow x_i - \eta g_i(x_i)` with the
gradient taken before the elastic move, as in the paper. The center moves by
:math:`\beta = p\alpha` times the gap to the workers' mean; the paper recommends
:math:`\beta = 0.9`, the default here. This is the synchronous variant: every
rank holds a copy of the center and one ``Allreduce`` of the elastic differences
keeps the copies equal, so no parameter server is needed. The center is the
model to evaluate and to keep at the end (:meth:`EASGD.center_weights`).
"""
from __future__ import annotations

import contextlib

import numpy as np

from ..optim import Optimizer
from . import comm
from .wrapper import OptimizerWrapper

__all__ = ["EASGD"]


class EASGD(OptimizerWrapper):
    """Wrap ``optimizer`` (usually SGD, possibly with momentum) into elastic averaging SGD.

    Args:
        optimizer: the local optimizer, built over the model's parameters.
        alpha: the elasticity :math:`\\alpha` (default ``0.9 / world_size``, i.e.
            :math:`\\beta = 0.9`); :math:`\\beta = p\\alpha` must lie in (0, 1].
        period: :math:`\\tau`, local steps between two elastic exchanges.

    Example:
        >>> import ember, ember.nn as nn
        >>> from ember.optim import SGD
        >>> net = nn.Linear(4, 1)
        >>> opt = EASGD(SGD(net.parameters(), lr=0.1), period=4)
        >>> net(ember.ones(2, 4)).sum().backward(); opt.step()
        >>> with opt.center_weights():
        ...     center_output = net(ember.ones(1, 4))   # evaluate the center variable
    """

    state_key = "easgd"

    def __init__(self, optimizer: Optimizer, alpha: float | None = None, period: int = 1) -> None:
        if isinstance(period, bool) or not isinstance(period, int) or period < 1:
            raise ValueError(f"EASGD: period must be a positive int, got {period!r}")
        super().__init__(optimizer)
        world = comm.world_size()
        alpha = 0.9 / world if alpha is None else float(alpha)
        if not (alpha > 0 and alpha * world <= 1):
            raise ValueError(f"EASGD: alpha * world_size (the center's step beta) must lie in (0, 1]; got alpha "
                             f"{alpha} with {world} ranks (beta {alpha * world:g})")
        self.alpha, self.period = alpha, period
        self.center = [flat.pack_data().copy() for flat in self.flat()]

    def before_step(self, steps: int) -> None:
        if steps % self.period:
            return
        for flat, center in zip(self.flat(), self.center):
            x = flat.pack_data()
            elastic = np.subtract(x, center)
            elastic *= self.alpha
            x -= elastic
            flat.unpack_data()
            center += comm.allreduce(elastic)  # the sum over ranks of alpha * (x_i - center)

    @contextlib.contextmanager
    def center_weights(self):
        """Put the center variable into the parameters inside the block (the local ones come back after).

        Use it to evaluate or save the EASGD model; to keep it, call
        :meth:`load_center` instead.
        """
        saved = [flat.pack_data().copy() for flat in self.flat()]
        self.load_center()
        try:
            yield
        finally:
            for flat, values in zip(self.flat(), saved):
                np.copyto(flat.data, values)
                flat.unpack_data()

    def load_center(self) -> None:
        """Overwrite the parameters with the center variable (e.g. at the end of training)."""
        for flat, center in zip(self.flat(), self.center):
            np.copyto(flat.data, center)
            flat.unpack_data()

    def extra_state(self) -> dict:
        return {"steps": self.steps, "center": [c.copy() for c in self.center]}

    def load_extra_state(self, state: dict) -> None:
        self.steps = int(state["steps"])
        centers = state["center"]
        if len(centers) != len(self.center) or any(np.shape(c) != own.shape for c, own in zip(centers, self.center)):
            raise ValueError("EASGD.load_state_dict: the saved center variable does not match these parameters")
        for own, saved in zip(self.center, centers):
            np.copyto(own, np.asarray(getattr(saved, "_data", saved)))
