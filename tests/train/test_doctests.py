"""The examples in the docstrings of ember.train, ember.viz and ember.cli run and give what they show."""
import doctest
import importlib
import pkgutil

import pytest

import ember.train
import ember.viz

MODULES = sorted({m.name for package in (ember.train, ember.viz)
                  for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")}
                 | {"ember.train", "ember.viz", "ember.cli"})


def test_every_module_is_covered():
    assert {"ember.train.model", "ember.train.callbacks.lr", "ember.viz.grid"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    if name == "ember.viz.plots":
        pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
