"""``torch.nn.modules.flatten``: ``Flatten``, ``Unflatten``, under PyTorch's module path.

The classes are Ember's own (defined under ``ember/nn/layers/``); this module only gives
them the dotted path PyTorch programs name, e.g. in ``torch.serialization.safe_globals([...])``.
"""
from ..layers.flatten import Flatten, Unflatten

__all__ = ["Flatten", "Unflatten"]
