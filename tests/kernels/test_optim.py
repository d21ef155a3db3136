"""Optimizer update kernels: the numba one-pass loops against the NumPy references, bit for bit."""
import doctest
import itertools

import numpy as np
import pytest

import ember
from ember.kernels import optim as kernels
from kernels.helpers import DTYPES, assert_bit_identical, run_with

SHAPES = [(7,), (5, 3, 4)]
STEPS = 3


@pytest.fixture(autouse=True)
def every_optim_kernel(monkeypatch):
    """Run every numba update here, also one the engine would leave to NumPy for speed."""
    monkeypatch.setattr(kernels, "NUMBA_KERNELS", frozenset({"sgd", "adam", "rmsprop", "adagrad", "adadelta"}))


def _arrays(shape, dtype, names, seed=0, positive=()):
    rng = np.random.default_rng(seed)
    out = {}
    for name in names:
        a = rng.standard_normal(shape).astype(dtype)
        out[name] = np.abs(a) if name in positive else a
    return out


def _run(engine, update, arrays, grads, state_names, **options):
    """``STEPS`` updates from copies of ``arrays``; returns the final arrays (and the SGD state dict)."""
    arrays = {k: v.copy() for k, v in arrays.items()}

    def go():
        state = {}
        for step, grad in enumerate(grads, 1):
            update(arrays, grad, state, step, **options)
        return state

    state = run_with(engine, go)
    return {**arrays, **{k: v for k, v in state.items() if k in state_names}}


def _compare(update, arrays, grads, state_names=(), **options):
    reference = _run("numpy", update, arrays, grads, state_names, **options)
    fast = _run("numba", update, arrays, grads, state_names, **options)
    assert sorted(reference) == sorted(fast)
    for key in reference:
        assert_bit_identical(reference[key], fast[key])


def _grads(shape, dtype, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for _ in range(STEPS)]


# ------------------------------------------------------------------ SGD
def _sgd(arrays, grad, state, step, **options):
    kernels.sgd_update(arrays["p"], grad, state, **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("momentum, dampening, nesterov",
                         [(0.0, 0.0, False), (0.9, 0.0, False), (0.9, 0.3, False), (0.9, 0.0, True)])
@pytest.mark.parametrize("weight_decay, maximize", [(0.0, False), (0.0, True), (0.01, False), (0.01, True)])
def test_sgd_bit_identical(dtype, shape, momentum, dampening, nesterov, weight_decay, maximize):
    _compare(_sgd, _arrays(shape, dtype, ["p"]), _grads(shape, dtype), ("momentum_buffer",), lr=0.1,
             momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay,
             maximize=maximize)


# ------------------------------------------------------------------ Adam, AdamW
def _adam(arrays, grad, state, step, **options):
    kernels.adam_update(arrays["p"], grad, arrays["m"], arrays["v"], arrays["vmax"], step=step, **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("amsgrad, maximize, decoupled", list(itertools.product([False, True], repeat=3)))
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_adam_bit_identical(dtype, shape, amsgrad, maximize, decoupled, weight_decay):
    arrays = _arrays(shape, dtype, ["p", "m", "v", "vmax"], positive=("v", "vmax"))
    _compare(_adam, arrays, _grads(shape, dtype), lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8,
             weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize, decoupled=decoupled)


# ------------------------------------------------------------------ RMSprop
def _rmsprop(arrays, grad, state, step, **options):
    kernels.rmsprop_update(arrays["p"], grad, arrays["sq"], arrays["avg"], arrays["buf"], **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("centered, maximize", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.0, 0.05), (0.9, 0.05)])
@pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt:RuntimeWarning")
def test_rmsprop_bit_identical(dtype, shape, centered, maximize, momentum, weight_decay):
    arrays = _arrays(shape, dtype, ["p", "sq", "avg", "buf"], positive=("sq",))
    arrays["avg"] *= dtype(0.1)  # keep sq - avg**2 mostly positive (a NaN root is compared too)
    _compare(_rmsprop, arrays, _grads(shape, dtype), lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=weight_decay,
             momentum=momentum, centered=centered, maximize=maximize)


# ------------------------------------------------------------------ Adagrad, Adadelta
def _adagrad(arrays, grad, state, step, **options):
    kernels.adagrad_update(arrays["p"], grad, arrays["sum"], **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weight_decay, maximize", [(0.0, False), (0.0, True), (0.05, False), (0.05, True)])
def test_adagrad_bit_identical(dtype, shape, weight_decay, maximize):
    arrays = _arrays(shape, dtype, ["p", "sum"], positive=("sum",))
    _compare(_adagrad, arrays, _grads(shape, dtype), lr=0.05, eps=1e-10, weight_decay=weight_decay,
             maximize=maximize)


def _adadelta(arrays, grad, state, step, **options):
    kernels.adadelta_update(arrays["p"], grad, arrays["sq"], arrays["acc"], **options)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("weight_decay, maximize", [(0.0, False), (0.0, True), (0.05, False), (0.05, True)])
def test_adadelta_bit_identical(dtype, shape, weight_decay, maximize):
    arrays = _arrays(shape, dtype, ["p", "sq", "acc"], positive=("sq", "acc"))
    _compare(_adadelta, arrays, _grads(shape, dtype), lr=1.0, rho=0.9, eps=1e-6, weight_decay=weight_decay,
             maximize=maximize)


# ------------------------------------------------------------------ special values, big arrays, fallbacks
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_adam_special_values_match(dtype):
    """inf, NaN and zero gradients give the same values (NaN where the reference has NaN)."""
    shape = (6,)
    specials = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e30], dtype=dtype)
    arrays = _arrays(shape, dtype, ["p", "m", "v", "vmax"], positive=("v", "vmax"))
    grads = [specials, specials[::-1].copy(), _grads(shape, dtype)[0]]
    for amsgrad in (False, True):
        reference = _run("numpy", _adam, arrays, grads, (), lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8,
                         weight_decay=0.01, amsgrad=amsgrad, maximize=False, decoupled=True)
        fast = _run("numba", _adam, arrays, grads, (), lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8,
                    weight_decay=0.01, amsgrad=amsgrad, maximize=False, decoupled=True)
        for key in reference:
            np.testing.assert_array_equal(reference[key], fast[key])


@pytest.mark.parametrize("dtype", DTYPES)
def test_parallel_form_bit_identical(dtype, monkeypatch):
    """An array above the parallel thresholds takes the prange form (with two threads): same bits."""
    monkeypatch.setattr(kernels, "PARALLEL_MIN_ELEMENTS", 1 << 15)
    shape = (300, 200)
    previous = ember.kernels.get_num_threads()
    ember.kernels.set_num_threads(2)
    try:
        arrays = _arrays(shape, dtype, ["p", "m", "v", "vmax"], positive=("v", "vmax"))
        _compare(_adam, arrays, _grads(shape, dtype), lr=1e-3, beta1=0.9, beta2=0.95, eps=1e-8,
                 weight_decay=0.1, amsgrad=True, maximize=False, decoupled=True)
        _compare(_sgd, _arrays(shape, dtype, ["p"]), _grads(shape, dtype), ("momentum_buffer",), lr=0.1,
                 momentum=0.9, dampening=0.0, nesterov=True, weight_decay=1e-4, maximize=False)
        assert kernels._adam_amsgrad_loop._parallel is not None and kernels._sgd_momentum_loop._parallel is not None
    finally:
        ember.kernels.set_num_threads(previous)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_zero_divisor_gives_nan_not_an_error():
    """eps=0 on a zero gradient divides 0 by 0: NaN in both (numba's Python error model would raise)."""
    arrays = {"p": np.ones(3, np.float32), "m": np.zeros(3, np.float32), "v": np.zeros(3, np.float32),
              "vmax": np.zeros(3, np.float32)}
    grads = [np.zeros(3, np.float32)]
    reference = _run("numpy", _adam, arrays, grads, (), lr=1e-2, beta1=0.9, beta2=0.999, eps=0.0,
                     weight_decay=0.0, amsgrad=False, maximize=False, decoupled=False)
    fast = _run("numba", _adam, arrays, grads, (), lr=1e-2, beta1=0.9, beta2=0.999, eps=0.0,
                weight_decay=0.0, amsgrad=False, maximize=False, decoupled=False)
    assert np.isnan(fast["p"]).all()
    for key in reference:
        assert_bit_identical(reference[key], fast[key])


def test_numba_runs_only_on_contiguous_same_dtype_arrays():
    p, g = np.ones(4, np.float32), np.ones(4, np.float32)
    assert run_with("numba", kernels._numba, "adam", p, g)
    assert not run_with("numpy", kernels._numba, "adam", p, g)
    assert not run_with("numba", kernels._numba, "adam", p, np.ones(8, np.float32)[::2])
    assert not run_with("numba", kernels._numba, "adam", p, g.astype(np.float64))
    assert not run_with("numba", kernels._numba, "adam", p.astype(np.float16), g.astype(np.float16))
    assert not run_with("numba", kernels._numba, "adam", np.ones((4, 4), np.float32).T, np.ones((4, 4), np.float32))


@pytest.mark.parametrize("case", ["strided_grad", "float16", "mixed_dtype"])
def test_fallback_gives_reference(case):
    """Arrays the loop does not take run the reference in either engine: identical results."""
    shape = (4, 6)
    dtype = np.float16 if case == "float16" else np.float32
    arrays = _arrays(shape, dtype, ["p", "m", "v", "vmax"], positive=("v", "vmax"))
    grads = _grads(shape, dtype)
    if case == "strided_grad":
        grads = [np.repeat(g, 2, axis=1)[:, ::2] for g in grads]
    elif case == "mixed_dtype":
        grads = [g.astype(np.float64) for g in grads]
    options = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-4, weight_decay=0.0, amsgrad=False, maximize=False,
                   decoupled=False)
    reference = _run("numpy", _adam, arrays, grads, (), **options)
    fast = _run("numba", _adam, arrays, grads, (), **options)
    for key in reference:
        assert_bit_identical(reference[key], fast[key])


@pytest.mark.parametrize("name, make", [
    ("SGD", lambda ps: ember.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("Adam", lambda ps: ember.optim.Adam(ps, lr=1e-2, amsgrad=True)),
    ("AdamW", lambda ps: ember.optim.AdamW(ps, lr=1e-2)),
    ("RMSprop", lambda ps: ember.optim.RMSprop(ps, lr=1e-2, momentum=0.5, centered=True)),
    ("Adagrad", lambda ps: ember.optim.Adagrad(ps, lr=0.1, lr_decay=0.01)),
    ("Adadelta", lambda ps: ember.optim.Adadelta(ps, weight_decay=0.01)),
])
def test_optimizer_steps_identical_under_both_engines(name, make):
    """Whole optimizer steps (several parameters, float32) give the same bits with either engine."""
    def train(engine):
        ember.manual_seed(0)
        params = [ember.randn(5, 3, requires_grad=True), ember.randn(3, requires_grad=True)]
        opt = make(params)

        def go():
            for _ in range(3):
                opt.zero_grad()
                ((params[0] ** 2).sum() + (params[1] * params[0]).sum()).backward()
                opt.step()
        run_with(engine, go)
        return [p.numpy().copy() for p in params]

    for reference, fast in zip(train("numpy"), train("numba")):
        assert_bit_identical(reference, fast)


def test_docstring_examples(restore_engine):
    result = doctest.testmod(kernels, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
