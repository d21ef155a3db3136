"""Initialisers (filled in by the modules work)."""
