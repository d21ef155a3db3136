"""``nn.AdaptiveLogSoftmaxWithLoss``: Grave et al.'s adaptive softmax, with PyTorch's semantics.

"Efficient softmax approximation for GPUs" (Grave, Joulin, Cissé, Grangier, Jégou 2017,
arXiv:1609.04309). The classes, sorted by decreasing frequency, are cut by ``cutoffs`` into a
*shortlist* (``0 .. cutoffs[0]-1``) scored by the ``head`` together with one logit per tail
cluster, and tail clusters scored by a low-rank projection each
(``in_features -> in_features // div_value**(i+1) -> cluster size``). The log-probability of a
tail word is ``log p(cluster | h) + log p(word | cluster, h)``; a minibatch only evaluates the
clusters its targets fall in, which is where the speed comes from.

Parameter names and shapes are PyTorch's (``head.weight``, ``head.bias`` when ``head_bias``,
``tail.<i>.0.weight``, ``tail.<i>.1.weight``), so a PyTorch state dict loads as it is.
Everything is composed of Ember ops (``Linear``, ``log_softmax``, ``gather``, ``index_select``,
``index_add``), so gradients come from autograd.

Example:
    >>> import ember, ember.nn as nn
    >>> asm = nn.AdaptiveLogSoftmaxWithLoss(16, 100, cutoffs=[10, 40])
    >>> out = asm(ember.randn(5, 16), ember.tensor([0, 3, 15, 60, 99]))
    >>> out.output.shape, out.loss.shape
    ((5,), ())
    >>> asm.log_prob(ember.randn(2, 16)).exp().sum(dim=1).allclose(ember.ones(2))
    True
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence

import numpy as np

from ...autograd import no_grad
from ...creation import empty, zeros
from ...errors import ArgumentError, ShapeError
from ...functional.activation import log_softmax
from ...ops.movement import cat
from ...tensor import Tensor, as_tensor
from ..containers import ModuleList, Sequential
from ..module import Module, Parameter
from .linear import Linear

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

#: ``forward``'s result, PyTorch's ``_ASMoutput``: per-example target log-probabilities and the mean NLL.
_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


def _bias_free_linear(in_features: int, out_features: int, dtype=None) -> Linear:
    """``Linear(in, out, bias=False)``, also when ``in_features == 0``.

    A cluster whose projection width ``in_features // div_value**i`` rounds to 0 has a
    ``(out, 0)`` weight (PyTorch keeps it, with a warning); Ember's default initialiser
    divides by the fan-in, so such a layer is built with a non-empty weight that is
    then replaced by the empty one (there is nothing to initialise).
    """
    if in_features > 0:
        return Linear(in_features, out_features, bias=False, dtype=dtype)
    layer = Linear(1, out_features, bias=False, dtype=dtype)
    layer.weight = Parameter(empty(out_features, 0, dtype=dtype))
    layer.in_features = 0
    return layer


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax over ``n_classes`` frequency-sorted classes (``torch.nn.AdaptiveLogSoftmaxWithLoss``).

    Args:
        in_features: Width of the input features.
        n_classes: Number of classes; class 0 must be the most frequent.
        cutoffs: Increasing, unique integers in ``[1, n_classes - 1]``: ``[10, 100]`` puts
            classes 0-9 in the head, 10-99 in the first cluster, 100-``n_classes-1`` in the second.
        div_value: Tail cluster ``i`` (from 1) projects to ``in_features // div_value**i`` features.
        head_bias: Give the head a bias (the paper's code does not).
        dtype: Parameter dtype (default float dtype).

    Attributes:
        head: ``Linear(in_features, shortlist_size + n_clusters, bias=head_bias)``.
        tail: ``ModuleList`` of ``Sequential(Linear(in, hsz, bias=False), Linear(hsz, osz, bias=False))``.
        cutoffs: The given cutoffs followed by ``n_classes``.
        shortlist_size, n_clusters, head_size: ``cutoffs[0]``, ``len(cutoffs) - 1``, their sum.

    ``forward(input, target)`` takes ``(N, in_features)`` and ``(N,)`` integer targets (or
    ``(in_features,)`` and a 0-d target, unbatched) and returns ``(output, loss)``: ``output``
    the log-probability of each target (``(N,)`` or ``()``), ``loss`` the mean negative
    log-likelihood. ``log_prob(input)`` gives all ``(N, n_classes)`` log-probabilities and
    ``predict(input)`` the most probable class of each row.

    Raises:
        ValueError: Bad ``cutoffs`` (PyTorch's message).
        ShapeError: Input and target shapes that do not fit.
        ArgumentError: A target outside ``[0, n_classes - 1]``.
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an "
                             "increasing order, where each value is between 1 and n_classes-1 "
                             f"(AdaptiveLogSoftmaxWithLoss: got cutoffs {cutoffs} for n_classes {n_classes})")
        if device not in (None, "cpu"):
            raise ArgumentError(f"AdaptiveLogSoftmaxWithLoss: only device 'cpu' is supported, got {device!r}")
        self.in_features, self.n_classes = int(in_features), int(n_classes)
        self.cutoffs = [int(c) for c in cutoffs] + [self.n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(self.in_features, self.head_size, bias=head_bias, dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(self.in_features // (self.div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(_bias_free_linear(self.in_features, hsz, dtype),
                                        _bias_free_linear(hsz, osz, dtype)))

    def reset_parameters(self) -> None:
        """Redraw every weight with PyTorch's ``Linear`` default."""
        self.head.reset_parameters()
        for projection in self.tail:
            for layer in projection:
                if layer.weight.numel() > 0:
                    layer.reset_parameters()

    # ------------------------------------------------------------------ checks
    def _check_input(self, op: str, input: Tensor) -> None:
        if input.ndim != 2 or input.shape[1] != self.in_features:
            raise ShapeError(f"AdaptiveLogSoftmaxWithLoss.{op}: expected input of shape (N, {self.in_features}), "
                             f"got {tuple(input.shape)}")

    def _targets(self, target: np.ndarray) -> np.ndarray:
        if target.size and (target.min() < 0 or target.max() > self.n_classes - 1):
            raise ArgumentError(f"AdaptiveLogSoftmaxWithLoss: Target values should be in [0, {self.n_classes - 1}], "
                                f"but values in range [{target.min()}, {target.max()}] were found "
                                f"(n_classes {self.n_classes})")
        return target.astype(np.int64, copy=False)

    # ------------------------------------------------------------------ forward
    def forward(self, input: Tensor, target) -> _ASMoutput:
        """``(output, loss)``: each target's log-probability and their mean negative log-likelihood."""
        target = as_tensor(target)
        if target.ndim == 1:
            if input.ndim != 2:
                raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: 1D target tensor expects 2D input tensors, "
                                 f"but found inputs with size {tuple(input.shape)}")
            if input.shape[0] != target.shape[0]:
                raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: Input and target should have the same size in the "
                                 f"batch dimension (input {tuple(input.shape)}, target {tuple(target.shape)})")
        elif target.ndim == 0:
            if input.ndim != 1:
                raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: 0D target tensor expects 1D input tensors, "
                                 f"but found inputs with size {tuple(input.shape)}")
        else:
            raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: 0D or 1D target tensor expected, multi-target not "
                             f"supported (target shape {tuple(target.shape)})")
        batched = target.ndim == 1
        x = input if batched else input.unsqueeze(0)
        self._check_input("forward", x)
        t = self._targets(np.asarray(target.numpy()).reshape(-1))
        # Which head column scores each row: its own class in the shortlist, else its cluster's logit.
        cluster = np.searchsorted(np.asarray(self.cutoffs), t, side="right")  # 0: shortlist, i: tail cluster i
        gather_inds = np.where(cluster == 0, t, self.shortlist_size + cluster - 1)
        head_logprob = log_softmax(self.head(x), dim=1)
        output = head_logprob.gather(1, as_tensor(gather_inds[:, None])).squeeze(1)
        tail_part = zeros(len(t), dtype=output.dtype)
        for i in range(1, self.n_clusters + 1):
            rows = np.flatnonzero(cluster == i)
            if rows.size == 0:
                continue   # only the clusters holding a target are evaluated
            relative = t[rows] - self.cutoffs[i - 1]
            cluster_logprob = log_softmax(self._cluster_logits(i - 1, x.index_select(0, as_tensor(rows))), dim=1)
            local = cluster_logprob.gather(1, as_tensor(relative[:, None])).squeeze(1)
            tail_part = tail_part.index_add(0, as_tensor(rows), local)
        output = output + tail_part
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _cluster_logits(self, i: int, input: Tensor) -> Tensor:
        """Logits of tail cluster ``i`` (from 0) for the rows of ``input``."""
        projection = self.tail[i]
        if projection[0].out_features == 0:
            # A zero-width projection scores every word of its cluster 0 (uniform within the cluster);
            # the empty product is not recorded because the linear backward cannot reshape empty arrays.
            return zeros(input.shape[0], projection[1].out_features, dtype=input.dtype)
        return projection(input)

    def _full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        """All ``(N, n_classes)`` log-probabilities of ``input`` given its head logits."""
        head_logprob = log_softmax(head_output, dim=1)
        pieces = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            column = self.shortlist_size + i
            pieces.append(log_softmax(self._cluster_logits(i, input), dim=1) + head_logprob[:, column:column + 1])
        return cat(pieces, dim=1)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of all ``n_classes`` classes, ``(N, in_features) -> (N, n_classes)``.

        Example:
            >>> import ember, ember.nn as nn
            >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 10])
            >>> asm.log_prob(ember.randn(3, 8)).shape
            (3, 20)
        """
        self._check_input("log_prob", input)
        return self._full_log_prob(input, self.head(input))

    def predict(self, input: Tensor) -> Tensor:
        """The most probable class of each row, ``(N,)`` int64 (``log_prob(input).argmax(dim=1)``).

        Rows whose best head entry is a shortlist word need no tail: a word of a cluster
        can never beat its cluster's own head probability.
        """
        self._check_input("predict", input)
        with no_grad():
            head_output = self.head(input)
            best = np.asarray(head_output.argmax(dim=1).numpy()).astype(np.int64)
            in_tail = np.flatnonzero(best >= self.shortlist_size)
            if in_tail.size:
                rows = as_tensor(in_tail)
                full = self._full_log_prob(input.index_select(0, rows), head_output.index_select(0, rows))
                best[in_tail] = np.asarray(full.argmax(dim=1).numpy())
        return as_tensor(best)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, n_classes={self.n_classes}, cutoffs={self.cutoffs[:-1]}, "
                f"div_value={self.div_value}, head_bias={self.head_bias}")
