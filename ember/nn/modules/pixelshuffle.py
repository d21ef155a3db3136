"""``torch.nn.modules.pixelshuffle``: ``PixelShuffle``, ``PixelUnshuffle``, under PyTorch's module path.

The classes are Ember's own (defined under ``ember/nn/layers/``); this module only gives
them the dotted path PyTorch programs name, e.g. in ``torch.serialization.safe_globals([...])``.
"""
from ..layers.vision import PixelShuffle, PixelUnshuffle

__all__ = ["PixelShuffle", "PixelUnshuffle"]
