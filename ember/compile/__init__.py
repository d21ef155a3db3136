"""Compiled-graph mode: trace a step once, replay it without per-op bookkeeping.

See :func:`ember.compile.compile` and ``docs/compile.md``.
"""
from ..autograd.tracing import opaque
from .compiled import CompiledFunction, Plan, compile
from .tracer import CompileError

__all__ = ["compile", "CompiledFunction", "CompileError", "Plan", "opaque"]
