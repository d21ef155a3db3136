"""The examples of docs/models.md and the docstrings of ember.models run as written."""
import doctest
import importlib
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = ["mlp", "lenet", "cifar_convnet", "char_rnn", "gpt", "sampling", "language", "classify", "recipes", "vae", "rbm",
           "autoencoder", "generative_recipes", "word_lm", "skipgram", "memn2n", "stack_rnn", "dcgan",
           "sample_quality", "ntm", "program_lstm", "captioning"]


def test_guide_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "models.md").read_text(), re.DOTALL)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/models.md", "exec"), namespace)  # noqa: S102 - our own docs


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"ember.models.{name}")
    failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


@pytest.mark.parametrize("guide", ["generative.md", "memory.md", "gan.md", "ntm.md", "learning_to_execute.md",
                                   "captioning.md"])
def test_model_guide_examples_run(guide):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / guide).read_text(), re.DOTALL)
    assert len(blocks) >= 2
    namespace: dict = {}  # a guide's blocks run in order, one session, as a reader would type them
    for block in blocks:
        exec(compile(block, f"docs/{guide}", "exec"), namespace)  # noqa: S102 - our own docs
