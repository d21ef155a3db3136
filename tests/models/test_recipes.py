"""``ember train NAME`` for every zoo model, on a few samples."""
import pytest

import ember.models  # noqa: F401 - registers the recipes
from ember import cli
from ember.models import MLP, CharRNN, LeNet5, TinyGPT
from ember.models.recipes import SequenceLogits
from ember.train.recipes import build_model


@pytest.mark.parametrize("name,cls", [("mlp", MLP), ("lenet", LeNet5)])
def test_recipes_build_the_zoo_classes(name, cls):
    model, _, _ = build_model(name)
    assert isinstance(model.module, cls)


def test_mlp_recipe_is_the_lectures_784_1000_10():
    model, _, _ = build_model("mlp")
    assert sum(p.numel() for p in model.module.parameters()) == 784 * 1000 + 1000 + 10010


@pytest.mark.parametrize("name,cls", [("char_rnn", CharRNN), ("gpt", TinyGPT)])
def test_language_recipes_wrap_the_models(name, cls):
    model, dataset, _ = build_model(name)
    assert dataset == "tinyshakespeare"
    assert isinstance(model.module, SequenceLogits) and isinstance(model.module.model, cls)


@pytest.mark.parametrize("argv", [
    ["train", "mlp", "--max-samples", "256", "--epochs", "1", "-q"],
    ["train", "lenet", "--max-samples", "128", "--epochs", "1", "-q"],
    ["train", "char_rnn", "--max-samples", "32", "--epochs", "1", "-q", "--set", "hidden=16"],
    ["train", "gpt", "--max-samples", "32", "--epochs", "1", "-q", "--set", "d_model=16"],
])
def test_cli_trains_each_model(argv, capsys):
    assert cli.main(argv) == 0
    assert "test: loss:" in capsys.readouterr().out
