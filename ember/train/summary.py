"""``Model.summary()``: the layers of a network, their output shapes and parameter counts.

Shapes are found the only way that works for any ``forward``: by running it once,
on a batch of two zero samples, with forward hooks recording what each layer
returns (in evaluation mode and without gradients, so nothing in the model changes).
"""
from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

__all__ = ["summarize"]

_PROBE_BATCH = 2


def _shape_text(out) -> str:
    if isinstance(out, Tensor):
        return str((None,) + tuple(out.shape[1:]))
    if isinstance(out, (tuple, list)):
        return ", ".join(_shape_text(o) for o in out)
    return type(out).__name__


def _record_shapes(model, spec) -> tuple[dict, list]:
    """Run the module on zeros of ``spec``; returns ``{id(module): shape text}`` and the call order."""
    from .model import _modes  # model imports this module lazily

    module = model.module
    shapes: dict = {}
    order: list = []
    handles = []
    for _, sub in module.named_modules():
        def hook(m, inputs, out):
            if id(m) not in shapes:
                shapes[id(m)] = _shape_text(out)
                order.append(id(m))
        handles.append(sub.register_forward_hook(hook))
    device, _ = model._device_and_dtype()
    try:
        from .. import backend

        xp = backend.module_for_device(device)
        inputs = [Tensor(xp.zeros((_PROBE_BATCH,) + tuple(shape), dtype=dtype)) for shape, dtype in spec]
        with _modes(module, False), no_grad():
            module(*inputs)
    finally:
        for handle in handles:
            handle.remove()
    return shapes, order


def summarize(model, spec) -> str:
    """The summary table of ``model`` (a :class:`~ember.train.Model`); ``spec`` is one
    ``(shape, dtype)`` per input, or None to leave output shapes unknown."""
    module = model.module
    shapes, order = _record_shapes(model, spec) if spec is not None else ({}, [])
    rows = []
    for name, sub in module.named_modules():
        own = sum(p.numel() for p in sub.parameters(recurse=False))
        is_leaf = not any(True for _ in sub.children())
        if sub is module and not is_leaf and not own:
            continue
        if is_leaf or own:
            count = sub.num_parameters() if is_leaf else own
            rows.append((name or "(root)", type(sub).__name__, shapes.get(id(sub), "?"), count, id(sub)))
    position = {key: i for i, key in enumerate(order)}
    rows.sort(key=lambda row: position.get(row[4], len(position)))  # call order; uncalled layers last

    total = module.num_parameters()
    trainable = module.num_parameters(trainable_only=True)
    widths = (max([34] + [len(f"{r[0]} ({r[1]})") + 2 for r in rows]), 26, 12)
    rule = "_" * sum(widths)
    lines = [f'Model: "{model.name}"', rule,
             f"{'Layer (type)':<{widths[0]}}{'Output Shape':<{widths[1]}}{'Param #':>{widths[2]}}", "=" * sum(widths)]
    for name, kind, shape, count, _ in rows:
        lines.append(f"{name + ' (' + kind + ')':<{widths[0]}}{shape:<{widths[1]}}{count:>{widths[2]},}")
    lines += ["=" * sum(widths), f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", rule]
    return "\n".join(lines)
