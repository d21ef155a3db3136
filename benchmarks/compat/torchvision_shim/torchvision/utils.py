"""``torchvision.utils.save_image`` for the shim: the grid of torchvision's layout as a PNG.

Writes through :func:`ember.vision.utils.save_image` on the array (Ember's implementation follows
torchvision's ``make_grid``), so the PyTorch side of a program can save pictures without torchvision.
"""
from __future__ import annotations

from typing import Any


def save_image(tensor: Any, fp: Any, **kwargs: Any) -> None:
    """Save ``tensor`` (``(B, C, H, W)`` or ``(C, H, W)``) as one image grid at ``fp``."""
    import ember
    from ember.vision.utils import save_image as ember_save_image

    ember_save_image(ember.tensor(tensor.detach().cpu().numpy()), fp, **kwargs)
