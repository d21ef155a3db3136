"""Optimizers, learning-rate schedules, gradient clipping and weight penalties.

Example:
    >>> import ember
    >>> from ember import optim
    >>> w = ember.randn(3, requires_grad=True)
    >>> opt = optim.Adam([w], lr=1e-2)
    >>> sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=100)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     loss = (w * w).sum() + optim.l2_penalty([w], 1e-4)
    ...     loss.backward()
    ...     norm = optim.clip_grad_norm_([w], max_norm=1.0)
    ...     opt.step()
    ...     sched.step()
"""
from . import lr_scheduler, schedule
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .clip import (
           clip_grad_norm_,
           clip_grad_value_,
           clip_grads_with_norm_,
           get_total_norm,
)
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .penalty import l1_penalty, l2_penalty
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
           "SGD",
           "Adadelta",
           "Adagrad",
           "Adam",
           "AdamW",
           "LBFGS",
           "Optimizer",
           "RMSprop",
           "clip_grad_norm_",
           "clip_grad_value_",
           "clip_grads_with_norm_",
           "get_total_norm",
           "l1_penalty",
           "l2_penalty",
           "lr_scheduler",
           "schedule",
]
