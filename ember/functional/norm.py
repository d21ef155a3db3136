"""Normalisation functions: batch, layer, RMS and group norm, and ``normalize`` (unit p-norm).

Batch, layer and group norm standardise with the fused :func:`ember.ops.nn.normalize`
primitive (one node whose backward is three passes instead of the composed
form's ten), then apply the optional per-channel affine map.

Example:
    >>> import ember, ember.functional as F
    >>> F.layer_norm(ember.tensor([[1.0, 3.0]]), (2,), eps=0.0).tolist()
    [[-1.0, 1.0]]
"""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..ops import nn as N
from ..ops.checks import float_operand
from ..ops.movement import reshape
from ..tensor import Tensor
from ._checks import check_dtype
from ..errors import ArgumentError

__all__ = ["batch_norm", "layer_norm", "rms_norm", "group_norm", "normalize"]


def _channel_view(param: Tensor, ndim: int) -> Tensor:
    """A ``(C,)`` parameter shaped to broadcast along dimension 1 of an ``ndim`` input."""
    return reshape(param, (1, param.shape[0]) + (1,) * (ndim - 2)) if ndim > 2 else param


def _affine(x: Tensor, weight: Tensor | None, bias: Tensor | None, view) -> Tensor:
    if weight is not None:
        x = x * view(weight)
    if bias is not None:
        x = x + view(bias)
    return x


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: "float | Tensor" = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dimension 1) by batch statistics or running averages.

    In training (or when no running statistics are given) the batch mean and
    biased variance over every dimension but 1 normalise the input, and the
    running averages, when given, are updated in place:
    ``running = (1 - momentum) * running + momentum * batch`` with the
    *unbiased* batch variance, as in PyTorch. Otherwise the running averages are
    used.

    Args:
        input: ``(N, C)``, ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)``.
        running_mean, running_var: ``(C,)`` buffers or None.
        weight, bias: ``(C,)`` affine parameters or None.
        training: use (and record) batch statistics.
        momentum: weight of the newest batch in the running averages.
        eps: added to the variance.

    Example:
        >>> import ember, ember.functional as F
        >>> x = ember.tensor([[1.0], [3.0]])
        >>> F.batch_norm(x, None, None, training=True, eps=0.0).tolist()
        [[-1.0], [1.0]]
    """
    name = "batch_norm"
    input = float_operand(name, input)
    if input.ndim < 2:
        raise ArgumentError(f"{name}: expected input of shape (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    for what, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.shape != (channels,):
            raise ArgumentError(f"{name}: {what} must have shape ({channels},) for input {input.shape}, got {t.shape}")
    if weight is not None:
        check_dtype(name, input, weight)
    axes = (0,) + tuple(range(2, input.ndim))
    view = lambda p: _channel_view(p, input.ndim)  # noqa: E731
    if training or running_mean is None or running_var is None:
        count = input.numel() // channels
        if training and count <= 1:
            raise ArgumentError(f"{name}: expected more than 1 value per channel when "
                                f"training, got input {input.shape}")
        mean, var = N.moments(input.detach(), axes)
        if training and running_mean is not None and running_var is not None:
            _update_running(running_mean, mean, momentum)
            _update_running(running_var, var * (count / max(count - 1, 1)), momentum)
        return N.normalize(input, axes, eps, stats=(mean._data, var._data),
                           weight=None if weight is None else view(weight),
                           bias=None if bias is None else view(bias))
    # Evaluation: a fixed per-channel affine map, y = x * scale + shift, computed with
    # ops (not array code) so that a compiled function reads the current running averages.
    with no_grad():
        inverse_std = (running_var + eps) ** -0.5
        scale = inverse_std.astype(input.dtype)
        shift = (-running_mean * inverse_std).astype(input.dtype)
    if weight is not None:
        scale, shift = scale * weight, shift * weight
    if bias is not None:
        shift = shift + bias
    return input * view(scale) + view(shift)


def _update_running(buffer: Tensor, batch_value: Tensor, momentum: "float | Tensor") -> None:
    """``buffer = (1 - momentum) * buffer + momentum * batch`` in place (no graph)."""
    with no_grad():
        buffer *= 1.0 - momentum
        buffer += (batch_value.reshape(buffer.shape) * momentum).astype(buffer.dtype)


def _trailing_axes(name: str, input: Tensor, normalized_shape) -> tuple:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape):] != shape or input.ndim < len(shape):
        raise ArgumentError(f"{name}: expected input whose trailing dimensions are {shape}, got shape {input.shape}")
    return tuple(range(input.ndim - len(shape), input.ndim)), shape


def _check_param(name: str, what: str, param: Tensor | None, shape: tuple, input: Tensor) -> None:
    if param is None:
        return
    if param.shape != shape:
        raise ArgumentError(f"{name}: {what} must have shape {shape}, got {param.shape}")
    check_dtype(name, input, param)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale and shift.

    Example:
        >>> import ember, ember.functional as F
        >>> F.layer_norm(ember.tensor([[2.0, 2.0]]), 2).tolist()
        [[0.0, 0.0]]
    """
    name = "layer_norm"
    input = float_operand(name, input)
    axes, shape = _trailing_axes(name, input, normalized_shape)
    _check_param(name, "weight", weight, shape, input)
    _check_param(name, "bias", bias, shape, input)
    return N.normalize(input, axes, eps, weight=weight, bias=bias)


def rms_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """``x / sqrt(mean(x**2) + eps) * weight`` over the trailing ``normalized_shape`` dimensions.

    ``eps`` defaults to the machine epsilon of the input's dtype, as in PyTorch.

    Example:
        >>> import ember, ember.functional as F
        >>> [round(v, 4) for v in F.rms_norm(ember.tensor([[3.0, 4.0]]), 2).tolist()[0]]
        [0.8485, 1.1314]
    """
    from ..backend import numpy_module

    name = "rms_norm"
    input = float_operand(name, input)
    axes, shape = _trailing_axes(name, input, normalized_shape)
    _check_param(name, "weight", weight, shape, input)
    if eps is None:
        eps = float(numpy_module().finfo(input.dtype).eps)
    out = input * ((input * input).mean(axis=axes, keepdims=True) + eps) ** -0.5
    return out if weight is None else out * weight


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise each group of ``C / num_groups`` channels (with all their positions) per sample.

    Args:
        input: ``(N, C, ...)``.
        num_groups: divides ``C``.
        weight, bias: per-channel ``(C,)`` affine parameters or None.

    Example:
        >>> import ember, ember.functional as F
        >>> F.group_norm(ember.tensor([[1.0, 3.0]]), 1, eps=0.0).tolist()
        [[-1.0, 1.0]]
    """
    name = "group_norm"
    input = float_operand(name, input)
    if input.ndim < 2:
        raise ArgumentError(f"{name}: expected input of shape (N, C, ...), got {input.shape}")
    channels = input.shape[1]
    if num_groups < 1 or channels % num_groups:
        raise ArgumentError(f"{name}: {channels} channels (input {input.shape}) "
                            f"cannot be split into {num_groups} groups")
    _check_param(name, "weight", weight, (channels,), input)
    _check_param(name, "bias", bias, (channels,), input)
    grouped = reshape(input, (input.shape[0], num_groups, -1))
    out = reshape(N.normalize(grouped, 2, eps), input.shape)
    return _affine(out, weight, bias, lambda p: _channel_view(p, input.ndim))


def normalize(input: Tensor, p: float = 2.0, dim=1, eps: float = 1e-12, out=None) -> Tensor:
    """Divide by the p-norm over ``dim``: ``x / max(||x||_p, eps)`` (``F.normalize``).

    Args:
        input: any floating-point tensor.
        p: the norm's exponent (``inf`` and ``-inf`` allowed).
        dim: the dimension (or tuple of dimensions) normalised over.
        eps: lower bound of the divisor, so that zero vectors stay zero.
        out: not supported (must be None).

    Example:
        >>> import ember, ember.functional as F
        >>> F.normalize(ember.tensor([[0.0, 2.0], [0.0, 0.0]])).tolist()
        [[0.0, 1.0], [0.0, 0.0]]
    """
    from ..ops import elementwise as E
    from ..ops import reduce as R

    if out is not None:
        raise TypeError("normalize: out= is not supported; use the returned tensor")
    x = float_operand("normalize", input)
    if x.ndim == 0:
        raise ArgumentError(f"normalize: expected a tensor with at least one dimension, got shape {tuple(x.shape)}")
    return x / E.clamp(R.norm(x, float(p), dim, keepdim=True), eps)
