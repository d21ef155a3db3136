"""Model-based hyper-parameter search: TPE (Bergstra et al., 2011) through optuna, with pruning.

Random search (:mod:`ember.train.search`) draws every trial blindly. The
Tree-structured Parzen Estimator models the good and the bad trials seen so far
with two densities, ``l(x)`` and ``g(x)``, and proposes the point that maximises
``l(x) / g(x)``: after a few random start-up trials it concentrates on the
promising region. optuna implements it; this module feeds it Ember's trials:

* the search space is the one :func:`~ember.train.random_search` takes
  (:class:`~ember.train.LogUniform`, :class:`~ember.train.Uniform`,
  :class:`~ember.train.IntUniform`, :class:`~ember.train.Choice`, constants);
* every epoch's ``monitor`` value is reported to optuna by :class:`PruningCallback`,
  and a median or successive-halving pruner stops trials whose learning curve
  lags behind (``pruner='median'`` / ``'halving'``);
* with ``storage='study.db'`` the study lives in an SQLite file: running the same
  call again resumes it (``trials`` is the total the study should reach), and
  ``n_jobs=k`` runs trials in ``k`` processes sharing that file;
* :func:`plot_study` saves the optimisation history and the parameter
  importances as PNG files.

Trial ``t`` seeds Ember exactly as random search's trial ``t`` does, so the two
strategies compare on equal terms: same budget, same seeds, different choices.

Example:
    >>> import numpy as np, ember.nn as nn
    >>> from ember.train import Model, LogUniform, IntUniform
    >>> from ember.train.tpe import tpe_search
    >>> def build(params):
    ...     net = nn.Sequential(nn.Linear(2, params["hidden"]), nn.Tanh(), nn.Linear(params["hidden"], 2))
    ...     return Model(net).compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    >>> x = np.random.default_rng(0).normal(size=(200, 2)).astype("float32")
    >>> y = (x[:, 0] > 0).astype("int64")
    >>> result = tpe_search(build, {"hidden": IntUniform(2, 16)}, trials=3, x=x, y=y,
    ...                     validation_split=0.25, epochs=2, verbose=0)  # doctest: +SKIP
    >>> len(result.trials)  # doctest: +SKIP
    3
"""
from __future__ import annotations

import json
import math
import multiprocessing
import os
import pathlib
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable

from .callbacks import Callback
from ..blas_threads import child_blas_threads
from .search import Distribution, SearchResult, Trial, _cell, _trial_seeds, prepare_search, run_trial

__all__ = ["PruningCallback", "StudyResult", "tpe_search", "make_sampler", "make_pruner", "plot_study"]

_INSTALL_HINT = 'pip install "ember[train]" (or pip install optuna)'


def _optuna():
    try:
        import optuna
    except ImportError as err:
        raise ImportError(f"ember.train.tpe needs optuna: {_INSTALL_HINT}") from err
    return optuna


class PruningCallback(Callback):
    """Report ``monitor`` to an optuna trial after every epoch; stop ``fit`` when the pruner says so.

    The trial is not pruned from inside ``fit`` (an exception there would be taken
    for a failure): the callback sets ``model.stop_training`` and :attr:`pruned`;
    the objective then raises ``optuna.TrialPruned``.

    Args:
        trial: the ``optuna.Trial`` being run.
        monitor: the logged quantity (``'val_loss'``, ``'val_accuracy'`` ...).
    """

    def __init__(self, trial: Any, monitor: str) -> None:
        self.trial, self.monitor = trial, monitor
        self.pruned = False

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None or not math.isfinite(float(value)):
            return
        self.trial.report(float(value), step=epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.model.stop_training = True


def make_sampler(name: str, seed: int, startup_trials: int = 5) -> Any:
    """An optuna sampler by name: ``'tpe'`` (TPE after ``startup_trials`` random ones) or ``'random'``."""
    optuna = _optuna()
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"tpe_search: sampler must be 'tpe' or 'random', got {name!r}")


def make_pruner(name: str | None, startup_trials: int = 3, warmup_epochs: int = 1) -> Any:
    """An optuna pruner by name: ``'median'``, ``'halving'`` (successive halving) or None (no pruning).

    ``'median'`` stops a trial whose value at an epoch is worse than the median of the
    earlier trials at that epoch (after ``startup_trials`` trials and ``warmup_epochs``
    epochs); ``'halving'`` keeps the best ``1/3`` at epochs 1, 3, 9 ... (asynchronous
    successive halving, Li et al. 2018).
    """
    optuna = _optuna()
    if name is None:
        return optuna.pruners.NopPruner()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=warmup_epochs)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    raise ValueError(f"tpe_search: pruner must be 'median', 'halving' or None, got {name!r}")


class StudyResult(SearchResult):
    """A :class:`~ember.train.search.SearchResult` read from an optuna study (every session of it).

    Attributes:
        study: the ``optuna.Study`` (for optuna's own analyses and plots).
        pruned: how many trials the pruner stopped.
    """

    def __init__(self, study: Any, monitor: str, mode: str) -> None:
        self.study = study
        trials = [_from_frozen(t) for t in study.get_trials(deepcopy=False)
                  if t.state.name in ("COMPLETE", "PRUNED", "FAIL")]
        super().__init__(trials, monitor, mode)
        self.pruned = sum(t.pruned for t in trials)

    def best_so_far(self) -> list[float]:
        """The best score after each trial, in the order the trials were run (pruned ones count)."""
        sign = 1.0 if self.mode == "min" else -1.0
        out, best = [], math.inf
        for t in sorted(self.trials, key=lambda t: t.index):
            if not math.isnan(t.score):
                best = min(best, sign * t.score)
            out.append(sign * best if math.isfinite(best) else math.nan)
        return out

    def plot(self, folder: str | os.PathLike) -> list[pathlib.Path]:
        """Save the study's plots as PNG files in ``folder``; see :func:`plot_study`."""
        return plot_study(self.study, folder)

    def __repr__(self) -> str:
        return f"StudyResult({len(self.trials)} trials, {self.pruned} pruned, best {self.monitor}={self.best_score:.4g})"


def _from_frozen(frozen: Any) -> Trial:
    attrs = frozen.user_attrs
    return Trial(index=frozen.number, params=json.loads(attrs.get("params", "{}")), seed=int(attrs.get("seed", -1)),
                 score=float(attrs.get("score", math.nan)), best_epoch=attrs.get("best_epoch"),
                 epochs_run=int(attrs.get("epochs_run", 0)), seconds=float(attrs.get("seconds", 0.0)),
                 history=json.loads(attrs.get("history", "{}")), error=attrs.get("error"),
                 pruned=frozen.state.name == "PRUNED")


def _objective(build_fn: Callable, space: dict, seed: int, data: dict, settings: dict, verbose: int,
               total: int) -> Callable:
    optuna = _optuna()

    def objective(otrial):
        params = {name: d.suggest(otrial, name) if isinstance(d, Distribution) else d for name, d in space.items()}
        _, trial_seed = _trial_seeds(seed, otrial.number)  # random search's trial t gets the same seed
        pruning = PruningCallback(otrial, settings["monitor"])
        trial = run_trial(build_fn, otrial.number, params, trial_seed, data, settings, callbacks=[pruning])
        history = {k: [float(v) for v in values] for k, values in trial.history.items()}
        for key, value in (("params", json.dumps(params)), ("seed", trial_seed), ("score", trial.score),
                           ("best_epoch", trial.best_epoch), ("epochs_run", trial.epochs_run),
                           ("seconds", trial.seconds), ("history", json.dumps(history)), ("error", trial.error)):
            otrial.set_user_attr(key, value)
        if verbose:
            text = ", ".join(f"{k}={_cell(v)}" for k, v in params.items())
            outcome = (f"failed ({trial.error})" if trial.error else
                       f"{settings['monitor']} {trial.score:.4g}" + (" (pruned)" if pruning.pruned else ""))
            print(f"trial {otrial.number + 1}/{total}: {outcome} [{text}] {trial.seconds:.1f}s", flush=True)
        if trial.error:
            raise RuntimeError(trial.error)  # optuna records the trial as failed; the search goes on
        if pruning.pruned:
            raise optuna.TrialPruned(f"pruned after epoch {trial.epochs_run}")
        return trial.score

    return objective


def _open_study(storage: str | None, study_name: str, sampler: str, pruner: str | None, seed: int,
                direction: str, startup_trials: int) -> Any:
    optuna = _optuna()
    url = None
    if storage is not None:
        url = storage if "://" in str(storage) else f"sqlite:///{os.fspath(storage)}"
    return optuna.create_study(storage=url, study_name=study_name, direction=direction, load_if_exists=True,
                               sampler=make_sampler(sampler, seed, startup_trials), pruner=make_pruner(pruner))


def _run_share(build_fn, space, seed, data, settings, storage, study_name, sampler, pruner, direction,
               startup_trials, share, process) -> None:
    """One process's share of the trials of a parallel study (all processes share the storage)."""
    optuna = _optuna()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Each process needs its own sampler seed, or all of them would propose the same points.
    study = _open_study(storage, study_name, sampler, pruner, seed * 1000 + process, direction, startup_trials)
    study.optimize(_objective(build_fn, space, seed, data, settings, 0, share), n_trials=share,
                   catch=(RuntimeError,))


def tpe_search(build_fn: Callable[[dict], Any], space: dict, trials: int = 20, *, x: Any = None, y: Any = None,
               validation_data: Any = None, validation_split: float = 0.0, epochs: int = 10, batch_size: int = 32,
               monitor: str = "val_loss", mode: str = "auto", sampler: str = "tpe", pruner: str | None = "median",
               startup_trials: int = 5, storage: str | os.PathLike | None = None, study_name: str = "ember",
               patience: int | None = None, min_delta: float = 0.0, seed: int = 0, n_jobs: int = 1,
               verbose: int = 1, fit_kwargs: dict | None = None) -> StudyResult:
    """Search ``space`` with TPE (or random sampling), pruning bad trials from their learning curves.

    Args:
        build_fn, space, x, y, validation_data, validation_split, epochs, batch_size,
            monitor, mode, patience, min_delta, fit_kwargs: as for
            :func:`~ember.train.random_search`.
        trials: the number of finished trials the study should hold; with a
            ``storage`` that already has some, only the missing ones run (resume).
        sampler: ``'tpe'`` or ``'random'`` (optuna's samplers, seeded by ``seed``).
        pruner: ``'median'``, ``'halving'`` or None; fed every epoch's ``monitor``.
        startup_trials: random trials before TPE starts modelling.
        storage: an SQLite file (``'study.db'``) or an SQLAlchemy URL holding the
            study; None keeps it in memory.
        study_name: the study's name inside ``storage``.
        n_jobs: processes running trials at once (needs ``storage``; ``build_fn``
            must then be a module-level function). Parallel trials are not
            reproducible: which trial sees which results depends on timing.
        verbose: 1 prints a line per finished trial (in this process).

    Returns:
        A :class:`StudyResult`: the trials best first, ``.study``, ``.plot(folder)``.

    Raises:
        ImportError: optuna is not installed.
        RuntimeError: every trial failed.
    """
    optuna = _optuna()
    settings, data = prepare_search("tpe_search", build_fn, space, trials, n_jobs, x=x, y=y,
                                    validation_data=validation_data, validation_split=validation_split,
                                    epochs=epochs, batch_size=batch_size, monitor=monitor, mode=mode,
                                    patience=patience, min_delta=min_delta, fit_kwargs=fit_kwargs)
    if n_jobs > 1 and storage is None:
        raise ValueError("tpe_search: n_jobs > 1 needs a storage (e.g. storage='study.db') that the processes share")
    direction = "minimize" if settings["mode"] == "min" else "maximize"
    if not verbose:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    make_sampler(sampler, seed), make_pruner(pruner)  # argument errors before anything runs
    study = _open_study(storage, study_name, sampler, pruner, seed, direction, startup_trials)
    if study.direction.name.lower() != direction:
        raise ValueError(f"tpe_search: the stored study {study_name!r} is a {study.direction.name.lower()} study, "
                         f"but monitor={monitor!r} asks to {direction}")
    finished = sum(t.state.name in ("COMPLETE", "PRUNED", "FAIL") for t in study.get_trials(deepcopy=False))
    remaining = max(0, trials - finished)
    if remaining and n_jobs == 1:
        study.optimize(_objective(build_fn, space, seed, data, settings, verbose, trials), n_trials=remaining,
                       catch=(RuntimeError,))
    elif remaining:
        _run_parallel(build_fn, space, seed, data, settings, os.fspath(storage), study_name, sampler, pruner,
                      direction, startup_trials, remaining, n_jobs)
    result = StudyResult(study, monitor, settings["mode"])
    if result.trials and all(t.error for t in result.trials):
        raise RuntimeError(f"tpe_search: all {len(result.trials)} trials failed; the first: "
                           f"{result.trials[0].error}")
    return result


def _run_parallel(build_fn, space, seed, data, settings, storage, study_name, sampler, pruner, direction,
                  startup_trials, remaining: int, n_jobs: int) -> None:
    try:
        pickle.dumps(build_fn)
    except (pickle.PicklingError, AttributeError, TypeError) as err:
        raise TypeError("tpe_search: with n_jobs > 1, build_fn must be a module-level function (lambdas and local "
                        f"functions cannot be sent to other processes): {err}") from None
    shares = [remaining // n_jobs + (i < remaining % n_jobs) for i in range(n_jobs)]
    threads = max(1, (os.cpu_count() or 1) // n_jobs)
    with child_blas_threads(threads), ProcessPoolExecutor(max_workers=n_jobs,
                                                     mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_run_share, build_fn, space, seed, data, settings, storage, study_name, sampler,
                               pruner, direction, startup_trials, share, i) for i, share in enumerate(shares) if share]
        for future in futures:
            future.result()


def plot_study(study: Any, folder: str | os.PathLike) -> list[pathlib.Path]:
    """Save ``optimization_history.png`` and ``param_importances.png`` (optuna's matplotlib plots).

    The importances need at least two finished trials and a space of more than
    one varying parameter; without them only the history is written.

    Returns:
        The paths written.
    """
    optuna = _optuna()
    import warnings

    import matplotlib
    matplotlib.use("Agg", force=False)
    from optuna.visualization import matplotlib as vis

    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    plots = [("optimization_history.png", vis.plot_optimization_history)]
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.COMPLETE]
    if len(complete) >= 2 and len({k for t in complete for k in t.params}) >= 2:
        plots.append(("param_importances.png", vis.plot_param_importances))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        for name, plot in plots:
            axes = plot(study)
            figure = axes.figure
            figure.savefig(folder / name, dpi=100, bbox_inches="tight")
            import matplotlib.pyplot as plt  # optuna draws through pyplot: close its figure
            plt.close(figure)
            written.append(folder / name)
    return written
