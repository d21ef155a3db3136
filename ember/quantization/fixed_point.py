"""Fixed-point fake quantization with a straight-through gradient.

A fixed-point number with ``integer_bits`` ``i`` and ``fraction_bits`` ``f`` is an
integer ``k`` times ``2**-f`` with ``|k| <= 2**(i + f) - 1``: a sign plus ``i + f``
magnitude bits, saturated symmetrically, as in the code of Courbariaux, David & Bengio
(2015, arXiv:1412.7024), where ``NOB = i + f`` and ``NOIB = i``. Its largest value is
``2**i - 2**-f``; :func:`fixed_point` rounds to the nearest multiple of ``2**-f`` (ties
to even, as ``torch.round``) and saturates at that bound.

The quantization is simulated in floating point (the result keeps the input's dtype).
Its gradient is straight-through: the incoming gradient passes unchanged
(``ste="identity"``), or only where the input was inside the range (``ste="clipped"``).

Example:
    >>> import ember
    >>> from ember.quantization import fixed_point
    >>> fixed_point(ember.tensor([0.30, -0.30, 2.5, -9.0]), integer_bits=1, fraction_bits=2).tolist()
    [0.25, -0.25, 1.75, -1.75]
"""
from __future__ import annotations

from ..autograd.function import Function, apply
from ..backend import array_module
from ..errors import ArgumentError
from ..ops.checks import float_operand
from ..tensor import Tensor, constant

__all__ = ["fixed_point", "fixed_point_max", "overflow_rate", "FixedPoint"]

STE_MODES = ("identity", "clipped")


def fixed_point_max(integer_bits: int, fraction_bits: int) -> float:
    """The largest magnitude of the format: ``2**integer_bits - 2**-fraction_bits``."""
    return float(2.0 ** integer_bits - 2.0 ** -fraction_bits)


class FixedPoint(Function):
    """Round to a multiple of ``2**-fraction_bits``, saturate at :func:`fixed_point_max`; STE gradient."""

    name = "fixed_point"

    @staticmethod
    def forward(ctx, x, integer_bits, fraction_bits, ste):
        xp = array_module(x)
        scale = 2.0 ** fraction_bits
        limit = 2.0 ** (integer_bits + fraction_bits) - 1
        q = (xp.clip(xp.round(x * scale), -limit, limit) / scale).astype(x.dtype)
        if ctx is not None and ste == "clipped":
            ctx.stash = (xp.abs(x) <= limit / scale).astype(x.dtype)
        return q

    @staticmethod
    def vjp(ctx, g):
        return g if ctx.params["ste"] == "identity" else g * constant(ctx.stash)

    jvp = vjp


def _check_bits(name: str, integer_bits: int, fraction_bits: int) -> None:
    if int(integer_bits) != integer_bits or int(fraction_bits) != fraction_bits:
        raise ArgumentError(f"{name}: integer_bits and fraction_bits must be integers, "
                            f"got {integer_bits!r} and {fraction_bits!r}")
    if integer_bits + fraction_bits < 1:
        raise ArgumentError(f"{name}: the format needs at least one magnitude bit, got integer_bits="
                            f"{integer_bits} + fraction_bits={fraction_bits} = {integer_bits + fraction_bits}")


def fixed_point(x: Tensor, integer_bits: int, fraction_bits: int, ste: str = "identity") -> Tensor:
    """``x`` rounded to the fixed-point format ``(integer_bits, fraction_bits)``, saturating.

    Args:
        x: a float tensor.
        integer_bits: bits above the radix point (may be negative or exceed the width: the
            format is a scaled integer).
        fraction_bits: bits below the radix point (the step is ``2**-fraction_bits``).
        ste: straight-through gradient, ``"identity"`` (everywhere) or ``"clipped"`` (zero
            where ``|x|`` exceeds the range).

    Example:
        >>> import ember
        >>> from ember.quantization import fixed_point
        >>> x = ember.tensor([0.2, 5.0], requires_grad=True)
        >>> fixed_point(x, 2, 3, ste="clipped").sum().backward(); x.grad.tolist()
        [1.0, 0.0]
    """
    _check_bits("fixed_point", integer_bits, fraction_bits)
    if ste not in STE_MODES:
        raise ArgumentError(f"fixed_point: ste must be one of {STE_MODES}, got {ste!r}")
    x = float_operand("fixed_point", x)
    return apply(FixedPoint, (x,), {"integer_bits": int(integer_bits), "fraction_bits": int(fraction_bits),
                                    "ste": ste})


def overflow_rate(x, integer_bits: int, fraction_bits: int) -> float:
    """The fraction of elements of ``x`` whose magnitude reaches the format's largest value.

    This is the authors' overflow test (``|x| >= 2**i - 2**-f``): a value at the bound
    counts, since it may have been saturated.
    """
    _check_bits("overflow_rate", integer_bits, fraction_bits)
    data = x._data if isinstance(x, Tensor) else x
    xp = array_module(data)
    if data.size == 0:
        return 0.0
    return float((xp.abs(data) >= fixed_point_max(integer_bits, fraction_bits)).mean())
