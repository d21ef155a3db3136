"""Trainable recipes: a named model, its datasets and its training settings, for ``ember train``.

A :class:`Recipe` says how to build a network from a config dict, which datasets
it trains on, and its default loss, metrics, optimizer and schedule.
:func:`train_recipe` trains one and, given an output folder, writes a checkpoint
that :func:`evaluate_checkpoint` (``ember evaluate``) rebuilds from the recipe
name and config stored in it. The model zoo registers more recipes with
:func:`register_recipe`, and more datasets with :func:`register_dataset`.

Example:
    >>> from ember.train.recipes import RECIPES
    >>> {"cifar_convnet", "lenet", "mlp"} <= set(RECIPES)   # built in; importing ember.models adds more
    True
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import nn

__all__ = ["Recipe", "DatasetSpec", "RECIPES", "DATASETS", "register_recipe", "register_dataset", "get_recipe",
           "load_dataset", "build_model", "train_recipe", "evaluate_checkpoint", "CHECKPOINT_NAME"]

CHECKPOINT_NAME = "model.safetensors"


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset of arrays for recipes: ``load(train, download) -> (x, y)``, inputs already scaled."""

    name: str
    load: Callable[[bool, bool], tuple]
    input_shape: tuple
    classes: int
    description: str = ""


@dataclass(frozen=True)
class Recipe:
    """A trainable model.

    Attributes:
        name: the name used on the command line.
        description: one line for ``ember train --help``.
        build: ``build(config) -> Module``; ``config`` holds the model's settings
            (:attr:`config` updated by the user's ``--set``) plus ``input_shape`` and
            ``classes`` of the dataset.
        datasets: the datasets it trains on (the first is the default).
        config: the model's default settings.
        training: default training settings: ``epochs``, ``batch_size``, ``optimizer``,
            ``lr``, ``loss``, ``metrics``.
    """

    name: str
    description: str
    build: Callable[[dict], nn.Module]
    datasets: tuple
    config: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)


RECIPES: dict[str, Recipe] = {}
DATASETS: dict[str, DatasetSpec] = {}

_TRAINING_DEFAULTS = {"epochs": 2, "batch_size": 128, "optimizer": "adam", "lr": 1e-3, "loss": "cross_entropy",
                      "metrics": ["accuracy"]}


def register_recipe(recipe: Recipe) -> Recipe:
    """Add a recipe (replacing one of the same name)."""
    unknown = [d for d in recipe.datasets if d not in DATASETS]
    if unknown:
        raise ValueError(f"register_recipe: {recipe.name}: unknown dataset(s) {unknown}; known: {sorted(DATASETS)}")
    RECIPES[recipe.name] = recipe
    return recipe


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Add a dataset for recipes (replacing one of the same name)."""
    DATASETS[spec.name] = spec
    return spec


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name``."""
    if name not in RECIPES:
        from .names import unknown_name_error

        raise unknown_name_error("model", name, RECIPES)
    return RECIPES[name]


def load_dataset(name: str, train: bool, download: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of a registered dataset's training or test split."""
    if name not in DATASETS:
        from .names import unknown_name_error

        raise unknown_name_error("dataset", name, DATASETS)
    return DATASETS[name].load(train, download)


# ---------------------------------------------------------------------- datasets
def _standardized(images: np.ndarray, mean, std) -> np.ndarray:
    """``uint8`` images to float32 ``(x / 255 - mean) / std``, channel-first with a channel axis."""
    x = images.astype(np.float32) / 255.0
    if x.ndim == 3:
        x = x[:, None]
    mean = np.asarray(mean, dtype=np.float32).reshape(1, -1, 1, 1)
    std = np.asarray(std, dtype=np.float32).reshape(1, -1, 1, 1)
    return (x - mean) / std


def _idx_loader(loader_name: str, mean: float, std: float):
    def load(train: bool, download: bool):
        from .. import data  # data is imported only when a recipe runs

        dataset = getattr(data, loader_name)(train=train, download=download)
        return _standardized(dataset.data, mean, std), dataset.targets.astype(np.int64)

    return load


def _mnist(train: bool, download: bool):
    # Offline with no copy of MNIST, the recipes train on a fixed split of the test set
    # shipped in the package (with a note on stderr) instead of failing: see mnist_or_sample.
    from ..data.datasets import mnist_or_sample

    dataset = mnist_or_sample(train=train, download=download)
    return _standardized(dataset.data, 0.1307, 0.3081), dataset.targets.astype(np.int64)


def _cifar10(train: bool, download: bool):
    from ..data import CIFAR10

    dataset = CIFAR10(train=train, download=download)
    return _standardized(dataset.data, (0.491, 0.482, 0.447), (0.247, 0.243, 0.262)), dataset.targets.astype(np.int64)


register_dataset(DatasetSpec("mnist", _mnist, (1, 28, 28), 10,
                             "MNIST handwritten digits (60,000 + 10,000 images)"))
register_dataset(DatasetSpec("fashion-mnist", _idx_loader("FashionMNIST", 0.2860, 0.3530), (1, 28, 28), 10,
                             "Fashion-MNIST clothing images (60,000 + 10,000)"))
register_dataset(DatasetSpec("cifar10", _cifar10, (3, 32, 32), 10, "CIFAR-10 colour images (50,000 + 10,000)"))


# ---------------------------------------------------------------------- recipes
def _mlp(config: dict) -> nn.Module:
    layers: list = [nn.Flatten()]
    width = int(np.prod(config["input_shape"]))
    for _ in range(int(config["layers"])):
        layers += [nn.Linear(width, int(config["hidden"])), nn.ReLU()]
        if config["dropout"]:
            layers.append(nn.Dropout(float(config["dropout"])))
        width = int(config["hidden"])
    layers.append(nn.Linear(width, config["classes"]))
    return nn.Sequential(*layers)


def _lenet(config: dict) -> nn.Module:
    channels, height, _ = config["input_shape"]
    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[config["activation"]]
    # LeNet-5 takes 32x32 inputs; MNIST's 28x28 digits are padded by 2 as in the original paper.
    pad = max(0, (32 - height) // 2)
    side = ((height + 2 * pad - 4) // 2 - 4) // 2
    return nn.Sequential(nn.Conv2d(channels, 6, 5, padding=pad), act(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), act(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(16 * side * side, 120), act(), nn.Linear(120, 84), act(),
                         nn.Linear(84, config["classes"]))


def _cifar_convnet(config: dict) -> nn.Module:
    channels, height, _ = config["input_shape"]
    side = ((height - 2) // 2 - 2) // 2
    return nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding="same"), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding="same"), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25),
        nn.Flatten(), nn.Linear(64 * side * side, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, config["classes"]))


register_recipe(Recipe("mlp", "multilayer perceptron (784-256-10, ReLU); 97.5% on MNIST in 2 epochs", _mlp,
                       ("mnist", "fashion-mnist"), {"hidden": 256, "layers": 1, "dropout": 0.0},
                       {"lr": 2e-3}))
register_recipe(Recipe("lenet", "LeNet-5 convolutional network (LeCun et al. 1998)", _lenet,
                       ("mnist", "fashion-mnist"), {"activation": "tanh"}, {"batch_size": 64}))
register_recipe(Recipe("cifar_convnet", "the Keras CIFAR-10 example convnet (4 conv, 2 pool, dropout)",
                       _cifar_convnet, ("cifar10",), {},
                       {"batch_size": 32, "optimizer": "rmsprop", "lr": 1e-4, "epochs": 50}))


# ---------------------------------------------------------------------- training and evaluation
def build_model(name: str, dataset: str | None = None, overrides: dict | None = None):
    """The compiled :class:`~ember.train.Model` of a recipe, its dataset name and its training settings.

    Raises:
        ValueError: an unknown model, dataset or setting.
    """
    from .model import Model
    from .optimizers import OptimizerSpec

    recipe = get_recipe(name)
    dataset = dataset or recipe.datasets[0]
    if dataset not in recipe.datasets:
        raise ValueError(f"model {name!r} trains on {', '.join(recipe.datasets)}, not {dataset!r}")
    overrides = dict(overrides or {})
    training = {**_TRAINING_DEFAULTS, **recipe.training}
    config = dict(recipe.config)
    for key, value in overrides.items():
        if key in training:
            training[key] = value
        elif key in config:
            config[key] = value
        else:
            raise ValueError(f"model {name!r} has no setting {key!r}; settings: "
                             f"{', '.join(sorted(set(config) | set(training)))}")
    spec = DATASETS[dataset]
    module = recipe.build({**config, "input_shape": spec.input_shape, "classes": spec.classes})
    model = Model(module, name=name)
    model.compile(OptimizerSpec(training["optimizer"], lr=training["lr"]), training["loss"], training["metrics"])
    model.config = {"recipe": name, "dataset": dataset, "model": config,
                    "training": {k: v for k, v in training.items()}}
    return model, dataset, training


def train_recipe(name: str, dataset: str | None = None, *, out: str | os.PathLike | None = None,
                 overrides: dict | None = None, seed: int = 0, validation_split: float = 0.0,
                 patience: int | None = None, download: bool = False, verbose: int | str = "auto",
                 max_samples: int | None = None) -> tuple:
    """Train a recipe and test it; with ``out``, write the checkpoint, the CSV log and the curves.

    Args:
        name, dataset: the recipe and its dataset (the recipe's first by default).
        out: a folder for ``model.safetensors`` (a checkpoint :func:`evaluate_checkpoint`
            reads), ``history.csv`` and ``curves.png`` (with matplotlib). An interrupted
            run resumes from the folder's ``backup/`` when started again.
        overrides: settings replacing the recipe's (``epochs``, ``lr``, ``hidden`` ...).
        seed: seeds Ember before the model is built.
        validation_split: hold out this fraction of the training set for validation.
        patience: stop early after that many epochs without a better validation loss
            (needs ``validation_split``).
        download: fetch missing dataset files.
        verbose: as ``fit``.
        max_samples: train and test on at most this many samples (quick runs).

    Returns:
        ``(model, history, test_logs)``.
    """
    import ember

    from . import callbacks as cb

    if patience is not None and not validation_split:
        raise ValueError("patience needs a validation split (e.g. --validation-split 0.1)")
    ember.manual_seed(seed)
    model, dataset, training = build_model(name, dataset, overrides)
    x, y = load_dataset(dataset, train=True, download=download)
    x_test, y_test = load_dataset(dataset, train=False, download=download)
    if max_samples:
        x, y, x_test, y_test = x[:max_samples], y[:max_samples], x_test[:max_samples], y_test[:max_samples]
    callbacks: list = []
    if patience is not None:
        callbacks.append(cb.EarlyStopping("val_loss", patience=patience, restore_best_weights=True,
                                          verbose=1 if verbose else 0))
    if out is not None:
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        resuming = any((out / "backup").glob("backup-*.safetensors"))  # an interrupted run left a backup
        callbacks += [cb.CSVLogger(out / "history.csv", append=resuming), cb.BackupAndRestore(out / "backup")]
    history = model.fit(x, y, batch_size=int(training["batch_size"]), epochs=int(training["epochs"]),
                        validation_split=validation_split, callbacks=callbacks, verbose=verbose)
    test_logs = model.evaluate(x_test, y_test, batch_size=max(256, int(training["batch_size"])), return_dict=True)
    if out is not None:
        model.config["test"] = test_logs
        model.save_checkpoint(out / CHECKPOINT_NAME, epoch=history.epoch[-1] + 1 if history.epoch else None)
        (out / "config.json").write_text(json.dumps(model.config, indent=2) + "\n")
        try:
            history.plot(out / "curves.png")
        except ImportError:
            pass  # matplotlib is optional: the CSV log holds the same numbers
    return model, history, test_logs


def evaluate_checkpoint(path: str | os.PathLike, dataset: str | None = None, batch_size: int = 256,
                        download: bool = False, max_samples: int | None = None) -> tuple:
    """Rebuild the model of a checkpoint written by :func:`train_recipe` and test it.

    Args:
        path: the checkpoint file, or the ``out`` folder holding ``model.safetensors``.
        dataset: the test set (the one the model was trained on by default).

    Returns:
        ``(model, dataset, test_logs)``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a checkpoint of a recipe.
    """
    from ..io import read_checkpoint

    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no such checkpoint: {path}")
    config = read_checkpoint(path).extra.get("config") or {}
    if "recipe" not in config:
        raise ValueError(f"{path}: not a checkpoint written by `ember train` (it names no recipe); load it in "
                         "Python with ember.io.load_checkpoint")
    overrides = {**config.get("model", {}), **{k: v for k, v in config.get("training", {}).items()
                                              if k in ("loss", "metrics")}}
    model, dataset, _ = build_model(config["recipe"], dataset or config.get("dataset"), overrides)
    model.load_weights(path)
    model.config = config
    x_test, y_test = load_dataset(dataset, train=False, download=download)
    if max_samples:
        x_test, y_test = x_test[:max_samples], y_test[:max_samples]
    return model, dataset, model.evaluate(x_test, y_test, batch_size=batch_size, return_dict=True)


def parse_setting(text: str) -> tuple[str, Any]:
    """``'hidden=512'`` as ``('hidden', 512)``; values are read as JSON when they parse, else kept as text."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except ValueError:
        return key.strip(), value
