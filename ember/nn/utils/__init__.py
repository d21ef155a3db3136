"""PyTorch's ``torch.nn.utils``: gradient clipping, flat parameter vectors, and packed sequences (``rnn``).

Example:
    >>> import ember, ember.nn as nn
    >>> from ember.nn.utils import clip_grad_norm_, parameters_to_vector
    >>> layer = nn.Linear(3, 2)
    >>> parameters_to_vector(layer.parameters()).shape
    (8,)
    >>> layer(ember.ones(4, 3)).sum().backward()
    >>> float(clip_grad_norm_(layer.parameters(), max_norm=1.0)) > 1.0
    True
"""
from . import rnn
from .clip_grad import clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_, get_total_norm
from .convert_parameters import get_parameters, parameters_to_vector, vector_to_parameters

__all__ = [
           "clip_grad_norm_",
           "clip_grad_value_",
           "clip_grads_with_norm_",
           "get_parameters",
           "get_total_norm",
           "parameters_to_vector",
           "rnn",
           "vector_to_parameters",
]
