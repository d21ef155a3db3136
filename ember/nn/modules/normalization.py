"""``torch.nn.modules.normalization``: ``LayerNorm``, ``GroupNorm``, ``RMSNorm``, ``LocalResponseNorm``, under PyTorch's module path.

The classes are Ember's own (defined under ``ember/nn/layers/``); this module only gives
them the dotted path PyTorch programs name, e.g. in ``torch.serialization.safe_globals([...])``.
"""
from ..layers.norm import LayerNorm, GroupNorm, RMSNorm
from ..layers.vision import LocalResponseNorm

__all__ = ["LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm"]
