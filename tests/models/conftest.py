"""Scope the zoo's recipe registrations to the zoo's tests.

Importing ``ember.models`` registers its ``ember train`` recipes (replacing the built-in
mlp, lenet and cifar_convnet). Other areas' tests were written against the built-in
registry, so each test here installs the zoo's registry and puts the previous one back.
"""
import pytest

from ember.train import recipes

_BUILT_IN = (dict(recipes.RECIPES), dict(recipes.DATASETS))
import ember.models  # noqa: F401 - registers the zoo's recipes

_ZOO = (dict(recipes.RECIPES), dict(recipes.DATASETS))
recipes.RECIPES.clear(), recipes.RECIPES.update(_BUILT_IN[0])
recipes.DATASETS.clear(), recipes.DATASETS.update(_BUILT_IN[1])


@pytest.fixture(autouse=True)
def _zoo_recipes():
    saved = (dict(recipes.RECIPES), dict(recipes.DATASETS))
    for registry, zoo in zip((recipes.RECIPES, recipes.DATASETS), _ZOO):
        registry.clear()
        registry.update(zoo)
    yield
    for registry, before in zip((recipes.RECIPES, recipes.DATASETS), saved):
        registry.clear()
        registry.update(before)
