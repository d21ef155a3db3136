"""PyTorch's ``torch.optim.lr_scheduler``: every learning-rate scheduler, by its PyTorch name.

The classes live in :mod:`ember.optim.schedule` (one file per family); this module is the
public face, so that ``from torch.optim.lr_scheduler import StepLR`` becomes
``from ember.optim.lr_scheduler import StepLR``.

Example:
    >>> import ember
    >>> from ember.optim import SGD
    >>> from ember.optim.lr_scheduler import StepLR
    >>> opt = SGD([ember.ones(1, requires_grad=True)], lr=1.0)
    >>> sched = StepLR(opt, step_size=1, gamma=0.5)
    >>> opt.step(); sched.step(); sched.get_last_lr()
    [0.5]
"""
from .schedule.cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from .schedule.cyclic import CyclicLR
from .schedule.decay import (
           ConstantLR,
           ExponentialLR,
           InverseTimeDecay,
           LambdaLR,
           LinearLR,
           MultiplicativeLR,
           MultiStepLR,
           PolynomialLR,
           StepLR,
           TimeDecay,
)
from .schedule.one_cycle import OneCycleLR
from .schedule.plateau import ReduceLROnPlateau
from .schedule.scheduler import LRScheduler, _LRScheduler
from .schedule.sequential import ChainedScheduler, SequentialLR

__all__ = [
           "ChainedScheduler",
           "ConstantLR",
           "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts",
           "CyclicLR",
           "ExponentialLR",
           "InverseTimeDecay",
           "LRScheduler",
           "LambdaLR",
           "LinearLR",
           "MultiStepLR",
           "MultiplicativeLR",
           "OneCycleLR",
           "PolynomialLR",
           "ReduceLROnPlateau",
           "SequentialLR",
           "StepLR",
           "TimeDecay",
           "_LRScheduler",
]
