"""Benchmarks comparing Ember with PyTorch eager on the CPU (not shipped in the wheel).

Run ``python -m benchmarks.run --help``.
"""
