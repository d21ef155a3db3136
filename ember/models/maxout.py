"""The maxout networks of Courbariaux, David & Bengio (2015) trained in limited precision.

"Training deep neural networks with low precision multiplications" (arXiv:1412.7024)
trains Goodfellow et al.'s (2013) maxout networks with every propagation and every
parameter update rounded to a lower-precision format. This file follows the authors'
code (github.com/MatthieuCourbariaux/deep-learning-multipliers, ``layer.py``, ``model.py``):

* :class:`MaxoutMLP` — permutation-invariant MNIST: 784 -> 2 x (240 maxout units x 5
  pieces) -> softmax; input dropout keeps 0.8, hidden dropout 0.5.
* :class:`MaxoutConvNet` — MNIST: three convolutional maxout layers (48 x 2 pieces 8x8,
  pool 4/2; 48 x 2 pieces 8x8 pad 3, pool 4/2; 24 x 4 pieces 5x5 pad 3, pool 2/2) -> softmax.

``precision`` picks where and how values are rounded, each group (a layer's weights, biases,
pre-activations, outputs, and the gradients of each) with its own format, as the authors do:

* ``"float32"`` — nothing is rounded;
* ``"float16"`` — every group rounded to IEEE half (round to nearest, simulated in float32:
  the authors' ``__float2half_rn``; the products are still accumulated in float32);
* ``"fixed"`` — fixed point, sign + 19 bits with 5 integer bits (the table's "20 bits";
  ``python main.py ... FXP 5 19 19``);
* ``"dynamic"`` — dynamic fixed point: propagations on sign + 9 bits, parameters stored on
  sign + 11 bits (the table's "10 / 12 bits"), every group's radix point moved by the
  overflow rule every 100 batches with a tolerated overflow rate of 0.01 %
  (``DFXP 5 9 11 100 0.0001``).

Forward, a layer rounds its weights and bias to the propagation format, its pre-activation
``z`` and its output ``y``; backward, the gradients arriving at ``y`` and ``z`` and the weight
and bias gradients (:class:`~ember.quantization.QuantizePropagation`,
:func:`~ember.quantization.quantize_gradient`). :class:`PaperMomentum` is the authors'
update — classical momentum whose velocity is rounded to the propagation format, then the
max-norm constraint — and :class:`~ember.quantization.QuantizedUpdates` keeps the parameters
at the update precision.

Example:
    >>> import ember
    >>> model = MaxoutMLP(precision="dynamic")
    >>> optimizer = paper_optimizer(model, lr=0.05, momentum=0.5)
    >>> loss = paper_loss(model(ember.rand(4, 784)), ember.tensor([1, 2, 3, 4]))
    >>> loss.backward(); optimizer.step(); model.update_scales()
"""
from __future__ import annotations

import math
from typing import Iterator, Optional, Sequence

import numpy as np

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import Tensor
from ember.autograd import Function, apply
from ember.errors import ArgumentError, ShapeError
from ember.nn.layers.maxout import MaxoutConv2d, MaxoutLinear

from .classify import classification_error
from ember.quantization import DynamicFixedPoint, QuantizePropagation, QuantizedUpdates, fixed_point, quantize_gradient

__all__ = ["PRECISIONS", "PAPER_TEST_ERRORS", "round_to_half", "Float16Rounding", "Float16Format", "FixedFormat", "LimitedPrecision",
           "MaxoutMLP", "MaxoutConvNet", "PaperMomentum", "Float16Updates", "paper_optimizer", "paper_loss",
           "paper_schedule", "set_width", "update_scales", "train_epoch", "calibrate_ranges",
           "error_rate"]

PRECISIONS = ("float32", "float16", "fixed", "dynamic")

#: The paper's Table (test error %, the test error at the best validation epoch).
PAPER_TEST_ERRORS = {"pi": {"float32": 1.05, "float16": 1.10, "fixed": 1.39, "dynamic": 1.28},
                     "conv": {"float32": 0.51, "float16": 0.51, "fixed": 0.57, "dynamic": 0.59}}

# Radix points never move in "fixed" mode: QuantizedUpdates' scale update is made unreachable.
_NEVER = 2 ** 62


def round_to_half(x: np.ndarray) -> np.ndarray:
    """``x.astype(float16).astype(x.dtype)``, computed on float32 bits (several times faster).

    NumPy's float16 cast is slow, and slower still on the tiny values gradients hold. For
    float32: normal halves (``|x| >= 2**-14``) keep 10 mantissa bits, rounded to nearest even
    by integer arithmetic on the bits; subnormal halves are multiples of ``2**-24``; beyond the
    largest half (65504, rounding boundary 65520) the result is infinite, as the cast's.
    """
    if x.dtype != np.float32:
        return x.astype(np.float16).astype(x.dtype)
    bits = x.view(np.uint32)
    rounded = ((bits + np.uint32(0xFFF) + ((bits >> np.uint32(13)) & np.uint32(1)))
               & np.uint32(0xFFFFE000)).view(np.float32)
    magnitude = np.abs(x)
    out = np.where(magnitude < 2.0 ** -14, np.round(x * np.float32(2.0 ** 24)) * np.float32(2.0 ** -24), rounded)
    out = np.where(magnitude >= 65520.0, np.copysign(np.float32(np.inf), x), out)
    return np.where(np.isnan(x), x, out).astype(np.float32, copy=False)


class _RoundToHalf(Function):
    """Round to float16 and back to the input's dtype; the gradient passes straight through."""

    name = "round_to_half"

    @staticmethod
    def forward(ctx, x):
        return round_to_half(x)

    @staticmethod
    def vjp(ctx, g):
        return g

    jvp = vjp


def Float16Rounding(x: Tensor) -> Tensor:
    """``x`` rounded to the nearest float16, kept in ``x``'s dtype, with a straight-through gradient.

    Example:
        >>> import ember
        >>> Float16Rounding(ember.tensor([1.0 + 2 ** -12])).tolist()
        [1.0]
    """
    return apply(_RoundToHalf, (x,), {})


class Float16Format:
    """The float16 counterpart of :class:`~ember.quantization.DynamicFixedPoint` (no scale to adapt)."""

    def quantize(self, x: Tensor) -> Tensor:
        """``x`` rounded to float16 (straight-through gradient)."""
        return Float16Rounding(x)

    def update(self) -> int:
        """Nothing to adapt: returns 0."""
        return 0

    def __repr__(self) -> str:
        return "Float16Format()"


class FixedFormat:
    """A fixed-point format whose radix point never moves (``"fixed"`` mode): rounds, counts nothing."""

    def __init__(self, integer_bits: int, width: int) -> None:
        self.integer_bits, self.width = int(integer_bits), int(width)

    @property
    def fraction_bits(self) -> int:
        """Bits below the radix point: ``width - integer_bits``."""
        return self.width - self.integer_bits

    def quantize(self, x: Tensor) -> Tensor:
        """``x`` in the format (straight-through gradient)."""
        return fixed_point(x, self.integer_bits, self.fraction_bits)

    def update(self) -> int:
        """The radix point is fixed: returns 0."""
        return 0

    def __repr__(self) -> str:
        return f"FixedFormat(integer_bits={self.integer_bits}, width={self.width})"


class LimitedPrecision:
    """The formats of one precision setting of the paper.

    Args:
        mode: one of :data:`PRECISIONS`.
        integer_bits: the (initial) radix point of every fixed-point format (the paper: 5).
        fixed_bits: magnitude bits of ``"fixed"`` (sign not counted; the paper: 19).
        propagation_bits, update_bits: magnitude bits of ``"dynamic"`` propagations and stored
            parameters (the paper: 9 and 11).
        max_overflow: overflow rate ``"dynamic"`` tolerates (the paper: 1e-4).
        update_every: batches between radix point updates of ``"dynamic"`` (the paper: 100).
    """

    def __init__(self, mode: str = "float32", integer_bits: int = 5, fixed_bits: int = 19,
                 propagation_bits: int = 9, update_bits: int = 11, max_overflow: float = 1e-4,
                 update_every: int = 100) -> None:
        if mode not in PRECISIONS:
            raise ArgumentError(f"LimitedPrecision: precision must be one of {PRECISIONS}, got {mode!r}")
        self.mode, self.integer_bits, self.fixed_bits = mode, int(integer_bits), int(fixed_bits)
        self.propagation_bits, self.update_bits = int(propagation_bits), int(update_bits)
        self.max_overflow, self.update_every = float(max_overflow), int(update_every)

    def propagation_format(self):
        """A fresh format for one group of propagated values (None for float32)."""
        if self.mode == "float16":
            return Float16Format()
        if self.mode == "fixed":
            return FixedFormat(self.integer_bits, self.fixed_bits)
        if self.mode == "dynamic":
            return DynamicFixedPoint(self.propagation_bits, self.integer_bits, self.max_overflow)
        return None

    @property
    def rounds_weights_for_propagation(self) -> bool:
        """Whether the stored parameters need rounding again to propagate.

        Only ``"dynamic"`` stores them (12 bits) wider than it propagates (10 bits); in the other
        modes both formats are one, rounding is idempotent, and skipping it saves time.
        """
        return self.mode == "dynamic"

    def wrap_updates(self, optimizer):
        """``optimizer`` wrapped so that the parameters stay at the update precision (rounded now too)."""
        if self.mode == "float16":
            wrapped = Float16Updates(optimizer)
        elif self.mode == "fixed":
            wrapped = QuantizedUpdates(optimizer, width=self.fixed_bits, integer_bits=self.integer_bits,
                                       update_every=_NEVER)
        elif self.mode == "dynamic":
            wrapped = QuantizedUpdates(optimizer, width=self.update_bits, integer_bits=self.integer_bits,
                                       max_overflow=self.max_overflow, update_every=self.update_every)
        else:
            return optimizer
        _round_stored(wrapped)
        return wrapped

    def __repr__(self) -> str:
        return f"LimitedPrecision({self.mode!r})"


def _round_stored(wrapped) -> None:
    """Put the parameters on their storage grid before the first step (later steps keep them there)."""
    with ember.no_grad():
        for group in wrapped.param_groups:
            for p in group["params"]:
                p.copy_(wrapped.format_of(p).quantize(p) if isinstance(wrapped, QuantizedUpdates)
                        else Float16Rounding(p))


def _quiet(fmt, x: Tensor) -> Tensor:
    """``x`` in ``fmt`` without counting overflows (evaluation must not steer the radix points)."""
    if fmt is None:
        return x
    if isinstance(fmt, DynamicFixedPoint):
        return fixed_point(x, fmt.integer_bits, fmt.fraction_bits, ste=fmt.ste)
    return fmt.quantize(x)


class _PaperLayer(nn.Module):
    """What every layer of the authors' networks shares: dropout on its input, rounding points.

    ``keep`` is the probability of keeping an input during training (no rescaling, as the
    authors' code); at evaluation the weights and bias are multiplied by ``scale`` instead.
    """

    def __init__(self, precision: LimitedPrecision, keep: float, scale: float, max_norm: Optional[float]) -> None:
        super().__init__()
        self.keep, self.scale, self.max_norm = float(keep), float(scale), max_norm
        self.rounds_weights = precision.rounds_weights_for_propagation
        fmt = precision.propagation_format
        self.weight_format, self.bias_format = fmt(), fmt()
        self.weight_grad_format, self.bias_grad_format = fmt(), fmt()
        # z: the pre-activation and its gradient; y: the output and the gradient arriving at it.
        self.z_rounding = QuantizePropagation(fmt(), fmt())
        self.y_rounding = QuantizePropagation(fmt(), fmt())

    def formats(self) -> Iterator:
        """Every propagation format of the layer (None entries skipped)."""
        for fmt in (self.weight_format, self.bias_format, self.weight_grad_format, self.bias_grad_format,
                    self.z_rounding.activation, self.z_rounding.gradient,
                    self.y_rounding.activation, self.y_rounding.gradient):
            if fmt is not None:
                yield fmt

    def _round(self, rounding: QuantizePropagation, x: Tensor) -> Tensor:
        return rounding(x) if self.training else _quiet(rounding.activation, x)

    def _parameters_for_propagation(self, weight: Tensor, bias: Tensor) -> tuple[Tensor, Tensor]:
        if not self.training:
            return _quiet(self.weight_format, weight) * self.scale, _quiet(self.bias_format, bias) * self.scale
        if self.weight_format is not None:
            if self.rounds_weights:
                weight, bias = self.weight_format.quantize(weight), self.bias_format.quantize(bias)
            weight = quantize_gradient(weight, self.weight_grad_format)
            bias = quantize_gradient(bias, self.bias_grad_format)
        return weight, bias

    def _dropout(self, x: Tensor) -> Tensor:
        if not self.training or self.keep >= 1.0:
            return x
        return x * (ember.rand_like(x) < self.keep).float()


class _PaperMaxoutDense(_PaperLayer):
    def __init__(self, in_features: int, units: int, pieces: int, precision: LimitedPrecision, keep: float,
                 scale: float, max_norm: float) -> None:
        super().__init__(precision, keep, scale, max_norm)
        self.maxout = MaxoutLinear(in_features, units, pieces)
        bound = math.sqrt(6.0 / (in_features + units * pieces))
        nn.init.uniform_(self.maxout.linear.weight, -bound, bound)
        nn.init.zeros_(self.maxout.linear.bias)

    def forward(self, x: Tensor) -> Tensor:
        weight, bias = self._parameters_for_propagation(self.maxout.linear.weight, self.maxout.linear.bias)
        z = self._round(self.z_rounding, F.linear(self._dropout(x), weight, bias))
        return self._round(self.y_rounding, F.maxout(z, self.maxout.pieces, dim=-1))


class _PaperMaxoutConv(_PaperLayer):
    """Convolution (no bias), max-pool (covering partial windows, as cuda-convnet), bias, maxout."""

    def __init__(self, in_channels: int, channels: int, pieces: int, kernel: int, padding: int, pool: int,
                 pool_stride: int, precision: LimitedPrecision, keep: float, scale: float, max_norm: float) -> None:
        super().__init__(precision, keep, scale, max_norm)
        self.maxout = MaxoutConv2d(in_channels, channels, pieces, kernel, padding=padding)
        self.pool, self.pool_stride = pool, pool_stride
        fan_in = in_channels * kernel * kernel
        fan_out = channels * kernel * kernel / (pool * pool)
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        nn.init.uniform_(self.maxout.conv.weight, -bound, bound)
        nn.init.zeros_(self.maxout.conv.bias)

    def forward(self, x: Tensor) -> Tensor:
        conv = self.maxout.conv
        weight, bias = self._parameters_for_propagation(conv.weight, conv.bias)
        z = self._round(self.z_rounding, F.conv2d(self._dropout(x), weight, padding=conv.padding))
        pooled = F.max_pool2d(z, self.pool, self.pool_stride, ceil_mode=True)
        # The authors round the biased map u with z's format (range) and its gradient with z's too.
        u = self._round(self.z_rounding, pooled + bias.reshape(1, -1, 1, 1))
        return self._round(self.y_rounding, F.maxout(u, self.maxout.pieces, dim=1))


class _PaperSoftmax(_PaperLayer):
    """The output layer: zero-initialised logits (the softmax itself is in :func:`paper_loss`)."""

    def __init__(self, in_features: int, classes: int, precision: LimitedPrecision, keep: float, scale: float,
                 max_norm: float) -> None:
        super().__init__(precision, keep, scale, max_norm)
        self.linear = nn.Linear(in_features, classes)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, x: Tensor) -> Tensor:
        weight, bias = self._parameters_for_propagation(self.linear.weight, self.linear.bias)
        z = F.linear(self._dropout(x), weight, bias)
        if not self.training:
            return _quiet(self.z_rounding.activation, z)
        # Backward the gradient at the logits is rounded as the authors' dE/dy, then as dE/dz.
        return quantize_gradient(self.z_rounding(z), self.y_rounding.gradient) \
            if self.y_rounding.gradient is not None else self.z_rounding(z)


class _PaperNetwork(nn.Module):
    """A stack of the authors' layers with the bookkeeping of its formats."""

    layers: nn.ModuleList

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x

    def formats(self) -> Iterator:
        """Every propagation format of the network."""
        for layer in self.layers:
            yield from layer.formats()

    def update_scales(self) -> None:
        """Move every propagation radix point by the overflow rule (only ``"dynamic"`` adapts)."""
        if self.precision.mode == "dynamic":
            for fmt in self.formats():
                fmt.update()


class MaxoutMLP(_PaperNetwork):
    """The paper's permutation-invariant MNIST network: ``layers`` maxout layers and a softmax.

    Args:
        precision: one of :data:`PRECISIONS`, or a :class:`LimitedPrecision`.
        in_features, hidden, pieces, layers, classes: the sizes (the paper: 784, 240, 5, 2, 10).

    Inputs are ``(N, in_features)`` (or images, flattened); outputs are logits ``(N, classes)``.
    """

    def __init__(self, precision="float32", in_features: int = 784, hidden: int = 240, pieces: int = 5,
                 layers: int = 2, classes: int = 10) -> None:
        super().__init__()
        self.precision = precision if isinstance(precision, LimitedPrecision) else LimitedPrecision(precision)
        self.in_features = int(in_features)
        stack, width = [], self.in_features
        for k in range(layers):
            keep, scale = (0.8, 1.0) if k == 0 else (0.5, 0.5)
            stack.append(_PaperMaxoutDense(width, hidden, pieces, self.precision, keep, scale, 1.9365))
            width = hidden
        keep, scale = (0.8, 1.0) if layers == 0 else (0.5, 0.5)
        stack.append(_PaperSoftmax(width, classes, self.precision, keep, scale, 1.9365))
        self.layers = nn.ModuleList(stack)

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], -1)
        if x.shape[1] != self.in_features:
            raise ShapeError(f"MaxoutMLP: expected inputs with {self.in_features} features, got shape "
                             f"{tuple(x.shape)}")
        return super().forward(x)


class MaxoutConvNet(_PaperNetwork):
    """The paper's MNIST network: three convolutional maxout layers and a softmax.

    Inputs are ``(N, 1, 28, 28)``; outputs are logits ``(N, 10)``. Sizes as the authors' ``MNIST_model``:
    48 x 2 pieces of 8x8 (pool 4, stride 2) -> 48 x 10 x 10; 48 x 2 of 8x8, pad 3 (pool 4/2) ->
    48 x 4 x 4; 24 x 4 of 5x5, pad 3 (pool 2/2) -> 24 x 3 x 3; softmax.
    """

    def __init__(self, precision="float32", classes: int = 10) -> None:
        super().__init__()
        self.precision = precision if isinstance(precision, LimitedPrecision) else LimitedPrecision(precision)
        p = self.precision
        self.layers = nn.ModuleList([
            _PaperMaxoutConv(1, 48, 2, 8, 0, 4, 2, p, keep=0.8, scale=1.0, max_norm=0.9),
            _PaperMaxoutConv(48, 48, 2, 8, 3, 4, 2, p, keep=0.5, scale=0.5, max_norm=1.9365),
            _PaperMaxoutConv(48, 24, 4, 5, 3, 2, 2, p, keep=0.5, scale=0.5, max_norm=1.9365),
        ])
        self.softmax = _PaperSoftmax(24 * 3 * 3, classes, p, keep=0.5, scale=0.5, max_norm=1.9365)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ShapeError(f"MaxoutConvNet: expected images (N, 1, 28, 28), got shape {tuple(x.shape)}")
        x = super().forward(x)
        return self.softmax(x.reshape(x.shape[0], -1))

    def formats(self) -> Iterator:
        yield from super().formats()
        yield from self.softmax.formats()


class PaperMomentum:
    """The authors' update: ``v <- round(M v - lr g)``, ``p <- p + v``, then the max-norm constraint.

    Each weight's norm is capped at its group's ``max_norm``: per output unit for dense layers
    (each row of ``(out, in)``), and — as the authors' code does (``axis=0``) — across the output
    channels for each input position of a convolution kernel. ``velocity_format`` makes one
    rounding format per parameter for its velocity (None: no rounding).

    Args:
        param_groups: dicts with ``"params"`` and ``"max_norm"`` (None for biases).
        lr, momentum: the starting values (schedulers change ``group["lr"]`` / ``group["momentum"]``).
        velocity_format: a callable returning a fresh format, or None.
    """

    def __init__(self, param_groups: Sequence[dict], lr: float, momentum: float, velocity_format=None) -> None:
        self.param_groups = [dict(group, lr=lr, momentum=momentum) for group in param_groups]
        self.velocity_formats = {id(p): velocity_format() if velocity_format else None
                                 for g in self.param_groups for p in g["params"]}
        self.reset_state()

    def reset_state(self) -> None:
        """Zero every velocity."""
        self.velocity = {id(p): ember.zeros_like(p) for g in self.param_groups for p in g["params"]}

    def formats(self) -> Iterator:
        """The velocities' rounding formats."""
        return (f for f in self.velocity_formats.values() if f is not None)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every gradient."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self, closure=None):
        """One update of every parameter that has a gradient."""
        with ember.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    v = group["momentum"] * self.velocity[id(p)] - group["lr"] * p.grad
                    fmt = self.velocity_formats[id(p)]
                    v = fmt.quantize(v) if fmt is not None else v
                    self.velocity[id(p)] = v
                    p.add_(v)
                    if group["max_norm"] is not None:
                        dim = 1 if p.ndim == 2 else 0
                        norms = (p * p).sum(dim=dim, keepdim=True).sqrt()
                        p.mul_(norms.clamp(max=group["max_norm"]) / (norms + 1e-7))
        return None

    def state_dict(self) -> dict:
        """The learning rates and momenta of the groups."""
        return {"lr": [g["lr"] for g in self.param_groups], "momentum": [g["momentum"] for g in self.param_groups]}


class Float16Updates:
    """Wrap an optimizer so that each step leaves every parameter rounded to float16."""

    def __init__(self, optimizer) -> None:
        self.optimizer = optimizer

    @property
    def param_groups(self):
        """The wrapped optimizer's groups."""
        return self.optimizer.param_groups

    def zero_grad(self, set_to_none: bool = True) -> None:
        """As the wrapped optimizer's."""
        self.optimizer.zero_grad(set_to_none)

    def step(self, closure=None):
        """The wrapped step, then the parameters rounded to float16."""
        self.optimizer.step()
        with ember.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    p.copy_(Float16Rounding(p))

    def state_dict(self) -> dict:
        """The wrapped optimizer's state."""
        return self.optimizer.state_dict()


def paper_optimizer(model: _PaperNetwork, lr: float, momentum: float):
    """:class:`PaperMomentum` over ``model``'s layers, wrapped to store parameters at the model's precision."""
    layers = list(model.layers) + ([model.softmax] if hasattr(model, "softmax") else [])
    groups = []
    for layer in layers:
        weights = [p for name, p in layer.named_parameters() if name.endswith("weight")]
        biases = [p for name, p in layer.named_parameters() if name.endswith("bias")]
        groups += [{"params": weights, "max_norm": layer.max_norm}, {"params": biases, "max_norm": None}]
    inner = PaperMomentum(groups, lr, momentum, velocity_format=model.precision.propagation_format)
    return model.precision.wrap_updates(inner)


def paper_loss(logits: Tensor, targets: Tensor) -> Tensor:
    """The authors' cost: cross-entropy summed over the batch and divided by the number of classes.

    (Their backward starts from ``(softmax - onehot) / classes``, with no batch mean.)
    """
    return F.cross_entropy(logits, targets, reduction="sum") / logits.shape[-1]


def paper_schedule(epoch: int, epochs: int, lr_start: float) -> tuple[float, float]:
    """``(lr, momentum)`` for ``epoch`` (0-based) of ``epochs``: the authors' linear ramps.

    The rate falls linearly from ``lr_start`` to ``lr_start / 10`` over the first half of the
    run; the momentum rises from 0.5 to 0.7 over the first quarter.
    """
    lr_sat, m_sat = max(epochs // 2, 1), max(epochs // 4, 1)
    lr = lr_start + (lr_start / 10 - lr_start) * min(epoch, lr_sat) / lr_sat
    momentum = 0.5 + 0.2 * min(epoch, m_sat) / m_sat
    return lr, momentum


def _optimizer_formats(optimizer) -> Iterator:
    inner = getattr(optimizer, "optimizer", optimizer)
    yield from inner.formats()
    if isinstance(optimizer, QuantizedUpdates):
        yield from optimizer.formats.values()


def set_width(model: _PaperNetwork, optimizer, width: Optional[int]) -> dict:
    """Give every fixed-point format ``width`` magnitude bits; return the old widths to restore.

    With ``width=None`` nothing changes. Used for the authors' range initialisation (train at
    31 bits to find the radix points, then start again at the target precision).
    """
    old = {}
    for fmt in list(model.formats()) + list(_optimizer_formats(optimizer)):
        if isinstance(fmt, DynamicFixedPoint):
            old[id(fmt)] = (fmt, fmt.width)
            if width is not None:
                fmt.width = int(width)
    return old


def update_scales(model: _PaperNetwork, optimizer) -> None:
    """Move the radix points of the propagations and of the velocities (``"dynamic"`` only).

    The stored parameters' own formats move inside :class:`~ember.quantization.QuantizedUpdates`.
    """
    if model.precision.mode == "dynamic":
        model.update_scales()
        for fmt in getattr(optimizer, "optimizer", optimizer).formats():
            fmt.update()


def train_epoch(model: _PaperNetwork, optimizer, images: Tensor, labels: Tensor, batch_size: int,
                generator: Optional[np.random.Generator] = None) -> float:
    """One epoch of the authors' training in shuffled batches; returns the mean :func:`paper_loss` per batch.

    In ``"dynamic"`` mode the radix points move every ``precision.update_every`` batches
    (:func:`update_scales`; the parameters' own, inside ``QuantizedUpdates``, on the same schedule).
    """
    model.train()
    order = (generator or np.random.default_rng()).permutation(images.shape[0])
    every, total, batches = model.precision.update_every, 0.0, 0
    for start in range(0, images.shape[0] - batch_size + 1, batch_size):
        index = ember.tensor(order[start:start + batch_size])
        optimizer.zero_grad()
        loss = paper_loss(model(images[index]), labels[index])
        loss.backward()
        optimizer.step()
        batches += 1
        if batches % every == 0:
            update_scales(model, optimizer)
        total += float(loss.item())
    return total / max(batches, 1)


def calibrate_ranges(model: _PaperNetwork, optimizer, images: Tensor, labels: Tensor, batch_size: int,
                     epochs: int = 2, width: int = 31, generator: Optional[np.random.Generator] = None) -> None:
    """The authors' range initialisation: train ``epochs`` at ``width`` bits, keep only the radix points.

    Every fixed-point format gets ``width`` magnitude bits while the radix points follow the
    overflows; then the widths, the parameters and the velocities are put back as they were.
    Without it, dynamic fixed point starting at 5 integer bits rounds the first gradients to zero.
    """
    saved = {k: v.clone() for k, v in model.state_dict().items()}
    old = set_width(model, optimizer, width)
    for _ in range(epochs):
        train_epoch(model, optimizer, images, labels, batch_size, generator)
    for fmt, bits in old.values():
        fmt.width = bits
        if hasattr(fmt, "reset_statistics"):
            fmt.reset_statistics()
    model.load_state_dict(saved)
    getattr(optimizer, "optimizer", optimizer).reset_state()


def error_rate(model: _PaperNetwork, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """Misclassified fraction (in %) of ``images``, in evaluation mode (weight scaling, no dropout)."""
    return classification_error(model, images, labels, batch_size)
