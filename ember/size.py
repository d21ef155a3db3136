"""``ember.Size``: a tensor's shape, a tuple as in PyTorch (``torch.Size``)."""
from __future__ import annotations


class Size(tuple):
    """The dimensions of a tensor; a ``tuple`` subclass, so it compares equal to plain tuples.

    Example:
        >>> s = ember.zeros(2, 3).size()
        >>> s == (2, 3), s.numel()
        (True, 6)
    """

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds."""
        count = 1
        for n in self:
            count *= n
        return count

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        return Size(tuple(self) + tuple(other))
