"""Learning-rate schedules (``ember.optim.schedule``, also importable as ``ember.optim.lr_scheduler``).

Each scheduler changes ``group['lr']`` of an optimizer's param groups when ``step()`` is
called, per batch or per epoch as the schedule's units are chosen; see ``docs/optim.md``.
"""
from .cosine import CosineAnnealingLR
from .decay import (
           ExponentialLR,
           InverseTimeDecay,
           LambdaLR,
           LinearLR,
           MultiStepLR,
           StepLR,
           TimeDecay,
)
from .one_cycle import OneCycleLR
from .plateau import ReduceLROnPlateau
from .scheduler import LRScheduler
from .sequential import SequentialLR

__all__ = [
           "CosineAnnealingLR",
           "ExponentialLR",
           "InverseTimeDecay",
           "LRScheduler",
           "LambdaLR",
           "LinearLR",
           "MultiStepLR",
           "OneCycleLR",
           "ReduceLROnPlateau",
           "SequentialLR",
           "StepLR",
           "TimeDecay",
]
