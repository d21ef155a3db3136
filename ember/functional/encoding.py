"""Encodings of class indices: ``one_hot`` (``torch.nn.functional.one_hot``).

Example:
    >>> import ember, ember.functional.encoding as E
    >>> E.one_hot(ember.tensor([0, 2])).tolist()
    [[1, 0, 0], [0, 0, 1]]
"""
from __future__ import annotations

from ..ops import movement as M
from ..tensor import Tensor, as_tensor
from ..errors import ArgumentError

__all__ = ["one_hot"]


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Encode integer class indices as one-hot vectors along a new last dimension (int64).

    Args:
        tensor: integer class indices of any shape.
        num_classes: the length of each vector; -1 means one more than the
            largest index.

    Example:
        >>> import ember
        >>> from ember.functional.encoding import one_hot
        >>> one_hot(ember.tensor([[1], [0]]), num_classes=3).tolist()
        [[[0, 1, 0]], [[1, 0, 0]]]
    """
    import numpy

    indices = as_tensor(tensor)
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot: is only applicable to index tensors of integer type, got {indices.dtype}")
    data = indices._data
    if data.size and int(data.min()) < 0:
        raise ArgumentError(f"one_hot: class values must be non-negative, got {int(data.min())}")
    if num_classes == -1:
        if not data.size:
            raise ArgumentError("one_hot: cannot infer the number of classes from an empty tensor")
    elif num_classes < 1 and data.size or num_classes < 0:
        raise ArgumentError(f"one_hot: num_classes must be positive or -1, got {num_classes}")
    elif data.size and int(data.max()) >= num_classes:
        raise ArgumentError(f"one_hot: class values must be smaller than num_classes ({num_classes}), "
                            f"got {int(data.max())}")
    return M.one_hot(indices, num_classes, dtype=numpy.int64)
