"""Workload modules; importing this package registers every one (see ``benchmarks.registry``).

Each module in this folder registers its workloads when imported; new files are
picked up automatically, in name order, so adding a workload never means
editing this file.
"""
import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
