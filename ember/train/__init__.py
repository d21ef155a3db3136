"""Keras-style training: ``Model(net).compile(...)``, ``fit``, ``evaluate``, ``predict``.

Example:
    >>> import numpy as np, ember.nn as nn
    >>> from ember.train import Model, callbacks
    >>> model = Model(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)))
    >>> model = model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    >>> x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    >>> y = np.random.default_rng(1).integers(0, 3, 64)
    >>> history = model.fit(x, y, batch_size=16, epochs=2, validation_split=0.25, verbose=0,
    ...                     callbacks=[callbacks.EarlyStopping(patience=3)])
    >>> sorted(history.history)
    ['accuracy', 'loss', 'lr', 'val_accuracy', 'val_loss']

The plain PyTorch-style loop stays available: ``model.module`` is the network and
``model.optimizer`` the optimizer, for anyone who prefers to write the loop.
"""
from . import callbacks, losses, metrics, optimizers
from .callbacks import (
                        BackupAndRestore,
                        Callback,
                        CSVLogger,
                        EarlyStopping,
                        LambdaCallback,
                        LearningRateScheduler,
                        ModelCheckpoint,
                        ReduceLROnPlateau,
                        TensorBoard,
                        TerminateOnNaN,
)
from .history import History
from .metrics import Metric
from .model import Model, fit
from .optimizers import OptimizerSpec
from .progress import ProgressBar
from .search import Choice, IntUniform, LogUniform, SearchResult, Uniform, random_search
from .tpe import PruningCallback, StudyResult, tpe_search

__all__ = ["Model", "fit", "History", "Metric", "OptimizerSpec", "ProgressBar", "callbacks", "losses", "metrics",
           "optimizers", "Callback", "LambdaCallback", "EarlyStopping", "ModelCheckpoint", "BackupAndRestore",
           "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger", "TensorBoard", "TerminateOnNaN",
           "random_search", "SearchResult", "LogUniform", "Uniform", "IntUniform", "Choice",
           "tpe_search", "StudyResult", "PruningCallback"]
