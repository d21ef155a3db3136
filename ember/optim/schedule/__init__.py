"""The learning-rate schedulers, one file per family; the public module is :mod:`ember.optim.lr_scheduler`.

``ember.optim.schedule`` is the older name of the same classes and keeps working. Each
scheduler changes ``group['lr']`` of an optimizer's param groups when ``step()`` is called,
per batch or per epoch as the schedule's units are chosen; see ``docs/optim.md``.
"""
from .cosine import CosineAnnealingLR, CosineAnnealingWarmRestarts
from .cyclic import CyclicLR
from .decay import (
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
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .scheduler import LRScheduler, _LRScheduler
from .sequential import ChainedScheduler, SequentialLR

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
