"""Primitives, grouped by kind; everything else in Ember is composed from them."""
from . import elementwise, linalg, movement, reduce  # noqa: F401
