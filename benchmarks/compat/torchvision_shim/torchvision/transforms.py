"""``torchvision.transforms`` ``Compose``, ``ToTensor``, ``Normalize`` and ``Lambda`` over uint8 arrays."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms: Sequence[Callable]):
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for transform in self.transforms:
            x = transform(x)
        return x


class ToTensor:
    """uint8 ``(H, W)`` or ``(H, W, C)`` array -> float32 ``(C, H, W)`` tensor in [0, 1]."""

    def __call__(self, image: np.ndarray) -> torch.Tensor:
        array = np.asarray(image, dtype=np.float32) / 255.0
        array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
        return torch.from_numpy(np.ascontiguousarray(array))


class Normalize:
    """``(x - mean) / std`` per channel."""

    def __init__(self, mean: Sequence[float], std: Sequence[float]):
        self.mean = torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.tensor(std, dtype=torch.float32).view(-1, 1, 1)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class Lambda:
    """Apply a user function."""

    def __init__(self, function: Callable):
        self.function = function

    def __call__(self, x: Any) -> Any:
        return self.function(x)
