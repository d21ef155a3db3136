"""``nn.SampledSoftmax``: an output layer trained with :func:`ember.functional.sampled_softmax_loss`.

It holds a ``Linear``-shaped ``weight`` ``(num_classes, in_features)`` and ``bias``; in
``train()`` mode ``forward(input, target)`` is the sampled softmax loss (Jean et al. 2015), in
``eval()`` mode the exact full-softmax cross-entropy, so validation and test perplexities are
always computed with exact probabilities.

Example:
    >>> import ember, ember.nn as nn
    >>> out = nn.SampledSoftmax(16, 1000, num_sampled=50)
    >>> x, y = ember.randn(8, 16), ember.randint(0, 1000, (8,))
    >>> out(x, y).shape, out.eval()(x, y).shape, out.log_prob(x).shape
    ((), (), (8, 1000))
"""
from __future__ import annotations

from ...creation import empty
from ...functional.activation import log_softmax
from ...functional.linear import linear
from ...functional.loss import cross_entropy
from ...functional.sampled_softmax import sampled_softmax_loss
from ...tensor import Tensor
from .. import init
from ..module import Module, Parameter

__all__ = ["SampledSoftmax"]


class SampledSoftmax(Module):
    """Full-softmax output layer whose training loss is a sampled softmax.

    Args:
        in_features: Width of the input features.
        num_classes: Size of the output space.
        num_sampled: Distinct classes drawn per training step (shared by the batch).
        sampler: ``"log_uniform"`` (classes sorted by decreasing frequency) or ``(num_classes,)``
            class probabilities.
        remove_accidental_hits: See :func:`~ember.functional.sampled_softmax_loss`.
        bias: Learn a per-class bias.
        generator: :class:`ember.Generator` for the draws (default: the global one).
        dtype: Parameter dtype.

    Attributes:
        weight: ``(num_classes, in_features)``, bias ``(num_classes,)`` (``Linear``'s
            initialisation and names, so a trained layer loads into ``nn.Linear``).
    """

    def __init__(self, in_features: int, num_classes: int, num_sampled: int, sampler="log_uniform",
                 remove_accidental_hits: bool = True, bias: bool = True, generator=None, dtype=None) -> None:
        super().__init__()
        self.in_features, self.num_classes, self.num_sampled = int(in_features), int(num_classes), int(num_sampled)
        self.sampler, self.remove_accidental_hits, self.generator = sampler, remove_accidental_hits, generator
        self.weight = Parameter(empty(num_classes, in_features, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(num_classes, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input: Tensor, target) -> Tensor:
        """Mean loss: sampled softmax in training mode, exact cross-entropy in evaluation mode."""
        if not self.training:
            return cross_entropy(self.logits(input), target)
        return sampled_softmax_loss(self.weight, self.bias, input, target, self.num_sampled, self.num_classes,
                                    sampler=self.sampler, remove_accidental_hits=self.remove_accidental_hits,
                                    generator=self.generator)

    def logits(self, input: Tensor) -> Tensor:
        """Full ``(N, num_classes)`` logits ``input @ weight.T + bias``."""
        return linear(input, self.weight, self.bias)

    def log_prob(self, input: Tensor) -> Tensor:
        """Exact ``(N, num_classes)`` log-probabilities (the full softmax)."""
        return log_softmax(self.logits(input), dim=-1)

    def extra_repr(self) -> str:
        sampler = self.sampler if isinstance(self.sampler, str) else "probabilities"
        return (f"in_features={self.in_features}, num_classes={self.num_classes}, num_sampled={self.num_sampled}, "
                f"sampler={sampler}, bias={self.bias is not None}")
