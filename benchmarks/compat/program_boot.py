"""Run a program as ``__main__`` with its data loaders capped, the same way on both frameworks.

Usage (by :mod:`benchmarks.compat.run_programs`)::

    COMPAT_FRAMEWORK=torch COMPAT_MAX_SAMPLES=1280 python program_boot.py main.py --epochs 1

``COMPAT_MAX_SAMPLES`` makes every ``DataLoader`` of the framework named by ``COMPAT_FRAMEWORK``
(``torch.utils.data`` or ``ember.utils.data``) stop once it has yielded that many samples, so a
program written for a full epoch runs a few dozen batches without editing it. ``len(loader)`` is
left alone, so the program's own progress arithmetic is unchanged.
"""
from __future__ import annotations

import importlib
import os
import runpy
import sys


def cap_loaders(module_name: str, max_samples: int) -> bool:
    """Wrap ``module_name.DataLoader.__iter__`` to stop after ``max_samples`` samples."""
    try:
        module = importlib.import_module(module_name)
        loader_class = module.DataLoader
    except (ImportError, AttributeError):
        return False
    original = loader_class.__iter__

    def capped_iter(self):
        seen = 0
        for batch in original(self):
            yield batch
            first = batch[0] if isinstance(batch, (tuple, list)) else batch
            seen += len(first)
            if seen >= max_samples:
                return

    loader_class.__iter__ = capped_iter
    return True


def main() -> None:
    """Cap the loaders, then run ``sys.argv[1]`` with the remaining arguments as its own."""
    script = os.path.abspath(sys.argv[1])
    sys.argv = [script] + sys.argv[2:]
    sys.path[0] = os.path.dirname(script)
    limit = int(os.environ.get("COMPAT_MAX_SAMPLES", "0"))
    if limit > 0:
        framework = os.environ.get("COMPAT_FRAMEWORK", "torch")
        cap_loaders(f"{framework}.utils.data", limit)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
