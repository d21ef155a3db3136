"""``ember.backends``: PyTorch's backend flags, accepted so that programs that set them run.

Ember's CPU kernels are deterministic and use no cuDNN, MPS or TF32, so the flags
record what the program asked for and change nothing; ``is_available()`` answers
truthfully (False) for the accelerator libraries Ember does not use.
"""
from . import cudnn, mps  # noqa: F401
