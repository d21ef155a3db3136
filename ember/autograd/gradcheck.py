"""Gradient checking: every rule against finite differences, and vjp against jvp.

``gradcheck(f, inputs)`` compares three Jacobians of ``f`` in float64: one built
from central finite differences, one from reverse mode (a vjp per output
element) and one from forward mode (a jvp per input element). It also checks the
identity ``<u, J v> == <J^T u, v>`` for random ``u`` and ``v``, which ties the
two modes together on the whole Jacobian at once.
"""
from __future__ import annotations

from typing import Callable, Sequence

from .. import backend
from .functional import jvp, vjp
from .grad_mode import no_grad


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when an analytic derivative disagrees with the reference."""


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _restricted(f, inputs, positions):
    """``f`` as a function of the inputs at ``positions`` only, returning a tuple of outputs."""

    def partial(*values):
        args = list(inputs)
        for p, value in zip(positions, values):
            args[p] = value
        return tuple(_outputs(f(*args)))

    return partial


def _differentiable_positions(inputs):
    marked = [i for i, x in enumerate(inputs) if getattr(x, "requires_grad", False)]
    if marked:
        return marked
    return [i for i, x in enumerate(inputs) if x.dtype.kind == "f"]


def _numerical_jacobian(f, inputs, i, eps):
    """d outputs / d inputs[i] by central differences; a list (per output) of 2-D arrays."""
    from ..tensor import Tensor

    np = backend.numpy_module()
    x = inputs[i]
    base = np.array(x.numpy(), dtype=np.float64)
    columns = []
    for k in range(base.size):
        shifted = []
        for sign in (1.0, -1.0):
            perturbed = base.copy().reshape(-1)
            perturbed[k] += sign * eps
            args = list(inputs)
            args[i] = Tensor(perturbed.reshape(base.shape))
            with no_grad():
                shifted.append([np.array(o.numpy(), dtype=np.float64).reshape(-1)
                                for o in _outputs(f(*args))])
        columns.append([(p - m) / (2 * eps) for p, m in zip(*shifted)])
    n_out = len(columns[0]) if columns else len(_outputs(f(*inputs)))
    return [np.stack([c[o] for c in columns], axis=1) if columns else np.zeros((0, 0))
            for o in range(n_out)]


def _reverse_jacobian(f, inputs, positions):
    """Rows of the Jacobian from one vjp per output element."""
    from ..tensor import Tensor

    np = backend.numpy_module()

    outs, pullback = vjp(_restricted(f, inputs, positions), *[inputs[p] for p in positions])
    jac = [[np.zeros((o.numel(), inputs[p].numel())) for p in positions] for o in outs]
    for o_index, out in enumerate(outs):
        for k in range(out.numel()):
            cotangents = [Tensor(np.zeros(o.shape, dtype=o.dtype)) for o in outs]
            cotangents[o_index]._data.reshape(-1)[k] = 1
            grads = pullback(tuple(cotangents))
            for j, g in enumerate(grads):
                jac[o_index][j][k] = np.asarray(g.numpy(), dtype=np.float64).reshape(-1)
    return jac


def _forward_jacobian(f, inputs, positions):
    """Columns of the Jacobian from one jvp per input element."""
    from ..tensor import Tensor

    np = backend.numpy_module()
    outs = _outputs(f(*inputs))
    jac = [[np.zeros((o.numel(), inputs[p].numel())) for p in positions] for o in outs]
    for j, p in enumerate(positions):
        x = inputs[p]
        for k in range(x.numel()):
            tangents = [Tensor(np.zeros(a.shape, dtype=a.dtype)) for a in inputs]
            tangents[p]._data.reshape(-1)[k] = 1
            _, out_tangents = jvp(lambda *a: tuple(_outputs(f(*a))), inputs, tangents)
            for o_index, t in enumerate(out_tangents):
                jac[o_index][j][:, k] = np.asarray(t.numpy(), dtype=np.float64).reshape(-1)
    return jac


def _compare(name, analytic, numerical, atol, rtol, o_index, i_index):
    np = backend.numpy_module()
    if not np.allclose(analytic, numerical, atol=atol, rtol=rtol, equal_nan=True):
        diff = np.nanmax(np.abs(analytic - numerical)) if analytic.size else 0.0
        raise GradcheckError(
            f"gradcheck: {name} Jacobian of output {o_index} with respect to input {i_index} "
            f"differs from finite differences (max abs difference {diff:.3g}, atol={atol}, rtol={rtol})\n"
            f"{name}:\n{analytic}\nnumerical:\n{numerical}"
        )


def gradcheck(f: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, check_forward: bool = True, raise_exception: bool = True) -> bool:
    """Check ``f``'s reverse- and forward-mode derivatives against finite differences.

    Args:
        f: a function of tensors returning a tensor or a tuple of tensors.
        inputs: the arguments; the float64 tensors with ``requires_grad=True`` are
            checked (all float tensors if none is marked).
        eps, atol, rtol: finite-difference step and tolerances.
        check_forward: also check the jvp rules (forward mode).
        raise_exception: raise :class:`GradcheckError` on failure (else return False).

    Example:
        >>> import ember
        >>> x = ember.randn(3, dtype="float64", requires_grad=True)
        >>> ember.autograd.gradcheck(lambda x: (x.sin() * x).sum(), (x,))
        True
    """
    from ..tensor import as_tensor

    inputs = tuple(as_tensor(x) for x in (inputs if isinstance(inputs, (tuple, list)) else (inputs,)))
    positions = _differentiable_positions(inputs)
    for p in positions:
        if inputs[p].dtype != backend.numpy_module().float64:
            raise ValueError(
                f"gradcheck: input {p} is {inputs[p].dtype}; finite differences need float64 "
                "inputs (use .double())"
            )
    try:
        numerical = {p: _numerical_jacobian(f, inputs, p, eps) for p in positions}
        reverse = _reverse_jacobian(f, inputs, positions)
        for o_index, per_input in enumerate(reverse):
            for j, p in enumerate(positions):
                _compare("reverse-mode", per_input[j], numerical[p][o_index], atol, rtol, o_index, p)
        if check_forward:
            forward = _forward_jacobian(f, inputs, positions)
            for o_index, per_input in enumerate(forward):
                for j, p in enumerate(positions):
                    _compare("forward-mode", per_input[j], numerical[p][o_index], atol, rtol, o_index, p)
            _check_transpose_identity(f, inputs, positions, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _check_transpose_identity(f, inputs, positions, atol, rtol):
    """<u, J v> computed with one jvp must equal <J^T u, v> computed with one vjp."""
    from ..tensor import Tensor

    np = backend.numpy_module()
    rng = np.random.default_rng(0)
    tangents = [Tensor(rng.standard_normal(x.shape)) if i in positions else Tensor(np.zeros(x.shape, x.dtype))
                for i, x in enumerate(inputs)]
    _, out_tangents = jvp(lambda *a: tuple(_outputs(f(*a))), inputs, tangents)

    outs, pullback = vjp(_restricted(f, inputs, positions), *[inputs[p] for p in positions])
    cotangents = tuple(Tensor(rng.standard_normal(o.shape)) for o in outs)
    grads = pullback(cotangents)
    forward_side = sum(float((u.numpy() * t.numpy()).sum()) for u, t in zip(cotangents, out_tangents))
    reverse_side = sum(float((g.numpy() * tangents[p].numpy()).sum()) for g, p in zip(grads, positions))
    if not np.isclose(forward_side, reverse_side, atol=atol * 10, rtol=rtol):
        raise GradcheckError(
            f"gradcheck: <u, J v> = {forward_side:.8g} from jvp but {reverse_side:.8g} from vjp"
        )


def gradgradcheck(f: Callable, inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, check_forward: bool = True) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, u) -> vjp(f)(u)`` for a random ``u``.

    This exercises the vjp rules' own derivatives (the vjps are written with Ember
    ops, so they are differentiable like any other function).
    """
    from ..tensor import Tensor, as_tensor

    np = backend.numpy_module()
    inputs = tuple(as_tensor(x) for x in (inputs if isinstance(inputs, (tuple, list)) else (inputs,)))
    positions = _differentiable_positions(inputs)
    outs = _outputs(f(*inputs))
    rng = np.random.default_rng(1)
    cotangents = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in outs]
    n = len(inputs)

    def pulled_back(*args):
        xs, us = list(args[:n]), args[n:]

        _, pullback = vjp(_restricted(f, xs, positions), *[xs[p] for p in positions])
        return tuple(pullback(tuple(us)))

    all_inputs = tuple(x if i not in positions else x.detach().requires_grad_()
                       for i, x in enumerate(inputs)) + tuple(cotangents)
    return gradcheck(pulled_back, all_inputs, eps=eps, atol=atol, rtol=rtol, check_forward=check_forward)
