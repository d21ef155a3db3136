"""``torch.nn.modules.activation``: activations and ``MultiheadAttention``, under PyTorch's module path.

The classes are Ember's own (defined under ``ember/nn/layers/``); this module only gives
them the dotted path PyTorch programs name, e.g. in ``torch.serialization.safe_globals([...])``.
"""
from ..layers.activation import (
    ReLU, ReLU6, LeakyReLU, PReLU, Threshold, ELU, SELU, CELU, GELU, SiLU, Mish, Sigmoid,
    Hardsigmoid, Hardswish, Tanh, Softplus, LogSigmoid, Softsign, Hardtanh, Softshrink,
    Hardshrink, Tanhshrink, GLU, Abs, Maxout, Softmax, Softmin, LogSoftmax
)
from ..layers.attention import MultiheadAttention

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "Threshold", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Sigmoid", "Hardsigmoid", "Hardswish", "Tanh", "Softplus", "LogSigmoid", "Softsign", "Hardtanh", "Softshrink", "Hardshrink", "Tanhshrink", "GLU", "Abs", "Maxout", "Softmax", "Softmin", "LogSoftmax", "MultiheadAttention"]
