"""Function transforms: ``grad``, ``value_and_grad``, ``vjp``, ``jvp``, ``hvp``, ``jacobian``, ``hessian``.

These are plain functions over plain functions, as in JAX: ``grad(f)`` returns a
new function computing the gradient of ``f``. They nest (``grad(grad(f))``,
``jvp(grad(f), ...)``) because the tape records the backward pass whenever an
outer transform is watching.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from .engine import run_backward
from .forward import end_level, new_level, set_tangent
from .grad_mode import enable_grad


def _as_tensor(x):
    from ..tensor import as_tensor

    return as_tensor(x)


def _watch(x):
    """A tensor whose gradient we can read off, still connected to any outer graph."""
    from ..ops.movement import Identity
    from ..tensor import Tensor
    from .function import apply

    x = _as_tensor(x)
    if x._data.dtype.kind not in "fc":
        raise TypeError(f"grad: can only differentiate with respect to floating inputs, got {x.dtype}")
    if x.requires_grad:
        with enable_grad():
            return apply(Identity, (x,), {})
    watched = Tensor._make(x._data, True, None, 0)
    watched._tangent = x._tangent
    return watched


def _argnums_tuple(argnums, nargs):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    for n in nums:
        if not -nargs <= n < nargs:
            raise ValueError(f"argnums {argnums} out of range for a function called with {nargs} arguments")
    return single, tuple(n % nargs for n in nums)


def _gradients(outputs, inputs, grad_outputs, create_graph: bool, retain_graph: bool):
    captured = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=inputs)
    return tuple(g if g is not None else x.zeros_like() for g, x in zip(captured, inputs))


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """Return a function computing ``(f(*args), grad)`` (or ``((value, aux), grad)``).

    ``f`` must return a one-element tensor. Gradients are taken with respect to the
    positional arguments in ``argnums``.

    Example:
        >>> import ember
        >>> f = lambda x: (x ** 3).sum()
        >>> value, g = ember.autograd.value_and_grad(f)(ember.tensor([2.0]))
        >>> g.tolist()
        [12.0]
    """

    def wrapped(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args))
        args = list(args)
        watched = []
        for n in nums:
            args[n] = _watch(args[n])
            watched.append(args[n])
        outer_watches = any(w.node is not None for w in watched)
        with enable_grad():
            result = f(*args, **kwargs)
        value, aux = (result if has_aux else (result, None))
        value = _as_tensor(value)
        if value._data.size != 1:
            raise ValueError(f"grad: the function must return a one-element tensor, got shape {value.shape}")
        from ..tensor import constant

        if value.requires_grad:
            seed = constant(_ones_like(value._data))
            grads = _gradients([value], watched, [seed], create_graph=outer_watches,
                               retain_graph=outer_watches)
        else:
            grads = tuple(w.zeros_like() for w in watched)
        if not outer_watches:
            value = value.detach()
        grads = grads[0] if single else grads
        return ((value, aux) if has_aux else value), grads

    return wrapped


def _ones_like(array):
    from ..backend import array_module

    return array_module(array).ones_like(array)


def grad(f: Callable | Any, argnums: int | Sequence[int] = 0, has_aux: bool = False, **kwargs):
    """Gradient transform: ``grad(f)(x)`` is d f(x) / d x.

    Also accepts PyTorch's ``autograd.grad(outputs, inputs, grad_outputs=None,
    retain_graph=None, create_graph=False)`` form when the first argument is a tensor
    (or a list of tensors) rather than a function.

    Example:
        >>> import ember
        >>> d2 = ember.autograd.grad(ember.autograd.grad(lambda x: (x ** 3).sum()))
        >>> d2(ember.tensor(2.0)).item()   # d/dx 3x^2 = 6x
        12.0
    """
    if not callable(f):
        return gradients(f, argnums, **kwargs)

    value_grad = value_and_grad(f, argnums, has_aux)

    def wrapped(*args, **kw):
        (value_aux, grads) = value_grad(*args, **kw)
        if has_aux:
            return grads, value_aux[1]
        return grads

    return wrapped


def gradients(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
              create_graph: bool = False, allow_unused: bool | None = None, is_grads_batched: bool = False,
              materialize_grads: bool = False):
    """PyTorch's ``autograd.grad``: gradients of ``outputs`` with respect to ``inputs``, always a tuple.

    Unlike ``backward`` it does not touch any ``.grad``. An input the outputs do not
    depend on raises, unless ``allow_unused=True`` (its gradient is then None) or
    ``materialize_grads=True`` (zeros), as in PyTorch.
    """
    from ..tensor import Tensor, constant

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = []
        for out in outputs:
            if out._data.size != 1:
                raise RuntimeError(f"grad: grad_outputs is needed for an output of shape {out.shape}")
            grad_outputs.append(constant(_ones_like(out._data)))
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)
        grad_outputs = [_as_tensor(g) for g in grad_outputs]
    if retain_graph is None:
        retain_graph = create_graph
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported; use ember.autograd.vjp per row")
    if allow_unused is None:
        allow_unused = materialize_grads
    captured = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=inputs)
    if not allow_unused and any(g is None for g in captured):
        raise RuntimeError("grad: one of the differentiated tensors appears to not have been used in the graph "
                           "(pass allow_unused=True)")
    if materialize_grads:
        return tuple(g if g is not None else x.zeros_like() for g, x in zip(captured, inputs))
    return tuple(captured)


def vjp(f: Callable, *primals, has_aux: bool = False):
    """Return ``(f(*primals), vjp_fn)``; ``vjp_fn(cotangent)`` gives one gradient per primal.

    ``vjp_fn`` can be called several times (the graph is kept).

    Example:
        >>> import ember
        >>> out, pullback = ember.autograd.vjp(lambda x: x * 2, ember.ones(3))
        >>> pullback(ember.ones(3))[0].tolist()
        [2.0, 2.0, 2.0]
    """
    watched = [_watch(p) for p in primals]
    outer_watches = any(w.node is not None for w in watched)
    with enable_grad():
        result = f(*watched)
    out, aux = (result if has_aux else (result, None))
    outputs = [out] if not isinstance(out, (tuple, list)) else list(out)

    def vjp_fn(cotangent):
        cotangents = [cotangent] if not isinstance(cotangent, (tuple, list)) else list(cotangent)
        cotangents = [_as_tensor(c) for c in cotangents]
        for o, c in zip(outputs, cotangents):
            if o.shape != c.shape:
                raise ValueError(f"vjp: cotangent shape {c.shape} does not match output shape {o.shape}")
        live = [(o, c) for o, c in zip(outputs, cotangents) if o.requires_grad]
        if not live:
            return tuple(w.zeros_like() for w in watched)
        return _gradients([o for o, _ in live], watched, [c for _, c in live],
                          create_graph=outer_watches, retain_graph=True)

    shown = out if outer_watches else _detach_all(out)
    return (shown, vjp_fn, aux) if has_aux else (shown, vjp_fn)


def _detach_all(out):
    if isinstance(out, (tuple, list)):
        return type(out)(o.detach() for o in out)
    return out.detach()


def jvp(f: Callable, primals: Sequence, tangents: Sequence, has_aux: bool = False):
    """Forward mode: return ``(f(*primals), J v)`` with ``v`` = ``tangents``.

    Every primitive carries its own jvp rule, so this is true forward mode (one
    pass, no reverse sweep).

    Example:
        >>> import ember
        >>> out, tangent = ember.autograd.jvp(lambda x: x.sin(), (ember.tensor(0.0),), (ember.tensor(1.0),))
        >>> tangent.item()  # cos(0)
        1.0
    """
    from ..ops.movement import Identity
    from .function import apply

    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    level = new_level()
    try:
        duals = []
        for p, t in zip(primals, tangents):
            p, t = _as_tensor(p), _as_tensor(t)
            if p.shape != t.shape:
                raise ValueError(f"jvp: tangent shape {t.shape} does not match primal shape {p.shape}")
            if t.dtype != p.dtype:
                t = t.astype(p.dtype)
            dual = apply(Identity, (p,), {})
            if dual is p:
                dual = p.detach()
            set_tangent(dual, level, t)
            duals.append(dual)
        result = f(*duals)
        out, aux = (result if has_aux else (result, None))
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        out_tangents = []
        for o in outs:
            o = _as_tensor(o)
            tangent = o._tangent.get(level) if o._tangent else None
            out_tangents.append(tangent if tangent is not None else o.zeros_like())
    finally:
        end_level(level)
    if isinstance(out, (tuple, list)):
        out_tangents = type(out)(out_tangents)
    else:
        out_tangents = out_tangents[0]
    return (out, out_tangents, aux) if has_aux else (out, out_tangents)


def hvp(f: Callable, primals: Sequence, tangents: Sequence):
    """Hessian-vector product ``H v`` of scalar ``f`` (forward-over-reverse).

    Example:
        >>> import ember
        >>> f = lambda x: (x ** 3).sum()
        >>> ember.autograd.hvp(f, (ember.tensor([1.0, 2.0]),), (ember.ones(2),)).tolist()
        [6.0, 12.0]
    """
    primals = tuple(primals)
    argnums = tuple(range(len(primals)))
    gradient = grad(f, argnums=argnums)
    _, result = jvp(lambda *xs: gradient(*xs), primals, tangents)
    return result[0] if len(primals) == 1 else result


def jacobian(f: Callable, argnums: int | Sequence[int] = 0, mode: str = "reverse") -> Callable:
    """Return a function computing the Jacobian of ``f``: shape ``out.shape + in.shape``.

    ``mode='reverse'`` takes one vjp per output element, ``'forward'`` one jvp per
    input element; pick the one with fewer.
    """
    from ..ops.movement import reshape, stack

    if mode not in ("reverse", "forward"):
        raise ValueError(f"jacobian: mode must be 'reverse' or 'forward', got {mode!r}")

    def wrapped(*args):
        single, nums = _argnums_tuple(argnums, len(args))
        args = [_as_tensor(a) for a in args]
        results = []
        if mode == "reverse":
            def partial(*xs):
                full = list(args)
                for n, x in zip(nums, xs):
                    full[n] = x
                return f(*full)

            out, pullback = vjp(partial, *[args[n] for n in nums])
            flat_size = out.numel()
            rows = []
            for k in range(flat_size):
                basis = out.new_zeros((flat_size,))
                basis._data[k] = 1
                rows.append(pullback(reshape(basis, out.shape)))
            for j, n in enumerate(nums):
                stacked = stack([r[j] for r in rows]) if rows else args[n].new_zeros((0,) + args[n].shape)
                results.append(reshape(stacked, out.shape + args[n].shape))
        else:
            for n in nums:
                x = args[n]
                columns = []
                for k in range(x.numel()):
                    basis = x.new_zeros((x.numel(),))
                    basis._data[k] = 1
                    tangents = [a.zeros_like() for a in args]
                    tangents[n] = reshape(basis, x.shape)
                    out, tangent = jvp(f, args, tangents)
                    columns.append(tangent)
                stacked = stack(columns, axis=-1)
                results.append(reshape(stacked, out.shape + x.shape))
        return results[0] if single else tuple(results)

    return wrapped


def hessian(f: Callable, argnums: int = 0) -> Callable:
    """Return a function computing the Hessian of scalar ``f`` (forward over reverse)."""
    return jacobian(grad(f, argnums=argnums), argnums=argnums, mode="forward")
