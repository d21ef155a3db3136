"""Random hyper-parameter search (Bergstra and Bengio, 2012).

Random search samples every hyper-parameter independently in each trial. When
only a few of them matter, which is the usual case, it explores those few far
better than a grid of the same size. Learning rates and weight decays are
sampled log-uniformly, sizes uniformly over integers, discrete settings from a
list.

Trial ``t`` draws its parameters from ``default_rng([seed, t])`` and seeds
Ember with a number derived from the same pair, so a search is reproducible from
its seed, whatever the number of processes running the trials.

Example:
    >>> import numpy as np, ember.nn as nn
    >>> from ember.train import Model, random_search, LogUniform, IntUniform
    >>> def build(params):
    ...     net = nn.Sequential(nn.Linear(2, params["hidden"]), nn.Tanh(), nn.Linear(params["hidden"], 2))
    ...     return Model(net).compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    >>> x = np.random.default_rng(0).normal(size=(200, 2)).astype("float32")
    >>> y = (x[:, 0] > 0).astype("int64")
    >>> result = random_search(build, {"hidden": IntUniform(2, 16)}, trials=3, x=x, y=y,
    ...                        validation_split=0.25, epochs=2, verbose=0)
    >>> len(result.trials), sorted(result.best_params)
    (3, ['hidden'])
"""
from __future__ import annotations

import csv
import math
import os
import pickle
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..blas_threads import child_blas_threads

__all__ = ["Distribution", "LogUniform", "Uniform", "IntUniform", "Choice", "sample_params", "Trial",
           "SearchResult", "random_search"]


# ---------------------------------------------------------------------- distributions
class Distribution:
    """A distribution of one hyper-parameter: ``sample(rng)`` returns a value."""

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def suggest(self, trial: Any, name: str) -> Any:
        """The value an optuna ``trial`` proposes for ``name`` (model-based search, :mod:`ember.train.tpe`)."""
        raise NotImplementedError


def _check_range(name: str, low, high, positive: bool = False) -> None:
    if not (isinstance(low, (int, float)) and isinstance(high, (int, float))) or not low <= high:
        raise ValueError(f"{name}: expected low <= high, got low={low!r}, high={high!r}")
    if positive and low <= 0:
        raise ValueError(f"{name}: the bounds of a log-uniform distribution must be positive, got low={low!r}")


class LogUniform(Distribution):
    """Uniform in ``log``: as likely in ``[1e-4, 1e-3]`` as in ``[1e-3, 1e-2]`` (learning rates).

    Example:
        >>> import numpy as np
        >>> 1e-4 <= LogUniform(1e-4, 1e-1).sample(np.random.default_rng(0)) <= 1e-1
        True
    """

    def __init__(self, low: float, high: float) -> None:
        _check_range("LogUniform", low, high, positive=True)
        self.low, self.high = float(low), float(high)

    def sample(self, rng: np.random.Generator) -> float:
        return float(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))

    def suggest(self, trial: Any, name: str) -> float:
        return float(trial.suggest_float(name, self.low, self.high, log=True))

    def __repr__(self) -> str:
        return f"LogUniform({self.low:g}, {self.high:g})"


class Uniform(Distribution):
    """Uniform in ``[low, high]`` (dropout rates, momenta).

    Example:
        >>> import numpy as np
        >>> 0.1 <= Uniform(0.1, 0.5).sample(np.random.default_rng(0)) <= 0.5
        True
    """

    def __init__(self, low: float, high: float) -> None:
        _check_range("Uniform", low, high)
        self.low, self.high = float(low), float(high)

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))

    def suggest(self, trial: Any, name: str) -> float:
        return float(trial.suggest_float(name, self.low, self.high))

    def __repr__(self) -> str:
        return f"Uniform({self.low:g}, {self.high:g})"


class IntUniform(Distribution):
    """A uniform integer in ``[low, high]``, both included (layer sizes, numbers of layers).

    Example:
        >>> import numpy as np
        >>> IntUniform(3, 3).sample(np.random.default_rng(0))
        3
    """

    def __init__(self, low: int, high: int) -> None:
        _check_range("IntUniform", low, high)
        if int(low) != low or int(high) != high:
            raise ValueError(f"IntUniform: bounds must be integers, got {low!r}, {high!r}")
        self.low, self.high = int(low), int(high)

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def suggest(self, trial: Any, name: str) -> int:
        return int(trial.suggest_int(name, self.low, self.high))

    def __repr__(self) -> str:
        return f"IntUniform({self.low}, {self.high})"


class Choice(Distribution):
    """One of ``options``, each equally likely (optimizers, activations, batch sizes).

    Example:
        >>> import numpy as np
        >>> Choice(["adam"]).sample(np.random.default_rng(0))
        'adam'
    """

    def __init__(self, options) -> None:
        self.options = list(options)
        if not self.options:
            raise ValueError("Choice: needs at least one option")

    def sample(self, rng: np.random.Generator) -> Any:
        value = self.options[int(rng.integers(len(self.options)))]
        return value.item() if isinstance(value, np.generic) else value

    def suggest(self, trial: Any, name: str) -> Any:
        options = [v.item() if isinstance(v, np.generic) else v for v in self.options]
        return trial.suggest_categorical(name, options)

    def __repr__(self) -> str:
        return f"Choice({self.options!r})"


def sample_params(space: dict, rng: np.random.Generator) -> dict:
    """One draw of every hyper-parameter of ``space`` (constants are copied as they are).

    Example:
        >>> import numpy as np
        >>> sample_params({"hidden": IntUniform(64, 64), "epochs": 5}, np.random.default_rng(0))
        {'hidden': 64, 'epochs': 5}
    """
    return {name: d.sample(rng) if isinstance(d, Distribution) else d for name, d in space.items()}


def _trial_seeds(seed: int, index: int) -> tuple[np.random.Generator, int]:
    """The parameter generator and the Ember seed of trial ``index``."""
    return np.random.default_rng([seed, index]), int(np.random.default_rng([seed, index, 1]).integers(2**31 - 1))


# ---------------------------------------------------------------------- results
@dataclass
class Trial:
    """One trial: its parameters, its best monitored value and how it got there."""

    index: int
    params: dict
    seed: int
    score: float = math.nan
    best_epoch: int | None = None
    epochs_run: int = 0
    seconds: float = 0.0
    history: dict = field(default_factory=dict)
    error: str | None = None
    pruned: bool = False


class SearchResult:
    """The trials of a search, best first (failed trials last).

    Attributes:
        trials: the :class:`Trial` objects, sorted by score.
        monitor, mode: what was optimised and in which direction.
    """

    def __init__(self, trials: list[Trial], monitor: str, mode: str) -> None:
        sign = 1.0 if mode == "min" else -1.0
        self.trials = sorted(trials, key=lambda t: (math.isnan(t.score), sign * t.score if not math.isnan(t.score)
                                                    else 0.0, t.index))
        self.monitor, self.mode = monitor, mode

    @property
    def best(self) -> Trial:
        """The best trial."""
        return self.trials[0]

    @property
    def best_params(self) -> dict:
        """The parameters of the best trial."""
        return self.best.params

    @property
    def best_score(self) -> float:
        """The best value of the monitored quantity."""
        return self.best.score

    def __len__(self) -> int:
        return len(self.trials)

    def __iter__(self):
        return iter(self.trials)

    def table(self, max_rows: int | None = None) -> str:
        """The trials as a text table, best first."""
        names = list(dict.fromkeys(k for t in self.trials for k in t.params))
        header = ["rank", "trial", self.monitor, "epoch", *names, "time"]
        rows = []
        for rank, t in enumerate(self.trials[:max_rows], 1):
            score = "failed" if t.error else f"{t.score:.4g}"
            epoch = "-" if t.best_epoch is None else str(t.best_epoch + 1)
            rows.append([str(rank), str(t.index), score, epoch, *(_cell(t.params.get(n)) for n in names),
                         f"{t.seconds:.1f}s"])
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths))]
        lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in rows]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"SearchResult({len(self.trials)} trials, best {self.monitor}={self.best_score:.4g})"

    def to_csv(self, path: str | os.PathLike) -> None:
        """Write one row per trial (rank order) to a CSV file."""
        names = list(dict.fromkeys(k for t in self.trials for k in t.params))
        with open(path, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["rank", "trial", "seed", self.monitor, "best_epoch", "epochs_run", *names,
                             "seconds", "error"])
            for rank, t in enumerate(self.trials, 1):
                writer.writerow([rank, t.index, t.seed, t.score, t.best_epoch, t.epochs_run,
                                 *(t.params.get(n) for n in names), round(t.seconds, 3), t.error or ""])


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


# ---------------------------------------------------------------------- running trials
def run_trial(build_fn: Callable, index: int, params: dict, seed: int, data: dict, settings: dict,
              callbacks: list | None = None) -> Trial:
    """Build, train and score one trial (in this process); ``callbacks`` are added to ``fit``'s."""
    import ember  # also the entry point of worker processes

    from .callbacks import EarlyStopping
    from .callbacks.monitor import Monitor
    from .model import Model

    trial = Trial(index=index, params=params, seed=seed)
    start = time.perf_counter()
    try:
        ember.manual_seed(seed)
        model = build_fn(dict(params))
        if not isinstance(model, Model) or not model.compiled:
            raise TypeError(f"build_fn must return a compiled ember.train.Model, got {type(model).__name__}")
        callbacks = list(callbacks or [])
        if settings["patience"] is not None:
            callbacks.append(EarlyStopping(settings["monitor"], min_delta=settings["min_delta"],
                                           patience=settings["patience"], mode=settings["mode"]))
        fit_options = dict(settings["fit_kwargs"])
        fit_options.update(epochs=params.get("epochs", settings["epochs"]),
                           batch_size=params.get("batch_size", settings["batch_size"]))
        history = model.fit(data["x"], data["y"], validation_data=data["validation_data"],
                            validation_split=data["validation_split"], callbacks=callbacks, verbose=0, seed=seed,
                            **fit_options)
        values = history.history.get(settings["monitor"])
        if values is None:
            raise KeyError(f"{settings['monitor']!r} was not logged; logged: {', '.join(sorted(history.history))}")
        monitor = Monitor("random_search", settings["monitor"], settings["mode"]).resolve(None)
        trial.best_epoch, trial.score = history.best(settings["monitor"], monitor.mode)
        trial.epochs_run, trial.history = len(history.epoch), history.history
    except Exception as err:  # a diverging or broken trial must not end the search
        trial.error = f"{type(err).__name__}: {err}"
    trial.seconds = time.perf_counter() - start
    return trial


_WORKER_DATA: dict = {}


def _init_worker(data: dict) -> None:
    _WORKER_DATA.update(data)


def _worker_trial(build_fn, index, params, seed, settings) -> Trial:
    return run_trial(build_fn, index, params, seed, _WORKER_DATA, settings)


def prepare_search(who: str, build_fn: Callable, space: dict, trials: int, n_jobs: int, *, x: Any, y: Any,
                   validation_data: Any, validation_split: float, epochs: int, batch_size: int, monitor: str,
                   mode: str, patience: int | None, min_delta: float, fit_kwargs: dict | None) -> tuple[dict, dict]:
    """Check a search's arguments; returns the ``settings`` and ``data`` dicts that :func:`run_trial` takes.

    Shared by :func:`random_search` and :func:`ember.train.tpe.tpe_search` (``who`` names the caller in errors).
    """
    from .callbacks.monitor import Monitor

    if not callable(build_fn):
        raise TypeError(f"{who}: build_fn must be callable, got {type(build_fn).__name__}")
    if not isinstance(space, dict) or not space:
        raise ValueError(f"{who}: space must be a non-empty dict {{name: distribution}}")
    for positive, name in ((trials, "trials"), (n_jobs, "n_jobs")):
        if isinstance(positive, bool) or not isinstance(positive, int) or positive < 1:
            raise ValueError(f"{who}: {name} must be a positive int, got {positive!r}")
    if monitor.startswith("val_") and validation_data is None and not validation_split:
        raise ValueError(f"{who}: monitor={monitor!r} needs validation_data or validation_split")
    resolved_mode = Monitor(who, monitor, mode).resolve(None).mode
    settings = {"monitor": monitor, "mode": resolved_mode, "patience": patience, "min_delta": min_delta,
                "epochs": epochs, "batch_size": batch_size, "fit_kwargs": dict(fit_kwargs or {})}
    data = {"x": x, "y": y, "validation_data": validation_data, "validation_split": validation_split}
    return settings, data


def random_search(build_fn: Callable[[dict], Any], space: dict, trials: int = 10, *, x: Any = None, y: Any = None,
                  validation_data: Any = None, validation_split: float = 0.0, epochs: int = 10,
                  batch_size: int = 32, monitor: str = "val_loss", mode: str = "auto", patience: int | None = None,
                  min_delta: float = 0.0, seed: int = 0, n_jobs: int = 1, verbose: int = 1,
                  fit_kwargs: dict | None = None) -> SearchResult:
    """Train ``trials`` models with randomly drawn hyper-parameters; rank them by ``monitor``.

    Args:
        build_fn: ``build_fn(params) -> Model``: a compiled :class:`~ember.train.Model`
            built from one draw of ``space``. With ``n_jobs > 1`` it must be a
            module-level function (it is sent to other processes).
        space: ``{name: distribution or constant}`` with :class:`LogUniform`,
            :class:`Uniform`, :class:`IntUniform`, :class:`Choice`. The names
            ``batch_size`` and ``epochs`` also set those of ``fit``.
        trials: the number of trials.
        x, y, validation_data, validation_split: the data, as for ``fit``.
        epochs, batch_size: per trial (unless drawn from ``space``).
        monitor: the logged quantity that ranks trials (its best epoch counts).
        mode: ``'min'``, ``'max'`` or ``'auto'`` (``'max'`` for accuracy-like names).
        patience: stop a trial early after that many epochs without improvement
            (None: run every epoch).
        min_delta: the least change that counts as an improvement for ``patience``.
        seed: the search's seed; the same seed gives the same trials.
        n_jobs: processes running trials at once (``spawn``ed; each uses
            ``cpu_count // n_jobs`` BLAS threads).
        verbose: 1 prints a line per finished trial.
        fit_kwargs: other arguments of ``fit`` (``class_weight``, ``shuffle`` ...).

    Returns:
        A :class:`SearchResult`; ``print(result)`` shows the table, best first.
    """
    settings, data = prepare_search("random_search", build_fn, space, trials, n_jobs, x=x, y=y,
                                    validation_data=validation_data, validation_split=validation_split,
                                    epochs=epochs, batch_size=batch_size, monitor=monitor, mode=mode,
                                    patience=patience, min_delta=min_delta, fit_kwargs=fit_kwargs)
    resolved_mode = settings["mode"]
    plan = []
    for index in range(trials):
        rng, trial_seed = _trial_seeds(seed, index)
        plan.append((index, sample_params(space, rng), trial_seed))

    def report(trial: Trial) -> None:
        if verbose:
            settings_text = ", ".join(f"{k}={_cell(v)}" for k, v in trial.params.items())
            outcome = f"failed ({trial.error})" if trial.error else f"{monitor} {trial.score:.4g}"
            print(f"trial {trial.index + 1}/{trials}: {outcome} [{settings_text}] {trial.seconds:.1f}s", flush=True)

    done: list[Trial] = []
    if n_jobs == 1:
        for index, params, trial_seed in plan:
            done.append(run_trial(build_fn, index, params, trial_seed, data, settings))
            report(done[-1])
    else:
        done = _run_parallel(build_fn, plan, data, settings, n_jobs, report)
    if all(t.error for t in done):
        raise RuntimeError(f"random_search: all {trials} trials failed; the first: {done[0].error}")
    return SearchResult(done, monitor, resolved_mode)


def _run_parallel(build_fn, plan, data, settings, n_jobs: int, report) -> list[Trial]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    try:
        pickle.dumps(build_fn)
    except (pickle.PicklingError, AttributeError, TypeError) as err:
        raise TypeError("random_search: with n_jobs > 1, build_fn must be a module-level function (lambdas and "
                        f"local functions cannot be sent to other processes): {err}") from None
    threads = max(1, (os.cpu_count() or 1) // n_jobs)
    done = []
    with child_blas_threads(threads), ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn"),
                                                     initializer=_init_worker, initargs=(data,)) as pool:
        futures = [pool.submit(_worker_trial, build_fn, index, params, trial_seed, settings)
                   for index, params, trial_seed in plan]
        for future in as_completed(futures):
            done.append(future.result())
            report(done[-1])
    return sorted(done, key=lambda t: t.index)
