"""Optimizer updates: each parameter's whole step in one pass (SGD, Adam/AdamW, RMSprop, Adagrad, Adadelta).

The NumPy references are the optimizers' arithmetic as it always was: whole-array
``out=`` ufuncs, several passes over the parameter and its state per step. The
numba versions read each element of the parameter, its gradient and its state
buffers once, do the step in registers and write the results back: one pass
instead of five to fifteen. Each loop does the reference's operations in the
reference's order, with the scalars rounded to the array's dtype first (as NumPy
does with a Python float beside a float32 array), so both give the same bits.

The numba loop runs on C-contiguous float32/float64 NumPy arrays that share one
dtype; anything else (a strided array, a read-only parameter, float16, CuPy
arrays, a gradient of another dtype) takes the reference. Every function updates
``param`` and the state buffers in place; the gradient is never written.

Example::

    >>> import numpy as np
    >>> from ember.kernels.optim import sgd_update
    >>> p, g, state = np.array([1.0, -2.0]), np.array([2.0, -4.0]), {}
    >>> sgd_update(p, g, state, lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0,
    ...            nesterov=False, maximize=False)
    >>> p.tolist(), state["momentum_buffer"].tolist()
    ([0.8, -1.6], [2.0, -4.0])
"""
from __future__ import annotations

import math

import numpy as np

from ..backend import array_module
from . import engine
from .jit import LazyKernel, numba_kernel, prange

__all__ = ["sgd_update", "adam_update", "rmsprop_update", "adagrad_update", "adadelta_update",
           "decayed_grad", "NUMBA_KERNELS", "PARALLEL_MIN_ELEMENTS"]

#: The updates whose numba version runs when numba is on: all of them measured faster than the
#: reference, one optimizer step over W5's 30 parameters (422k elements), float32, 2-core machine
#: under load, ms (NumPy -> numba, 1 thread): AdamW 1.10 -> 0.43, SGD momentum 0.33 -> 0.30,
#: RMSprop 0.70 -> 0.31, Adagrad 0.58 -> 0.28, Adadelta 1.19 -> 0.41; plain SGD tied there (0.19) and
#: won on W1's 784k-element weight (0.46 -> 0.24). The tests run every numba version regardless.
NUMBA_KERNELS = frozenset({"sgd", "adam", "rmsprop", "adagrad", "adadelta"})


#: The dtypes the loops are compiled for (``engine.NUMBA_DTYPES``), as dtype objects: ``a.dtype.name``
#: costs about 2 us a call, as much as a small parameter's whole update.
_LOOP_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: Elements from which an update runs on the thread pool (when there are threads). On the 2-core
#: machine one thread was faster for every parameter measured: W7's AdamW step took 0.64 ms serial
#: and 1.07 ms with its 65536-element parameters on two threads; W1's (784k elements) 0.49 and 0.73.
PARALLEL_MIN_ELEMENTS = 1 << 20


def _numba(kernel: str, param, *arrays) -> bool:
    """Whether ``kernel`` runs its numba loop on these arrays: numba on, NumPy arrays of one compiled
    dtype and one shape, all C-contiguous, ``param`` writable."""
    if kernel not in NUMBA_KERNELS or not engine.numba_active():
        return False
    if type(param) is not np.ndarray or param.dtype not in _LOOP_DTYPES:
        return False
    if not (param.flags.c_contiguous and param.flags.writeable):
        return False
    dtype, shape = param.dtype, param.shape
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != dtype or a.shape != shape or not a.flags.c_contiguous:
            return False
    return True


def _launch(kernel: LazyKernel, size: int):
    """The compiled form of ``kernel`` to call for a parameter of ``size`` elements."""
    if size < PARALLEL_MIN_ELEMENTS:
        return kernel.serial()
    return kernel  # the pool's form (under its lock) when there are threads


def _flat(a):
    return a.ravel()


def decayed_grad(param, grad, weight_decay: float, maximize: bool):
    """``grad`` (negated when maximising) plus ``weight_decay * param``; ``grad`` itself if unchanged.

    A new array is made otherwise, so the gradient is never modified by a step.
    """
    if weight_decay:
        xp = array_module(param)
        out = xp.multiply(param, weight_decay)
        (xp.subtract if maximize else xp.add)(out, grad, out=out)
        return out
    return -grad if maximize else grad


# ------------------------------------------------------------------ SGD
def _sgd_reference(param, grad, state: dict, lr, momentum, dampening, weight_decay, nesterov, maximize):
    xp = array_module(param)
    g = decayed_grad(param, grad, weight_decay, maximize)
    if momentum:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = xp.array(g, copy=True)
        else:
            xp.multiply(buf, momentum, out=buf)
            xp.add(buf, g * (1 - dampening) if dampening else g, out=buf)
        if nesterov:
            step = xp.multiply(buf, momentum)
            xp.add(g, step, out=step)
            g = step
        else:
            g = buf
    xp.subtract(param, g * lr, out=param)


# The loops read and write only the arrays they take (no stand-ins for absent state): an unused
# argument that aliased another would fail LLVM's runtime overlap check and run the scalar loop.
@numba_kernel
def _sgd_loop(p, grad, lr, weight_decay, decay, maximize):
    for i in prange(p.shape[0]):
        x = p[i]
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        p[i] = x - g * lr


@numba_kernel
def _sgd_momentum_loop(p, grad, buf, lr, momentum, keep, weight_decay, first, dampen, nesterov, decay, maximize):
    for i in prange(p.shape[0]):
        x = p[i]
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        if first:
            b = g
        elif dampen:
            b = buf[i] * momentum + g * keep
        else:
            b = buf[i] * momentum + g
        buf[i] = b
        if nesterov:
            g = g + b * momentum
        else:
            g = b
        p[i] = x - g * lr


def sgd_update(param, grad, state: dict, *, lr: float, momentum: float, dampening: float,
               weight_decay: float, nesterov: bool, maximize: bool) -> None:
    """One SGD step of ``param`` in place; ``state['momentum_buffer']`` is made on the first step."""
    buf = state.get("momentum_buffer") if momentum else None
    arrays = (grad,) if buf is None else (grad, buf)
    if not _numba("sgd", param, *arrays):
        _sgd_reference(param, grad, state, lr, momentum, dampening, weight_decay, nesterov, maximize)
        return
    t = param.dtype.type
    if not momentum:
        _launch(_sgd_loop, param.size)(_flat(param), _flat(grad), t(lr), t(weight_decay), bool(weight_decay),
                                       bool(maximize))
        return
    first = buf is None
    if first:
        buf = state["momentum_buffer"] = np.empty_like(param)
    _launch(_sgd_momentum_loop, param.size)(
        _flat(param), _flat(grad), _flat(buf), t(lr), t(momentum), t(1 - dampening), t(weight_decay), first,
        bool(dampening), bool(nesterov), bool(weight_decay), bool(maximize))


# ------------------------------------------------------------------ Adam, AdamW
def _adam_reference(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                    weight_decay, amsgrad, maximize, decoupled):
    xp = array_module(param)
    if decoupled:
        if weight_decay:
            xp.multiply(param, 1 - lr * weight_decay, out=param)
        weight_decay = 0
    g = decayed_grad(param, grad, weight_decay, maximize)
    scratch = xp.subtract(g, exp_avg)  # exp_avg moves (1 - beta1) of the way to g
    xp.multiply(scratch, 1 - beta1, out=scratch)
    xp.add(exp_avg, scratch, out=exp_avg)
    xp.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
    xp.multiply(g, g, out=scratch)
    xp.multiply(scratch, 1 - beta2, out=scratch)
    xp.add(exp_avg_sq, scratch, out=exp_avg_sq)
    second = exp_avg_sq
    if amsgrad:
        second = max_exp_avg_sq
        xp.maximum(second, exp_avg_sq, out=second)
    # Bias corrections are Python floats: the arrays keep the parameter's dtype.
    step_size = lr / (1 - beta1 ** step)
    xp.sqrt(second, out=scratch)
    xp.divide(scratch, (1 - beta2 ** step) ** 0.5, out=scratch)
    xp.add(scratch, eps, out=scratch)
    xp.divide(exp_avg, scratch, out=scratch)
    xp.multiply(scratch, step_size, out=scratch)
    xp.subtract(param, scratch, out=param)


@numba_kernel
def _adam_loop(p, grad, m, v, shrink, weight_decay, keep1, beta2, keep2, correction2, eps, step_size,
               decoupled, decay, maximize):
    for i in prange(p.shape[0]):
        x = p[i]
        if decoupled:
            x = x * shrink
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        a = m[i]
        a = a + (g - a) * keep1
        m[i] = a
        s = v[i] * beta2 + (g * g) * keep2
        v[i] = s
        p[i] = x - (a / (math.sqrt(s) / correction2 + eps)) * step_size


@numba_kernel
def _adam_amsgrad_loop(p, grad, m, v, vmax, shrink, weight_decay, keep1, beta2, keep2, correction2, eps,
                       step_size, decoupled, decay, maximize):
    for i in prange(p.shape[0]):
        x = p[i]
        if decoupled:
            x = x * shrink
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        a = m[i]
        a = a + (g - a) * keep1
        m[i] = a
        s = v[i] * beta2 + (g * g) * keep2
        v[i] = s
        top = vmax[i]
        if not (top >= s or top != top):  # np.maximum: the first NaN, else the larger
            top = s
        vmax[i] = top
        p[i] = x - (a / (math.sqrt(top) / correction2 + eps)) * step_size


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step: int, lr: float, beta1: float,
                beta2: float, eps: float, weight_decay: float, amsgrad: bool, maximize: bool,
                decoupled: bool) -> None:
    """One Adam (``decoupled``: AdamW) step of ``param`` at step number ``step`` (1 first), in place.

    ``max_exp_avg_sq`` is used (and may be None otherwise) with ``amsgrad``.
    """
    arrays = (grad, exp_avg, exp_avg_sq) + ((max_exp_avg_sq,) if amsgrad else ())
    if not _numba("adam", param, *arrays):
        _adam_reference(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps,
                        weight_decay, amsgrad, maximize, decoupled)
        return
    t = param.dtype.type
    shrink = bool(decoupled and weight_decay)
    decay = bool(weight_decay) and not decoupled
    scalars = (t(1 - lr * weight_decay if shrink else 1), t(weight_decay), t(1 - beta1), t(beta2), t(1 - beta2),
               t((1 - beta2 ** step) ** 0.5), t(eps), t(lr / (1 - beta1 ** step)), shrink, decay, bool(maximize))
    if amsgrad:
        _launch(_adam_amsgrad_loop, param.size)(_flat(param), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq),
                                                _flat(max_exp_avg_sq), *scalars)
    else:
        _launch(_adam_loop, param.size)(_flat(param), _flat(grad), _flat(exp_avg), _flat(exp_avg_sq), *scalars)


# ------------------------------------------------------------------ RMSprop
def _rmsprop_reference(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps, weight_decay,
                       momentum, centered, maximize):
    xp = array_module(param)
    g = decayed_grad(param, grad, weight_decay, maximize)
    xp.multiply(square_avg, alpha, out=square_avg)
    scratch = xp.multiply(g, g)
    xp.multiply(scratch, 1 - alpha, out=scratch)
    xp.add(square_avg, scratch, out=square_avg)
    if centered:
        xp.subtract(g, grad_avg, out=scratch)  # grad_avg moves (1 - alpha) of the way to g
        xp.multiply(scratch, 1 - alpha, out=scratch)
        xp.add(grad_avg, scratch, out=grad_avg)
        xp.multiply(grad_avg, grad_avg, out=scratch)
        xp.subtract(square_avg, scratch, out=scratch)
        xp.sqrt(scratch, out=scratch)
    else:
        xp.sqrt(square_avg, out=scratch)
    xp.add(scratch, eps, out=scratch)
    xp.divide(g, scratch, out=scratch)
    if momentum > 0:
        xp.multiply(momentum_buffer, momentum, out=momentum_buffer)
        xp.add(momentum_buffer, scratch, out=momentum_buffer)
        xp.multiply(momentum_buffer, lr, out=scratch)
    else:
        xp.multiply(scratch, lr, out=scratch)
    xp.subtract(param, scratch, out=param)


@numba_kernel
def _rmsprop_loop(p, grad, sq, lr, alpha, keep, eps, weight_decay, decay, maximize):
    for i in prange(p.shape[0]):
        x = p[i]
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        s = sq[i] * alpha + (g * g) * keep
        sq[i] = s
        d = g / (math.sqrt(s) + eps)
        p[i] = x - d * lr


@numba_kernel
def _rmsprop_centered_loop(p, grad, sq, avg, lr, alpha, keep, eps, weight_decay, decay, maximize):
    for i in prange(p.shape[0]):
        x = p[i]
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        s = sq[i] * alpha + (g * g) * keep
        sq[i] = s
        a = avg[i]
        a = a + (g - a) * keep
        avg[i] = a
        d = g / (math.sqrt(s - a * a) + eps)
        p[i] = x - d * lr


@numba_kernel
def _rmsprop_momentum_loop(p, grad, sq, buf, lr, alpha, keep, eps, weight_decay, decay, maximize,
                           momentum):
    for i in prange(p.shape[0]):
        x = p[i]
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        s = sq[i] * alpha + (g * g) * keep
        sq[i] = s
        d = g / (math.sqrt(s) + eps)
        d = buf[i] * momentum + d
        buf[i] = d
        p[i] = x - d * lr


@numba_kernel
def _rmsprop_centered_momentum_loop(p, grad, sq, avg, buf, lr, alpha, keep, eps, weight_decay, decay,
                                    maximize, momentum):
    for i in prange(p.shape[0]):
        x = p[i]
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        s = sq[i] * alpha + (g * g) * keep
        sq[i] = s
        a = avg[i]
        a = a + (g - a) * keep
        avg[i] = a
        d = g / (math.sqrt(s - a * a) + eps)
        d = buf[i] * momentum + d
        buf[i] = d
        p[i] = x - d * lr


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr: float, alpha: float, eps: float,
                   weight_decay: float, momentum: float, centered: bool, maximize: bool) -> None:
    """One RMSprop step of ``param`` in place (``grad_avg`` used when centered, ``momentum_buffer`` when
    momentum > 0; either may be None otherwise)."""
    arrays = ((grad, square_avg) + ((grad_avg,) if centered else ())
              + ((momentum_buffer,) if momentum > 0 else ()))
    if not _numba("rmsprop", param, *arrays):
        _rmsprop_reference(param, grad, square_avg, grad_avg, momentum_buffer, lr, alpha, eps, weight_decay,
                           momentum, centered, maximize)
        return
    t = param.dtype.type
    scalars = (t(lr), t(alpha), t(1 - alpha), t(eps), t(weight_decay), bool(weight_decay), bool(maximize))
    p, g, sq = _flat(param), _flat(grad), _flat(square_avg)
    if centered and momentum > 0:
        _launch(_rmsprop_centered_momentum_loop, param.size)(p, g, sq, _flat(grad_avg), _flat(momentum_buffer),
                                                             *scalars, t(momentum))
    elif centered:
        _launch(_rmsprop_centered_loop, param.size)(p, g, sq, _flat(grad_avg), *scalars)
    elif momentum > 0:
        _launch(_rmsprop_momentum_loop, param.size)(p, g, sq, _flat(momentum_buffer), *scalars, t(momentum))
    else:
        _launch(_rmsprop_loop, param.size)(p, g, sq, *scalars)


# ------------------------------------------------------------------ Adagrad
def _adagrad_reference(param, grad, total, lr, eps, weight_decay, maximize):
    xp = array_module(param)
    g = decayed_grad(param, grad, weight_decay, maximize)
    scratch = xp.multiply(g, g)
    xp.add(total, scratch, out=total)
    xp.sqrt(total, out=scratch)
    xp.add(scratch, eps, out=scratch)
    xp.divide(g, scratch, out=scratch)
    xp.multiply(scratch, lr, out=scratch)
    xp.subtract(param, scratch, out=param)


@numba_kernel
def _adagrad_loop(p, grad, total, lr, eps, weight_decay, decay, maximize):
    for i in prange(p.shape[0]):
        x = p[i]
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        s = total[i] + g * g
        total[i] = s
        p[i] = x - (g / (math.sqrt(s) + eps)) * lr


def adagrad_update(param, grad, total, *, lr: float, eps: float, weight_decay: float, maximize: bool) -> None:
    """One Adagrad step of ``param`` in place; ``lr`` is this step's (already decayed) learning rate."""
    if not _numba("adagrad", param, grad, total):
        _adagrad_reference(param, grad, total, lr, eps, weight_decay, maximize)
        return
    t = param.dtype.type
    _launch(_adagrad_loop, param.size)(_flat(param), _flat(grad), _flat(total), t(lr), t(eps), t(weight_decay),
                                       bool(weight_decay), bool(maximize))


# ------------------------------------------------------------------ Adadelta
def _adadelta_reference(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize):
    xp = array_module(param)
    g = decayed_grad(param, grad, weight_decay, maximize)
    xp.multiply(square_avg, rho, out=square_avg)
    std = xp.multiply(g, g)
    xp.multiply(std, 1 - rho, out=std)
    xp.add(square_avg, std, out=square_avg)
    xp.add(square_avg, eps, out=std)
    xp.sqrt(std, out=std)
    delta = xp.add(acc_delta, eps)
    xp.sqrt(delta, out=delta)
    xp.divide(delta, std, out=delta)
    xp.multiply(delta, g, out=delta)
    xp.multiply(acc_delta, rho, out=acc_delta)
    xp.multiply(delta, delta, out=std)
    xp.multiply(std, 1 - rho, out=std)
    xp.add(acc_delta, std, out=acc_delta)
    xp.multiply(delta, lr, out=delta)
    xp.subtract(param, delta, out=param)


@numba_kernel
def _adadelta_loop(p, grad, sq, acc, lr, rho, keep, eps, weight_decay, decay, maximize):
    for i in prange(p.shape[0]):
        x = p[i]
        g = grad[i]
        if decay:
            g = x * weight_decay - g if maximize else x * weight_decay + g
        elif maximize:
            g = -g
        s = sq[i] * rho + (g * g) * keep
        sq[i] = s
        u = acc[i]
        d = (math.sqrt(u + eps) / math.sqrt(s + eps)) * g
        acc[i] = u * rho + (d * d) * keep
        p[i] = x - d * lr


def adadelta_update(param, grad, square_avg, acc_delta, *, lr: float, rho: float, eps: float,
                    weight_decay: float, maximize: bool) -> None:
    """One Adadelta step of ``param`` in place."""
    if not _numba("adadelta", param, grad, square_avg, acc_delta):
        _adadelta_reference(param, grad, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize)
        return
    t = param.dtype.type
    _launch(_adadelta_loop, param.size)(_flat(param), _flat(grad), _flat(square_avg), _flat(acc_delta), t(lr),
                                        t(rho), t(1 - rho), t(eps), t(weight_decay), bool(weight_decay),
                                        bool(maximize))
