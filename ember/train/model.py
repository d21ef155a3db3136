"""``Model``: Keras's ``compile`` / ``fit`` / ``evaluate`` / ``predict`` around any Ember module.

The loop that ``fit`` runs is the one you would write by hand, nothing more::

    for epoch in range(epochs):
        module.train()
        for x, y in batches:                     # one fancy-index per batch (ember.data)
            loss = loss_fn(module(x), y)
            optimizer.zero_grad(); loss.backward(); optimizer.step()
        module.eval()
        with ember.no_grad():                    # validation
            ...

plus the practice around it: input checks before the first step, metrics,
callbacks (early stopping, checkpoints, schedules, logs), a progress bar, and
checkpoints that resume exactly. Modules stay plain modules: ``Model(net)``
wraps one without changing it, and ``model.module`` is the network.

Example:
    >>> import numpy as np, ember, ember.nn as nn
    >>> from ember.train import Model
    >>> x = np.random.default_rng(0).normal(size=(256, 2)).astype("float32")
    >>> y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    >>> model = Model(nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)))
    >>> model = model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    >>> history = model.fit(x, y, batch_size=32, epochs=20, verbose=0)
    >>> history.history["accuracy"][-1] > 0.9
    True
"""
from __future__ import annotations

import contextlib
import os
from typing import Any

import numpy as np

from .. import backend
from .. import distributed as dist
from ..autograd.grad_mode import no_grad
from ..nn.module import Module
from ..optim import Optimizer, clip_grad_norm_, clip_grad_value_
from ..tensor import Tensor
from .callbacks.base import CallbackList
from .callbacks.lr import get_lr
from .history import History
from .inputs import Batches, as_array, make_batches, split_validation
from .losses import BinaryCrossentropy, per_item
from .metrics import Mean
from .names import get_loss, resolve_metrics
from .optimizers import OptimizerSpec, get_optimizer
from .progress import ProgressBar

__all__ = ["Model", "fit"]

_TRAIN_KEY = "ember.train"  # the part of a checkpoint's `extra` that fit's resumption reads
_PROBE_SAMPLES = 8


@contextlib.contextmanager
def _modes(module: Module, training: bool):
    """Switch ``module`` to training or evaluation mode, and give every submodule its own mode back after."""
    before = [(m, m.training) for m in module.modules()]
    module.train(training)
    try:
        yield
    finally:
        for m, mode in before:
            object.__setattr__(m, "training", mode)


class Model:
    """A module with a loss, an optimizer and metrics, trained by :meth:`fit`.

    Args:
        module: the network (any :class:`ember.nn.Module`).
        name: shown by :meth:`summary` (the module's class name by default).

    Attributes:
        module: the network.
        optimizer: the :mod:`ember.optim` optimizer (after :meth:`compile`).
        loss: the loss function (after :meth:`compile`).
        metrics: the :class:`~ember.train.metrics.Metric` objects (after :meth:`compile`).
        history: the :class:`History` of the last :meth:`fit`.
        stop_training: set to True (from a callback) to end :meth:`fit` after the current batch.
        config: a JSON-like dict saved in checkpoints (what is needed to rebuild the model;
            ``ember train`` stores its recipe name and settings here).
    """

    def __init__(self, module: Module, name: str | None = None) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Model: expected an ember.nn.Module, got {type(module).__name__}")
        self.module, self.name = module, name or type(module).__name__
        self.optimizer: Optimizer | None = None
        self.loss = None
        self.metrics: list = []
        self.history: History | None = None
        self.stop_training = False
        self.config: dict = {}
        self._schedule = None  # the per-batch decay of an OptimizerSpec
        self._clipnorm = self._clipvalue = None
        self._per_item_loss = None
        self._callbacks: CallbackList | None = None
        self._data_seed: int | None = None
        self._resume: dict | None = None  # what load_checkpoint read, for the next fit
        self._sample_spec: tuple | None = None  # shapes and dtypes of one sample, for summary()

    # ------------------------------------------------------------------ set-up
    def compile(self, optimizer: Any = "rmsprop", loss: Any = None, metrics: Any = None) -> "Model":
        """Choose the optimizer, the loss and the metrics.

        Args:
            optimizer: a name (``'sgd'``, ``'rmsprop'``, ``'adam'``, ``'adamw'``,
                ``'adagrad'``, ``'adadelta'``, with Keras's defaults), an
                :class:`~ember.train.optimizers.OptimizerSpec`
                (``ember.train.optimizers.rmsprop(lr=1e-4, decay=1e-6)``), or an
                :mod:`ember.optim` optimizer built over this model's parameters.
            loss: a name (see :data:`ember.train.names.LOSSES`:
                ``'categorical_crossentropy'`` takes probabilities as in Keras,
                ``'cross_entropy'`` logits as in PyTorch, ``'mse'`` ...), a loss module
                or a function ``loss(output, target) -> scalar tensor``.
            metrics: a list of names (``'accuracy'``, ``'top_5_accuracy'``,
                ``'precision'``, ``'recall'``, ``'f1'``, ``'mse'``, ``'mae'``,
                ``'perplexity'``), :class:`~ember.train.metrics.Metric` objects or
                functions ``f(y_pred, y_true) -> float``.

        Returns:
            The model itself.

        Raises:
            ValueError: an unknown name (the message lists the known ones), no loss, or an
                optimizer that holds none of this model's parameters.
        """
        if loss is None:
            raise ValueError("compile: a loss is required, e.g. loss='cross_entropy' or loss=nn.MSELoss()")
        resolved_loss = get_loss(loss)
        resolved_metrics = resolve_metrics(metrics, resolved_loss)
        if isinstance(optimizer, Optimizer):
            self._check_optimizer(optimizer)
            built, schedule, spec = optimizer, None, None
        elif isinstance(optimizer, (str, OptimizerSpec)):
            spec = get_optimizer(optimizer)
            params = [p for p in self.module.parameters() if p.requires_grad]
            if not params:
                raise ValueError(f"compile: {self.name} has no trainable parameters to optimize")
            built, schedule = spec.build(params)
        else:
            raise TypeError(f"compile: optimizer must be a name, an OptimizerSpec or an ember.optim optimizer, "
                            f"got {type(optimizer).__name__}")
        self.optimizer, self._schedule = built, schedule
        self._clipnorm = spec.clipnorm if spec else None
        self._clipvalue = spec.clipvalue if spec else None
        self.loss, self.metrics = resolved_loss, resolved_metrics
        self._per_item_loss = None
        return self

    def _check_optimizer(self, optimizer: Optimizer) -> None:
        held = {id(p) for group in optimizer.param_groups for p in group["params"]}
        if not any(id(p) in held for p in self.module.parameters()):
            raise ValueError(f"compile: the {type(optimizer).__name__} optimizer holds none of {self.name}'s "
                             "parameters; build it with the model's parameters, e.g. "
                             "optim.SGD(net.parameters(), lr=0.01), or pass a name such as 'sgd'")

    @property
    def compiled(self) -> bool:
        """Whether :meth:`compile` has been called."""
        return self.optimizer is not None and self.loss is not None

    def _require_compiled(self, who: str) -> None:
        if not self.compiled:
            raise RuntimeError(f"{who}: call model.compile(optimizer=..., loss=...) first")

    # ------------------------------------------------------------------ tensors in and out
    def _device_and_dtype(self):
        for p in self.module.parameters():
            if p.dtype.kind == "f":
                return p.device, p.dtype
        return "cpu", backend.default_dtype()

    def _tensor(self, array, device: str, dtype) -> Tensor | None:
        if array is None:
            return None
        if array.dtype.kind == "f" and array.dtype != dtype:
            array = array.astype(dtype)
        if device != "cpu":
            array = backend.to_device(array, device)
        return Tensor(array)

    def __call__(self, *inputs):
        """Run the module (``model(x)`` is ``model.module(x)``)."""
        return self.module(*inputs)

    # ------------------------------------------------------------------ the loss
    @staticmethod
    def _align(out, target: Tensor | None) -> Tensor | None:
        """An ``(N,)`` target of an ``(N, 1)`` output takes the output's shape (as in Keras)."""
        if (target is not None and isinstance(out, Tensor) and target.shape != out.shape
                and out.ndim == target.ndim + 1 and out.shape[-1] == 1 and out.shape[:-1] == target.shape):
            return target.reshape(out.shape)
        return target

    def _item_weights(self, out, target: Tensor, sample_weight, class_weight):
        """The weight of each item of the loss (class weights times sample weights), or None."""
        if sample_weight is None and class_weight is None:
            return None
        xp = backend.array_module(target._data)
        weights = None
        if class_weight is not None:
            labels = target._data
            classes = out.shape[1] if isinstance(out, Tensor) and out.ndim >= 2 else 2
            if labels.dtype.kind in "iu" and labels.size:
                classes = max(classes, int(labels.max()) + 1)
            table = xp.ones(max(classes, len(class_weight)))
            table[:len(class_weight)] = xp.asarray(class_weight)  # classes not listed weigh 1
            if labels.dtype.kind in "iu":
                weights = table[labels]
            elif isinstance(out, Tensor) and labels.shape == out.shape and out.ndim >= 2 and out.shape[1] > 1:
                shape = (1, len(table)) + (1,) * (out.ndim - 2)
                weights = (labels * table.reshape(shape)).sum(axis=1)  # one-hot rows
            else:
                weights = table[(labels > 0.5).astype(xp.int64)]  # binary targets
        if sample_weight is not None:
            sw = xp.asarray(sample_weight)
            if weights is None:
                weights = sw
            else:
                weights = weights * sw.reshape(sw.shape + (1,) * (weights.ndim - 1))
        return weights

    def _loss_value(self, out, target: Tensor, weights) -> Tensor:
        if weights is None:
            loss = self.loss(out, target)
        else:
            if self._per_item_loss is None:
                self._per_item_loss = per_item(self.loss)
                if self._per_item_loss is None:
                    raise ValueError(f"class_weight and sample_weight need a loss with a `reduction` setting; "
                                     f"{self.loss!r} has none")
            items = self._per_item_loss(out, target)
            w = Tensor(weights.astype(items.dtype, copy=False))
            while items.ndim > w.ndim:
                items = items.mean(dim=-1)  # per-sample losses of multi-output items, as Keras
            if items.shape != w.shape:
                w = w.reshape(items.shape)
            loss = (items * w).sum() / max(items.numel(), 1)
        return loss

    # ------------------------------------------------------------------ checks before any training
    def _check_data(self, batches: Batches, who: str, class_weight=None, need_targets: bool = True) -> int:
        """Run the model, the loss and the metrics on the first samples; check every label.

        Returns the size of the output's class axis (0 when there is none).
        """
        inputs, target = batches.first(_PROBE_SAMPLES)
        self._sample_spec = tuple((a.shape[1:], a.dtype) for a in inputs)
        if need_targets and target is None:
            raise ValueError(f"{who}: no targets; pass y (or a loader yielding (x, y) batches)")
        device, dtype = self._device_and_dtype()
        with _modes(self.module, False), no_grad():
            xs = [self._tensor(a, device, dtype) for a in inputs]
            try:
                out = self.module(*xs)
            except Exception as err:
                shapes = ", ".join(str((None,) + a.shape[1:]) for a in inputs)
                raise ValueError(f"{who}: the model cannot run on the data (inputs of shape {shapes}): {err}") from err
            classes = out.shape[1] if isinstance(out, Tensor) and out.ndim >= 2 else 0
            if target is None:
                return classes
            self._check_labels(out, batches.targets if batches.targets is not None else target, who, class_weight)
            t = self._align(out, self._tensor(target, device, dtype))
            name = getattr(self.loss, "name", None) or type(self.loss).__name__
            try:
                loss = self._loss_value(out, t, None)
            except Exception as err:
                out_shape = out.shape if isinstance(out, Tensor) else type(out).__name__
                raise ValueError(f"{who}: the loss {name} fails on the first batch (model output of shape "
                                 f"{out_shape}, targets {t.dtype} of shape {t.shape}): {err}") from err
            if not isinstance(loss, Tensor) or loss.numel() != 1:
                raise ValueError(f"{who}: the loss {name} must return a single number, got "
                                 f"{getattr(loss, 'shape', type(loss).__name__)} (a reduction='none' loss?)")
            for metric in self.metrics:
                try:
                    metric(out._data if isinstance(out, Tensor) else out, t._data)
                except Exception as err:
                    raise ValueError(f"{who}: the metric {metric.name!r} fails on the first batch: {err}") from err
        return classes

    def _check_labels(self, out, labels, who: str, class_weight) -> None:
        if not isinstance(out, Tensor) or labels is None:
            return
        labels = as_array(labels, who, "y")
        if labels.size == 0:
            return
        if labels.dtype.kind in "iu" and out.ndim >= 2 and out.shape[1] > 1 and labels.ndim == out.ndim - 1:
            classes = out.shape[1]
            invalid = (labels < 0) | (labels >= classes)
            ignore = getattr(self.loss, "ignore_index", None)
            if ignore is not None:
                invalid &= labels != ignore
            if invalid.any():
                first = tuple(int(i) for i in np.argwhere(invalid)[0])
                index = first[0] if len(first) == 1 else first
                wrong = labels[invalid]
                raise ValueError(f"{who}: labels must be class indices in [0, {classes}) for a model with {classes} "
                                 f"outputs, but y holds {wrong.size} value(s) outside, in [{int(wrong.min())}, "
                                 f"{int(wrong.max())}] (e.g. y[{index}] = {int(labels[first])})")
            if class_weight is not None and len(class_weight) > classes:
                raise ValueError(f"{who}: class_weight names class {len(class_weight) - 1} but the model has "
                                 f"{classes} outputs")
        binary = type(self.loss).__name__ in ("BCELoss", "BCEWithLogitsLoss") or isinstance(self.loss,
                                                                                               BinaryCrossentropy)
        if binary and (float(labels.min()) < 0 or float(labels.max()) > 1):
            raise ValueError(f"{who}: a binary cross-entropy needs targets in [0, 1], but y holds values in "
                             f"[{labels.min()}, {labels.max()}]")

    @staticmethod
    def _class_weights(class_weight, who: str):
        if class_weight is None:
            return None
        if not isinstance(class_weight, dict) or not class_weight:
            raise ValueError(f"{who}: class_weight must be a non-empty dict {{class index: weight}}, "
                             f"got {class_weight!r}")
        keys = list(class_weight)
        if any(isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0 for k in keys):
            raise ValueError(f"{who}: class_weight keys must be class indices (non-negative ints), got {keys}")
        table = np.ones(max(keys) + 1)  # classes not listed weigh 1 (_item_weights extends the table)
        for k, v in class_weight.items():
            table[k] = float(v)
        return table

    # ------------------------------------------------------------------ training
    def fit(self, x: Any = None, y: Any = None, batch_size: int | None = None, epochs: int = 1,
            verbose: int | str = "auto", callbacks: list | None = None, validation_split: float = 0.0,
            validation_data: Any = None, shuffle: bool = True, class_weight: dict | None = None,
            sample_weight: Any = None, initial_epoch: int | None = None, validation_batch_size: int | None = None,
            validation_freq: int = 1, seed: int | None = None) -> History:
        """Train for ``epochs`` epochs; returns the :class:`History`.

        Args:
            x: inputs (an array, a tuple of arrays for several inputs, an
                :class:`ember.data.Dataset` or a :class:`~ember.data.DataLoader` yielding
                ``(x, y)`` batches).
            y: targets (with array inputs): class indices, one-hot rows or values.
            batch_size: samples per batch (32 by default; ignored for a loader).
            epochs: the index of the last epoch (``fit`` runs epochs ``initial_epoch`` ...
                ``epochs - 1``; after a resume, the total, as in Keras).
            verbose: 0 silent, 1 progress bar (a line per epoch when not on a terminal),
                2 a line per epoch; ``'auto'`` is 1.
            callbacks: :class:`~ember.train.callbacks.Callback` objects.
            validation_split: the fraction of the arrays, taken from the end before
                shuffling, held out for validation.
            validation_data: ``(x_val, y_val)``, ``(x_val, y_val, sample_weight)``, a
                Dataset or a DataLoader.
            shuffle: reshuffle the arrays every epoch.
            class_weight: ``{class: weight}``, multiplying the loss of each item by the
                weight of its class (classes not listed weigh 1).
            sample_weight: one weight per training sample (arrays only).
            initial_epoch: the epoch to start at; by default 0, or the epoch after the
                one saved in a checkpoint restored by :meth:`load_checkpoint`.
            validation_batch_size: the batch size of validation (``batch_size`` by default).
            validation_freq: validate every that many epochs.
            seed: the seed of the data order (by default drawn from Ember's generator,
                so ``ember.manual_seed`` makes the whole run reproducible).

        Returns:
            The :class:`History` (also ``model.history``).

        Raises:
            ValueError: bad data (mismatched lengths, labels outside the model's classes,
                targets the loss cannot take), found before the first training step.
        """
        who = "fit"
        self._require_compiled(who)
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"{who}: epochs must be a non-negative int, got {epochs!r}")
        if isinstance(validation_freq, bool) or not isinstance(validation_freq, int) or validation_freq < 1:
            raise ValueError(f"{who}: validation_freq must be a positive int, got {validation_freq!r}")
        if verbose == "auto":
            verbose = 1
        if verbose not in (0, 1, 2):
            raise ValueError(f"{who}: verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        if validation_split and validation_data is not None:
            raise ValueError(f"{who}: pass validation_split or validation_data, not both")
        batch_size = 32 if batch_size is None else batch_size
        if validation_split:
            (x, y, sample_weight), validation_data = split_validation(x, y, sample_weight, validation_split, who)
        train = make_batches(x, y, who, batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight)
        class_table = self._class_weights(class_weight, who)
        self._check_data(train, who, class_table)
        valid = None
        if validation_data is not None:
            valid = self._validation_batches(validation_data, validation_batch_size or batch_size)
            self._check_data(valid, f"{who} (validation data)")

        history = History()
        steps = train.steps
        names = ["loss"] + [m.name for m in self.metrics]
        params = {"epochs": int(epochs), "steps": steps, "batch_size": batch_size, "samples": train.samples,
                  "verbose": verbose,
                  "metrics": names + ([f"val_{n}" for n in names] if valid is not None else []) + ["lr"]}
        # History first: checkpoints written by later callbacks must include this epoch's logs.
        # Under mpiexec only rank 0 shows progress (and, in CallbackList, writes files).
        show_progress = verbose and dist.is_main_process()
        callback_list = CallbackList([history] + ([ProgressBar(verbose)] if show_progress else [])
                                     + list(callbacks or []), model=self, params=params)
        # A plain module under several ranks: same initial weights, gradients averaged
        # after every backward (a DataParallel module does this itself).
        self._sync_gradients = dist.world_size() > 1 and not isinstance(self.module, dist.DataParallel)
        if self._sync_gradients:
            dist.broadcast_parameters(self.module)
        self._callbacks, self.history, self.stop_training = callback_list, history, False
        resume, self._resume = self._resume, None
        start = self._begin_run(initial_epoch, seed, resume)
        callback_list.on_train_begin()
        if self._resume is not None:  # a callback (BackupAndRestore) restored a checkpoint
            resume, self._resume = self._resume, None
            start = self._begin_run(None, seed, resume)
        if resume is not None and resume.get("callbacks"):
            callback_list.load_state_dict(resume["callbacks"])

        logs: dict = {}
        try:
            for epoch in range(start, int(epochs)):
                callback_list.on_epoch_begin(epoch)
                logs = self._train_epoch(train, epoch, callback_list, class_table)
                if valid is not None and (epoch + 1) % validation_freq == 0:
                    val_logs = self._run_evaluation(valid, callback_list)
                    logs.update({f"val_{k}": v for k, v in val_logs.items()})
                logs["lr"] = get_lr(self.optimizer)
                callback_list.on_epoch_end(epoch, logs)
                dist.barrier()  # files written by rank 0 are complete before anyone goes on
                if self.stop_training:
                    break
            # As in Keras, an exception skips on_train_end (BackupAndRestore then keeps its backup).
            callback_list.on_train_end(logs)
            dist.barrier()
        finally:
            self._callbacks = None
        return history

    def _begin_run(self, initial_epoch: int | None, seed: int | None, resume: dict | None) -> int:
        """Decide the first epoch and the data seed (explicit values win over a restored checkpoint)."""
        if seed is not None:
            self._data_seed = int(seed)
        elif resume is not None and resume.get("data_seed") is not None:
            self._data_seed = int(resume["data_seed"])
        else:
            self._data_seed = int(backend.generator().integers(0, 2**31 - 1))
        # Every rank must shuffle (and so shard) with one seed.
        self._data_seed = int(dist.broadcast_value(self._data_seed))
        if initial_epoch is not None:
            if isinstance(initial_epoch, bool) or not isinstance(initial_epoch, int) or initial_epoch < 0:
                raise ValueError(f"fit: initial_epoch must be a non-negative int, got {initial_epoch!r}")
            return initial_epoch
        return int(resume.get("epoch") or 0) if resume is not None else 0

    def _validation_batches(self, data, batch_size: int) -> Batches:
        if isinstance(data, tuple):
            if len(data) not in (2, 3):
                raise ValueError(f"fit: validation_data must be (x, y) or (x, y, sample_weight), got a tuple of "
                                 f"{len(data)} items")
            return make_batches(data[0], data[1], "fit (validation data)", batch_size=batch_size,
                                sample_weight=data[2] if len(data) == 3 else None)
        return make_batches(data, None, "fit (validation data)", batch_size=batch_size)

    def _train_epoch(self, train: Batches, epoch: int, callback_list: CallbackList, class_table) -> dict:
        loss_mean = Mean("loss")
        for metric in self.metrics:
            metric.reset()
        logs: dict = {}
        device, dtype = self._device_and_dtype()
        with _modes(self.module, True):
            for step, (inputs, target, weight) in enumerate(train.epoch(epoch, self._data_seed)):
                size = len(inputs[0])
                callback_list.on_train_batch_begin(step, {"batch": step, "size": size})
                value = self._train_step(inputs, target, weight, class_table, device, dtype)
                loss_mean.update(value, size)
                logs = {"loss": loss_mean.result(), **{m.name: m.result() for m in self.metrics}}
                callback_list.on_train_batch_end(step, {**logs, "batch": step, "size": size})
                if self.stop_training:
                    break
        if dist.world_size() > 1:
            # The epoch's numbers are those of all ranks' samples together.
            for metric in [loss_mean] + list(self.metrics):
                dist.allreduce_metric(metric)
            logs = {"loss": loss_mean.result(), **{m.name: m.result() for m in self.metrics}}
        return logs

    def _train_step(self, inputs, target, weight, class_table, device, dtype) -> float:
        xs = [self._tensor(a, device, dtype) for a in inputs]
        out = self.module(*xs)
        t = self._align(out, self._tensor(target, device, dtype))
        loss = self._loss_value(out, t, self._item_weights(out, t, weight, class_table))
        self.optimizer.zero_grad()
        loss.backward()
        if getattr(self, "_sync_gradients", False):
            dist.allreduce_gradients(list(self.module.parameters()))
        if self._clipnorm is not None:
            clip_grad_norm_(self.module.parameters(), self._clipnorm)
        if self._clipvalue is not None:
            clip_grad_value_(self.module.parameters(), self._clipvalue)
        self.optimizer.step()
        if self._schedule is not None:
            self._schedule.step()
        if self.metrics:
            prediction = out._data if isinstance(out, Tensor) else out
            for metric in self.metrics:
                metric.update(prediction, t._data)
        return float(loss.item())

    def train_on_batch(self, x, y, sample_weight=None, class_weight: dict | None = None) -> float:
        """One optimizer step on one batch; returns its loss.

        Example:
            >>> import numpy as np, ember.nn as nn
            >>> model = Model(nn.Linear(3, 1)).compile("sgd", "mse")
            >>> loss = model.train_on_batch(np.ones((4, 3), "float32"), np.zeros((4, 1), "float32"))
        """
        self._require_compiled("train_on_batch")
        device, dtype = self._device_and_dtype()
        inputs = tuple(as_array(v, "train_on_batch", "x") for v in (x if isinstance(x, tuple) else (x,)))
        weight = None if sample_weight is None else as_array(sample_weight, "train_on_batch", "sample_weight")
        with _modes(self.module, True):
            return self._train_step(inputs, as_array(y, "train_on_batch", "y"), weight,
                                    self._class_weights(class_weight, "train_on_batch"), device, dtype)

    # ------------------------------------------------------------------ evaluation and prediction
    def _run_evaluation(self, batches: Batches, callback_list: CallbackList | None = None) -> dict:
        loss_mean = Mean("loss")
        for metric in self.metrics:
            metric.reset()
        device, dtype = self._device_and_dtype()
        if callback_list is not None:
            callback_list.on_test_begin()
        with _modes(self.module, False), no_grad():
            for step, (inputs, target, weight) in enumerate(batches.epoch(0, None)):
                if callback_list is not None:
                    callback_list.on_test_batch_begin(step)
                out = self.module(*[self._tensor(a, device, dtype) for a in inputs])
                t = self._align(out, self._tensor(target, device, dtype))
                loss = self._loss_value(out, t, self._item_weights(out, t, weight, None))
                loss_mean.update(float(loss.item()), len(inputs[0]))
                prediction = out._data if isinstance(out, Tensor) else out
                for metric in self.metrics:
                    metric.update(prediction, t._data)
                if callback_list is not None:
                    callback_list.on_test_batch_end(step, {"loss": loss_mean.result()})
        logs = {"loss": loss_mean.result(), **{m.name: m.result() for m in self.metrics}}
        if callback_list is not None:
            callback_list.on_test_end(logs)
        return logs

    def evaluate(self, x: Any = None, y: Any = None, batch_size: int | None = None, verbose: int = 0,
                 sample_weight: Any = None, return_dict: bool = False, callbacks: list | None = None):
        """The loss and metrics on the given data (in evaluation mode, without gradients).

        Returns:
            With ``return_dict=True`` a dict ``{'loss': ..., 'accuracy': ...}``; otherwise,
            as Keras, the loss alone when there are no metrics, else ``[loss, *metrics]``.

        Example:
            >>> import numpy as np, ember.nn as nn
            >>> model = Model(nn.Linear(2, 1)).compile("sgd", "mse", metrics=["mae"])
            >>> sorted(model.evaluate(np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"),
            ...                       return_dict=True))
            ['loss', 'mae']
        """
        self._require_compiled("evaluate")
        batches = make_batches(x, y, "evaluate", batch_size=32 if batch_size is None else batch_size,
                               sample_weight=sample_weight)
        self._check_data(batches, "evaluate")
        callback_list = CallbackList(callbacks or [], model=self, params={"verbose": verbose, "steps": batches.steps})
        logs = self._run_evaluation(batches, callback_list)
        if verbose:
            from .progress import format_logs

            print(format_logs(logs))
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def predict(self, x: Any, batch_size: int | None = None, verbose: int = 0, callbacks: list | None = None):
        """The model's outputs for ``x``, batch by batch, as one NumPy array.

        ``x`` is an array (or tuple of arrays), a Dataset or a loader (its targets, if
        any, are ignored). A model returning a tuple gives a tuple of arrays.

        Example:
            >>> import numpy as np, ember.nn as nn
            >>> Model(nn.Linear(3, 2)).predict(np.zeros((5, 3), "float32")).shape
            (5, 2)
        """
        batches = make_batches(x, None, "predict", batch_size=32 if batch_size is None else batch_size)
        device, dtype = self._device_and_dtype()
        callback_list = CallbackList(callbacks or [], model=self, params={"verbose": verbose, "steps": batches.steps})
        callback_list.on_predict_begin()
        outputs = []
        with _modes(self.module, False), no_grad():
            for step, (inputs, _, _) in enumerate(batches.epoch(0, None)):
                callback_list.on_predict_batch_begin(step)
                out = self.module(*[self._tensor(a, device, dtype) for a in inputs])
                outputs.append(tuple(_host(o) for o in out) if isinstance(out, (tuple, list)) else _host(out))
                callback_list.on_predict_batch_end(step)
        callback_list.on_predict_end()
        if outputs and isinstance(outputs[0], tuple):
            return tuple(np.concatenate(parts) for parts in zip(*outputs))
        return np.concatenate(outputs)

    # ------------------------------------------------------------------ weights and checkpoints
    def get_weights(self) -> dict:
        """Copies of the parameters and buffers, ``{name: array}`` (``state_dict`` order)."""
        return {name: t._data.copy() for name, t in self.module.state_dict().items()}

    def set_weights(self, weights: dict) -> None:
        """Load what :meth:`get_weights` returned."""
        self.module.load_state_dict(weights)

    def save_weights(self, path: str | os.PathLike) -> None:
        """Write the weights alone (safetensors, atomic; :func:`ember.save`)."""
        from ..io import save  # io is needed only when saving

        save(self.module.state_dict(), path, metadata={"ember.train.model": self.name})

    def load_weights(self, path: str | os.PathLike, strict: bool = True):
        """Load weights from a weights file or a checkpoint (:func:`ember.io.load_weights`)."""
        from ..io import load_weights

        return load_weights(self.module, path, strict=strict)

    def save_checkpoint(self, path: str | os.PathLike | None = None, *, epoch: int | None = None,
                        manager=None, metric: float | None = None):
        """Write everything a resumed ``fit`` needs, atomically (:func:`ember.io.save_checkpoint`).

        The file holds the weights, the optimizer and decay-schedule states, Ember's
        random generators, ``epoch`` (the number of finished epochs), the data-order
        seed, the state of the running callbacks (history, early-stopping counters ...)
        and :attr:`config`.

        Args:
            path: the file (or give ``manager``, an :class:`ember.io.CheckpointManager`).
            epoch: the number of finished epochs.
            manager: write ``<prefix>-<epoch>.safetensors`` through this manager.
            metric: a number the manager uses to find the best checkpoint.

        Returns:
            The path written.
        """
        from ..io import save_checkpoint

        callbacks = self._callbacks.state_dict() if self._callbacks is not None else {}
        extra = {_TRAIN_KEY: {"epoch": epoch, "data_seed": self._data_seed, "callbacks": callbacks,
                              "model": self.name}, "config": self.config}
        if manager is not None:
            return manager.save(int(epoch or 0), self.module, self.optimizer, self._schedule, epoch=epoch,
                                metric=metric, extra=extra)
        if path is None:
            raise ValueError("save_checkpoint: give a path or a manager")
        return save_checkpoint(path, self.module, self.optimizer, self._schedule, epoch=epoch, metric=metric,
                               extra=extra)

    def load_checkpoint(self, path: str | os.PathLike, restore_rng: bool | None = None):
        """Restore a checkpoint; the next :meth:`fit` continues where it stopped.

        A compiled model gets its weights, optimizer state, decay schedule and (unless
        ``restore_rng=False``) Ember's random generators back; an uncompiled one only
        its weights (for :meth:`evaluate` or :meth:`predict` after ``compile``).

        Returns:
            The :class:`ember.io.Checkpoint` (``epoch``, ``extra`` with :attr:`config`...).
        """
        from ..io import load_checkpoint, read_checkpoint

        info = read_checkpoint(path)
        compiled = self.compiled
        optimizer = self.optimizer if compiled and info.optimizer_state is not None else None
        schedule = self._schedule if compiled and info.scheduler_state is not None else None
        rng = (compiled if restore_rng is None else restore_rng) and info.rng_state is not None
        checkpoint = load_checkpoint(path, self.module, optimizer, schedule, restore_rng=rng)
        self.config = dict(checkpoint.extra.get("config") or {})
        state = checkpoint.extra.get(_TRAIN_KEY) or {}
        self._resume = {"epoch": state.get("epoch", checkpoint.epoch), "data_seed": state.get("data_seed"),
                        "callbacks": state.get("callbacks") or {}}
        return checkpoint

    # ------------------------------------------------------------------ description
    def summary(self, input_shape: tuple | None = None, dtype: Any = None, print_fn=print) -> str:
        """Print (and return) a table of the layers, their output shapes and parameter counts.

        Output shapes come from one forward pass on a batch of zeros: of ``input_shape``
        (one sample's shape, without the batch axis), or of the data last given to
        ``fit``/``evaluate``. Without either, shapes are shown as ``?``.

        Example:
            >>> import ember.nn as nn
            >>> text = Model(nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))).summary(
            ...     input_shape=(784,), print_fn=lambda s: None)
            >>> "Total params: 25,450" in text
            True
        """
        from .summary import summarize

        spec = None
        if input_shape is not None:
            spec = ((tuple(input_shape), np.dtype(dtype) if dtype is not None else self._device_and_dtype()[1]),)
        elif self._sample_spec is not None:
            spec = self._sample_spec
        text = summarize(self, spec)
        if print_fn is not None:
            print_fn(text)
        return text

    def __repr__(self) -> str:
        state = f"optimizer={type(self.optimizer).__name__}, loss={self.loss!r}" if self.compiled else "not compiled"
        return f"Model({self.name}, {state})"


def _host(out) -> np.ndarray:
    data = out._data if isinstance(out, Tensor) else out
    return backend.to_device(data, "cpu") if backend.device_of(data) != "cpu" else np.asarray(data)


def fit(module: Module, x: Any = None, y: Any = None, *, optimizer: Any = "rmsprop", loss: Any = None,
        metrics: Any = None, **fit_options: Any) -> History:
    """Compile and fit ``module`` in one call: ``Model(module).compile(...).fit(...)``.

    Example:
        >>> import numpy as np, ember.nn as nn
        >>> net = nn.Linear(3, 1)
        >>> h = fit(net, np.ones((8, 3), "float32"), np.zeros((8, 1), "float32"), optimizer="sgd",
        ...         loss="mse", epochs=2, verbose=0)
        >>> len(h.history["loss"])
        2
    """
    return Model(module).compile(optimizer=optimizer, loss=loss, metrics=metrics).fit(x, y, **fit_options)
