"""``ember.Generator``: a random number generator object, as PyTorch's ``torch.Generator``.

Random functions take ``generator=`` to draw from one instead of the global generator
(``ember.manual_seed``), so that two streams of random numbers stay independent.
"""
from __future__ import annotations

import numpy

from . import backend


class Generator:
    """An independent, seedable random stream.

    Example:
        >>> g = ember.Generator().manual_seed(0)
        >>> a = ember.randn(2, generator=g)
        >>> b = ember.randn(2, generator=ember.Generator().manual_seed(0))
        >>> bool((a == b).all())
        True
    """

    def __init__(self, device="cpu"):
        self.device = str(device)
        self._xp = backend.module_for_device(self.device)
        self._seed = int(numpy.random.SeedSequence().entropy % (2 ** 63))
        self._rng = self._xp.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> "Generator":
        """Reset the stream to ``seed``; returns the generator itself."""
        if not isinstance(seed, (int, numpy.integer)) or seed < 0:
            raise ValueError(f"Generator.manual_seed: expected a non-negative integer, got {seed!r}")
        self._seed = int(seed)
        self._rng = self._xp.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from fresh entropy and return the new seed."""
        return self.manual_seed(int(numpy.random.SeedSequence().entropy % (2 ** 63)))._seed

    def initial_seed(self) -> int:
        """The seed the stream started from."""
        return self._seed

    def get_state(self) -> dict:
        """The stream's state (a plain dict, safe to serialise)."""
        return dict(self._rng.bit_generator.state)

    def set_state(self, state: dict) -> "Generator":
        """Restore a state from :meth:`get_state`."""
        self._rng.bit_generator.state = state
        return self

    @property
    def numpy_generator(self):
        """The backend's generator this object draws from (NumPy's or CuPy's ``Generator``)."""
        return self._rng


def resolve(generator, xp=numpy):
    """The backend generator to draw from: ``generator``'s, or the global one of ``xp``."""
    if generator is None:
        return backend.generator(xp)
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an ember.Generator, got {type(generator).__name__}")
    return generator.numpy_generator
