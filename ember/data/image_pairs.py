"""Seeded pairs and triples of images related by a transformation (shifts, rotations), for relational models.

Memisevic's gated autoencoders (2011, 2013) learn from pairs ``(x, y)`` where ``y`` is
``x`` transformed; the transformation, not the content, is what the model must encode.
This module makes such pairs from any stack of grey images (MNIST digits in the
examples):

* **shift**: an integer translation ``(dy, dx)``, each drawn uniformly from
  ``{-max_shift, ..., max_shift}``. ``mode="wrap"`` (the default) rolls the image
  around its borders, so every shift is an exact cyclic permutation of the pixels
  (whose eigenvectors are the 2-d Fourier basis, the filters the papers show);
  ``mode="zero"`` fills the pixels moved in from outside with zeros.
* **rotation**: an angle in degrees drawn uniformly from ``[-max_angle, max_angle]``,
  counter-clockwise about the image centre ``((H-1)/2, (W-1)/2)``, resampled with
  bilinear interpolation; pixels whose source falls outside the image are zero.

:func:`make_pairs` gives ``(x, y, params)`` with a fresh transformation per pair;
:func:`make_triples` gives ``(x, y, x2, y2, params)`` where ``y = T(x)`` and
``y2 = T(x2)`` share one transformation ``T`` and ``x``, ``x2`` are different images
(for transformation retrieval: infer ``T`` from ``(x, y)``, apply it to ``x2``).
Everything is a pure function of ``seed`` (NumPy's ``default_rng``), so a data set is
reproduced exactly by its seed.

Example:
    >>> import numpy as np
    >>> images = np.random.default_rng(0).random((10, 8, 8)).astype(np.float32)
    >>> x, y, params = make_pairs(images, "shift", 4, seed=1, max_shift=2)
    >>> x.shape, y.shape, params.shape
    ((4, 8, 8), (4, 8, 8), (4, 2))
    >>> bool(np.allclose(y[0], np.roll(x[0], tuple(params[0]), axis=(0, 1))))
    True
"""
from __future__ import annotations

import numpy as np

__all__ = ["TRANSFORMS", "SHIFT_MODES", "shift_images", "rotate_images", "sample_transforms", "apply_transforms",
           "make_pairs", "make_triples"]

TRANSFORMS = ("shift", "rotation")
SHIFT_MODES = ("wrap", "zero")


def _check_images(images: np.ndarray, who: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]  # (N, 1, H, W) grey images, as ember.data and mnist_unit give them
    if images.ndim != 3:
        raise ValueError(f"{who}: expected grey images of shape (N, H, W) or (N, 1, H, W), got shape {images.shape}")
    return images.astype(np.float32, copy=False)


def shift_images(images: np.ndarray, shifts: np.ndarray, mode: str = "wrap") -> np.ndarray:
    """Translate each image ``(N, H, W)`` by its integer ``shifts[i] = (dy, dx)`` (down and right are positive).

    ``mode="wrap"`` rolls pixels around the borders; ``mode="zero"`` fills the vacated
    pixels with zeros.

    Example:
        >>> shift_images(np.eye(3, dtype=np.float32)[None], np.array([[0, 1]]))[0].tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    images = _check_images(images, "shift_images")
    shifts = np.asarray(shifts)
    if shifts.shape != (len(images), 2) or not np.issubdtype(shifts.dtype, np.integer):
        raise ValueError(f"shift_images: expected integer shifts of shape ({len(images)}, 2) for {len(images)} images, "
                         f"got {shifts.dtype} of shape {shifts.shape}")
    if mode not in SHIFT_MODES:
        raise ValueError(f"shift_images: mode must be one of {SHIFT_MODES}, got {mode!r}")
    height, width = images.shape[1:]
    out = np.empty_like(images)
    for i, (dy, dx) in enumerate(shifts.tolist()):
        rolled = np.roll(images[i], (dy, dx), axis=(0, 1))
        if mode == "zero":
            # the rows/columns that wrapped around came from outside the frame: blank them
            if dy > 0:
                rolled[:min(dy, height)] = 0
            elif dy < 0:
                rolled[max(height + dy, 0):] = 0
            if dx > 0:
                rolled[:, :min(dx, width)] = 0
            elif dx < 0:
                rolled[:, max(width + dx, 0):] = 0
        out[i] = rolled
    return out


def rotate_images(images: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """Rotate each image ``(N, H, W)`` counter-clockwise by ``angles[i]`` degrees about its centre (bilinear).

    Each output pixel takes the bilinear interpolation of the input at its position
    rotated back by the angle; sources outside the image contribute zero.

    Example:
        >>> image = np.zeros((1, 3, 3), dtype=np.float32); image[0, 1, 2] = 1  # right of the centre
        >>> rotate_images(image, np.array([90.0]))[0].round(6).tolist()  # now above it
        [[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    images = _check_images(images, "rotate_images")
    angles = np.asarray(angles, dtype=np.float64)
    if angles.shape != (len(images),):
        raise ValueError(f"rotate_images: expected {len(images)} angles, one per image, got shape {angles.shape}")
    out = np.empty_like(images)
    for start in range(0, len(images), _ROTATION_CHUNK):
        out[start:start + _ROTATION_CHUNK] = _rotate_chunk(images[start:start + _ROTATION_CHUNK],
                                                           angles[start:start + _ROTATION_CHUNK])
    return out


_ROTATION_CHUNK = 1024  # images per vectorised step: bounds the float64 temporaries to ~50 MB for 28x28 digits


def _rotate_chunk(images: np.ndarray, angles: np.ndarray) -> np.ndarray:
    n, height, width = images.shape
    cy, cx = (height - 1) / 2.0, (width - 1) / 2.0
    rows, cols = np.meshgrid(np.arange(height, dtype=np.float64) - cy, np.arange(width, dtype=np.float64) - cx,
                             indexing="ij")
    theta = np.deg2rad(angles)[:, None, None]
    cos, sin = np.cos(theta), np.sin(theta)
    # Counter-clockwise on screen (rows grow downwards): the source of (r, c) is (r, c) rotated by -theta.
    src_r = cos * rows + sin * cols + cy
    src_c = cos * cols - sin * rows + cx
    r0, c0 = np.floor(src_r).astype(np.int64), np.floor(src_c).astype(np.int64)
    fr, fc = src_r - r0, src_c - c0
    padded = np.zeros((n, height + 2, width + 2), dtype=np.float64)  # one ring of zeros: out-of-frame taps read 0
    padded[:, 1:-1, 1:-1] = images
    index = np.arange(n)[:, None, None]

    def tap(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return padded[index, np.clip(r + 1, 0, height + 1), np.clip(c + 1, 0, width + 1)]

    out = ((1 - fr) * (1 - fc) * tap(r0, c0) + (1 - fr) * fc * tap(r0, c0 + 1)
           + fr * (1 - fc) * tap(r0 + 1, c0) + fr * fc * tap(r0 + 1, c0 + 1))
    return out.astype(np.float32)


def sample_transforms(kind: str, n: int, rng: np.random.Generator, max_shift: int = 3,
                      max_angle: float = 180.0) -> np.ndarray:
    """``n`` random transformations: int64 shifts ``(n, 2)`` uniform on ``{-max_shift..max_shift}^2``, or
    float64 angles ``(n,)`` uniform on ``[-max_angle, max_angle]`` degrees.

    Example:
        >>> sample_transforms("shift", 3, np.random.default_rng(0), max_shift=1).shape
        (3, 2)
    """
    if kind == "shift":
        if int(max_shift) < 0:
            raise ValueError(f"sample_transforms: max_shift must be >= 0, got {max_shift}")
        return rng.integers(-int(max_shift), int(max_shift) + 1, size=(n, 2), dtype=np.int64)
    if kind == "rotation":
        if not 0.0 <= float(max_angle) <= 180.0:
            raise ValueError(f"sample_transforms: max_angle must lie in [0, 180] degrees, got {max_angle}")
        return rng.uniform(-float(max_angle), float(max_angle), size=n)
    raise ValueError(f"sample_transforms: transform must be one of {TRANSFORMS}, got {kind!r}")


def apply_transforms(images: np.ndarray, kind: str, params: np.ndarray, mode: str = "wrap") -> np.ndarray:
    """Apply ``params`` from :func:`sample_transforms` of ``kind`` to ``images``, one transformation each."""
    if kind == "shift":
        return shift_images(images, params, mode)
    if kind == "rotation":
        return rotate_images(images, params)
    raise ValueError(f"apply_transforms: transform must be one of {TRANSFORMS}, got {kind!r}")


def make_pairs(images: np.ndarray, kind: str, n: int, seed: int, max_shift: int = 3, max_angle: float = 180.0,
               mode: str = "wrap") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` pairs ``(x, y = T(x))``: images drawn with replacement, a fresh random ``T`` for each pair.

    Returns:
        ``x``, ``y`` float32 ``(n, H, W)`` and the transformations' ``params`` (see
        :func:`sample_transforms`). The same arguments always give the same arrays.
    """
    images = _check_images(images, "make_pairs")
    rng = np.random.default_rng([int(seed), 0])
    x = images[rng.integers(0, len(images), size=n)]
    params = sample_transforms(kind, n, rng, max_shift, max_angle)
    return x, apply_transforms(x, kind, params, mode), params


def make_triples(images: np.ndarray, kind: str, n: int, seed: int, max_shift: int = 3, max_angle: float = 180.0,
                 mode: str = "wrap") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``n`` quadruples ``(x, y, x2, y2)`` with ``y = T(x)`` and ``y2 = T(x2)`` for one random ``T`` per row.

    ``x`` and ``x2`` are two different images of the stack (needs at least two).

    Example:
        >>> images = np.random.default_rng(0).random((5, 6, 6)).astype(np.float32)
        >>> x, y, x2, y2, angles = make_triples(images, "rotation", 2, seed=0, max_angle=30)
        >>> bool(np.allclose(y2, rotate_images(x2, angles)))
        True
    """
    images = _check_images(images, "make_triples")
    if len(images) < 2:
        raise ValueError(f"make_triples: needs at least 2 images to pair different ones, got {len(images)}")
    rng = np.random.default_rng([int(seed), 1])
    first = rng.integers(0, len(images), size=n)
    # an offset in 1..N-1 makes the second index differ from the first
    second = (first + rng.integers(1, len(images), size=n)) % len(images)
    params = sample_transforms(kind, n, rng, max_shift, max_angle)
    x, x2 = images[first], images[second]
    return x, apply_transforms(x, kind, params, mode), x2, apply_transforms(x2, kind, params, mode), params
