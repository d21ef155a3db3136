"""The ``ember`` command line: ``train``, ``evaluate``, ``info`` and ``demo``.

Exit status: 0 on success, 1 when the command ran and failed (missing data, a bad
checkpoint, a diverging run), 2 for a usage error (as every argparse program), 130
when interrupted with Ctrl-C. Errors go to standard error as ``ember CMD: error: ...`` (set ``EMBER_DEBUG=1`` for
the traceback).
"""
from __future__ import annotations

import argparse
import os
import sys

from .blas_threads import BLAS_THREAD_VARIABLES

_EXAMPLES = """\
examples:
  ember train mlp --epochs 2 --out runs/mlp          # MNIST, prints test accuracy
  ember train lenet --dataset fashion-mnist --lr 1e-3 --out runs/lenet
  ember train mlp --set hidden=512 --set dropout=0.2 --validation-split 0.1 --patience 3
  ember evaluate runs/mlp/model.safetensors
  ember info
"""


def _blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info  # optional
    except ImportError:
        for name in BLAS_THREAD_VARIABLES:
            if os.environ.get(name):
                return f"{os.environ[name]} (from {name})"
        return f"library default (usually {os.cpu_count()}, one per core; set OMP_NUM_THREADS to change)"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return ", ".join(f"{p['num_threads']} ({p.get('internal_api')})" for p in pools) or "unknown"


def _info() -> int:
    import importlib.metadata

    import numpy

    import ember
    from ember import backend

    blas = getattr(getattr(numpy, "__config__", None), "CONFIG", {}).get("Build Dependencies", {}).get("blas", {})
    print(f"ember {ember.__version__}")
    print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}")
    print(f"BLAS: {blas.get('name', 'unknown')} {blas.get('version', '')}".rstrip())
    print(f"BLAS threads: {_blas_threads()}; CPU cores: {os.cpu_count()}")
    cupy = backend.cupy_module()
    print(f"array backends: numpy (CPU){', cupy (CUDA)' if cupy is not None else ''}; "
          f"default dtype: {backend.default_dtype()}")
    if cupy is None:
        print("GPU: not available (install cupy for NVIDIA GPUs)")
    else:
        try:
            count = cupy.cuda.runtime.getDeviceCount()
            names = [cupy.cuda.runtime.getDeviceProperties(i)["name"].decode() for i in range(count)]
            print(f"GPU: {count} device(s) via cupy {cupy.__version__}: {', '.join(names)}")
        except Exception as err:  # a driver problem must not break `ember info`
            print(f"GPU: cupy {cupy.__version__} installed but no usable device ({err})")
    extras = []
    for package in ("tqdm", "matplotlib", "tensorboardX", "torch", "mpi4py", "onnxruntime"):
        try:
            extras.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            extras.append(f"{package} -")
    print("optional packages: " + ", ".join(extras))
    print(f"data directory: {os.environ.get('EMBER_DATA') or os.path.expanduser('~/.cache/ember')}")
    return 0


def _print_logs(prefix: str, logs: dict) -> None:
    print(prefix + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()))


def _zoo_recipes():
    """The recipe registry with the model zoo's recipes in it (the zoo registers on import)."""
    import ember.models  # noqa: F401 - registers char_rnn, gpt and the zoo's classifiers
    from ember.train import recipes

    return recipes


def _train(args, parser) -> int:
    recipes = _zoo_recipes()

    overrides = {}
    for text in args.set or ():
        try:
            key, value = recipes.parse_setting(text)
        except ValueError as err:
            parser.error(f"--set: {err}")
        overrides[key] = value
    for key in ("epochs", "batch_size", "lr", "optimizer"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    verbose = 0 if args.quiet else "auto"
    _, _, test = recipes.train_recipe(args.model, args.dataset, out=args.out, overrides=overrides, seed=args.seed,
                                      validation_split=args.validation_split, patience=args.patience,
                                      download=args.download, verbose=verbose, max_samples=args.max_samples)
    _print_logs("test: ", test)
    if args.out:
        print(f"saved {os.path.join(args.out, recipes.CHECKPOINT_NAME)} (evaluate it with: ember evaluate "
              f"{os.path.join(args.out, recipes.CHECKPOINT_NAME)})")
    return 0


def _evaluate(args, parser) -> int:
    recipes = _zoo_recipes()

    model, dataset, logs = recipes.evaluate_checkpoint(args.checkpoint, args.dataset, batch_size=args.batch_size,
                                                       download=args.download, max_samples=args.max_samples)
    print(f"{model.config.get('recipe')} on the {dataset} test set")
    _print_logs("test: ", logs)
    return 0


def _recipe_lines() -> str:
    RECIPES = _zoo_recipes().RECIPES

    width = max(len(name) for name in RECIPES)
    return "\n".join(f"  {name:<{width}}  {r.description} [{', '.join(r.datasets)}]" for name, r in RECIPES.items())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ember", description="Ember: a readable, NumPy-native deep learning "
                                     "framework.", epilog=_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    recipes = _zoo_recipes()
    DATASETS, RECIPES = recipes.DATASETS, recipes.RECIPES

    train = sub.add_parser("train", help="train a model of the zoo and test it",
                           description="Train a model on its dataset, print the test metrics and, with --out, save "
                           "a checkpoint that `ember evaluate` reads. Run again with the same --out to resume an "
                           "interrupted run.", epilog="models:\n" + _recipe_lines(),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    train.add_argument("model", metavar="MODEL", choices=sorted(RECIPES), help="one of: " + ", ".join(sorted(RECIPES)))
    train.add_argument("--dataset", choices=sorted(DATASETS), help="the dataset (default: the model's first)")
    train.add_argument("--epochs", type=int, metavar="N", help="number of epochs")
    train.add_argument("--batch-size", type=int, metavar="B", help="samples per batch")
    train.add_argument("--lr", type=float, metavar="LR", help="learning rate")
    train.add_argument("--optimizer", metavar="NAME", help="sgd, rmsprop, adam, adamw, adagrad or adadelta")
    train.add_argument("--out", metavar="DIR", help="save model.safetensors, history.csv and curves.png here")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    train.add_argument("--validation-split", type=float, default=0.0, metavar="F",
                       help="hold out this fraction of the training set for validation")
    train.add_argument("--patience", type=int, metavar="P", help="stop after P epochs without a better val_loss")
    train.add_argument("--set", action="append", metavar="KEY=VALUE", help="a model setting, e.g. hidden=512")
    _common(train)
    train.add_argument("-q", "--quiet", action="store_true", help="no progress display")

    evaluate = sub.add_parser("evaluate", help="test a checkpoint saved by `ember train --out`",
                              description="Rebuild the model saved by `ember train --out DIR` and print its "
                              "metrics on the test set.")
    evaluate.add_argument("checkpoint", metavar="CHECKPOINT", help="a model.safetensors file, or its folder")
    evaluate.add_argument("--dataset", choices=sorted(DATASETS), help="the test set (default: the training one)")
    evaluate.add_argument("--batch-size", type=int, default=256, metavar="B", help="samples per batch (default 256)")
    _common(evaluate)

    sub.add_parser("info", help="versions, BLAS, threads and devices", description="Print versions, the BLAS "
                   "library and its threads, the GPU and the optional packages found.")
    demo = sub.add_parser("demo", help="fit XOR and a small regression with the autodiff core")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--steps", type=int, default=2000)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--download", action="store_true", help="download missing dataset files")
    parser.add_argument("--max-samples", type=int, metavar="N", help=argparse.SUPPRESS)  # quick runs, tests


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ember`` command; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "info":
        return _info()
    if args.command == "demo":
        from ember.demo import run_demo

        return run_demo(seed=args.seed, steps=args.steps)
    command = {"train": _train, "evaluate": _evaluate}[args.command]
    # A training program of Ember's own: keep freed memory for reuse (ember/host_memory.py).
    from ember.host_memory import keep_freed_memory_unless_declined

    keep_freed_memory_unless_declined()
    try:
        return command(args, parser)
    except FileNotFoundError as err:
        hint = " (add --download to fetch the dataset)" if getattr(err, "missing", None) else ""
        print(f"ember {args.command}: error: {err}{hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ember {args.command}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, OSError, RuntimeError) as err:
        if os.environ.get("EMBER_DEBUG"):
            raise  # the full traceback, for bug reports
        print(f"ember {args.command}: error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
