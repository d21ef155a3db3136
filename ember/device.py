"""``ember.device``: PyTorch's device objects, as strings Ember's code already understands.

A device is ``"cpu"``, ``"cuda"`` or ``"cuda:N"``. ``ember.device`` subclasses ``str`` so
that ``tensor.to(ember.device("cuda", 0))``, ``device=torch_style_device`` and
``device="cuda:0"`` all reach the same code path, and ``dev.type`` / ``dev.index`` read
like PyTorch's.
"""
from __future__ import annotations


class device(str):  # noqa: N801 - PyTorch's name
    """A device: ``ember.device("cpu")``, ``ember.device("cuda:1")`` or ``ember.device("cuda", 1)``.

    Example:
        >>> d = ember.device("cuda", 0)
        >>> d.type, d.index, str(d)
        ('cuda', 0, 'cuda:0')
    """

    def __new__(cls, type_or_string, index: int | None = None):
        if isinstance(type_or_string, device) and index is None:
            return type_or_string
        text = str(type_or_string)
        kind, _, number = text.partition(":")
        if kind not in ("cpu", "cuda", "mps", "meta"):
            raise RuntimeError(f"device: expected one of cpu, cuda device type at start of device string: {text!r}")
        if number:
            if index is not None:
                raise RuntimeError(f"device: type {text!r} already has an index; got index={index} too")
            if not number.isdigit():
                raise RuntimeError(f"device: invalid device string {text!r}")
            index = int(number)
        if index is not None and index < 0:
            raise RuntimeError(f"device: index must be non-negative, got {index}")
        if kind == "cpu" and index not in (None, 0):
            raise RuntimeError(f"device: cpu has no device index {index}")
        name = kind if index is None or kind == "cpu" else f"{kind}:{index}"
        self = super().__new__(cls, name)
        self._type = kind
        self._index = None if kind == "cpu" else index
        return self

    @property
    def type(self) -> str:
        """``'cpu'`` or ``'cuda'``."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device number, or None when unspecified."""
        return self._index

    def __repr__(self) -> str:
        return f"device(type='{self._type}'" + (f", index={self._index})" if self._index is not None else ")")


def as_device_or_none(value) -> device | None:
    """``value`` as a device when it names one (a string such as ``"cuda:0"``, a device), else None."""
    if isinstance(value, device):
        return value
    if isinstance(value, str):
        kind = value.partition(":")[0]
        if kind in ("cpu", "cuda"):
            return device(value)
    return None
