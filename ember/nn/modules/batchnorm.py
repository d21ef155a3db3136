"""``torch.nn.modules.batchnorm``: batch normalisation, under PyTorch's module path.

The classes are Ember's own (defined under ``ember/nn/layers/``); this module only gives
them the dotted path PyTorch programs name, e.g. in ``torch.serialization.safe_globals([...])``.
"""
from ..layers.norm import BatchNorm1d, BatchNorm2d, BatchNorm3d

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]
