"""The Keras CIFAR-10 example convnet of the lectures (workload W3).

conv 32@3x3 same, ReLU, conv 32@3x3, ReLU, max-pool 2, dropout 0.25,
conv 64@3x3 same, ReLU, conv 64@3x3, ReLU, max-pool 2, dropout 0.25,
dense 512, ReLU, dropout 0.5, dense 10. Keras trained it with RMSprop
(lr 1e-4, decay 1e-6), batch 32, optionally with real-time augmentation
(random shifts of up to 10% and horizontal flips): :func:`cifar_augmentation`.
"""
from __future__ import annotations

from .. import nn
from ..tensor import Tensor

__all__ = ["CifarConvNet", "cifar_augmentation", "write_synthetic_cifar10"]


class CifarConvNet(nn.Module):
    """The Keras ``cifar10_cnn.py`` network.

    Args:
        in_channels: image channels.
        classes: number of classes.
        input_size: side of the square input.

    Example:
        >>> import ember
        >>> CifarConvNet()(ember.zeros(2, 3, 32, 32)).shape
        (2, 10)
    """

    def __init__(self, in_channels: int = 3, classes: int = 10, input_size: int = 32) -> None:
        super().__init__()
        self.in_channels, self.input_size = in_channels, input_size
        side = ((input_size - 2) // 2 - 2) // 2  # two unpadded 3x3 convolutions and two 2x2 pools
        if side < 1:
            raise ValueError(f"CifarConvNet: input_size must be at least 10, got {input_size}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding="same"), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Conv2d(32, 64, 3, padding="same"), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten())
        self.classifier = nn.Sequential(nn.Linear(64 * side * side, 512), nn.ReLU(), nn.Dropout(0.5),
                                        nn.Linear(512, classes))

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N, classes)`` of images ``(N, in_channels, input_size, input_size)``."""
        expected = (self.in_channels, self.input_size, self.input_size)
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"CifarConvNet: expected input of shape (N, {', '.join(map(str, expected))}), "
                             f"got shape {tuple(x.shape)}")
        return self.classifier(self.features(x))


def cifar_augmentation(size: int = 32, shift: float = 0.1, flip: bool = True, fill: float = 0.0, seed=None):
    """Keras' ``ImageDataGenerator(width_shift_range=0.1, height_shift_range=0.1, horizontal_flip=True)``.

    Random shifts of up to ``shift * size`` pixels (as a padded random crop) and mirror flips,
    as a batch transform for :class:`~ember.data.ArrayDataset`.

    Example:
        >>> import numpy as np
        >>> cifar_augmentation(seed=0).batch(np.zeros((4, 3, 32, 32), np.float32)).shape
        (4, 3, 32, 32)
    """
    from .classify import random_shift

    return random_shift(max(1, round(shift * size)), fill=fill, flip=flip, seed=seed)


def write_synthetic_cifar10(root, train_per_batch: int = 200, test: int = 200, seed: int = 0) -> str:
    """Write a small CIFAR-10 look-alike in the official binary format under ``root/cifar10/``.

    CIFAR-10 is not stored on every machine; this file exercises the same reader and
    pipeline. Each class has its own mean colour and a bright square at a class-dependent
    place, plus noise, so a convnet can learn it. Returns the ``cifar-10-batches-bin`` folder.

    Example:
        >>> import tempfile
        >>> from ember.data import CIFAR10
        >>> root = tempfile.mkdtemp()
        >>> _ = write_synthetic_cifar10(root, train_per_batch=10, test=10)
        >>> CIFAR10(root=root, train=False).data.shape
        (10, 3, 32, 32)
    """
    import os

    import numpy as np

    rng = np.random.default_rng(seed)
    folder = os.path.join(os.fspath(root), "cifar10", "cifar-10-batches-bin")
    os.makedirs(folder, exist_ok=True)
    colours = rng.integers(40, 215, (10, 3))

    def records(n: int) -> bytes:
        labels = rng.integers(0, 10, n)
        images = rng.normal(0, 30, (n, 3, 32, 32)) + colours[labels][:, :, None, None]
        for i, label in enumerate(labels):
            top, left = 4 + 2 * (label // 5) * 5, 4 + (label % 5) * 5
            images[i, :, top:top + 6, left:left + 6] += 80
        images = np.clip(images, 0, 255).astype(np.uint8).reshape(n, -1)
        return np.concatenate([labels.astype(np.uint8)[:, None], images], axis=1).tobytes()

    for i in range(1, 6):
        with open(os.path.join(folder, f"data_batch_{i}.bin"), "wb") as f:
            f.write(records(train_per_batch))
    with open(os.path.join(folder, "test_batch.bin"), "wb") as f:
        f.write(records(test))
    return folder
