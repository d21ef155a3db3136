"""``torch.nn.modules.linear``: linear layers, under PyTorch's module path.

The classes are Ember's own (defined under ``ember/nn/layers/``); this module only gives
them the dotted path PyTorch programs name, e.g. in ``torch.serialization.safe_globals([...])``.
"""
from ..layers.linear import Linear, Bilinear, Identity


class NonDynamicallyQuantizableLinear(Linear):
    """PyTorch's marker subclass of ``Linear`` (the output projection of ``MultiheadAttention``).

    It behaves exactly like :class:`Linear`; Ember has no quantization, so the name exists only for
    programs that list it (``torch.nn.modules.linear.NonDynamicallyQuantizableLinear``).
    """


__all__ = ["Linear", "Bilinear", "Identity", "NonDynamicallyQuantizableLinear"]
