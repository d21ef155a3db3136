"""TPE against random search on two zoo models: how many trials each needs to reach the same validation score.

Usage::

    EMBER_DATA=/work/shared/data OMP_NUM_THREADS=1 python -m benchmarks.search_tpe            # both models
    python -m benchmarks.search_tpe --models mlp --trials 20 --seeds 0 1 2 --out runs/search

For every model and seed, both strategies get the same budget (``--trials``), the
same data and the same per-trial Ember seeds (trial ``t`` initialises and shuffles
identically in both); only the choice of hyper-parameters differs:
:func:`ember.train.random_search` draws them independently, :func:`ember.train.tpe.tpe_search`
(no pruning, so the budgets stay equal) draws ``--startup`` random trials and then follows TPE.
The table gives random search's best validation accuracy over the budget, TPE's,
and the first trial at which TPE reached random search's best (``-``: it did not).
With ``--out``, the TPE studies' optimisation-history and importance plots are saved there.
"""
from __future__ import annotations

import argparse
import pathlib
import time

import numpy as np

from ember.data import load_mnist
from ember.train import IntUniform, LogUniform, Model, Uniform, optimizers, random_search
from ember.train.tpe import tpe_search


def build_mlp(params: dict) -> Model:
    """The zoo MLP, one hidden layer of ``hidden`` units."""
    from ember.models.mlp import MLP

    net = MLP(784, (params["hidden"],), 10, dropout=params["dropout"])
    return Model(net).compile(optimizers.sgd(lr=params["lr"], momentum=params["momentum"]), "cross_entropy",
                              metrics=["accuracy"])


def build_lenet(params: dict) -> Model:
    """The zoo LeNet-5."""
    from ember.models.lenet import LeNet5

    return Model(LeNet5()).compile(optimizers.sgd(lr=params["lr"], momentum=params["momentum"]), "cross_entropy",
                                   metrics=["accuracy"])


MODELS = {
    # name: (build, space, train samples, validation samples, epochs)
    "mlp": (build_mlp, {"lr": LogUniform(1e-4, 1.0), "momentum": Uniform(0.0, 0.99), "hidden": IntUniform(8, 256),
                        "dropout": Uniform(0.0, 0.6)}, 2000, 1000, 3),
    "lenet": (build_lenet, {"lr": LogUniform(1e-4, 1.0), "momentum": Uniform(0.0, 0.99)}, 1000, 500, 3),
}


def mnist_subset(train: int, validation: int):
    """The first ``train`` + ``validation`` MNIST training images, scaled to [0, 1], as (N, 1, 28, 28)."""
    (x, y), _ = load_mnist()
    x = (x[:train + validation].astype(np.float32) / 255.0)[:, None]
    y = y[:train + validation]
    return (x[:train], y[:train]), (x[train:], y[train:])


def first_reaching(curve: list[float], target: float) -> int | None:
    """The 1-based trial at which the best-so-far ``curve`` reaches ``target`` (None: never)."""
    for index, value in enumerate(curve, 1):
        if value >= target:
            return index
    return None


def best_so_far(result) -> list[float]:
    scores = [t.score if not np.isnan(t.score) else -np.inf for t in sorted(result.trials, key=lambda t: t.index)]
    return list(np.maximum.accumulate(scores))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--startup", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)

    rows = []
    for name in args.models:
        build, space, n_train, n_val, epochs = MODELS[name]
        (x, y), validation = mnist_subset(n_train, n_val)
        for seed in args.seeds:
            common = dict(x=x, y=y, validation_data=validation, epochs=epochs, batch_size=args.batch_size,
                          monitor="val_accuracy", seed=seed, verbose=0)
            start = time.perf_counter()
            random = random_search(build, space, trials=args.trials, **common)
            random_seconds = time.perf_counter() - start
            start = time.perf_counter()
            tpe = tpe_search(build, space, trials=args.trials, sampler="tpe", pruner=None,
                             startup_trials=args.startup, **common)
            tpe_seconds = time.perf_counter() - start
            random_curve, tpe_curve = best_so_far(random), best_so_far(tpe)
            target = random_curve[-1]
            rows.append((name, seed, target, first_reaching(random_curve, target), tpe_curve[-1],
                         first_reaching(tpe_curve, target), random_seconds, tpe_seconds))
            print(f"{name} seed {seed}: random best {target:.4f} at trial {rows[-1][3]}, TPE best "
                  f"{tpe_curve[-1]:.4f}, reached random's best at trial {rows[-1][5]} "
                  f"({random_seconds:.0f}s / {tpe_seconds:.0f}s)", flush=True)
            if args.out is not None:
                tpe.plot(args.out / f"{name}-seed{seed}")

    print()
    print(f"| model | seed | random: best val acc ({args.trials} trials) | random: trial reaching it | "
          f"TPE: best val acc | TPE: first trial >= random's best | time random / TPE |")
    print("|---|---|---|---|---|---|---|")
    for name, seed, target, at_random, tpe_best, at_tpe, rs, ts in rows:
        print(f"| {name} | {seed} | {target:.4f} | {at_random} | {tpe_best:.4f} | {at_tpe or '-'} | "
              f"{rs:.0f}s / {ts:.0f}s |")


if __name__ == "__main__":
    main()
