"""LeNet-5: the classic 1998 network and the lectures' Torch7 variant.

Both take 32x32 inputs; 28x28 MNIST digits are padded by 2 pixels by the first
convolution, as LeCun et al. padded them.

* ``variant="classic"`` (LeCun et al. 1998, with max-pooling and a modern
  activation): conv 6@5x5, pool, conv 16@5x5, pool, 120, 84, classes.
* ``variant="torch7"`` (the lectures' listing, workload W2): conv 6@5x5, pool,
  conv 12@5x5, pool, 300-100-classes.
"""
from __future__ import annotations

from .. import nn
from ..tensor import Tensor

__all__ = ["LeNet5"]

_VARIANTS = {"classic": (6, 16, (120, 84)), "torch7": (6, 12, (100,))}
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class LeNet5(nn.Module):
    """LeNet-5 convolutional classifier.

    Args:
        in_channels: image channels.
        classes: number of classes.
        input_size: side of the square input (28 or 32); smaller inputs are zero-padded to 32.
        activation: ``'relu'`` or ``'tanh'``.
        variant: ``'classic'`` or ``'torch7'`` (see the module docstring).

    Example:
        >>> import ember
        >>> LeNet5()(ember.zeros(2, 1, 28, 28)).shape
        (2, 10)
        >>> LeNet5(variant="torch7", activation="tanh")(ember.zeros(2, 1, 28, 28)).shape
        (2, 10)
    """

    def __init__(self, in_channels: int = 1, classes: int = 10, input_size: int = 28, activation: str = "relu",
                 variant: str = "classic") -> None:
        super().__init__()
        if variant not in _VARIANTS:
            raise ValueError(f"LeNet5: variant must be one of {sorted(_VARIANTS)}, got {variant!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if input_size > 32 or input_size < 28:
            raise ValueError(f"LeNet5: input_size must be between 28 and 32, got {input_size}")
        self.in_channels, self.input_size = in_channels, input_size
        c1, c2, hidden = _VARIANTS[variant]
        act = _ACTIVATIONS[activation]
        pad = (32 - input_size) // 2
        self.features = nn.Sequential(nn.Conv2d(in_channels, c1, 5, padding=pad), act(), nn.MaxPool2d(2),
                                      nn.Conv2d(c1, c2, 5), act(), nn.MaxPool2d(2), nn.Flatten())
        layers: list = []
        width = c2 * 5 * 5
        for size in hidden:
            layers += [nn.Linear(width, size), act()]
            width = size
        self.classifier = nn.Sequential(*layers, nn.Linear(width, classes))

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N, classes)`` of images ``(N, in_channels, input_size, input_size)``."""
        expected = (self.in_channels, self.input_size, self.input_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"LeNet5: expected input of shape (N, {', '.join(map(str, expected))}), "
                             f"got shape {tuple(x.shape)}")
        return self.classifier(self.features(x))
