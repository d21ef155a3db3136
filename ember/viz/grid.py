"""Image grids (samples, first-layer filters) and a small PNG writer, with NumPy alone.

The grids need no plotting library: :func:`make_grid` tiles images into one
array and :func:`save_png` writes it as a PNG file (zlib, from the standard
library). Images are channel-first like Ember's data (``(N, H, W)``,
``(N, 1, H, W)`` or ``(N, 3, H, W)``); channel-last ``(N, H, W, 3)`` is accepted too.

Example:
    >>> import numpy as np, os, tempfile
    >>> grid = make_grid(np.random.default_rng(0).random((10, 28, 28)), ncols=5)
    >>> grid.shape
    (57, 144)
    >>> save_png(grid, os.path.join(tempfile.mkdtemp(), "samples.png"), scale=2)
"""
from __future__ import annotations

import math
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from ..tensor import Tensor

__all__ = ["make_grid", "save_png", "plot_filters", "save_image_grid"]


def _host(images) -> np.ndarray:
    if isinstance(images, Tensor):
        images = images._data
    if hasattr(images, "get"):  # CuPy
        images = images.get()
    return np.asarray(images)


def _channel_first(images: np.ndarray, who: str) -> np.ndarray:
    """``(N, C, H, W)`` with C in (1, 3) from any accepted layout."""
    if images.ndim == 3:
        return images[:, None]
    if images.ndim == 4:
        if images.shape[1] in (1, 3):
            return images
        if images.shape[3] in (1, 3):
            return images.transpose(0, 3, 1, 2)
    raise ValueError(f"{who}: expected images of shape (N, H, W), (N, 1|3, H, W) or (N, H, W, 1|3), "
                     f"got {images.shape}")


def make_grid(images, ncols: int | None = None, padding: int = 1, normalize: str | None = "global",
              pad_value: float = 1.0) -> np.ndarray:
    """Tile images into one array, row by row.

    Args:
        images: ``N`` images (see the module's layouts); tensors or arrays.
        ncols: images per row (a near-square grid by default).
        padding: pixels between images.
        normalize: ``'global'`` maps the smallest value of all images to 0 and the
            largest to 1; ``'each'`` does so per image (for filters, whose scales
            differ); None keeps the values (expected in ``[0, 1]``).
        pad_value: the value of the padding.

    Returns:
        A float array in ``[0, 1]``: ``(H, W)`` for grey images, ``(H, W, 3)`` for colour.
    """
    images = _channel_first(_host(images).astype(np.float64), "make_grid")
    n, channels, height, width = images.shape
    if n == 0:
        raise ValueError("make_grid: got no images")
    if normalize == "global":
        low, high = images.min(), images.max()
        images = (images - low) / (high - low) if high > low else np.zeros_like(images)
    elif normalize == "each":
        low = images.min(axis=(1, 2, 3), keepdims=True)
        span = images.max(axis=(1, 2, 3), keepdims=True) - low
        images = np.where(span > 0, (images - low) / np.where(span > 0, span, 1), 0.0)
    elif normalize is not None:
        raise ValueError(f"make_grid: normalize must be 'global', 'each' or None, got {normalize!r}")
    ncols = ncols or math.ceil(math.sqrt(n))
    nrows = math.ceil(n / ncols)
    grid = np.full((channels, nrows * (height + padding) - padding, ncols * (width + padding) - padding),
                   pad_value, dtype=np.float64)
    for index in range(n):
        row, col = divmod(index, ncols)
        top, left = row * (height + padding), col * (width + padding)
        grid[:, top:top + height, left:left + width] = images[index]
    grid = np.clip(grid, 0.0, 1.0)
    return grid[0] if channels == 1 else grid.transpose(1, 2, 0)


def save_png(image, path: str | os.PathLike, scale: int = 1) -> None:
    """Write an image in ``[0, 1]`` (or ``uint8``) as a PNG file.

    Args:
        image: ``(H, W)`` grey or ``(H, W, 3)`` colour.
        path: the file (its folder is created).
        scale: enlarge each pixel to ``scale x scale`` pixels (small images, filters).
    """
    array = _host(image)
    if array.dtype != np.uint8:
        array = np.round(np.clip(array.astype(np.float64), 0.0, 1.0) * 255).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] != 3):
        raise ValueError(f"save_png: expected an (H, W) or (H, W, 3) image, got shape {array.shape}")
    if scale > 1:
        array = array.repeat(scale, axis=0).repeat(scale, axis=1)
    height, width = array.shape[:2]
    color_type = 0 if array.ndim == 2 else 2
    rows = np.ascontiguousarray(array).reshape(height, -1)
    raw = np.concatenate([np.zeros((height, 1), dtype=np.uint8), rows], axis=1).tobytes()  # filter 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_bytes(png)


def save_image_grid(images, path: str | os.PathLike, ncols: int | None = None, scale: int = 2,
                    normalize: str | None = "global") -> np.ndarray:
    """Tile images (samples, reconstructions, generated digits) and save the grid as a PNG.

    Example:
        >>> import numpy as np, os, tempfile
        >>> from ember.data import mnist_sample
        >>> grid = save_image_grid(mnist_sample().data[:16], os.path.join(tempfile.mkdtemp(), "digits.png"))
        >>> grid.shape
        (115, 115)

    Returns:
        The grid array.
    """
    grid = make_grid(images, ncols=ncols, normalize=normalize)
    save_png(grid, path, scale=scale)
    return grid


def plot_filters(weight, path: str | os.PathLike | None = None, ncols: int | None = None,
                 image_shape: tuple[int, int] | None = None, scale: int = 8) -> np.ndarray:
    """A grid of first-layer filters, each normalised on its own; saved as a PNG when ``path`` is given.

    Args:
        weight: a convolution weight ``(out, in, kh, kw)`` (``in`` of 3 shows colour
            filters, otherwise the first input channel), or a linear weight ``(out, in)``
            whose rows are images (``in = 784`` shows 28x28 MNIST "templates").
        path: the PNG file to write.
        ncols: filters per row.
        image_shape: the image shape of a linear weight's rows (square by default).
        scale: pixels per weight in the file.

    Returns:
        The grid array.

    Example:
        >>> import ember.nn as nn
        >>> plot_filters(nn.Conv2d(1, 6, 5).weight).shape
        (11, 17)
    """
    w = _host(weight).astype(np.float64)
    if w.ndim == 4:
        filters = w if w.shape[1] == 3 else w[:, :1]
    elif w.ndim == 2:
        if image_shape is None:
            side = math.isqrt(w.shape[1])
            if side * side != w.shape[1]:
                raise ValueError(f"plot_filters: the rows of a linear weight of shape {w.shape} are not square "
                                 "images; pass image_shape")
            image_shape = (side, side)
        if math.prod(image_shape) != w.shape[1]:
            raise ValueError(f"plot_filters: image_shape {image_shape} does not hold {w.shape[1]} weights")
        filters = w.reshape((w.shape[0], 1) + tuple(image_shape))
    else:
        raise ValueError(f"plot_filters: expected a conv weight (out, in, kh, kw) or a linear weight (out, in), "
                         f"got shape {w.shape}")
    grid = make_grid(filters, ncols=ncols, normalize="each")
    if path is not None:
        save_png(grid, path, scale=scale)
    return grid
