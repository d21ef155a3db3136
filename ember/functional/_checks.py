"""Input checks shared by the layer functions; every error names the function and the shapes."""
from __future__ import annotations

from ..tensor import Tensor
from ..errors import ArgumentError

REDUCTIONS = ("none", "mean", "sum")


def check_last_dim(name: str, x: Tensor, expected: int, what: str = "input") -> None:
    """Raise ``ValueError`` naming ``name`` unless ``x``'s last dimension is ``expected``."""
    if x.ndim == 0 or x.shape[-1] != expected:
        raise ArgumentError(f"{name}: expected {what} with last dimension {expected}, got shape {x.shape}")


def check_dtype(name: str, x: Tensor, param: Tensor) -> None:
    """Raise ``TypeError`` when the input's dtype differs from the layer's parameters."""
    if x.dtype != param.dtype:
        from ..amp.autocast_mode import will_cast  # lazy: amp sits above functional's imports

        if will_cast(x, param):  # under autocast a float32 layer legitimately meets float16 inputs
            return
        raise TypeError(
            f"{name}: input dtype {x.dtype} differs from the parameters' dtype {param.dtype}; "
            f"convert the input with .astype('{param.dtype}') or the layer with .to('{x.dtype}')"
        )


def check_reduction(name: str, reduction: str, allowed=REDUCTIONS) -> None:
    """Raise ``ValueError`` for an unknown ``reduction``."""
    if reduction not in allowed:
        raise ArgumentError(f"{name}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")


def check_same_shape(name: str, input: Tensor, target: Tensor, what: str = "target") -> None:
    """Raise ``ValueError`` unless ``input`` and ``target`` have one shape.

    Stricter than PyTorch, which broadcasts with a warning: ``(N, 1)`` against
    ``(N,)`` silently becomes ``(N, N)`` there, a classic regression bug.
    """
    if input.shape != target.shape:
        raise ArgumentError(f"{name}: expected {what} of shape {input.shape} (the input's), got shape {target.shape}")


def check_integer(name: str, target: Tensor, what: str = "target") -> None:
    """Raise ``TypeError`` unless ``target`` holds integers (class indices)."""
    if target.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected {what} of class indices (an integer dtype), got {target.dtype}")
