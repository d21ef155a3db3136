"""Normalisation layers: ``BatchNorm1d/2d/3d``, ``LayerNorm``, ``RMSNorm``, ``GroupNorm``.

Parameter and buffer names match PyTorch's (``weight``, ``bias``,
``running_mean``, ``running_var``, ``num_batches_tracked``), so ``state_dict``
moves between the two.

Example:
    >>> import ember, ember.nn as nn
    >>> bn = nn.BatchNorm1d(3)
    >>> bn(ember.randn(8, 3)).shape, sorted(bn.state_dict())
    ((8, 3), ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight'])
"""
from __future__ import annotations

from ...creation import ones, tensor, zeros
from ...functional.norm import batch_norm, group_norm, layer_norm, rms_norm
from ...autograd.grad_mode import no_grad
from ...ops.checks import float_operand
from ...tensor import Tensor
from .. import init
from ..module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "RMSNorm", "GroupNorm"]


class _BatchNorm(Module):
    """Batch normalisation over dimension 1 (channels); the subclasses fix the input rank.

    In training mode each channel is standardised by the batch's mean and biased
    variance, and the running averages are updated with ``momentum`` (the
    unbiased variance, as in PyTorch); ``momentum=None`` gives a cumulative
    average over all batches seen. In evaluation mode the running averages are
    used. With ``track_running_stats=False`` batch statistics are used in both
    modes and no buffers are kept.
    """

    #: Accepted input ranks, and how they are described in errors.
    ranks: tuple = ()
    layout: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None, device: str = "cpu", *,
                 bias: bool = True) -> None:
        super().__init__()
        self.num_features = int(num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_parameters(self, affine, bias, (self.num_features,), dtype, device)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype="int64", device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        """Reset the running statistics and the affine map to the identity."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def _check_input(self, x: Tensor) -> None:
        name = type(self).__name__
        if x.ndim not in self.ranks:
            raise ValueError(f"{name}: expected input of shape {self.layout}, got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} channels in dimension 1 ({self.layout}), got shape {x.shape}"
            )

    def forward(self, x: Tensor) -> Tensor:
        x = float_operand(type(self).__name__, x)
        self._check_input(x)
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            # Tensor ops, not array code, so that a compiled step replays the count.
            with no_grad():
                self.num_batches_tracked += 1
                if self.momentum is None:  # a cumulative average: the weight is 1 / count
                    momentum = 1.0 / self.num_batches_tracked.astype(self.running_mean.dtype)
        use_batch_stats = self.training or self.running_mean is None
        # In training without tracking, or in eval, the buffers are passed only when they are used.
        track = not self.training or self.track_running_stats
        return batch_norm(x, self.running_mean if track else None, self.running_var if track else None,
                          self.weight, self.bias, use_batch_stats, momentum, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of ``(N, C)`` or ``(N, C, L)`` inputs (statistics over N, and L).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.BatchNorm1d(4)(ember.randn(16, 4, 10)).shape
        (16, 4, 10)
    """

    ranks = (2, 3)
    layout = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of ``(N, C, H, W)`` inputs (statistics per channel over N, H and W).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.BatchNorm2d(3)(ember.randn(2, 3, 8, 8)).shape
        (2, 3, 8, 8)
    """

    ranks = (4,)
    layout = "(N, C, H, W)"


class BatchNorm3d(_BatchNorm):
    """Batch norm of ``(N, C, D, H, W)`` inputs.

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.BatchNorm3d(2)(ember.randn(2, 2, 3, 4, 4)).shape
        (2, 2, 3, 4, 4)
    """

    ranks = (5,)
    layout = "(N, C, D, H, W)"


def _affine_parameters(module: Module, affine: bool, bias: bool, shape: tuple, dtype, device) -> None:
    """Register ``weight`` (ones) and ``bias`` (zeros) of ``shape``, or None placeholders."""
    if affine:
        module.weight = Parameter(ones(shape, dtype=dtype, device=device))
    else:
        module.register_parameter("weight", None)
    if affine and bias:
        module.bias = Parameter(zeros(shape, dtype=dtype, device=device))
    else:
        module.register_parameter("bias", None)


def _shape_tuple(shape) -> tuple:
    return (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)


class LayerNorm(Module):
    """Normalise over the trailing ``normalized_shape`` dimensions of each sample, then scale and shift.

    Attributes:
        weight: ones of ``normalized_shape`` (if ``elementwise_affine``).
        bias: zeros of ``normalized_shape`` (if ``elementwise_affine`` and ``bias``).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.LayerNorm(128)(ember.randn(16, 64, 128)).shape
        (16, 64, 128)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=None, device: str = "cpu") -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_parameters(self, elementwise_affine, bias, self.normalized_shape, dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        x = float_operand("LayerNorm", x)
        if x.shape[max(x.ndim - len(self.normalized_shape), 0):] != self.normalized_shape:
            raise ValueError(f"LayerNorm: expected input whose trailing dimensions are {self.normalized_shape}, "
                             f"got shape {x.shape}")
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """``x / sqrt(mean(x**2) + eps) * weight`` over the trailing ``normalized_shape`` dimensions.

    ``eps=None`` uses the machine epsilon of the input's dtype (PyTorch's default).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.RMSNorm(8)(ember.randn(4, 8)).shape
        (4, 8)
    """

    def __init__(self, normalized_shape, eps: float | None = None, elementwise_affine: bool = True,
                 dtype=None, device: str = "cpu") -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(self.normalized_shape, dtype=dtype, device=device))
        else:
            self.register_parameter("weight", None)

    def forward(self, x: Tensor) -> Tensor:
        x = float_operand("RMSNorm", x)
        if x.shape[max(x.ndim - len(self.normalized_shape), 0):] != self.normalized_shape:
            raise ValueError(f"RMSNorm: expected input whose trailing dimensions are {self.normalized_shape}, "
                             f"got shape {x.shape}")
        return rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Normalise each of ``num_groups`` groups of channels per sample (Wu & He 2018).

    Example:
        >>> import ember, ember.nn as nn
        >>> nn.GroupNorm(2, 4)(ember.randn(3, 4, 5, 5)).shape
        (3, 4, 5, 5)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 dtype=None, device: str = "cpu", *, bias: bool = True) -> None:
        super().__init__()
        if num_groups < 1 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = eps, affine
        _affine_parameters(self, affine, bias, (self.num_channels,), dtype, device)

    def forward(self, x: Tensor) -> Tensor:
        x = float_operand("GroupNorm", x)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input of shape (N, {self.num_channels}, ...), got shape {x.shape}")
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")
