"""Stateless layer functions (``ember.functional``, imported as ``F`` by convention).

One file per family; each defines ``__all__`` and is re-exported here.
"""
