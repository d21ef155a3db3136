"""PyTorch-compatibility measurements: how much PyTorch code runs unchanged on Ember.

Two harnesses, both reading third-party code from a checkout given on the command line
(nothing from those projects is stored in this repository):

- ``benchmarks.compat.torch_ops_suite``: tinygrad's op tests (``test_ops.py``) evaluated with
  ``torch`` bound to PyTorch and then to Ember, compared value by value;
- ``benchmarks.compat.run_programs``: pytorch/examples and nanoGPT programs run as written and
  with only their imports changed to Ember, their printed losses compared.
"""
