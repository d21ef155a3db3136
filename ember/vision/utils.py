"""torchvision's ``utils.make_grid`` and ``utils.save_image``.

:func:`make_grid` follows torchvision's layout exactly: ``nrow`` images per row,
``padding`` pixels around *every* image (outer border included), grey images
repeated to three channels, optional min-max normalisation over the batch or per
image. :func:`save_image` turns the grid into bytes as torchvision does
(``x * 255 + 0.5``, clamped, truncated) and writes a PNG with
:func:`ember.viz.save_png` (NumPy and zlib only); other formats, and file objects,
go through Pillow when it is installed.

Example:
    >>> import numpy as np, os, tempfile, ember
    >>> grid = make_grid(ember.tensor(np.random.rand(10, 1, 28, 28).astype(np.float32)), nrow=5)
    >>> grid.shape
    (3, 62, 152)
    >>> save_image(grid, os.path.join(tempfile.mkdtemp(), "grid.png"))
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Optional, Sequence, Tuple, Union

import numpy as np

from .. import backend
from ..tensor import Tensor
from ..viz.grid import save_png

__all__ = ["make_grid", "save_image"]


def _host_images(tensor: Any) -> np.ndarray:
    if isinstance(tensor, (list, tuple)):
        return np.stack([_host_images(t) for t in tensor])
    if isinstance(tensor, Tensor):
        return np.asarray(tensor.numpy())
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(f"make_grid: tensor should be an ember.Tensor (or a list of them), got "
                    f"{type(tensor).__name__}")


def _normalize(images: np.ndarray, value_range: Optional[Tuple[float, float]]) -> np.ndarray:
    low, high = (float(images.min()), float(images.max())) if value_range is None \
        else (float(value_range[0]), float(value_range[1]))
    clamped = np.clip(images, low, high)
    return ((clamped - images.dtype.type(low)) / images.dtype.type(max(high - low, 1e-5))
            ).astype(images.dtype, copy=False)


def make_grid(tensor: Union[Tensor, Sequence[Tensor]], nrow: int = 8, padding: int = 2,
              normalize: bool = False, value_range: Optional[Tuple[float, float]] = None,
              scale_each: bool = False, pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images ``(B, C, H, W)`` into one image ``(C, H', W')``, as torchvision.

    Args:
        tensor: ``(B, C, H, W)``, one image ``(C, H, W)`` or ``(H, W)``, or a list
            of equal-size images.
        nrow: Images per row (the number of columns).
        padding: Pixels between images and around the grid.
        normalize: Map values to [0, 1] by min and max (of ``value_range`` if given,
            else of the data).
        value_range: ``(min, max)`` used by ``normalize``; values are clamped to it.
        scale_each: With ``normalize``, use each image's own min and max.
        pad_value: Value of the padding.

    Returns:
        The grid, a Tensor of the input's dtype with 3 channels for grey images
        (one image comes back without padding).

    Raises:
        TypeError: ``value_range`` is not a tuple, or ``tensor`` is not a Tensor.

    Example:
        >>> import ember
        >>> make_grid(ember.ones(4, 1, 2, 2), nrow=2, padding=1).shape
        (3, 7, 7)
    """
    images = _host_images(tensor)
    if images.ndim == 2:
        images = images[None]
    if images.ndim == 3:
        if images.shape[0] == 1:
            images = np.concatenate([images] * 3, axis=0)
        images = images[None]
    if images.ndim != 4:
        raise ValueError(f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W), got "
                         f"shape {images.shape}")
    if images.shape[1] == 1:
        images = np.concatenate([images] * 3, axis=1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified. "
                            "min and max are numbers")
        if scale_each:
            images = np.stack([_normalize(image, value_range) for image in images])
        else:
            images = _normalize(images, value_range)
    if images.shape[0] == 1:
        return Tensor(np.ascontiguousarray(images[0]))
    count, channels = images.shape[:2]
    columns = min(nrow, count)
    rows = int(math.ceil(count / columns))
    height, width = images.shape[2] + padding, images.shape[3] + padding
    grid = np.full((channels, height * rows + padding, width * columns + padding), pad_value,
                   dtype=images.dtype)
    for k in range(count):
        y, x = divmod(k, columns)
        grid[:, y * height + padding: (y + 1) * height, x * width + padding: (x + 1) * width] = \
            images[k]
    return Tensor(grid)


def _to_bytes(grid: Tensor) -> np.ndarray:
    # torchvision: grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to(torch.uint8)
    values = np.asarray(grid.numpy())
    if values.dtype.kind != "f":
        values = values.astype(backend.default_dtype())
    scaled = np.clip(values * values.dtype.type(255) + values.dtype.type(0.5), 0, 255)
    return np.ascontiguousarray(scaled.astype(np.uint8).transpose(1, 2, 0))


def save_image(tensor: Union[Tensor, Sequence[Tensor]], fp: Union[str, os.PathLike, BinaryIO],
               format: Optional[str] = None, **kwargs: Any) -> None:  # noqa: A002
    """Save images (tiled by :func:`make_grid`, which gets ``**kwargs``) as an image file.

    Args:
        tensor: The image or batch (values in [0, 1], or pass ``normalize=True``).
        fp: A path or a binary file object.
        format: The file format (default: from the file name; PNG without Pillow).
        **kwargs: ``nrow``, ``padding``, ``normalize``, ``value_range``,
            ``scale_each``, ``pad_value``.

    Raises:
        ValueError: A format other than PNG without Pillow installed.

    Example:
        >>> import ember, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "ones.png")
        >>> save_image(ember.ones(2, 1, 4, 4), path, nrow=2)
        >>> open(path, "rb").read(4)
        b'\\x89PNG'
    """
    pixels = _to_bytes(make_grid(tensor, **kwargs))
    is_file = hasattr(fp, "write")
    kind = (format or ("png" if is_file else Path(fp).suffix.lstrip(".") or "png")).lower()
    if kind == "png":
        if not is_file:
            save_png(pixels, fp)
            return
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "image.png"
            save_png(pixels, path)
            fp.write(path.read_bytes())
        return
    try:
        from PIL import Image
    except ImportError:
        raise ValueError(f"save_image: format {kind!r} needs Pillow (pip install pillow); "
                         f"without it only PNG is written") from None
    Image.fromarray(pixels).save(fp, format=format)


