"""Callbacks: code run by ``fit`` at the start and end of training, epochs and batches.

Write your own by subclassing :class:`Callback` (override the hooks you need) or
with :class:`LambdaCallback` and plain functions.

Example:
    >>> from ember.train.callbacks import EarlyStopping, LambdaCallback
    >>> callbacks = [EarlyStopping(patience=2),
    ...              LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs["loss"]))]
"""
from .base import Callback, CallbackList, LambdaCallback
from .checkpoint import BackupAndRestore, ModelCheckpoint
from .early_stopping import EarlyStopping
from .loggers import CSVLogger, TensorBoard, TerminateOnNaN
from .lr import LearningRateScheduler, ReduceLROnPlateau
from .monitor import Monitor

__all__ = ["Callback", "CallbackList", "LambdaCallback", "EarlyStopping", "ModelCheckpoint", "BackupAndRestore",
           "LearningRateScheduler", "ReduceLROnPlateau", "CSVLogger", "TensorBoard", "TerminateOnNaN", "Monitor"]
