"""The examples in the layers' docstrings run and give what they show."""
import doctest
import importlib
import sys

import pytest

MODULES = [
    "ember.ops.softmax", "ember.ops.nll", "ember.ops.linear", "ember.ops.gelu", "ember.ops.normalization",
    "ember.ops.embedding", "ember.functional.activation", "ember.functional.loss", "ember.functional.linear",
    "ember.functional.norm", "ember.functional.dropout", "ember.functional.embedding",
    "ember.nn.layers.linear", "ember.nn.layers.activation", "ember.nn.layers.dropout", "ember.nn.layers.norm",
    "ember.nn.layers.embedding", "ember.nn.layers.loss", "ember.nn.layers.pool", "ember.functional.pool", "ember.nn.layers.flatten", "ember.nn.init",
    "ember.nn.utils", "ember.nn.module", "ember.nn.containers", "ember.nn.layers.adaptive",
    "ember.nn.layers.sampled_softmax", "ember.functional.sampled_softmax", "ember.nn.layers.maxout",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    importlib.import_module(name)
    # sys.modules, not the import's return value: ember.functional.linear is also a function name.
    module = sys.modules[name]
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
