"""``torch.nn.modules.container``: containers, under PyTorch's module path.

The classes are Ember's own (defined under ``ember/nn/layers/``); this module only gives
them the dotted path PyTorch programs name, e.g. in ``torch.serialization.safe_globals([...])``.
"""
from ..containers import Sequential, ModuleList, ModuleDict

__all__ = ["Sequential", "ModuleList", "ModuleDict"]
