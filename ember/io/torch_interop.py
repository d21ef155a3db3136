"""Weights to and from PyTorch, through safetensors files or in memory.

Ember's layers name their parameters and buffers as PyTorch does (``weight``,
``bias``, ``running_mean``, ``num_batches_tracked``, ``weight_ih_l0``,
``in_proj_weight``, ``out_proj.weight``...) with the same shapes and layouts
(``Linear.weight`` is ``(out, in)``, LSTM gates are ordered i, f, g, o and GRU
gates r, z, n), so a ``state_dict`` moves between the two frameworks unchanged.
This module only carries the values across: from a file written by
``safetensors.torch.save_file``, from a dict of ``torch.Tensor`` (read through
DLPack or ``.numpy()``, without importing torch here), and back to a file that
``safetensors.torch.load_file`` reads.
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np

from . import safetensors_io
from .host import to_host_array
from .save import load_weights


def load_torch_state_dict(module, source, strict: bool = True):
    """Load PyTorch weights into the equivalent Ember ``module``; all or nothing.

    Args:
        module: an Ember :class:`~ember.nn.Module` built like the PyTorch one.
        source: a ``.safetensors`` file written from PyTorch
            (``safetensors.torch.save_file(torch_model.state_dict(), path)``), or
            the ``state_dict()`` itself (a mapping of name -> ``torch.Tensor``).
        strict: require the names to match exactly.

    Returns:
        ``(missing_keys, unexpected_keys)``.

    Example (not run here, it needs torch)::

        import torch, safetensors.torch
        safetensors.torch.save_file(torch_net.state_dict(), "net.safetensors")
        ember.io.load_torch_state_dict(ember_net, "net.safetensors")
    """
    if isinstance(source, (str, os.PathLike)):
        return load_weights(module, source, strict=strict)
    if not isinstance(source, Mapping):
        raise TypeError(f"load_torch_state_dict: expected a path or a state_dict mapping, got {type(source).__name__}")
    arrays = {name: to_host_array(value, f"the value of {name!r}") for name, value in source.items()}
    return module.load_state_dict(arrays, strict=strict)


def torch_state_arrays(module) -> dict[str, np.ndarray]:
    """``module.state_dict()`` as NumPy arrays (what ``torch.from_numpy`` takes)."""
    return {name: to_host_array(value, name) for name, value in module.state_dict().items()}


def save_torch_state_dict(module, path: str | os.PathLike) -> None:
    """Write ``module``'s weights as a safetensors file for PyTorch.

    The file carries ``{"format": "pt"}`` metadata, as files written by
    ``safetensors.torch`` do (plus Ember's checksums, which PyTorch ignores), and loads with
    ``torch_model.load_state_dict(safetensors.torch.load_file(path))``.

    Example:
        >>> import ember, os, tempfile
        >>> from ember import nn
        >>> path = os.path.join(tempfile.mkdtemp(), "net.safetensors")
        >>> save_torch_state_dict(nn.Linear(3, 2), path)
        >>> sorted(ember.load(path))
        ['bias', 'weight']
    """
    safetensors_io.write_file(path, torch_state_arrays(module), {"format": "pt"}, checksums=True)
