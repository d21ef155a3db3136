"""``Callback``: code that ``fit``, ``evaluate`` and ``predict`` call at fixed points.

A callback overrides the hooks it needs. ``fit`` calls, in order::

    on_train_begin
      on_epoch_begin(epoch)
        on_train_batch_begin(batch) ... on_train_batch_end(batch, logs)   # per batch
        on_test_begin ... on_test_batch_end ... on_test_end              # validation
      on_epoch_end(epoch, logs)          # logs: loss, metrics, val_loss, val_metrics, lr
    on_train_end

Inside a hook, ``self.model`` is the :class:`~ember.train.Model` (its
``module``, ``optimizer``, ``stop_training``...) and ``self.params`` the run's
settings (``epochs``, ``steps``, ``batch_size``, ``samples``, ``verbose``, and
``metrics``: the keys the epoch logs will hold).
Setting ``self.model.stop_training = True`` ends training after the current batch.

A callback whose state matters for resuming (a patience counter, a best value)
returns it from ``state_dict()``; checkpoints written during ``fit`` save it and
``fit`` restores it after a resume. Callbacks that write checkpoints set
``writes_checkpoints = True``: they run after all the others at every hook, so
that what they save includes the other callbacks' updates for the epoch.
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["Callback", "CallbackList", "LambdaCallback"]

_LOGS_ONLY = ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end", "on_predict_begin",
              "on_predict_end")

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class of callbacks; every hook does nothing until overridden.

    Example:
        >>> class PrintLoss(Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         print(f"epoch {epoch}: loss {logs['loss']:.3f}")
    """

    #: Run after the other callbacks (checkpoint writers: they save everyone's state).
    writes_checkpoints: bool = False
    #: Runs on rank 0 only under mpiexec (callbacks that write files or logs).
    main_process_only: bool = False

    def __init__(self) -> None:
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        """Called by ``fit`` before training with the :class:`~ember.train.Model`."""
        self.model = model

    def set_params(self, params: dict) -> None:
        """Called by ``fit`` with the run's settings."""
        self.params = params

    def on_train_begin(self, logs: dict | None = None) -> None: ...
    def on_train_end(self, logs: dict | None = None) -> None: ...
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_begin(self, logs: dict | None = None) -> None: ...
    def on_test_end(self, logs: dict | None = None) -> None: ...
    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_begin(self, logs: dict | None = None) -> None: ...
    def on_predict_end(self, logs: dict | None = None) -> None: ...
    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None: ...
    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None: ...

    def state_dict(self) -> dict | None:
        """The state to save in a checkpoint for resuming (None: nothing to save)."""
        return None

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""


class LambdaCallback(Callback):
    """A callback from plain functions, one per hook (the simplest way to write your own).

    Args:
        **hooks: functions named after the hooks, e.g. ``on_epoch_end=lambda epoch, logs: ...``.
            ``on_batch_begin``/``on_batch_end`` are accepted for the training batch hooks.

    Example:
        >>> losses = []
        >>> record = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
    """

    def __init__(self, **hooks: Callable) -> None:
        super().__init__()
        aliases = {"on_batch_begin": "on_train_batch_begin", "on_batch_end": "on_train_batch_end"}
        for name, fn in hooks.items():
            name = aliases.get(name, name)
            if name not in _HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {name!r}; hooks are {', '.join(_HOOKS)}")
            if not callable(fn):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {type(fn).__name__}")
            setattr(self, name, fn)


class CallbackList:
    """Several callbacks called in order; what ``fit`` talks to.

    Example:
        >>> calls = []
        >>> callbacks = CallbackList([LambdaCallback(on_train_begin=lambda logs: calls.append("begin"))])
        >>> callbacks.on_train_begin(); calls
        ['begin']
    """

    def __init__(self, callbacks=(), model=None, params: dict | None = None) -> None:
        self.callbacks: list[Callback] = []
        for callback in callbacks or ():
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks: expected Callback objects, got {type(callback).__name__} "
                                "(wrap a function in LambdaCallback)")
            self.callbacks.append(callback)
        self.callbacks.sort(key=lambda c: c.writes_checkpoints)  # stable: the order is kept otherwise
        for callback in self.callbacks:
            if model is not None:
                callback.set_model(model)
            if params is not None:
                callback.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name not in _HOOKS:
            raise AttributeError(name)

        takes_index = name not in _LOGS_ONLY

        def call_all(*args: Any, **kwargs: Any) -> None:
            if "logs" not in kwargs and len(args) < 1 + takes_index:
                args = args + ({},)  # every hook receives a logs dict, as in Keras
            from ... import distributed as dist

            main = dist.is_main_process()
            for callback in self.callbacks:
                if main or not callback.main_process_only:
                    getattr(callback, name)(*args, **kwargs)

        return call_all

    def _keys(self):
        """A stable key per callback: its class name, numbered when the class repeats."""
        seen: dict[str, int] = {}
        for callback in self.callbacks:
            name = type(callback).__name__
            index = seen.get(name, 0)
            seen[name] = index + 1
            yield (name if index == 0 else f"{name}#{index}"), callback

    def state_dict(self) -> dict:
        """``{key: state}`` of the callbacks that have a state."""
        states = {}
        for key, callback in self._keys():
            state = callback.state_dict()
            if state is not None:
                states[key] = state
        return states

    def load_state_dict(self, states: dict) -> None:
        """Give each callback its saved state (callbacks not in ``states`` keep theirs)."""
        for key, callback in self._keys():
            if key in states:
                callback.load_state_dict(states[key])
