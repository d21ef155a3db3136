"""The fused primitives that stability or speed justify for neural networks, one file each.

This module is their index (``from ember.ops import nn as N`` reads them all):

* :mod:`ember.ops.softmax`: ``log_softmax`` / ``softmax``, one max-shifted pass,
  exact at logits of magnitude 1e4, defined on all ``-inf`` rows;
* :mod:`ember.ops.nll`: negative log-likelihood of class indices (class weights,
  an ignored index), linear, so its vjp is one product with a constant mask;
* :mod:`ember.ops.linear`: ``x @ w.T + b`` as one node, its weight gradient one GEMM;
* :mod:`ember.ops.gelu`: exact and tanh GELU over :mod:`ember.kernels.elementwise`'s erf;
* :mod:`ember.ops.normalization`: ``(x - mean) / sqrt(var + eps) * weight + bias``,
  the core of batch, layer and group norm;
* :mod:`ember.ops.embedding`: row lookup with a sorted ``add.reduceat`` backward.

Every backward is a primitive of its own (``SoftmaxBackward``, ``LinearInputBackward``,
``GeluBackward``, ``NormalizeBackward`` ...): its forward runs one kernel, its vjp is
written with Ember ops. So the first-order backward is as fast as hand-fused array
code, and gradients of gradients come from the same rules, with no second code path.
"""
from __future__ import annotations

from .embedding import EmbeddingLookup, EmbeddingScatter, embedding
from .gelu import Gelu, GeluBackward, GeluSlope, erf_array, gelu
from .linear import Linear, LinearInputBackward, LinearWeightBackward, linear
from .nll import Nll, nll
from .normalization import Moments, Normalize, NormalizeBackward, NormalizeStatistics, moments, normalize
from .softmax import LogSoftmax, LogSoftmaxBackward, Softmax, SoftmaxBackward, log_softmax, softmax

__all__ = ["log_softmax", "softmax", "nll", "linear", "erf_array", "gelu", "normalize", "moments", "embedding",
           "LogSoftmax", "LogSoftmaxBackward", "Softmax", "SoftmaxBackward", "Nll", "Linear",
           "LinearInputBackward", "LinearWeightBackward", "Gelu", "GeluBackward", "GeluSlope", "Normalize",
           "NormalizeStatistics", "NormalizeBackward", "Moments", "EmbeddingLookup", "EmbeddingScatter"]
