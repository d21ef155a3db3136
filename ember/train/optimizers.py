"""Optimizers by name, built once the model's parameters are known (``keras.optimizers`` style).

An :mod:`ember.optim` optimizer needs the parameters when it is made; Keras code
makes the optimizer first and hands it to ``compile``. An :class:`OptimizerSpec`
bridges the two: it records a name and settings, and ``compile`` builds the real
optimizer over the model's parameters. The lower-case functions read like Keras:

    >>> from ember.train import optimizers
    >>> spec = optimizers.rmsprop(lr=0.0001, decay=1e-6)   # keras.optimizers.rmsprop(lr=0.0001, decay=1e-6)
    >>> spec
    OptimizerSpec('rmsprop', lr=0.0001, rho=0.9, decay=1e-06)

Defaults are Keras's (``'rmsprop'`` is ``RMSprop(lr=1e-3, alpha=0.9, eps=1e-7)``);
Keras's argument names are accepted beside PyTorch's: ``learning_rate``/``lr``,
``rho`` (RMSprop's ``alpha``), ``epsilon``, ``beta_1``/``beta_2``. ``decay`` is the
classic Keras per-batch inverse-time decay, ``lr / (1 + decay * iterations)``;
``clipnorm`` and ``clipvalue`` clip the gradients before every step.
"""
from __future__ import annotations

from typing import Any

from .. import optim

__all__ = ["OptimizerSpec", "sgd", "rmsprop", "adam", "adamw", "adagrad", "adadelta", "get_optimizer",
           "OPTIMIZERS"]

#: name -> (class, Keras's defaults)
OPTIMIZERS: dict[str, tuple[type, dict]] = {
    "sgd": (optim.SGD, {"lr": 0.01}),
    "rmsprop": (optim.RMSprop, {"lr": 1e-3, "alpha": 0.9, "eps": 1e-7}),
    "adam": (optim.Adam, {"lr": 1e-3, "eps": 1e-7}),
    "adamw": (optim.AdamW, {"lr": 1e-3, "eps": 1e-7}),
    "adagrad": (optim.Adagrad, {"lr": 0.01, "eps": 1e-7}),
    "adadelta": (optim.Adadelta, {"lr": 1.0, "rho": 0.95, "eps": 1e-7}),
}
_TRAINING_OPTIONS = ("decay", "clipnorm", "clipvalue")


class OptimizerSpec:
    """An optimizer to build later: a name from :data:`OPTIMIZERS` and its settings.

    Attributes:
        name: the optimizer's name.
        options: the settings as given.
        decay, clipnorm, clipvalue: the training-loop settings (None when unset).

    Example:
        >>> import ember
        >>> spec = OptimizerSpec("sgd", lr=0.1, momentum=0.9, nesterov=True)
        >>> opt, schedule = spec.build([ember.zeros(3, requires_grad=True)])
        >>> type(opt).__name__, opt.param_groups[0]["lr"], schedule
        ('SGD', 0.1, None)
    """

    def __init__(self, name: str, **options: Any) -> None:
        key = name.lower()
        if key not in OPTIMIZERS:
            from .names import unknown_name_error  # names imports this module

            raise unknown_name_error("optimizer", name, list(OPTIMIZERS))
        self.name, self.options = key, dict(options)
        self.decay = options.get("decay")
        self.clipnorm = options.get("clipnorm")
        self.clipvalue = options.get("clipvalue")
        for option in ("decay", "clipnorm", "clipvalue"):
            value = options.get(option)
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise ValueError(f"{name}: {option} must be a non-negative number, got {value!r}")
        self._kwargs()  # unknown or misspelled settings fail here, before any model is built

    def _kwargs(self) -> dict:
        cls, defaults = OPTIMIZERS[self.name]
        kwargs = dict(defaults)
        betas = list(kwargs.get("betas", (0.9, 0.999)))
        for key, value in self.options.items():
            if key in _TRAINING_OPTIONS:
                continue
            if key == "learning_rate":
                key = "lr"
            elif key == "epsilon":
                key = "eps"
            elif key == "rho" and cls is optim.RMSprop:
                key = "alpha"
            elif key in ("beta_1", "beta_2"):
                betas[int(key[-1]) - 1] = value
                kwargs["betas"] = tuple(betas)
                continue
            kwargs[key] = value
        if "betas" in kwargs and cls not in (optim.Adam, optim.AdamW):
            raise TypeError(f"{self.name}: beta_1/beta_2 apply to Adam and AdamW only")
        known = set(cls.rules) | {"lr"}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f"{self.name}: unknown setting(s) {unknown}; {cls.__name__} accepts "
                            f"{sorted(known)} and {list(_TRAINING_OPTIONS)}")
        return kwargs

    def build(self, params) -> tuple[optim.Optimizer, Any]:
        """The optimizer over ``params``, and the per-batch decay schedule (or None)."""
        cls, _ = OPTIMIZERS[self.name]
        optimizer = cls(list(params), **self._kwargs())
        schedule = optim.schedule.InverseTimeDecay(optimizer, decay_rate=self.decay) if self.decay else None
        return optimizer, schedule

    def __repr__(self) -> str:
        settings = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"OptimizerSpec({self.name!r}{settings})"


def get_optimizer(optimizer: str | OptimizerSpec, **options: Any) -> OptimizerSpec:
    """An :class:`OptimizerSpec` from a name (with settings) or a spec (returned as is)."""
    if isinstance(optimizer, OptimizerSpec):
        return optimizer
    if isinstance(optimizer, str):
        return OptimizerSpec(optimizer, **options)
    raise TypeError(f"get_optimizer: expected an optimizer name or OptimizerSpec, got {type(optimizer).__name__}")


def sgd(lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False, **options: Any) -> OptimizerSpec:
    """Stochastic gradient descent (Keras's ``SGD``)."""
    return OptimizerSpec("sgd", lr=lr, momentum=momentum, nesterov=nesterov, **options)


def rmsprop(lr: float = 1e-3, rho: float = 0.9, **options: Any) -> OptimizerSpec:
    """RMSprop (Keras's defaults: ``lr=1e-3``, ``rho=0.9``, ``epsilon=1e-7``)."""
    return OptimizerSpec("rmsprop", lr=lr, rho=rho, **options)


def adam(lr: float = 1e-3, **options: Any) -> OptimizerSpec:
    """Adam."""
    return OptimizerSpec("adam", lr=lr, **options)


def adamw(lr: float = 1e-3, **options: Any) -> OptimizerSpec:
    """AdamW (decoupled weight decay)."""
    return OptimizerSpec("adamw", lr=lr, **options)


def adagrad(lr: float = 0.01, **options: Any) -> OptimizerSpec:
    """Adagrad."""
    return OptimizerSpec("adagrad", lr=lr, **options)


def adadelta(lr: float = 1.0, rho: float = 0.95, **options: Any) -> OptimizerSpec:
    """Adadelta (Keras's classic defaults: ``lr=1.0``, ``rho=0.95``)."""
    return OptimizerSpec("adadelta", lr=lr, rho=rho, **options)
