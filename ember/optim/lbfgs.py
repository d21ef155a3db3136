"""L-BFGS (Nocedal, 1980; Liu and Nocedal, 1989), with PyTorch's algorithm and optional strong-Wolfe line search.

L-BFGS treats all parameters as one flat vector ``x`` and builds a quasi-Newton direction
from the last ``history_size`` pairs ``(s, y)`` of steps and gradient changes (the
two-loop recursion). One ``step(closure)`` runs up to ``max_iter`` iterations, each
re-evaluating the loss through ``closure``, so the closure must clear the gradients,
compute the loss, call ``backward`` and return the loss.

The arithmetic follows ``torch.optim.LBFGS`` step for step (same stopping rules, same
first step ``min(1, 1 / |g|_1) * lr``, same cubic interpolation and zoom in the line
search), so the iterates agree with PyTorch's to rounding.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

from .. import backend
from ..autograd.grad_mode import enable_grad
from ..autograd.tracing import opaque
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT
from .options import NONNEGATIVE, POSITIVE_INT, Rule

__all__ = ["LBFGS"]

_LINE_SEARCH = Rule("None or 'strong_wolfe'", lambda v: v in (None, "strong_wolfe"), kind="any")


def _cubic_interpolate(x1: float, f1: float, g1: float, x2: float, f2: float, g2: float,
                       bounds: tuple[float, float] | None = None) -> float:
    """The minimiser of the cubic through ``(x1, f1, g1)`` and ``(x2, f2, g2)``, clipped to ``bounds``
    (default: the interval between the points); the midpoint when the cubic has no minimum."""
    low, high = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, low), high)
    return (low + high) / 2.0


def _strong_wolfe(evaluate: Callable, t: float, d, f: float, g, gtd: float, c1: float = 1e-4, c2: float = 0.9,
                  tolerance_change: float = 1e-9, max_ls: int = 25):
    """Find a step ``t`` along ``d`` satisfying the strong Wolfe conditions (bracket, then zoom).

    ``evaluate(t) -> (loss, flat_grad)`` evaluates at ``x + t * d``. Returns
    ``(loss, flat_grad, t, evaluations)`` at the accepted step.
    """
    xp = backend.array_module(d)
    d_norm = float(xp.abs(d).max())
    g = g.copy()
    f_new, g_new = evaluate(t)
    evaluations = 1
    gtd_new = float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    # Bracketing: grow t until an interval is known to hold a point meeting the conditions.
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    # Zoom: shrink the bracket by cubic interpolation until the conditions hold.
    insufficient_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # Keep t away from the ends of the bracket, or the bracket would hardly shrink.
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = evaluate(t)
        evaluations += 1
        gtd_new = float(g_new @ d)
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], evaluations


class LBFGS(Optimizer):
    """Limited-memory BFGS over all parameters as one vector; PyTorch's algorithm and options.

    Args:
        params: the tensors to optimize (one param group only).
        lr: the step length (with a line search: its first trial step).
        max_iter: iterations per ``step()``.
        max_eval: loss evaluations per ``step()`` (default ``max_iter * 5 // 4``).
        tolerance_grad: stop when the largest gradient entry is at most this.
        tolerance_change: stop when the step or the change of the loss is below this.
        history_size: the number of ``(s, y)`` pairs kept.
        line_search_fn: None (fixed step ``lr``) or ``'strong_wolfe'``.

    Example:
        >>> import ember
        >>> from ember.optim import LBFGS
        >>> x = ember.tensor([3.0, -2.0], dtype="float64", requires_grad=True)
        >>> opt = LBFGS([x], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = ((x - ember.tensor([1.0, 0.5], dtype="float64")) ** 2).sum()
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)
        >>> [round(v, 6) for v in x.tolist()]
        [1.0, 0.5]
    """

    rules: ClassVar[dict[str, Rule]] = {
        "lr": NONNEGATIVE, "max_iter": POSITIVE_INT, "max_eval": POSITIVE_INT, "tolerance_grad": NONNEGATIVE,
        "tolerance_change": NONNEGATIVE, "history_size": POSITIVE_INT, "line_search_fn": _LINE_SEARCH,
    }

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS: per-parameter options (several param groups) are not supported")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError("LBFGS: per-parameter options (several param groups) are not supported")
        super().add_param_group(param_group)

    # ------------------------------------------------------------ the flat vector
    def _xp(self):
        return backend.array_module(self._params[0]._data)

    def _gather_flat_grad(self):
        xp = self._xp()
        views = [p.grad._data.reshape(-1) if p.grad is not None else xp.zeros(p._data.size, dtype=p.dtype)
                 for p in self._params]
        return xp.concatenate(views)

    def _add_grad(self, step_size: float, update) -> None:
        offset = 0
        for p in self._params:
            n = p._data.size
            p._data += step_size * update[offset:offset + n].reshape(p._data.shape)
            p._version += 1
            offset += n

    def _set_params(self, arrays: list) -> None:
        for p, array in zip(self._params, arrays):
            p._data[...] = array
            p._version += 1

    def _directional_evaluate(self, closure: Callable, x: list, t: float, d):
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_params(x)
        return loss, flat_grad

    # ------------------------------------------------------------ the step
    @opaque
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss of the first closure call.

        Args:
            closure: clears the gradients, evaluates the model, calls ``backward`` and returns the loss.
        """
        if closure is None:
            raise TypeError("LBFGS.step: a closure is required (it re-evaluates the loss several times per step)")
        closure = enable_grad()(closure)
        xp = self._xp()
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:
            return orig_loss  # already optimal

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # The direction: steepest descent first, then the two-loop recursion.
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:  # keep the pair only when it preserves positive definiteness
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y @ y)
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = float(old_dirs[i] @ r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # The step length.
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad @ d)
            if gtd > -tolerance_change:  # not a descent direction
                break

            evaluations = 0
            if line_search_fn is not None:
                x_init = [p._data.copy() for p in self._params]
                loss, flat_grad, t, evaluations = _strong_wolfe(
                    lambda step: self._directional_evaluate(closure, x_init, step, d),
                    t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                optimal = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_grad(t, d)
                optimal = False
                if n_iter != max_iter:
                    # Re-evaluate only when another iteration follows (the next step() does it otherwise).
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    optimal = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    evaluations = 1
            current_evals += evaluations
            state["func_evals"] += evaluations

            if n_iter == max_iter or current_evals >= max_eval or optimal:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    # ------------------------------------------------------------ saving and loading
    def _load_entry(self, entry: dict, p: Tensor, group: dict, key) -> dict:
        """Take L-BFGS's state as it is (vectors, lists of vectors, numbers), as ember arrays and floats."""
        xp = backend.array_module(p._data)
        device = p.device

        def load(value):
            if value is None or isinstance(value, (bool, int, float)):
                return value
            if isinstance(value, (list, tuple)):
                return [load(v) for v in value]
            array = value._data if isinstance(value, Tensor) else value
            if getattr(array, "ndim", 0) == 0:
                return float(array)
            return xp.array(backend.to_device(array, device), dtype=p.dtype, copy=True)

        loaded = {k: load(v) for k, v in entry.items()}
        for k in ("func_evals", "n_iter"):
            if k in loaded:
                loaded[k] = int(loaded[k])
        return loaded
