"""``ember.cpu``: PyTorch's ``torch.cpu`` namespace; ``ember.cpu.amp`` holds its ``autocast``/``GradScaler`` spellings."""
from .amp import cpu as amp  # noqa: F401

__all__ = ["amp"]
