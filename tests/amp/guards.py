"""Shared by the amp tests: whether the dtype checks outside ember/amp know about autocast yet.

The checks that run before matmul/einsum/conv/linear layers (and addmm's sum) consult
``ember.amp.will_cast`` once the diff in the amp report is applied to ops/linalg.py, ops/conv.py,
functional/_checks.py and nn/layers/attention.py; float16 activations meeting float32 layers need it
(bfloat16 does not: Ember's checks widen it to float32 before comparing).
"""
import inspect

import pytest

import ember.functional._checks
import ember.ops.linalg

CHECKS_AWARE = all("will_cast" in inspect.getsource(module) for module in (ember.ops.linalg, ember.functional._checks))
needs_checks = pytest.mark.skipif(not CHECKS_AWARE, reason="needs the will_cast diff to ops/linalg.py, ops/conv.py, "
                                  "functional/_checks.py and nn/layers/attention.py (see the amp report)")
