"""The examples in the kernel modules' docstrings and in docs/kernels.md run and give what they show."""
import doctest
import importlib
import pathlib
import re

import pytest

import ember.kernels

MODULES = ["ember.kernels", "ember.kernels.engine", "ember.kernels.cache", "ember.kernels.threads",
           "ember.kernels.jit", "ember.kernels.geometry", "ember.kernels.layout", "ember.kernels.im2col",
           "ember.kernels.pool", "ember.kernels.optim", "ember.kernels.elementwise", "ember.kernels.softmax",
           "ember.kernels.activation", "ember.kernels.ctc", "ember.kernels.conv", "ember.kernels.depthwise",
           "ember.kernels.sorting", "ember.kernels.scan", "ember.kernels.embedding", "ember.kernels.dropout",
           "ember.kernels.normalization", "ember.kernels.recurrent", "ember.kernels.losses"]
GUIDE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "kernels.md"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, restore_engine):
    module = importlib.import_module(name)
    threads = ember.kernels.threads._threads
    try:
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    finally:
        ember.kernels.threads._threads = threads
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def test_guide_examples_run(restore_engine):
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert blocks
    namespace = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)  # noqa: S102 - our own docs
