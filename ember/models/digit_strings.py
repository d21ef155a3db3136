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

__all__ = ["DigitStrings", "collate_digit_strings", "DigitStringNet", "BLANK", "BACKGROUND", "CRF_TAGS",
           "FRAME_STRIDE", "frame_tags", "tags_to_digits", "edit_distance"]

#: The CTC blank class of :class:`DigitStringNet`; digit ``d`` is class ``d + 1``.
BLANK = 0
#: The CRF's tag for a frame between digits; digit ``d`` is tag ``1 + d`` on the first frame it
#: covers (begin) and ``11 + d`` on the frames after (inside), so two equal neighbours stay two digits.
BACKGROUND = 0
CRF_TAGS = 21
#: Image columns per output frame of :class:`DigitStringNet` (two 2x2 poolings).
FRAME_STRIDE = 4

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

    def spans(self, index: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(labels, starts, ends)`` of string ``index``: each digit's inked columns ``[start, end)``."""
        labels, sources, offsets = self.layout(index)
        widths = np.array([self._crop(s).shape[1] for s in sources], dtype=np.int64)
        return labels, offsets, offsets + widths

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
    """A sliding-window convnet: per-column class scores for CTC (or tag scores for a CRF).

    Two 3x3 convolutions with 2x2 max-pooling shrink the image to ``(7, W // 4)``; a third
    channel count adds a 3x3 convolution at that resolution. A convolution spanning the full
    remaining height and ``column_width`` frames then scores each column. With the defaults every
    output frame sees a window about 16 pixels wide, a little more than half a digit; with three
    convolutions and ``column_width=5`` it sees 34 pixels, a whole digit and its neighbours'
    edges (what the trained readers of ``examples/train_digit_strings.py`` use).

    Args:
        channels: feature maps of the two (or three) convolutions.
        classes: output classes including the blank (11 for digits; ``CRF_TAGS`` for the CRF).
        column_width: odd width, in frames, of the scoring convolution.

    Example:
        >>> import ember
        >>> net = DigitStringNet()
        >>> net(ember.zeros(2, 1, 28, 64)).shape                # (T, N, C) log-probabilities
        (16, 2, 11)
        >>> DigitStringNet((8, 16, 16), column_width=5)(ember.zeros(1, 1, 28, 40)).shape
        (10, 1, 11)
    """

    def __init__(self, channels: Tuple[int, ...] = (16, 32), classes: int = 11, column_width: int = 3) -> None:
        super().__init__()
        if len(channels) not in (2, 3) or column_width < 1 or column_width % 2 == 0:
            raise ArgumentError(f"DigitStringNet: need 2 or 3 channel counts and an odd column_width, got "
                                f"{tuple(channels)}, {column_width}")
        first, second = channels[:2]
        layers = [nn.Conv2d(1, first, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(first, second, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
        if len(channels) == 3:
            layers += [nn.Conv2d(second, channels[2], 3, padding=1), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.columns = nn.Conv2d(channels[-1], classes, (7, column_width), padding=(0, column_width // 2))

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


def frame_tags(labels: np.ndarray, starts: np.ndarray, ends: np.ndarray, frames: int,
               stride: int = FRAME_STRIDE) -> np.ndarray:
    """Per-frame CRF tags of one string from its digits' column spans (the segmentation the generator knows).

    Frame ``f`` looks at image columns ``[stride f, stride (f + 1))``; it belongs to the digit that
    covers most of those columns (the digit with the nearer centre on a tie), or to the background.
    A digit left without a frame (narrow and overlapped) takes the frame nearest its centre that is
    background or whose owner keeps another one. The first frame of a digit gets its *begin* tag
    ``1 + d``, the rest its *inside* tag ``11 + d``.

    Raises:
        ArgumentError: if some digit cannot be given a frame of its own in reading order (the
            string is too dense for the stride), naming the digit and the spans.

    Example:
        >>> frame_tags(np.array([3, 3]), np.array([0, 8]), np.array([8, 16]), frames=4).tolist()
        [4, 14, 4, 14]
    """
    labels, starts, ends = (np.asarray(a, dtype=np.int64) for a in (labels, starts, ends))
    left = stride * np.arange(frames)
    covered = np.clip(np.minimum(ends[None, :], left[:, None] + stride) - np.maximum(starts[None, :], left[:, None]),
                      0, None)                                        # (frames, digits) columns in common
    digit_centres = (starts + ends - 1) / 2.0
    distance = np.abs(digit_centres[None, :] - (left[:, None] + (stride - 1) / 2.0))
    owner = np.full(frames, -1, dtype=np.int64)
    for f in range(frames):
        if covered[f].max(initial=0) > 0:
            owner[f] = min(np.flatnonzero(covered[f] == covered[f].max()), key=lambda k: distance[f, k])
    for k in range(len(labels)):
        if (owner == k).any():
            continue
        for f in np.argsort(distance[:, k], kind="stable"):
            previous = owner[f]
            if previous < 0 or (owner == previous).sum() > 1:
                owner[f] = k
                break
    digits_read = [k for i, k in enumerate(owner) if k >= 0 and (i == 0 or owner[i - 1] != k)]
    if digits_read != list(range(len(labels))):
        raise ArgumentError(f"frame_tags: the {len(labels)} digits do not each own frames in reading order at "
                            f"stride {stride} (frame owners {owner.tolist()}): spans "
                            f"{list(zip(starts.tolist(), ends.tolist()))}")
    tags = np.zeros(frames, dtype=np.int64)
    for f in range(frames):
        k = owner[f]
        if k >= 0:
            begins = f == 0 or owner[f - 1] != k
            tags[f] = (1 if begins else 11) + labels[k]
    return tags


def tags_to_digits(tags: Sequence[int]) -> List[int]:
    """The digits a CRF tag path reads: a new digit at every *begin* tag, or where an *inside* run changes digit.

    Example:
        >>> tags_to_digits([0, 4, 14, 0, 4, 14, 14, 8])
        [3, 3, 7]
    """
    digits: List[int] = []
    previous = BACKGROUND
    for tag in (int(t) for t in tags):
        if 1 <= tag <= 10:
            digits.append(tag - 1)
        elif tag >= 11 and not (previous >= 1 and (previous - 1) % 10 == tag - 11):
            digits.append(tag - 11)          # an inside tag with no begin before it still reads its digit
        previous = tag
    return digits


def edit_distance(a: Sequence[int], b: Sequence[int]) -> int:
    """Levenshtein distance (insertions, deletions, substitutions) between two label sequences.

    Example:
        >>> edit_distance([1, 2, 3], [1, 3])
        1
    """
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        diagonal, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (x != y))
    return row[-1]
