"""The multilayer perceptron of the lectures' Torch7 example: 784-1000-10 with ReLU."""
from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..tensor import Tensor

__all__ = ["MLP"]

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class MLP(nn.Module):
    """Fully connected classifier: flatten, hidden layers with an activation (and dropout), linear logits.

    Args:
        in_features: inputs per sample after flattening (784 for MNIST).
        hidden: widths of the hidden layers (``(1000,)``: the lectures' 784-1000-10).
        classes: number of classes.
        activation: ``'relu'``, ``'tanh'`` or ``'sigmoid'``.
        dropout: dropout after every hidden layer (0: none).

    Example:
        >>> import ember
        >>> MLP(784, (1000,), 10)(ember.zeros(2, 1, 28, 28)).shape
        (2, 10)
    """

    def __init__(self, in_features: int = 784, hidden: Sequence[int] = (1000,), classes: int = 10,
                 activation: str = "relu", dropout: float = 0.0) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        self.in_features = int(in_features)
        layers: list = [nn.Flatten()]
        width = self.in_features
        for size in hidden:
            layers += [nn.Linear(width, int(size)), _ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(float(dropout)))
            width = int(size)
        layers.append(nn.Linear(width, int(classes)))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N, classes)`` of inputs ``(N, ...)`` holding ``in_features`` values per sample."""
        per_sample = 1
        for size in x.shape[1:]:
            per_sample *= size
        if x.ndim < 2 or per_sample != self.in_features:
            raise ValueError(f"MLP: expected inputs with {self.in_features} values per sample, "
                             f"got shape {tuple(x.shape)}")
        return self.layers(x)
