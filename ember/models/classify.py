"""The training recipe shared by the zoo's image classifiers (MLP, LeNet-5, the CIFAR convnet).

It is the Keras-style :class:`ember.train.Model` loop with what the published
numbers need: SGD with momentum or Adam/RMSprop, a per-epoch cosine learning-rate
decay, optional augmentation by random shifts (and flips), and the test error
measured at the end.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["ClassifierConfig", "random_shift", "train_classifier", "classification_error"]


@dataclass
class ClassifierConfig:
    """Settings of :func:`train_classifier`.

    Attributes:
        epochs, batch_size: as in ``Model.fit``.
        optimizer: ``'sgd'`` (with ``momentum``), ``'adam'`` or ``'rmsprop'``.
        lr: initial learning rate; decays to ``lr * final_lr_fraction`` along a cosine over the epochs.
        momentum, weight_decay: SGD's momentum; L2 weight decay (all optimizers).
        shift: augment by random shifts of up to that many pixels (0: none).
        flip: also mirror images horizontally at random.
        seed: seeds the data order and the augmentation.
    """

    epochs: int = 10
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    final_lr_fraction: float = 0.01
    shift: int = 0
    flip: bool = False
    seed: int = 0


def random_shift(pixels: int, fill: float = 0.0, flip: bool = False, seed=None):
    """A batch transform shifting every image by up to ``pixels`` in each direction (and mirroring it).

    Example:
        >>> random_shift(2, seed=0).batch(np.zeros((3, 1, 28, 28), np.float32)).shape
        (3, 1, 28, 28)
    """
    from ..data.transforms import Compose, RandomCrop, RandomHorizontalFlip

    class _Crop(RandomCrop):  # keeps the input size whatever it is
        def batch(self, xs):
            self.size = tuple(np.asarray(xs).shape[-2:])
            return super().batch(xs)

    steps = [_Crop(1, padding=pixels, fill=fill, seed=seed)]
    if flip:
        steps.append(RandomHorizontalFlip(seed=None if seed is None else seed + 1))
    return Compose(steps)


def train_classifier(module, x: np.ndarray, y: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
                     config: ClassifierConfig | None = None, verbose: int = 2,
                     log: Callable[[str], None] = print) -> dict:
    """Train ``module`` on ``(x, y)`` and measure it on ``(x_test, y_test)``.

    Args:
        module: a classifier returning logits.
        x, y: training images (already scaled) and integer labels.
        x_test, y_test: the test set.
        config: the settings (:class:`ClassifierConfig`).
        verbose: ``Model.fit``'s verbosity (2: a line per epoch).
        log: receives the summary line.

    Returns:
        ``{"test_error", "test_accuracy", "test_loss", "seconds", "epochs", "history"}``, the error
        in percent; ``history`` holds the per-epoch ``loss``/``accuracy`` lists.

    Example:
        >>> from ember.models import MLP
        >>> rng = np.random.default_rng(0)
        >>> x = rng.standard_normal((64, 4)).astype(np.float32); y = (x[:, 0] > 0).astype(np.int64)
        >>> result = train_classifier(MLP(4, (8,), 2), x, y, x, y, ClassifierConfig(epochs=3, batch_size=16),
        ...                           verbose=0, log=lambda s: None)
        >>> result["test_error"] < 50
        True
    """
    from ..data import ArrayDataset, DataLoader
    from ..optim.schedule import CosineAnnealingLR
    from ..train import Model
    from ..train.callbacks import LearningRateScheduler
    from ..train.optimizers import OptimizerSpec

    config = config or ClassifierConfig()
    options = {"lr": config.lr}
    if config.optimizer == "sgd":
        options["momentum"] = config.momentum
    if config.weight_decay:
        options["weight_decay"] = config.weight_decay
    model = Model(module)
    model.compile(OptimizerSpec(config.optimizer, **options), "cross_entropy", ["accuracy"])
    schedule = CosineAnnealingLR(model.optimizer, T_max=config.epochs, eta_min=config.lr * config.final_lr_fraction)
    if config.shift or config.flip:
        fill = float(x.min())  # the background of normalised images
        transform = random_shift(config.shift, fill=fill, flip=config.flip, seed=config.seed)
        data = DataLoader(ArrayDataset(x, y, transform=transform), batch_size=config.batch_size, shuffle=True,
                          seed=config.seed)
        fit_args = {"x": data}
    else:
        fit_args = {"x": x, "y": y, "batch_size": config.batch_size, "seed": config.seed}
    start = time.perf_counter()
    history = model.fit(**fit_args, epochs=config.epochs, callbacks=[LearningRateScheduler(schedule)],
                        verbose=verbose)
    seconds = time.perf_counter() - start
    test = model.evaluate(x_test, y_test, batch_size=1000, return_dict=True)
    error = 100.0 * (1.0 - test["accuracy"])
    log(f"test error {error:.2f}% (accuracy {test['accuracy']:.4f}, loss {test['loss']:.4f}) "
        f"after {config.epochs} epochs in {seconds:.0f}s")
    return {"test_error": round(error, 2), "test_accuracy": round(float(test["accuracy"]), 4),
            "test_loss": round(float(test["loss"]), 4), "seconds": round(seconds, 1), "epochs": config.epochs,
            "history": {k: [round(float(v), 4) for v in vals] for k, vals in history.history.items()}}


def classification_error(model, images, labels, batch_size: int = 1000) -> float:
    """Misclassified fraction (in %) of ``images`` by ``model``'s argmax, in evaluation mode, in batches.

    ``images`` and ``labels`` are Ember tensors; the model is left in ``eval()`` mode.

    Example:
        >>> import ember
        >>> net = ember.nn.Linear(2, 2)
        >>> 0.0 <= classification_error(net, ember.randn(10, 2), ember.zeros(10, dtype=ember.int64)) <= 100.0
        True
    """
    import ember

    model.eval()
    wrong = 0
    with ember.no_grad():
        for start in range(0, images.shape[0], batch_size):
            logits = model(images[start:start + batch_size])
            wrong += int((logits.argmax(dim=1) != labels[start:start + batch_size]).sum().item())
    return 100.0 * wrong / images.shape[0]
