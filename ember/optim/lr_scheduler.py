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
# One list of names, the package's: each class is defined once, in its family's file.
from .schedule import *  # noqa: F401,F403
from .schedule import __all__  # noqa: F401
