"""Gradient clipping, as :mod:`ember.optim` has always exported it.

The one implementation lives in :mod:`ember.nn.utils.clip_grad` (PyTorch's
``torch.nn.utils``); these are the same functions.

Example:
    >>> import ember
    >>> from ember.optim import clip_grad_norm_
    >>> w = ember.zeros(2, requires_grad=True)
    >>> (w * ember.tensor([3.0, 4.0])).sum().backward()
    >>> clip_grad_norm_([w], max_norm=1.0)
    tensor(5.)
"""
from ..nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm

__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]
