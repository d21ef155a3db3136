"""``torch.nn.modules.adaptive``: the adaptive softmax, under PyTorch's module path.

The class is Ember's own (``ember/nn/layers/adaptive.py``); this module only gives it the dotted
path PyTorch programs name.
"""
from ..layers.adaptive import AdaptiveLogSoftmaxWithLoss

__all__ = ["AdaptiveLogSoftmaxWithLoss"]
