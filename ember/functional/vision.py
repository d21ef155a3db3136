"""Image-shaped functions: ``pad``, resizing (``interpolate``), ``pixel_shuffle``, local normalisations.

Everything here is composed from primitives, so gradients of any order follow:

* padding crops negative widths with a slice, then pads with a constant or
  selects source indices (reflect, replicate, circular);
* nearest resizing is an index selection per spatial dimension (a ``repeat``
  when the factor is an integer, whose gradient is a cheap reshape-and-sum);
* linear, bilinear, bicubic, trilinear and area resizing are separable: one
  small resampling matrix per dimension, applied with ``matmul``;
* local response normalisation is PyTorch's across-channel formula;
* local contrast normalisation is the subtractive + divisive normalisation of
  Jarrett, Kavukcuoglu, Ranzato and LeCun (2009), with a Gaussian window.

Example:
    >>> import ember
    >>> import ember.functional as F
    >>> F.interpolate(ember.ones(1, 3, 8, 8), scale_factor=2, mode="bilinear").shape
    (1, 3, 16, 16)
"""
from __future__ import annotations

import math

from ..autograd.function import apply
from ..backend import array_module, numpy_module
from ..ops import elementwise as E
from ..ops import movement as M
from ..ops import reduce as R
from ..ops.checks import float_operand
from ..ops.conv import conv
from ..kernels.geometry import ConvGeometry
from ..ops.pool import AvgPool
from ..tensor import Tensor, as_tensor, constant
from ..errors import ArgumentError, UnknownModeError

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle",
           "pixel_unshuffle", "local_response_norm", "local_contrast_norm"]

# The interpolating modes and the number of spatial dimensions each needs.
_LINEAR_MODES = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


# ------------------------------------------------------------------ padding
_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(n: int, before: int, after: int, mode: str):
    """For ``mode`` padding of a length-``n`` axis, the input position each output copies."""
    np = numpy_module()
    i = np.arange(-before, n + after)
    if mode == "circular":
        return i % n
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    period = 2 * (n - 1)  # reflect without repeating the edge
    i = np.abs(i) % period if period else np.zeros_like(i)
    return np.where(i >= n, period - i, i)


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative widths, crop) the trailing dimensions, as ``torch.nn.functional.pad``.

    Args:
        input: any tensor; the non-constant modes need ``(C, *spatial)`` or
            ``(N, C, *spatial)`` with one to three spatial dimensions.
        pad: ``(left, right)`` for the last dimension, then ``(top, bottom)`` for
            the one before, and so on: last dimension first. Negative widths remove
            elements (before any padding is added).
        mode: ``'constant'`` (fill with ``value``), ``'reflect'`` (mirror without
            repeating the edge), ``'replicate'`` (repeat the edge) or ``'circular'``
            (wrap around).
        value: the fill of ``'constant'`` (default 0).

    Example:
        >>> import ember, ember.functional as F
        >>> F.pad(ember.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect").tolist()
        [[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
        >>> F.pad(ember.tensor([[1.0, 2.0, 3.0]]), (-1, 1), value=9.0).tolist()
        [[2.0, 3.0, 9.0]]
    """
    from ..errors import ShapeError

    op = "pad"
    x = as_tensor(input)
    widths = [int(w) for w in pad]
    if len(widths) % 2:
        raise ArgumentError(f"{op}: padding length must be divisible by 2, got {tuple(widths)}")
    k = len(widths) // 2
    if k > x.ndim:
        raise ArgumentError(f"{op}: padding length should be less than or equal to two times the input "
                            f"dimension but got padding length {len(widths)} and input of dimension {x.ndim}")
    if mode not in _PAD_MODES:  # PyTorch raises NotImplementedError for an unknown mode
        raise UnknownModeError(f"{op}: mode must be one of {_PAD_MODES}, got {mode!r}")
    if mode != "constant":
        if value not in (None, 0, 0.0):
            raise ArgumentError(f"{op}: padding mode {mode!r} does not take a value (got {value!r})")
        if k not in (1, 2, 3) or x.ndim not in (k + 1, k + 2):
            raise NotImplementedError(
                f"{op}: padding size {len(widths)} is not supported for {x.ndim}D input tensor with mode "
                f"{mode!r}; non-constant padding supports 2D or 3D input with padding size 2, 3D or 4D "
                "with size 4, 4D or 5D with size 6")
    # pairs[i] pads axis ndim - 1 - i.
    pairs = [(widths[2 * i], widths[2 * i + 1]) for i in range(k)]
    for i, (before, after) in enumerate(pairs):
        axis = x.ndim - 1 - i
        n = x.shape[axis]
        if n + before + after < 0:
            raise ShapeError(f"{op}: the input size {n} (dimension {axis} of shape {tuple(x.shape)}), plus "
                             f"negative padding {before} and {after}, resulted in an empty or negative size")
    if mode in ("constant", "circular"):  # PyTorch crops first, then pads (or wraps) what is left
        crop = [slice(None)] * x.ndim
        for i, (before, after) in enumerate(pairs):
            axis = x.ndim - 1 - i
            crop[axis] = slice(max(-before, 0), x.shape[axis] - max(-after, 0))
        if any(before < 0 or after < 0 for before, after in pairs):
            x = M.getitem(x, tuple(crop))
        pairs = [(max(before, 0), max(after, 0)) for before, after in pairs]
        if not any(before or after for before, after in pairs):
            return x
    if mode == "constant":
        full = [(0, 0)] * (x.ndim - k) + pairs[::-1]
        return M.pad(x, tuple(full), value=0.0 if value is None else value)
    # Reflect and replicate index the original input, as PyTorch does: a negative width crops the
    # output, and the mirrored (or repeated, or wrapped) positions are those of the whole axis.
    xp = array_module(x._data)
    for i, (before, after) in enumerate(pairs):
        axis = x.ndim - 1 - i
        n = x.shape[axis]
        if mode == "reflect" and (before >= n or after >= n):
            raise ShapeError(f"{op}: padding size should be less than the corresponding input dimension, but "
                             f"got padding ({before}, {after}) at dimension {axis} of input {tuple(x.shape)}")
        if mode == "circular" and (before > n or after > n):
            raise ShapeError(f"{op}: padding value ({before}, {after}) at dimension {axis} of input "
                             f"{tuple(x.shape)} causes wrapping around more than once")
        if before or after:
            x = M.index_select(x, axis, xp.asarray(_source_index(n, before, after, mode)))
    return x


# ------------------------------------------------------------------ resizing
def _output_size(op, in_size, size, scale_factor, recompute_scale_factor=None):
    """The output size and the per-dimension input/output coordinate scale PyTorch uses."""
    d = len(in_size)
    if (size is None) == (scale_factor is None):
        raise ArgumentError(f"{op}: give exactly one of size and scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ArgumentError(f"{op}: recompute_scale_factor is not meaningful with an explicit size")
        out = (size,) * d if isinstance(size, int) else tuple(size)
        if len(out) != d or any(not isinstance(o, int) or o < 1 for o in out):
            raise ArgumentError(f"{op}: size must be a positive int or {d} of them for input size "
                                f"{tuple(in_size)}, got {size!r}")
        return out, tuple(n / o for n, o in zip(in_size, out))
    scales = (scale_factor,) * d if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
    if len(scales) != d or any(s <= 0 for s in scales):
        raise ArgumentError(f"{op}: scale_factor must be positive, one or {d} of them, got {scale_factor!r}")
    out = tuple(math.floor(n * s) for n, s in zip(in_size, scales))
    if any(o < 1 for o in out):
        raise ArgumentError(f"{op}: scale_factor {scale_factor!r} shrinks input size {tuple(in_size)} to nothing")
    if recompute_scale_factor:
        return out, tuple(n / o for n, o in zip(in_size, out))
    # As PyTorch (recompute_scale_factor unset): coordinates use 1/scale_factor.
    return out, tuple(1.0 / s for s in scales)


def _nearest(x, axis, n, o, scale, exact):
    np = numpy_module()
    if not exact and o % n == 0 and scale == n / o:
        return M.repeat_interleave(x, o // n, axis)
    offset = 0.5 if exact else 0.0
    source = np.minimum(np.floor((np.arange(o) + offset) * scale).astype(np.int64), n - 1)
    return M.index_select(x, axis, array_module(x._data).asarray(source))


def _source_coordinates(n, o, scale, align_corners, clamp_below):
    """Where each output centre falls in input coordinates (PyTorch's ``area_pixel_compute_source_index``)."""
    np = numpy_module()
    target = np.arange(o, dtype=np.float64)
    if align_corners:
        return target * ((n - 1) / (o - 1)) if o > 1 else np.zeros(o)
    source = (target + 0.5) * scale - 0.5
    return np.maximum(source, 0.0) if clamp_below else source


def _cubic_weights(t, a=-0.75):
    """Keys' cubic convolution weights of the four taps around a fractional offset ``t``."""
    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)


def _resize_matrix(mode, n, o, scale, align_corners):
    """The ``(n, o)`` float64 matrix whose column ``j`` makes output ``j`` from the inputs."""
    np = numpy_module()
    matrix = np.zeros((n, o))
    columns = np.arange(o)
    if mode == "area":  # adaptive average pooling's windows
        for j in range(o):
            start, end = (j * n) // o, -((-(j + 1) * n) // o)
            matrix[start:end, j] = 1.0 / (end - start)
        return matrix
    if mode == "bicubic":
        source = _source_coordinates(n, o, scale, align_corners, clamp_below=False)
        low = np.floor(source).astype(np.int64)
        for tap, weight in zip(range(-1, 3), _cubic_weights(source - low)):
            np.add.at(matrix, (np.clip(low + tap, 0, n - 1), columns), weight)
        return matrix
    source = _source_coordinates(n, o, scale, align_corners, clamp_below=True)
    low = np.minimum(np.floor(source).astype(np.int64), n - 1)
    high = np.minimum(low + 1, n - 1)
    frac = source - low
    matrix[low, columns] += 1.0 - frac  # one entry per column: no repeated targets
    matrix[high, columns] += frac  # (a separate statement, so low == high adds up)
    return matrix


def _uint8_linear_weights(n: int, o: int, scale: float, align_corners: bool):
    """PyTorch's fixed-point weights for resizing uint8 images linearly: ``(indices, weights, precision)``.

    PyTorch resizes uint8 images in integer arithmetic: float weights from its
    antialiasing formula (a triangle filter of support 1 when not antialiasing), scaled
    to int16 by ``2**precision`` with the largest precision that keeps every weight
    below ``2**15``. Returns the ``(n, o)`` integer weight matrix and the precision.
    """
    np = numpy_module()
    if align_corners:
        scale = (n - 1) / (o - 1) if o > 1 else 0.0
    delta = 0.5 if align_corners else 0.0
    matrix = np.zeros((n, o))
    for i in range(o):
        center = scale * (i + 0.5 - delta)
        low = max(int(center - 1.0 + 0.5 + delta), 0)
        count = min(max(min(int(center + 1.0 + 0.5 + delta), n) - low, 0), 2)  # at most two taps
        taps = np.arange(low, low + count)
        w = np.maximum(1.0 - np.abs(taps - center + 0.5 - delta), 0.0)
        if w.sum():
            matrix[taps, i] = w / w.sum()
    top = matrix.max()
    precision = 0
    while precision < 22 and int(0.5 + top * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    scaled = matrix * (1 << precision)
    return np.where(scaled < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5)).astype(np.int64), precision


def _uint8_linear_resize(x: Tensor, out, scales, align_corners: bool) -> Tensor:
    """Bilinear resizing of a uint8 image as PyTorch does it: width then height, rounding to uint8 after each."""
    xp = array_module(x._data)
    data = x._data
    d = len(out)
    for axis in reversed(range(d)):
        n, o = data.shape[2 + axis], out[axis]
        if n == o:
            continue
        weights, precision = _uint8_linear_weights(n, o, scales[axis], align_corners)
        moved = xp.moveaxis(data, 2 + axis, -1).astype(xp.int64)
        total = moved @ xp.asarray(weights) + (1 << (precision - 1))
        data = xp.moveaxis(xp.clip(total >> precision, 0, 255).astype(xp.uint8), -1, 2 + axis)
    return constant(xp.ascontiguousarray(data))


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dimensions of ``(N, C, *spatial)`` (PyTorch's ``interpolate``).

    Every mode is separable: nearest modes select indices per dimension, the
    others multiply each dimension by a small resampling matrix, so gradients of
    any order follow.

    Args:
        input: ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        size: the output spatial size (an int or one per dimension), or
        scale_factor: a multiplier (an int/float or one per dimension).
        mode: ``'nearest'`` (PyTorch's legacy rule ``floor(j * scale)``),
            ``'nearest-exact'`` (pixel centres), ``'linear'`` (3-D input),
            ``'bilinear'`` or ``'bicubic'`` (4-D, cubic convolution with
            ``a = -0.75``), ``'trilinear'`` (5-D) or ``'area'`` (adaptive average).
        align_corners: for the interpolating modes, map the corner pixels' centres
            onto each other (default False, as in PyTorch).
        recompute_scale_factor: with ``scale_factor``, compute coordinates from the
            resulting size instead of the factor.
        antialias: only False is supported.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.interpolate(ember.arange(2.0).reshape(1, 1, 2), scale_factor=2).tolist()
        [[[0.0, 0.0, 1.0, 1.0]]]
    """
    from ..errors import ShapeError

    op = "interpolate"
    x = as_tensor(input)
    integer_dtype = x.dtype if x.dtype.kind in "iu" else None
    if integer_dtype is not None and mode not in ("nearest", "nearest-exact"):
        x = float_operand(op, x)  # PyTorch resamples integer images in float and rounds back
    elif integer_dtype is None:
        x = float_operand(op, x)
    if mode not in _MODES:
        raise ArgumentError(f"{op}: mode must be one of {', '.join(map(repr, _MODES))}, got {mode!r}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    if x.ndim < 3 or x.ndim > 5:
        raise ShapeError(f"{op}: expected a 3-D, 4-D or 5-D (N, C, *spatial) input, got shape {tuple(x.shape)}")
    d = x.ndim - 2
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != d:
        raise ShapeError(f"{op}: got {x.ndim}D input, but {mode} mode needs {_LINEAR_MODES[mode] + 2}D "
                         f"input (shape {tuple(x.shape)})")
    if align_corners is not None and mode not in _LINEAR_MODES:
        raise ArgumentError(f"{op}: align_corners option can only be set with the interpolating modes: "
                            f"linear | bilinear | bicubic | trilinear (got mode {mode!r})")
    in_size = tuple(x.shape[2:])
    out, scales = _output_size(op, in_size, size, scale_factor, recompute_scale_factor)
    if mode in ("nearest", "nearest-exact"):
        for axis, (n, o, s) in enumerate(zip(in_size, out, scales)):
            if n != o or s != 1.0:
                x = _nearest(x, 2 + axis, n, o, s, mode == "nearest-exact")
        return x
    if integer_dtype == numpy_module().uint8 and mode == "bilinear":
        return _uint8_linear_resize(as_tensor(input), out, scales, bool(align_corners))
    xp = array_module(x._data)
    for axis, (n, o, s) in enumerate(zip(in_size, out, scales)):
        if n == o and (mode == "area" or (not align_corners and s == 1.0)):
            continue
        matrix = _resize_matrix(mode, n, o, s, bool(align_corners))
        weights = constant(xp.asarray(matrix, dtype=x.dtype))
        x = M.swapaxes(M.swapaxes(x, 2 + axis, -1) @ weights, 2 + axis, -1)
    if integer_dtype is not None:
        info = xp.iinfo(integer_dtype)
        x = E.round(x).clamp(float(info.min), float(info.max)).astype(integer_dtype)
    return x


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Alias of :func:`interpolate` (PyTorch's older name).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.upsample(ember.ones(1, 1, 2, 2), size=3).shape
        (1, 1, 3, 3)
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """``interpolate(..., mode='nearest')`` (PyTorch's deprecated name)."""
    return interpolate(input, size, scale_factor, "nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """``interpolate(..., mode='bilinear', align_corners=True)`` (PyTorch's deprecated name)."""
    return interpolate(input, size, scale_factor, "bilinear", True)


# ------------------------------------------------------------------ pixel shuffle
def _check_image(op, x):
    if x.ndim < 3:
        raise ArgumentError(f"{op}: expected input (*, C, H, W), got shape {tuple(x.shape)}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Rearrange ``(*, C * r**2, H, W)`` into ``(*, C, H * r, W * r)`` (sub-pixel convolution).

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.pixel_shuffle(ember.ones(1, 8, 3, 3), 2).shape
        (1, 2, 6, 6)
    """
    from ..tensor import as_tensor

    x = as_tensor(input)
    r = int(upscale_factor)
    _check_image("pixel_shuffle", x)
    if r < 1:
        raise ArgumentError(f"pixel_shuffle: upscale_factor must be positive, got {upscale_factor}")
    *lead, c, h, w = x.shape
    if c % (r * r):
        raise ArgumentError(f"pixel_shuffle: {c} channels (input shape {tuple(x.shape)}) are not divisible "
                            f"by upscale_factor**2 = {r * r}")
    k = len(lead)
    y = M.reshape(x, tuple(lead) + (c // (r * r), r, r, h, w))
    y = M.transpose(y, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return M.reshape(y, tuple(lead) + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """The inverse of :func:`pixel_shuffle`: ``(*, C, H * r, W * r)`` -> ``(*, C * r**2, H, W)``.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.pixel_unshuffle(ember.ones(1, 2, 6, 6), 2).shape
        (1, 8, 3, 3)
    """
    from ..tensor import as_tensor

    x = as_tensor(input)
    r = int(downscale_factor)
    _check_image("pixel_unshuffle", x)
    if r < 1:
        raise ArgumentError(f"pixel_unshuffle: downscale_factor must be positive, got {downscale_factor}")
    *lead, c, h, w = x.shape
    if h % r or w % r:
        raise ArgumentError(f"pixel_unshuffle: spatial size ({h}, {w}) (input shape {tuple(x.shape)}) is not "
                            f"divisible by downscale_factor {r}")
    k = len(lead)
    y = M.reshape(x, tuple(lead) + (c, h // r, r, w // r, r))
    y = M.transpose(y, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return M.reshape(y, tuple(lead) + (c * r * r, h // r, w // r))


# ------------------------------------------------------------------ local normalisation
def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """AlexNet's across-channel normalisation, as PyTorch computes it.

    ``b_c = a_c / (k + alpha / size * sum over the size channels around c of a**2) ** beta``
    (zero beyond the first and last channel).

    Args:
        input: ``(N, C, *)`` with at least 3 dimensions.
        size: the number of neighbouring channels summed over.
        alpha, beta, k: the formula's constants.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.local_response_norm(ember.ones(2, 5, 4, 4), size=3).shape
        (2, 5, 4, 4)
    """
    x = float_operand("local_response_norm", input)
    if x.ndim < 3:
        raise ArgumentError(f"local_response_norm: expected input (N, C, *) with at least 3 dimensions, "
                            f"got shape {tuple(x.shape)}")
    if int(size) < 1:
        raise ArgumentError(f"local_response_norm: size must be positive, got {size}")
    n, c = x.shape[:2]
    # The channel axis becomes the one spatial axis of a 1-D average pool.
    squares = M.reshape(x * x, (n, 1, c, -1))
    rest = squares.shape[-1]
    geom = ConvGeometry((c, rest), (size, 1), (1, 1), (1, 1), ((size // 2, (size - 1) // 2), (0, 0)), 1, (c, rest))
    mean = apply(AvgPool, (squares,), {"geom": geom, "divisor": float(size)})
    div = E.pow_scalar(M.reshape(mean, tuple(x.shape)) * alpha + k, beta)
    return x / div


def _gaussian_window(kernel, sigma, channels, dtype, xp):
    """A ``(1, C, *kernel)`` Gaussian summing to one over the window and the channels."""
    np = numpy_module()
    window = np.ones(())
    for k, s in zip(kernel, sigma):
        t = np.arange(k) - (k - 1) / 2
        window = np.multiply.outer(window, np.exp(-0.5 * (t / s) ** 2))
    window = np.broadcast_to(window, (1, channels) + tuple(kernel))
    return constant(xp.asarray(window / window.sum(), dtype=dtype))


def local_contrast_norm(input: Tensor, kernel_size=9, sigma=None, eps: float = 1e-4) -> Tensor:
    """Subtractive then divisive local normalisation (Jarrett et al. 2009; LeCun's lectures).

    With ``w`` a Gaussian window that sums to one over its positions *and* the
    channels:

    * subtractive: ``v = x - sum_{c,p} w_p x_c(. + p)`` (the local weighted mean over all channels);
    * divisive: ``y = v / max(c, sigma)`` with ``sigma = sqrt(sum_{c,p} w_p v_c(. + p)**2)``
      and ``c`` the mean of ``sigma`` over each image.

    Near the borders the window is renormalised over the positions inside the image
    (as Torch7's ``SpatialContrastiveNormalization`` does), and ``sigma`` is
    floored at ``eps`` so flat images give finite gradients.

    Args:
        input: ``(N, C, *spatial)``, usually ``(N, C, H, W)``.
        kernel_size: the window's odd size (an int or one per spatial dimension).
        sigma: the Gaussian's standard deviation in pixels (default: ``kernel_size / 4``).
        eps: lower bound of the divisor.

    Example:
        >>> import ember
        >>> import ember.functional as F
        >>> F.local_contrast_norm(ember.randn(2, 3, 16, 16), kernel_size=5).shape
        (2, 3, 16, 16)
    """
    op = "local_contrast_norm"
    x = float_operand(op, input)
    if x.ndim < 3:
        raise ArgumentError(f"{op}: expected (N, C, *spatial), got shape {tuple(x.shape)}")
    d = x.ndim - 2
    kernel = (kernel_size,) * d if isinstance(kernel_size, int) else tuple(kernel_size)
    if len(kernel) != d or any(k < 1 or k % 2 == 0 for k in kernel):
        raise ArgumentError(f"{op}: kernel_size must be odd and positive, one or {d} values, got {kernel_size!r}")
    sigmas = tuple(k / 4 for k in kernel) if sigma is None else \
        ((sigma,) * d if isinstance(sigma, (int, float)) else tuple(sigma))
    xp = array_module(x._data)
    window = _gaussian_window(kernel, sigmas, x.shape[1], x.dtype, xp)
    ones = constant(xp.ones((1,) + tuple(x.shape[1:]), dtype=x.dtype))
    coverage = conv(ones, window, padding="same", op=op)  # < 1 only near the borders

    def local_mean(t):
        return conv(t, window, padding="same", op=op) / coverage

    centred = x - local_mean(x)
    local_std = E.sqrt(E.maximum(local_mean(centred * centred), eps * eps))
    image_mean = R.mean(local_std, axis=tuple(range(2, x.ndim)), keepdims=True)
    return centred / E.maximum(local_std, image_mean)
