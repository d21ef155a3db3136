"""The ``ember`` command line: ``ember demo`` and ``ember info``."""
from __future__ import annotations

import argparse
import sys


def _info() -> int:
    import numpy

    import ember
    from ember import backend

    print(f"ember {ember.__version__}")
    print(f"python {sys.version.split()[0]}, numpy {numpy.__version__}")
    print(f"default dtype: {backend.default_dtype()}")
    print(f"cuda (cupy): {'available' if backend.cupy_module() is not None else 'not available'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``ember`` command."""
    parser = argparse.ArgumentParser(prog="ember", description="Ember deep learning framework")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="fit XOR and a small regression with the autodiff core")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--steps", type=int, default=2000)
    sub.add_parser("info", help="versions and available devices")
    args = parser.parse_args(argv)
    if args.command == "info":
        return _info()
    from ember.demo import run_demo

    return run_demo(seed=args.seed, steps=args.steps)


if __name__ == "__main__":
    sys.exit(main())
