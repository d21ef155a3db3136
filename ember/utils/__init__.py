"""PyTorch's ``torch.utils`` names: :mod:`ember.utils.data`."""

from . import data

__all__ = ["data"]
