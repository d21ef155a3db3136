"""Strings of handwritten digits for sequence recognition with CTC, and a sliding-window convnet.

:class:`DigitStrings` composes 3 to 8 MNIST digits side by side into one 28-pixel
high image: training strings from the training digits only, test strings from the
test digits only. Each digit is cropped to its inked columns and placed after the
previous one with a random gap, or a random overlap (pixels then take the maximum of
the two digits). String ``i`` depends only on ``(seed, i)``: the same arguments give the
same strings, in any order of access. Labels are drawn uniformly (each digit class equally
likely), then an image of that class uniformly from the split.

:class:`DigitStringNet` is a small convnet whose columns slide over the image: it maps
``(N, 1, 28, W)`` to per-column log-probabilities ``(W // 4, N, 11)`` (class 0 is the CTC
blank, digit ``d`` is class ``d + 1``), the input of :func:`ember.functional.ctc_loss`.

Example:
    >>> from ember.models.digit_strings import DigitStrings, collate_digit_strings
    >>> strings = DigitStrings(train=False, size=100, seed=0)      # MNIST test digits
    >>> image, labels = strings[0]
    >>> image.shape[0], image.dtype, 3 <= len(labels) <= 8
    (28, dtype('float32'), True)
    >>> images, targets, widths, lengths = collate_digit_strings([strings[i] for i in range(4)])
    >>> images.shape[:3], targets.ndim
    ((4, 1, 28), 2)
"""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from .. import functional as F
from .. import nn
from ..data import MNIST
from ..errors import ArgumentError
from ..tensor import Tensor

__all__ = ["DigitStrings", "collate_digit_strings", "DigitStringNet", "BLANK"]

#: The CTC blank class of :class:`DigitStringNet`; digit ``d`` is class ``d + 1``.
BLANK = 0

PathLike = Union[str, "os.PathLike[str]"]


class DigitStrings:
    """A deterministic dataset of ``size`` digit strings rendered from one MNIST split.

    ``strings[i]`` is ``(image, labels)``: a float32 ``(28, width)`` image in ``[0, 1]`` and the
    int64 digits ``(length,)``. :meth:`layout` tells which MNIST images (indices into the split)
    string ``i`` uses and where.

    Args:
        train: use the MNIST training digits (else the test digits).
        size: the number of strings.
        seed: the strings depend only on ``(seed, index)``.
        min_digits, max_digits: length range (inclusive), 3 to 8 by default.
        max_gap: largest blank gap between two digits, in pixels.
        max_overlap: largest overlap between two digits, in pixels.
        root: the MNIST data directory (default: :func:`ember.data.data_dir`, i.e. ``$EMBER_DATA``).
    """

    def __init__(self, train: bool = True, size: int = 10000, seed: int = 0, min_digits: int = 3,
                 max_digits: int = 8, max_gap: int = 6, max_overlap: int = 3,
                 root: Optional[PathLike] = None) -> None:
        if not 1 <= min_digits <= max_digits:
            raise ArgumentError(f"DigitStrings: need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
        if max_gap < 0 or max_overlap < 0 or size < 0:
            raise ArgumentError(f"DigitStrings: size, max_gap and max_overlap must be non-negative, got "
                                f"{size}, {max_gap}, {max_overlap}")
        digits = MNIST(root, train=train)
        self.train, self.size, self.seed = train, int(size), int(seed)
        self.min_digits, self.max_digits = int(min_digits), int(max_digits)
        self.max_gap, self.max_overlap = int(max_gap), int(max_overlap)
        self.images = np.asarray(digits.data)
        self.labels = np.asarray(digits.targets).astype(np.int64)
        self._by_class = [np.flatnonzero(self.labels == d) for d in range(10)]

    def __len__(self) -> int:
        return self.size

    def layout(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(labels, sources, offsets)`` of string ``index``: the digits, their MNIST indices in the
        split, and each cropped digit's left column in the string image."""
        if not 0 <= index < self.size:
            raise IndexError(f"DigitStrings: index {index} out of range for {self.size} strings")
        rng = np.random.default_rng([self.seed, int(self.train), index])
        length = int(rng.integers(self.min_digits, self.max_digits + 1))
        labels = rng.integers(0, 10, length)
        sources = np.array([self._by_class[d][rng.integers(len(self._by_class[d]))] for d in labels])
        spacing = rng.integers(-self.max_overlap, self.max_gap + 1, length)
        offsets = np.zeros(length, dtype=np.int64)
        position = int(rng.integers(0, self.max_gap + 1))  # margin before the first digit
        for k, source in enumerate(sources):
            if k:
                position = max(position + int(spacing[k]), int(offsets[k - 1]) + 1)
            offsets[k] = position
            position += self._crop(source).shape[1]
        return labels.astype(np.int64), sources, offsets

    def _crop(self, source: int) -> np.ndarray:
        image = self.images[source]
        inked = np.flatnonzero(image.any(axis=0))
        return image[:, inked[0]:inked[-1] + 1] if inked.size else image

    def __getitem__(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        labels, sources, offsets = self.layout(index)
        crops = [self._crop(s) for s in sources]
        width = max(int(o) + c.shape[1] for o, c in zip(offsets, crops)) + self.max_gap // 2
        canvas = np.zeros((28, width), dtype=np.uint8)
        for offset, crop in zip(offsets, crops):
            region = canvas[:, offset:offset + crop.shape[1]]
            np.maximum(region, crop, out=region)  # overlapping strokes: keep the darker pixel
        return canvas.astype(np.float32) / 255.0, labels


def collate_digit_strings(batch: Sequence[Tuple[np.ndarray, np.ndarray]], multiple: int = 4):
    """Batch ``(image, labels)`` pairs for CTC training.

    Returns ``(images, targets, widths, lengths)``: zero-padded ``(B, 1, 28, W)`` images (``W`` a
    multiple of ``multiple``), ``(B, S)`` padded targets shifted by one (digit ``d`` -> class
    ``d + 1``, blank 0), each image's width and each target's length (int64 arrays).
    """
    widths = np.array([image.shape[1] for image, _ in batch], dtype=np.int64)
    lengths = np.array([len(labels) for _, labels in batch], dtype=np.int64)
    width = -(-int(widths.max()) // multiple) * multiple
    images = np.zeros((len(batch), 1, 28, width), dtype=np.float32)
    targets = np.zeros((len(batch), int(lengths.max())), dtype=np.int64)
    for b, (image, labels) in enumerate(batch):
        images[b, 0, :, :image.shape[1]] = image
        targets[b, :len(labels)] = labels + 1
    return images, targets, widths, lengths


class DigitStringNet(nn.Module):
    """A sliding-window convnet: per-column class scores for CTC.

    Two 3x3 convolutions with 2x2 max-pooling shrink the image to ``(7, W // 4)``; a
    convolution spanning the full remaining height then scores each column, so every output
    frame sees a window about 16 pixels wide, a little more than half a digit.

    Args:
        channels: feature maps of the two convolutions.
        classes: output classes including the blank (11 for digits).

    Example:
        >>> import ember
        >>> net = DigitStringNet()
        >>> net(ember.zeros(2, 1, 28, 64)).shape                # (T, N, C) log-probabilities
        (16, 2, 11)
    """

    def __init__(self, channels: Tuple[int, int] = (16, 32), classes: int = 11) -> None:
        super().__init__()
        first, second = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, first, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(first, second, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.columns = nn.Conv2d(second, classes, (7, 3), padding=(0, 1))

    def forward(self, images: Tensor) -> Tensor:
        scores = self.columns(self.features(images))         # (N, C, 1, W // 4)
        return F.log_softmax(scores.squeeze(2).permute(2, 0, 1), dim=2)

    @staticmethod
    def frames(widths: np.ndarray) -> np.ndarray:
        """Output frames covering each image width (the CTC ``input_lengths``): ``ceil(width / 4)``."""
        return -(-np.asarray(widths, dtype=np.int64) // 4)

    def decode(self, images: Tensor, widths: np.ndarray) -> List[List[int]]:
        """Greedy CTC decoding of each image, as digits (class ``c`` -> digit ``c - 1``)."""
        paths = F.ctc_greedy_decode(self(images), input_lengths=self.frames(widths).tolist(), blank=BLANK)
        return [[c - 1 for c in path] for path in paths]
