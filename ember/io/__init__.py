"""Doors in and out of Ember: safetensors files, checkpoints, PyTorch weights, DLPack.

* :func:`save` / :func:`load`: PyTorch's ``torch.save(obj, f)`` / ``torch.load(f)``
  for tensors, state dicts and nested checkpoints, to paths or file objects, as
  safetensors plus a JSON structure (no pickle, nothing runs on load; paths are
  written atomically); :func:`load_weights` fills a module.
* :func:`save_checkpoint` / :func:`load_checkpoint` and :class:`CheckpointManager`:
  model, optimizer, scheduler, counters and RNG state, for exact resumption.
* :func:`load_torch_state_dict` / :func:`save_torch_state_dict`: weights to and
  from PyTorch models (see :mod:`ember.io.torch_interop`).
* :func:`from_dlpack`: zero-copy exchange with NumPy, PyTorch and CuPy.

ONNX export lives in :mod:`ember.onnx`.
"""
from .atomic import atomic_write
from .checkpoint import (
                         Checkpoint,
                         CheckpointError,
                         CheckpointInfo,
                         CheckpointManager,
                         load_checkpoint,
                         read_checkpoint,
                         save_checkpoint,
)
from .dlpack import from_dlpack
from .safetensors_io import SafetensorsError
from .save import load, load_weights, read_metadata, save
from .torch_interop import load_torch_state_dict, save_torch_state_dict

__all__ = [
                         "Checkpoint",
                         "CheckpointError",
                         "CheckpointInfo",
                         "CheckpointManager",
                         "SafetensorsError",
                         "atomic_write",
                         "from_dlpack",
                         "load",
                         "load_checkpoint",
                         "load_torch_state_dict",
                         "load_weights",
                         "read_checkpoint",
                         "read_metadata",
                         "save",
                         "save_checkpoint",
                         "save_torch_state_dict",
]
