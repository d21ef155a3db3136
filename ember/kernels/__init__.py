"""Ember's array kernels: a NumPy reference beside a multi-core numba version of each.

One file per concern: :mod:`~ember.kernels.im2col` (im2col/col2im, unfold/fold),
:mod:`~ember.kernels.pool` (max and average pooling); the shared pieces are
:mod:`~ember.kernels.geometry` (window sizes), :mod:`~ember.kernels.layout`
(channels-last views, padding), :mod:`~ember.kernels.engine` (which version
runs), :mod:`~ember.kernels.jit` (lazy, disk-cached compilation),
:mod:`~ember.kernels.cache` and :mod:`~ember.kernels.threads`.

Example::

    >>> import ember.kernels
    >>> ember.kernels.current() in ("numba", "numpy")
    True
"""
from .cache import cache_dir
from .engine import current, use
from .threads import get_num_threads, set_num_threads

__all__ = ["use", "current", "set_num_threads", "get_num_threads", "cache_dir"]
