"""Limited-precision training: fixed-point and dynamic fixed-point fake quantization.

After Courbariaux, David & Bengio, "Training deep neural networks with low precision
multiplications" (2015, arXiv:1412.7024):

* :func:`fixed_point` — round to a fixed-point format and saturate, with a straight-through
  gradient; :func:`overflow_rate` measures how much of a tensor the format clips;
* :class:`DynamicFixedPoint` — a fixed width whose radix point follows overflow statistics;
* :class:`QuantizePropagation` — activations quantized forward, gradients backward;
* :class:`QuantizedUpdates` — an optimizer wrapper keeping parameters at update precision.

See ``docs/structured.md``.
"""
from .dynamic import DynamicFixedPoint
from .fixed_point import FixedPoint, fixed_point, fixed_point_max, overflow_rate
from .propagation import QuantizePropagation, quantize_gradient
from .updates import QuantizedUpdates

__all__ = ["fixed_point", "fixed_point_max", "overflow_rate", "FixedPoint", "DynamicFixedPoint",
           "QuantizePropagation", "quantize_gradient", "QuantizedUpdates"]
