"""Dynamic fixed point: a fixed bit width whose radix point (scaling factor) follows the data.

Courbariaux, David & Bengio (2015, arXiv:1412.7024, section 5) give each group of
variables (a layer's weights, its activations, their gradients ...) a shared
scaling factor, updated from overflow statistics. :class:`DynamicFixedPoint` keeps
one such factor as ``integer_bits`` (``fraction_bits = width - integer_bits``) and
counts, over the tensors it quantizes, the elements that overflow the current range
and those that would overflow with one integer bit fewer. :meth:`~DynamicFixedPoint.update`
then applies the rule of the authors' code (``new_range`` in their ``format.py``):

* overflow rate above ``max_overflow`` -> one more integer bit (the range doubles);
* else, if the rate with one integer bit fewer would not exceed ``max_overflow``
  -> one integer bit fewer (twice the resolution);
* else keep the format.

The statistics then start afresh. The paper updates every 10,000 examples; here
``update_every`` quantize calls (or explicit :meth:`update` calls) set the pace.

Example:
    >>> import ember
    >>> from ember.quantization import DynamicFixedPoint
    >>> fmt = DynamicFixedPoint(width=8, integer_bits=0, max_overflow=0.01)
    >>> _ = fmt.quantize(ember.tensor([3.0, 0.1, -0.2, 0.05]))   # 3.0 overflows [-1, 1)
    >>> fmt.update(), fmt.integer_bits, fmt.fraction_bits
    (1, 1, 7)
"""
from __future__ import annotations

from typing import Optional

from ..backend import array_module
from ..errors import ArgumentError
from ..tensor import Tensor
from .fixed_point import STE_MODES, fixed_point, fixed_point_max

__all__ = ["DynamicFixedPoint"]


class DynamicFixedPoint:
    """A ``width``-bit (plus sign) fixed-point format whose ``integer_bits`` adapt to overflows.

    Args:
        width: magnitude bits (``integer_bits + fraction_bits``); the paper trains with 10 for
            propagations and 12 for parameter updates.
        integer_bits: the initial radix point position.
        max_overflow: the overflow rate the format tolerates (the paper's "maximum overflow rate").
        update_every: update the scaling factor after this many :meth:`quantize` calls
            (None: only when :meth:`update` is called).
        ste: the straight-through gradient of :func:`~ember.quantization.fixed_point`.
    """

    def __init__(self, width: int, integer_bits: int = 0, max_overflow: float = 1e-4,
                 update_every: Optional[int] = None, ste: str = "identity") -> None:
        if int(width) != width or width < 1:
            raise ArgumentError(f"DynamicFixedPoint: width must be a positive integer, got {width!r}")
        if not 0 <= max_overflow < 1:
            raise ArgumentError(f"DynamicFixedPoint: max_overflow must lie in [0, 1), got {max_overflow}")
        if update_every is not None and update_every < 1:
            raise ArgumentError(f"DynamicFixedPoint: update_every must be positive or None, got {update_every}")
        if ste not in STE_MODES:
            raise ArgumentError(f"DynamicFixedPoint: ste must be one of {STE_MODES}, got {ste!r}")
        self.width, self.integer_bits = int(width), int(integer_bits)
        self.max_overflow, self.update_every, self.ste = float(max_overflow), update_every, ste
        self.reset_statistics()

    @property
    def fraction_bits(self) -> int:
        """Bits below the radix point: ``width - integer_bits``."""
        return self.width - self.integer_bits

    def reset_statistics(self) -> None:
        """Forget the counted elements and overflows."""
        self.seen = 0
        self.overflows = 0
        self.overflows_one_fewer = 0
        self.calls = 0

    def observe(self, x) -> None:
        """Count ``x``'s elements and its overflows at the current range and at one integer bit fewer."""
        data = x._data if isinstance(x, Tensor) else x
        xp = array_module(data)
        magnitude = xp.abs(data)
        self.seen += int(data.size)
        self.overflows += int((magnitude >= fixed_point_max(self.integer_bits, self.fraction_bits)).sum())
        self.overflows_one_fewer += int(
            (magnitude >= fixed_point_max(self.integer_bits - 1, self.fraction_bits + 1)).sum())

    @property
    def overflow_rate(self) -> float:
        """Overflowing fraction of the elements seen since the last update."""
        return self.overflows / self.seen if self.seen else 0.0

    @property
    def overflow_rate_one_fewer(self) -> float:
        """The overflow rate the same elements would have with one integer bit fewer."""
        return self.overflows_one_fewer / self.seen if self.seen else 0.0

    def update(self) -> int:
        """Move the radix point by the overflow rule; return the change (+1, 0 or -1).

        With nothing observed the format is kept.
        """
        change = 0
        if self.seen:
            if self.overflow_rate > self.max_overflow:
                change = 1
            elif self.overflow_rate_one_fewer <= self.max_overflow:
                change = -1
        self.integer_bits += change
        self.reset_statistics()
        return change

    def quantize(self, x: Tensor) -> Tensor:
        """``x`` in the current format (straight-through gradient), after counting its overflows."""
        self.observe(x)
        out = fixed_point(x, self.integer_bits, self.fraction_bits, ste=self.ste)
        self.calls += 1
        if self.update_every is not None and self.calls >= self.update_every:
            self.update()
        return out

    def __repr__(self) -> str:
        return (f"DynamicFixedPoint(width={self.width}, integer_bits={self.integer_bits}, "
                f"max_overflow={self.max_overflow})")
