"""The hook through which ``ember.compile`` watches eager execution.

Lower floors (ops, tensor, engine) report what they do to ``_Trace.tracer`` when a
trace is running and otherwise pay one attribute test. The tracer itself lives
in ``ember.compile``; this module only defines where it plugs in, so that the
arrows of the design keep pointing downward.
"""
from __future__ import annotations


class _Trace:
    #: The active tracer (an ``ember.compile`` object) or None.
    tracer = None


def opaque(method):
    """Mark a function that works on arrays directly (an optimizer step, gradient
    clipping) so that ``ember.compile`` records the call and replays it as a whole.

    Outside a trace the function runs unchanged.
    """
    import functools

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        tracer = _Trace.tracer
        if tracer is None:
            return method(*args, **kwargs)
        return tracer.record_call(method, args, kwargs)

    wrapper.__ember_opaque__ = True
    return wrapper
