"""``torch.nn.modules``: PyTorch's module paths for Ember's layers (``torch.nn.modules.rnn.LSTM``).

Programs that name classes by their full PyTorch path (allow-lists for ``torch.load``,
``isinstance`` checks, ``torch.nn.modules.batchnorm._BatchNorm`` aside) find them here; every class
is the one ``ember.nn`` exports.
"""
from . import (
    activation, adaptive, batchnorm, container, conv, dropout, flatten, linear, loss, module, normalization,
    padding, pixelshuffle, pooling, rnn, sparse, transformer, upsampling,
)
from .container import ModuleDict, ModuleList, Sequential
from .module import Module

__all__ = ["activation", "adaptive", "batchnorm", "container", "conv", "dropout", "flatten", "linear", "loss", "module",
           "normalization", "padding", "pixelshuffle", "pooling", "rnn", "sparse", "transformer", "upsampling",
           "Module", "Sequential", "ModuleList", "ModuleDict"]
