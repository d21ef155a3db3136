"""The examples in the data layer's docstrings run and give what they show."""

import doctest
import importlib
import pkgutil

import pytest

import ember.data

MODULES = sorted(m.name for m in pkgutil.walk_packages(ember.data.__path__, "ember.data."))


def test_every_module_is_covered():
    assert {"ember.data.loader", "ember.data.datasets.mnist", "ember.data.datasets.babi"} <= set(
        MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, shared_data):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
