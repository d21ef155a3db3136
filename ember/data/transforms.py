"""Transforms: small callables applied to samples, written to also work on whole batches.

Every transform here has two entry points:

* ``t(x)`` transforms **one sample** (e.g. an image of shape ``(C, H, W)`` or ``(H, W)``);
* ``t.batch(xs)`` transforms **a batch** whose first axis indexes samples, in one
  vectorised NumPy call. Datasets use it on their fast path, so a DataLoader batch
  is transformed without a Python loop over samples.

Image transforms act on the last two axes (height, width), i.e. channel-first
layout, which is how MNIST (``H, W``) and CIFAR (``3, H, W``) are stored.

Random transforms own a :class:`numpy.random.Generator` seeded by ``seed``, so a
pipeline is reproducible. The per-sample and batch paths draw random numbers
differently, so for the same seed they give different (equally valid) results;
each path on its own is reproducible.

Any plain function ``f(sample) -> sample`` also works wherever a transform is
expected; on the batch path it is applied sample by sample (see :func:`apply_batch`).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np

from .collate import default_collate

Seed = Union[None, int, np.random.Generator]


def apply_batch(transform: Optional[Callable[[Any], Any]], batch: Any) -> Any:
    """Apply a transform to a batch: vectorised when it has ``.batch``, else per sample.

    Args:
        transform: A :class:`Transform`, a plain per-sample function, or ``None``.
        batch: Batched array (first axis = samples).

    Example:
        >>> apply_batch(ToFloat(), np.array([[0, 255]], dtype=np.uint8))
        array([[0., 1.]], dtype=float32)
        >>> apply_batch(lambda x: x[::-1], np.array([[1, 2], [3, 4]]))
        array([[2, 1],
               [4, 3]])
    """
    if transform is None:
        return batch
    batched = getattr(transform, "batch", None)
    if callable(batched):
        return batched(batch)
    return default_collate([transform(x) for x in batch])


class Transform:
    """Base class: subclasses implement ``__call__`` (one sample) and, ideally, ``batch``.

    The default :meth:`batch` loops over samples; override it with a vectorised
    version.

    Example:
        >>> class Double(Transform):
        ...     def __call__(self, x):
        ...         return x * 2
        >>> Double().batch(np.array([[1], [2]]))
        array([[2],
               [4]])
    """

    def __call__(self, x: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def batch(self, xs: Any) -> Any:
        """Transform a batch (first axis = samples)."""
        return default_collate([self(x) for x in xs])

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_")
                           and k != "rng")
        return f"{type(self).__name__}({fields})"


class _Elementwise(Transform):
    """A transform that treats every element alike: the batch path is the sample path."""

    def batch(self, xs: Any) -> Any:
        return self(xs)


class Compose(Transform):
    """Chain transforms, applied left to right.

    Example:
        >>> t = Compose([ToFloat(), Normalize(0.5, 0.5)])
        >>> t(np.array([0, 255], dtype=np.uint8))
        array([-1.,  1.], dtype=float32)
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, x: Any) -> Any:
        for t in self.transforms:
            x = t(x)
        return x

    def batch(self, xs: Any) -> Any:
        for t in self.transforms:
            xs = apply_batch(t, xs)
        return xs

    def __repr__(self) -> str:
        inner = ",\n".join(f"    {t!r}" for t in self.transforms)
        return f"Compose([\n{inner}\n])"


class Lambda(Transform):
    """Wrap a function; with ``batched=True`` it is also called directly on batches.

    Example:
        >>> Lambda(lambda x: x + 1, batched=True).batch(np.array([1, 2]))
        array([2, 3])
    """

    def __init__(self, fn: Callable[[Any], Any], batched: bool = False) -> None:
        self.fn, self.batched = fn, batched

    def __call__(self, x: Any) -> Any:
        return self.fn(x)

    def batch(self, xs: Any) -> Any:
        return self.fn(xs) if self.batched else super().batch(xs)


class ToFloat(_Elementwise):
    """Convert to a float dtype and multiply by ``scale`` (default maps bytes 0..255 to 0..1).

    Example:
        >>> ToFloat()(np.array([0, 51, 255], dtype=np.uint8))
        array([0. , 0.2, 1. ], dtype=float32)
    """

    def __init__(self, scale: float = 1.0 / 255.0, dtype: Any = np.float32) -> None:
        self.scale, self.dtype = scale, np.dtype(dtype)

    def __call__(self, x: Any) -> np.ndarray:
        out = np.asarray(x).astype(self.dtype)  # always a copy: never scale the dataset in place
        if self.scale != 1.0:
            divisor = 1.0 / self.scale
            if divisor == round(divisor):
                out /= self.dtype.type(divisor)  # x / 255 exactly, as users expect
            else:
                out *= self.dtype.type(self.scale)
        return out


class Normalize(Transform):
    """``(x - mean) / std``, per channel when ``mean``/``std`` are sequences.

    A scalar applies to every element. A sequence of length ``C`` applies per
    channel along the sample's first axis (``(C, H, W)`` images), on samples and
    batches alike.

    Args:
        mean: Scalar or per-channel means.
        std: Scalar or per-channel standard deviations (non-zero).
        dtype: Output float dtype.

    Example:
        >>> Normalize([0.5, 0.0], [0.5, 2.0])(np.ones((2, 1, 1), dtype=np.float32)).ravel()
        array([1. , 0.5], dtype=float32)
    """

    def __init__(self, mean: Union[float, Sequence[float]], std: Union[float, Sequence[float]],
                 dtype: Any = np.float32) -> None:
        self.dtype = np.dtype(dtype)
        self.mean = np.asarray(mean, dtype=self.dtype)
        self.std = np.asarray(std, dtype=self.dtype)
        if np.any(self.std == 0):
            raise ValueError("Normalize: std must be non-zero")
        if self.mean.ndim > 1 or self.std.ndim > 1:
            raise ValueError("Normalize: mean and std must be scalars or 1-D per-channel sequences")

    def _apply(self, x: Any, sample_ndim: int) -> np.ndarray:
        x = np.asarray(x, dtype=self.dtype)
        return (x - self._expand(self.mean, sample_ndim)) / self._expand(self.std, sample_ndim)

    @staticmethod
    def _expand(v: np.ndarray, sample_ndim: int) -> np.ndarray:
        # Per-channel values line up with the sample's first axis: (C,) -> (C, 1, 1).
        if v.ndim == 1 and sample_ndim > 1:
            return v.reshape((-1,) + (1,) * (sample_ndim - 1))
        return v

    def __call__(self, x: Any) -> np.ndarray:
        return self._apply(x, np.ndim(x))

    def batch(self, xs: Any) -> np.ndarray:
        return self._apply(xs, np.ndim(xs) - 1)


class Reshape(Transform):
    """Reshape each sample to ``shape`` (``-1`` allowed).

    Example:
        >>> Reshape((1, 2, 2))(np.arange(4)).shape
        (1, 2, 2)
        >>> Reshape((1, 2, 2)).batch(np.zeros((5, 4))).shape
        (5, 1, 2, 2)
    """

    def __init__(self, shape: Sequence[int]) -> None:
        self.shape = tuple(shape)

    def __call__(self, x: Any) -> np.ndarray:
        return np.reshape(x, self.shape)

    def batch(self, xs: Any) -> np.ndarray:
        xs = np.asarray(xs)
        return xs.reshape((xs.shape[0],) + self.shape)


class Flatten(Reshape):
    """Flatten each sample to one axis (e.g. 28x28 MNIST images to 784 features).

    Example:
        >>> Flatten().batch(np.zeros((3, 28, 28))).shape
        (3, 784)
    """

    def __init__(self) -> None:
        super().__init__((-1,))


def to_categorical(y: Any, num_classes: Optional[int] = None, dtype: Any = "float32") -> np.ndarray:
    """One-hot encode integer class labels, like ``keras.utils.to_categorical``.

    A trailing axis of size 1 is dropped first (labels shaped ``(N, 1)``), then
    a class axis of size ``num_classes`` is appended.

    Args:
        y: Integer labels of any shape.
        num_classes: Number of classes; ``max(y) + 1`` when omitted.
        dtype: Output dtype.

    Raises:
        ValueError: A label is negative or not below ``num_classes``.

    Example:
        >>> to_categorical([0, 2], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    y = np.asarray(y)
    if y.dtype.kind not in "iub":
        if y.size and not np.all(np.equal(np.mod(y, 1), 0)):
            raise ValueError("to_categorical: labels must be integers")
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    return _one_hot(y, num_classes, dtype, "to_categorical")


def _one_hot(y: np.ndarray, num_classes: int, dtype: Any, who: str) -> np.ndarray:
    flat = y.reshape(-1)
    if flat.size and (flat.min() < 0 or flat.max() >= num_classes):
        raise ValueError(f"{who}: labels must lie in [0, {num_classes}), "
                         f"got min {flat.min()} and max {flat.max()}")
    out = np.zeros((flat.size, num_classes), dtype=dtype)
    out[np.arange(flat.size), flat] = 1
    return out.reshape(y.shape + (num_classes,))


class OneHot(_Elementwise):
    """Target transform: integer label(s) to one-hot vectors (see :func:`to_categorical`).

    Example:
        >>> OneHot(3)(2)
        array([0., 0., 1.], dtype=float32)
        >>> OneHot(3).batch(np.array([0, 1])).shape
        (2, 3)
    """

    def __init__(self, num_classes: int, dtype: Any = np.float32) -> None:
        self.num_classes, self.dtype = num_classes, np.dtype(dtype)

    def __call__(self, y: Any) -> np.ndarray:
        # Unlike to_categorical, never squeeze: a batch of N labels always becomes (N, C).
        return _one_hot(np.asarray(y).astype(np.int64), self.num_classes, self.dtype, "OneHot")


class RandomCrop(Transform):
    """Pad the last two axes by ``padding`` then crop a random ``size`` window.

    This is the standard CIFAR augmentation (``RandomCrop(32, padding=4)``). On
    the batch path every sample gets its own offset, gathered in one fancy-index.

    Args:
        size: Output ``(height, width)`` or one int for a square.
        padding: Pixels added on every side before cropping.
        fill: Value of the padding.
        seed: Seed or :class:`numpy.random.Generator`.

    Example:
        >>> crop = RandomCrop(28, padding=4, seed=0)
        >>> crop(np.zeros((28, 28))).shape, crop.batch(np.zeros((8, 1, 28, 28))).shape
        ((28, 28), (8, 1, 28, 28))
    """

    def __init__(self, size: Union[int, Tuple[int, int]], padding: int = 0, fill: float = 0,
                 seed: Seed = None) -> None:
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        self.padding, self.fill = int(padding), fill
        self.rng = np.random.default_rng(seed)

    def _pad(self, x: np.ndarray) -> np.ndarray:
        if self.padding == 0:
            return x
        p = self.padding
        widths = [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)]
        return np.pad(x, widths, constant_values=self.fill)

    def _room(self, padded: np.ndarray) -> Tuple[int, int]:
        h, w = padded.shape[-2:]
        th, tw = self.size
        if th > h or tw > w:
            raise ValueError(f"RandomCrop: crop {self.size} larger than padded image {(h, w)}")
        return h - th + 1, w - tw + 1

    def __call__(self, x: Any) -> np.ndarray:
        padded = self._pad(np.asarray(x))
        rows, cols = self._room(padded)
        top, left = int(self.rng.integers(rows)), int(self.rng.integers(cols))
        return padded[..., top:top + self.size[0], left:left + self.size[1]].copy()

    def batch(self, xs: Any) -> np.ndarray:
        xs = np.asarray(xs)
        padded = self._pad(xs)
        rows, cols = self._room(padded)
        n = xs.shape[0]
        top = self.rng.integers(rows, size=n)
        left = self.rng.integers(cols, size=n)
        th, tw = self.size
        # Collapse middle axes (channels) so one gather handles any layout (N, [C,] H, W).
        flat = padded.reshape((n, -1) + padded.shape[-2:])
        r = (top[:, None] + np.arange(th))[:, None, :, None]
        c = (left[:, None] + np.arange(tw))[:, None, None, :]
        out = flat[np.arange(n)[:, None, None, None], np.arange(flat.shape[1])[None, :, None, None],
                   r, c]
        return out.reshape(xs.shape[:-2] + (th, tw))


class RandomHorizontalFlip(Transform):
    """Mirror the last axis (width) with probability ``p``.

    Example:
        >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2, 3]]))
        array([[3, 2, 1]])
    """

    def __init__(self, p: float = 0.5, seed: Seed = None) -> None:
        self.p = float(p)
        self.rng = np.random.default_rng(seed)

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x)
        return x[..., ::-1].copy() if self.rng.random() < self.p else x

    def batch(self, xs: Any) -> np.ndarray:
        xs = np.asarray(xs)
        flip = self.rng.random(xs.shape[0]) < self.p
        out = xs.copy()
        out[flip] = xs[flip][..., ::-1]
        return out


class RandomNoise(_Elementwise):
    """Corrupt inputs with random noise, e.g. for denoising autoencoders.

    Modes:
        * ``"gaussian"``: add ``N(0, std^2)`` to every element;
        * ``"masking"``: set each element to 0 with probability ``p``;
        * ``"salt_and_pepper"``: set each element, with probability ``p``, to the
          low or the high end of ``clip`` (half each).

    The result is float (``dtype``) and clipped to ``clip`` unless it is ``None``.
    Pair it with clean targets through
    ``TensorDataset(x, x, transforms=[RandomNoise(0.3), None])``.

    Example:
        >>> noisy = RandomNoise(std=0.1, seed=0)(np.full((2, 2), 0.5))
        >>> noisy.dtype, bool(np.all((noisy >= 0) & (noisy <= 1)))
        (dtype('float32'), True)
    """

    MODES = ("gaussian", "masking", "salt_and_pepper")

    def __init__(self, std: float = 0.1, mode: str = "gaussian", p: float = 0.1,
                 clip: Optional[Tuple[float, float]] = (0.0, 1.0), dtype: Any = np.float32,
                 seed: Seed = None) -> None:
        if mode not in self.MODES:
            raise ValueError(f"RandomNoise: mode must be one of {self.MODES}, got {mode!r}")
        self.std, self.mode, self.p, self.clip = float(std), mode, float(p), clip
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)

    def __call__(self, x: Any) -> np.ndarray:
        x = np.asarray(x).astype(self.dtype)
        if self.mode == "gaussian":
            x += self.rng.standard_normal(x.shape, dtype=self.dtype) * self.dtype.type(self.std)
        elif self.mode == "masking":
            x[self.rng.random(x.shape) < self.p] = 0
        else:
            low, high = self.clip if self.clip is not None else (0.0, 1.0)
            hit = self.rng.random(x.shape) < self.p
            salt = self.rng.random(x.shape) < 0.5
            x[hit & salt] = high
            x[hit & ~salt] = low
        if self.clip is not None:
            np.clip(x, self.clip[0], self.clip[1], out=x)
        return x
