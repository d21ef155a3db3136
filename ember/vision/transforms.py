"""torchvision's ``transforms``: ``ToTensor``, ``Normalize``, ``Compose``, crops, flips, resizing.

Two kinds of image flow through a pipeline, as in torchvision:

* **picture** (torchvision's PIL image): a ``uint8`` NumPy array ``H x W`` or
  ``H x W x C``, as :mod:`ember.vision.datasets` return them, or a PIL image when
  Pillow is installed;
* **tensor image**: an :class:`ember.Tensor` ``(..., C, H, W)``, what
  :class:`ToTensor` makes.

Geometric transforms (:class:`RandomCrop`, :class:`CenterCrop`,
:class:`RandomHorizontalFlip`, :class:`Resize`) accept both (a PIL image comes back
as a NumPy picture). The random ones draw from Ember's global generator, as
torchvision's draw from torch's, so :func:`ember.manual_seed` makes a pipeline
reproducible; DataLoader workers reseed it per worker.

Every transform here also has ``batch(xs)``, the same transform applied to a batch
(first axis = samples; per-sample random draws in the same order as one call per
sample), which the datasets use on the DataLoader's fast path.

Example:
    >>> import numpy as np
    >>> t = Compose([ToTensor(), Normalize((0.5,), (0.5,))])
    >>> x = t(np.array([[0, 255]], dtype=np.uint8))
    >>> x.shape, x.tolist()
    ((1, 1, 2), [[[-1.0, 1.0]]])
"""

from __future__ import annotations

import numbers
import sys
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import numpy as np

from .. import backend
from ..data.collate import default_collate as _numpy_collate
from ..ops.movement import flip
from ..tensor import Tensor

__all__ = ["Compose", "ToTensor", "Normalize", "Lambda", "RandomCrop", "CenterCrop",
           "RandomHorizontalFlip", "Resize", "InterpolationMode", "apply_batch"]

Size = Union[int, Sequence[int]]


# ---------------------------------------------------------------- image kinds
def _is_pil(img: Any) -> bool:
    image_module = sys.modules.get("PIL.Image")  # a PIL image implies PIL.Image was imported
    return image_module is not None and isinstance(img, image_module.Image)


def _picture(img: Any, who: str) -> Any:
    """A tensor image as it is, a PIL image as a NumPy picture, a NumPy picture checked."""
    if isinstance(img, Tensor):
        return img
    if _is_pil(img):
        return _pil_array(img)
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"{who}: a NumPy picture must be H x W or H x W x C, "
                             f"got shape {img.shape}")
        return img
    raise TypeError(f"{who}: img should be a NumPy picture (H x W [x C]), a PIL image or an "
                    f"ember.Tensor (..., C, H, W); got {type(img).__name__}")


def _pil_array(pic: Any) -> np.ndarray:
    # torchvision's pil_to_tensor modes: '1' is scaled to 0/255, 'I' and 'F' keep their type.
    array = np.asarray(pic)
    if pic.mode == "1":
        array = array.astype(np.uint8) * 255
    return array


def _size_of(img: Any, batched: bool = False) -> Tuple[int, int]:
    """(height, width) of a picture or a tensor image (or of each image of a batch)."""
    if isinstance(img, Tensor):
        return tuple(img.shape[-2:])  # type: ignore[return-value]
    offset = 1 if batched else 0
    return img.shape[offset], img.shape[offset + 1]


def _setup_size(size: Size, who: str) -> Tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    size = tuple(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{who}: please provide only two dimensions (h, w) for size, "
                         f"got {size}")
    return int(size[0]), int(size[1])


def _crop(img: Any, top: int, left: int, height: int, width: int, batched: bool) -> Any:
    if isinstance(img, Tensor):
        return img[..., top:top + height, left:left + width]
    if batched:
        return img[:, top:top + height, left:left + width]
    return img[top:top + height, left:left + width]


def _pad(img: Any, left: int, top: int, right: int, bottom: int, fill: float, mode: str,
         batched: bool) -> Any:
    """Pad the spatial axes; ``mode`` is torchvision's padding_mode."""
    if not (left or top or right or bottom):
        return img
    np_mode = {"constant": "constant", "edge": "edge", "reflect": "reflect",
               "symmetric": "symmetric"}[mode]
    if isinstance(img, Tensor):
        array = img._data
        widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
    else:
        array = img
        widths = ([(0, 0)] if batched else []) + [(top, bottom), (left, right)]
        widths += [(0, 0)] * (array.ndim - len(widths))
    xp = backend.array_module(array)
    extra = {"constant_values": fill} if np_mode == "constant" else {}
    padded = xp.pad(array, widths, mode=np_mode, **extra)
    return Tensor(padded) if isinstance(img, Tensor) else padded


def _padding_ltrb(padding: Union[int, Sequence[int]], who: str) -> Tuple[int, int, int, int]:
    if isinstance(padding, numbers.Integral):
        p = int(padding)
        return p, p, p, p
    padding = tuple(int(p) for p in padding)
    if len(padding) == 1:
        return padding * 4  # type: ignore[return-value]
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return padding  # type: ignore[return-value]
    raise ValueError(f"{who}: padding must be an int or a 1, 2 or 4 element sequence, "
                     f"got {len(padding)} elements")


def _rng() -> np.random.Generator:
    return backend.generator()


def apply_batch(transform: Optional[Callable[[Any], Any]], batch: Any) -> Any:
    """Apply a transform to a batch: its ``batch`` method if it has one, else sample by sample.

    Per-sample results are stacked: Tensors into a Tensor, anything else with
    Ember's NumPy collate.

    Example:
        >>> apply_batch(lambda img: img[:, ::-1], np.array([[[1, 2]], [[3, 4]]]))
        array([[[2, 1]],
        <BLANKLINE>
               [[4, 3]]])
    """
    if transform is None:
        return batch
    batched = getattr(transform, "batch", None)
    if callable(batched):
        return batched(batch)
    outputs = [transform(sample) for sample in batch]
    if outputs and all(isinstance(o, Tensor) for o in outputs):
        xp = backend.array_module(outputs[0]._data)
        return Tensor(xp.stack([o._data for o in outputs]))
    return _numpy_collate(outputs)


class _Transform:
    """Shared ``batch`` (sample by sample, stacked) and torchvision's ``repr``."""

    def __call__(self, img: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def batch(self, imgs: Any) -> Any:
        """The transform applied to every image of a batch."""
        outputs = [self(img) for img in imgs]
        if isinstance(outputs[0], Tensor):
            xp = backend.array_module(outputs[0]._data)
            return Tensor(xp.stack([o._data for o in outputs]))
        return np.stack(outputs)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class Compose(_Transform):
    """Chain transforms, applied in order.

    Example:
        >>> Compose([Lambda(lambda x: x + 1), Lambda(lambda x: x * 10)])(1)
        20
    """

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def batch(self, imgs: Any) -> Any:
        for t in self.transforms:
            imgs = apply_batch(t, imgs)
        return imgs

    def __repr__(self) -> str:
        lines = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({lines}\n)"


class ToTensor(_Transform):
    """A picture ``H x W x C`` (or ``H x W``) to a Tensor ``C x H x W``; ``uint8`` scaled to [0, 1].

    As torchvision: ``uint8`` becomes the default float dtype divided by 255; other
    dtypes (e.g. ``float64`` arrays) keep their type and values. PIL images are
    accepted when Pillow is installed.

    Raises:
        TypeError: Not a NumPy array or PIL image.
        ValueError: An array that is not 2- or 3-dimensional.

    Example:
        >>> x = ToTensor()(np.full((28, 28), 255, np.uint8))
        >>> x.shape, str(x.dtype), float(x.max())
        ((1, 28, 28), 'float32', 1.0)
    """

    def __init__(self) -> None:
        pass

    @staticmethod
    def _to_chw(array: np.ndarray, batched: bool) -> Tensor:
        if array.ndim == 2 + batched:
            array = array[..., None]
        array = np.ascontiguousarray(np.moveaxis(array, -1, -3))
        if array.dtype == np.uint8:
            dtype = backend.default_dtype()
            out = array.astype(dtype)
            out /= dtype.type(255)
            return Tensor(out)
        return Tensor(array)

    def __call__(self, pic: Any) -> Tensor:
        if _is_pil(pic):
            pic = _pil_array(pic)
        if not isinstance(pic, np.ndarray):
            raise TypeError(f"ToTensor: pic should be PIL Image or ndarray. Got {type(pic)}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: pic should be 2/3 dimensional. Got {pic.ndim} "
                             f"dimensions.")
        return self._to_chw(pic, batched=False)

    def batch(self, pics: Any) -> Tensor:
        if not isinstance(pics, np.ndarray):
            return super().batch(pics)
        if pics.ndim not in (3, 4):
            raise ValueError(f"ToTensor.batch: pictures should be N x H x W [x C], got shape "
                             f"{pics.shape}")
        return self._to_chw(pics, batched=True)

    def __repr__(self) -> str:
        return "ToTensor()"


class Normalize(_Transform):
    """``(tensor - mean) / std`` per channel of a float tensor image ``(..., C, H, W)``.

    Args:
        mean: Per-channel means (or one value for all).
        std: Per-channel standard deviations.
        inplace: Overwrite the input tensor's values.

    Raises:
        TypeError: Not a float :class:`ember.Tensor`.
        ValueError: Fewer than 3 dimensions, or a zero in ``std``.

    Example:
        >>> x = Normalize((0.1307,), (0.3081,))(ToTensor()(np.zeros((2, 2), np.uint8)))
        >>> round(float(x[0, 0, 0]), 4)
        -0.4242
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean, self.std, self.inplace = mean, std, inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: img should be Tensor Image. Got {type(tensor)}")
        if tensor.dtype.kind != "f":
            raise TypeError(f"Normalize: Input tensor should be a float tensor. Got "
                            f"{tensor.dtype}.")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: Expected tensor to be a tensor image of size "
                             f"(..., C, H, W). Got tensor.size() = {tuple(tensor.shape)}.")
        xp = backend.array_module(tensor._data)
        mean = xp.asarray(self.mean, dtype=tensor.dtype)
        std = xp.asarray(self.std, dtype=tensor.dtype)
        if bool((std == 0).any()):
            raise ValueError(f"Normalize: std evaluated to zero after conversion to "
                             f"{tensor.dtype}, leading to division by zero.")
        if mean.ndim == 1:
            mean = mean.reshape(-1, 1, 1)
        if std.ndim == 1:
            std = std.reshape(-1, 1, 1)
        if self.inplace:
            tensor._data -= mean
            tensor._data /= std
            return tensor
        return (tensor - Tensor(mean)) / Tensor(std)

    def batch(self, tensors: Tensor) -> Tensor:
        return self(tensors)  # (C, 1, 1) broadcasts over (N, C, H, W)

    def __repr__(self) -> str:
        return f"Normalize(mean={self.mean}, std={self.std})"


class Lambda(_Transform):
    """A user function as a transform.

    Raises:
        TypeError: ``lambd`` is not callable.

    Example:
        >>> Lambda(lambda x: x * 2)(3)
        6
    """

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Lambda: Argument lambd should be callable, got "
                            f"{type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def batch(self, imgs: Any) -> Any:
        return apply_batch(self.lambd, imgs)

    def __repr__(self) -> str:
        return "Lambda()"


class RandomCrop(_Transform):
    """Crop a random ``size`` window, after optional padding, as torchvision's ``RandomCrop``.

    Args:
        size: ``(h, w)`` or one int for a square.
        padding: Pixels added first: an int (all sides), ``(left/right, top/bottom)``
            or ``(left, top, right, bottom)``.
        pad_if_needed: Pad an image smaller than ``size`` (by the missing amount on
            both sides of that axis).
        fill: Value of constant padding.
        padding_mode: ``"constant"``, ``"edge"``, ``"reflect"`` or ``"symmetric"``.

    Raises:
        ValueError: The crop is larger than the (padded) image.

    Example:
        >>> RandomCrop(28, padding=4)(np.zeros((28, 28), np.uint8)).shape
        (28, 28)
    """

    def __init__(self, size: Size, padding: Optional[Union[int, Sequence[int]]] = None,
                 pad_if_needed: bool = False, fill: float = 0,
                 padding_mode: str = "constant") -> None:
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"RandomCrop: padding_mode should be constant, edge, reflect or "
                             f"symmetric, got {padding_mode!r}")
        self.size = _setup_size(size, "RandomCrop")
        self.padding = padding
        self._ltrb = None if padding is None else _padding_ltrb(padding, "RandomCrop")
        self.pad_if_needed, self.fill, self.padding_mode = pad_if_needed, fill, padding_mode

    @staticmethod
    def get_params(img: Any, output_size: Tuple[int, int]) -> Tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random crop, drawn as torchvision draws it."""
        h, w = _size_of(img)
        return RandomCrop._params(h, w, output_size)

    @staticmethod
    def _params(h: int, w: int, output_size: Tuple[int, int]) -> Tuple[int, int, int, int]:
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: Required crop size {(th, tw)} is larger than input "
                             f"image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        rng = _rng()
        top = int(rng.integers(0, h - th + 1))
        left = int(rng.integers(0, w - tw + 1))
        return top, left, th, tw

    def _padded(self, img: Any, batched: bool) -> Any:
        if self._ltrb is not None:
            img = _pad(img, *self._ltrb, self.fill, self.padding_mode, batched)
        h, w = _size_of(img, batched)
        th, tw = self.size
        if self.pad_if_needed and w < tw:
            img = _pad(img, tw - w, 0, tw - w, 0, self.fill, self.padding_mode, batched)
        if self.pad_if_needed and h < th:
            img = _pad(img, 0, th - h, 0, th - h, self.fill, self.padding_mode, batched)
        return img

    def __call__(self, img: Any) -> Any:
        img = self._padded(_picture(img, "RandomCrop"), batched=False)
        return _crop(img, *self._params(*_size_of(img), self.size), batched=False)

    def batch(self, imgs: Any) -> Any:
        if isinstance(imgs, Tensor) or isinstance(imgs, np.ndarray):
            padded = self._padded(imgs, batched=True)
            h, w = _size_of(padded, batched=True)
            windows = [self._params(h, w, self.size) for _ in range(len(imgs))]
            crops = [_crop(padded[k], *window, batched=False) for k, window in enumerate(windows)]
            if isinstance(padded, Tensor):
                xp = backend.array_module(padded._data)
                return Tensor(xp.stack([c._data for c in crops]))
            return np.stack(crops)
        return super().batch(imgs)

    def __repr__(self) -> str:
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class CenterCrop(_Transform):
    """Crop the centre ``size`` window (zero-padding first when the image is smaller), as torchvision.

    Example:
        >>> CenterCrop(2)(np.arange(16).reshape(4, 4)).tolist()
        [[5, 6], [9, 10]]
    """

    def __init__(self, size: Size) -> None:
        self.size = _setup_size(size, "CenterCrop")

    def _apply(self, img: Any, batched: bool) -> Any:
        h, w = _size_of(img, batched)
        th, tw = self.size
        if th > h or tw > w:
            left, top = (tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0
            right, bottom = (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0
            img = _pad(img, left, top, right, bottom, 0, "constant", batched)
            h, w = _size_of(img, batched)
            if h == th and w == tw:
                return img
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return _crop(img, top, left, th, tw, batched)

    def __call__(self, img: Any) -> Any:
        return self._apply(_picture(img, "CenterCrop"), batched=False)

    def batch(self, imgs: Any) -> Any:
        return self._apply(imgs, batched=True)


class RandomHorizontalFlip(_Transform):
    """Mirror the image left-right with probability ``p``.

    Example:
        >>> RandomHorizontalFlip(p=1.0)(np.array([[1, 2, 3]])).tolist()
        [[3, 2, 1]]
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    @staticmethod
    def _flip(img: Any) -> Any:
        if isinstance(img, Tensor):
            return flip(img, (-1,))
        return np.ascontiguousarray(img[:, ::-1])

    def __call__(self, img: Any) -> Any:
        img = _picture(img, "RandomHorizontalFlip")
        return self._flip(img) if _rng().random() < self.p else img

    def batch(self, imgs: Any) -> Any:
        return super().batch(imgs)  # one draw per image, in order

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class InterpolationMode:
    """torchvision's interpolation names (plain strings here)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _resize_weights(in_size: int, out_size: int, mode: str, antialias: bool) -> np.ndarray:
    """The ``(out_size, in_size)`` matrix of one axis, as ``torch.nn.functional.interpolate`` computes it."""
    scale = in_size / out_size
    weights = np.zeros((out_size, in_size), dtype=np.float64)
    rows = np.arange(out_size)
    if mode == InterpolationMode.NEAREST:
        weights[rows, np.minimum(np.floor(rows * scale).astype(np.int64), in_size - 1)] = 1.0
        return weights
    if antialias and scale > 1.0:
        # PIL's triangle filter widened by the scale (torch's _upsample_bilinear2d_aa).
        support, invscale = scale, 1.0 / scale
        for i in range(out_size):
            center = scale * (i + 0.5)
            low = max(int(center - support + 0.5), 0)
            high = min(int(center + support + 0.5), in_size)
            taps = np.arange(low, high)
            w = np.maximum(0.0, 1.0 - np.abs((taps - center + 0.5) * invscale))
            weights[i, low:high] = w / w.sum()
        return weights
    source = np.maximum((rows + 0.5) * scale - 0.5, 0.0)
    left = np.minimum(source.astype(np.int64), in_size - 1)
    right = np.minimum(left + 1, in_size - 1)
    frac = source - left
    np.add.at(weights, (rows, left), 1.0 - frac)
    np.add.at(weights, (rows, right), frac)
    return weights


def _resized_size(h: int, w: int, size: Size, max_size: Optional[int]) -> Tuple[int, int]:
    if isinstance(size, numbers.Integral) or len(size) == 1:
        requested = int(size) if isinstance(size, numbers.Integral) else int(size[0])
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"Resize: max_size = {max_size} must be strictly greater than "
                                 f"the requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if max_size is not None:
        raise ValueError("Resize: max_size is only supported when size is one int")
    return int(size[0]), int(size[1])


class Resize(_Transform):
    """Resize to ``size`` (an int matches the smaller edge, keeping the aspect ratio), as torchvision.

    Values are those of ``torch.nn.functional.interpolate`` (bilinear with
    ``align_corners=False`` and torchvision's default ``antialias=True``, or nearest),
    torchvision's tensor path; ``uint8`` pictures are interpolated in float and
    rounded (PIL's own fixed-point resampling can differ by one level).

    Example:
        >>> Resize(2, antialias=False)(np.arange(16, dtype=np.float32).reshape(4, 4)).tolist()
        [[2.5, 4.5], [10.5, 12.5]]
    """

    def __init__(self, size: Size, interpolation: str = InterpolationMode.BILINEAR,
                 max_size: Optional[int] = None, antialias: Optional[bool] = True) -> None:
        interpolation = getattr(interpolation, "value", interpolation)
        if interpolation not in (InterpolationMode.NEAREST, InterpolationMode.BILINEAR):
            raise ValueError(f"Resize: interpolation must be 'nearest' or 'bilinear', "
                             f"got {interpolation!r}")
        self.size, self.interpolation = size, interpolation
        self.max_size, self.antialias = max_size, bool(antialias)

    def _apply(self, img: Any, batched: bool) -> Any:
        h, w = _size_of(img, batched)
        new_h, new_w = _resized_size(h, w, self.size, self.max_size)
        if (new_h, new_w) == (h, w):
            return img
        rows = _resize_weights(h, new_h, self.interpolation, self.antialias)
        cols = _resize_weights(w, new_w, self.interpolation, self.antialias)
        array = img._data if isinstance(img, Tensor) else img
        xp = backend.array_module(array)
        dtype = array.dtype if array.dtype.kind == "f" else np.dtype(np.float32)
        rows, cols = xp.asarray(rows, dtype=dtype), xp.asarray(cols, dtype=dtype)
        channel_last = not isinstance(img, Tensor) and array.ndim == 3 + batched
        values = array.astype(dtype, copy=False)
        if channel_last:
            values = xp.moveaxis(values, -1, -3)
        out = rows @ values @ cols.T
        if channel_last:
            out = xp.moveaxis(out, -3, -1)
        if array.dtype.kind != "f":
            info = np.iinfo(array.dtype) if array.dtype.kind in "iu" else None
            out = xp.round(out)
            if info is not None:
                out = xp.clip(out, info.min, info.max)
            out = out.astype(array.dtype)
        out = xp.ascontiguousarray(out)
        return Tensor(out) if isinstance(img, Tensor) else out

    def __call__(self, img: Any) -> Any:
        return self._apply(_picture(img, "Resize"), batched=False)

    def batch(self, imgs: Any) -> Any:
        return self._apply(imgs, batched=True)

    def __repr__(self) -> str:
        return (f"Resize(size={self.size}, interpolation={self.interpolation}, "
                f"max_size={self.max_size}, antialias={self.antialias})")
