"""One writer: rank 0 saves checkpoints and logs, the other ranks wait for it.

All ranks hold the same weights in data-parallel training, so one copy on disk
is enough; several ranks writing the same path at once would race. The pattern
is "rank 0 writes, everyone meets at a barrier", so that no rank goes on to read
a file that is still being written.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from . import comm

__all__ = ["on_main_process", "save_checkpoint"]

T = TypeVar("T")


def on_main_process(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Run ``fn(*args, **kwargs)`` on rank 0 only, then wait at a barrier on every rank.

    Returns ``fn``'s result on rank 0 and None elsewhere. If ``fn`` raises on rank 0
    the exception ends the whole job (see :func:`ember.distributed.init`), so the
    other ranks do not wait forever.

    Example:
        >>> import tempfile, os, ember.nn as nn, ember
        >>> path = os.path.join(tempfile.mkdtemp(), "weights.safetensors")
        >>> on_main_process(ember.save, nn.Linear(2, 2).state_dict(), path)
        >>> os.path.exists(path)
        True
    """
    result = fn(*args, **kwargs) if comm.is_main_process() else None
    comm.barrier()
    return result


def save_checkpoint(path: str | os.PathLike, model=None, optimizer=None, scheduler=None, **options: Any):
    """:func:`ember.io.save_checkpoint` on rank 0 only, followed by a barrier.

    Returns the path written on rank 0, None on the other ranks.

    Example:
        >>> import tempfile, os, ember.nn as nn
        >>> path = save_checkpoint(os.path.join(tempfile.mkdtemp(), "ckpt.safetensors"), nn.Linear(2, 2), epoch=1)
        >>> path is not None
        True
    """
    from ..io import save_checkpoint as save

    return on_main_process(save, path, model, optimizer, scheduler, **options)
