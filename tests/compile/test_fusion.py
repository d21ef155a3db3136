"""ember.compile's fusion: elementwise chains replayed as one generated numba loop, equal to eager."""
import os

import numpy as np
import pytest

import ember
import ember.kernels
from ember.compile.codegen import loop_layout, source_dir
from ember.compile.fuse import FUSE_VARIABLE, fusion_mode
from ember.errors import ArgumentError

pytestmark = pytest.mark.skipif(not ember.kernels.engine.numba_active(), reason="fusion needs numba")


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view({4: np.uint32, 8: np.uint64, 1: np.uint8}[a.dtype.itemsize])


def _assert_same_bits(got, expected):
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(_bits(got), _bits(expected))


def _special(shape, dtype, seed=0):
    """Random values with NaN, +-inf, +-0 and exact ties mixed in."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    flat = x.reshape(-1)
    flat[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5]
    rng.shuffle(flat)
    return x


def _replay(fn, *arrays, fuse=True):
    """fn compiled with ``fuse``, traced on the arrays then replayed on them: (plan, results)."""
    compiled = ember.compile(fn, fuse=fuse)
    compiled(*[ember.tensor(a) for a in arrays])
    tensors = [ember.tensor(a) for a in arrays]  # fresh: a function may set their .grad
    out = compiled(*tensors)
    return compiled.plan_for(*tensors), out


def _fused_names(plan):
    return [step.describe() for step in plan.fused_groups]


# ------------------------------------------------------------------ forward patterns
FORWARD_PATTERNS = {
    "scalar chain": (lambda a, b: (a * 0.9 + b * 0.1) * a - b / 3.0, [(64, 33), (64, 33)]),
    "bias + relu": (lambda x, b: (x + b).relu() * 2.0, [(16, 40), (40,)]),
    "column broadcast": (lambda x, s: ((x - s) * 2.0) / (s * s + 1.0), [(12, 50), (12, 1)]),
    "maximum and minimum": (lambda a, b: ember.maximum(a * 1.0, b) - ember.minimum(a, b * 1.0),
                            [(40, 40), (40, 40)]),
    "max/min/where": (lambda a, b: ember.where(a > b, ember.maximum(a, b) - 1.0, ember.minimum(a, b) * b),
                      [(32, 32), (32, 32)]),
    "powers, sqrt, abs, neg": (lambda a, b: (-(a ** 2) + a.abs().sqrt() * b ** 3 + 1.0 / (b ** 2)).abs(),
                               [(300,), (300,)]),
    "comparisons and casts": (lambda a, b: ((a >= b).astype(a.dtype) * a + (a != b).astype(a.dtype))
                              - (a <= 0).astype(a.dtype) + a.isnan().astype(a.dtype), [(10, 20), (10, 20)]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(FORWARD_PATTERNS))
def test_fused_forward_is_bit_identical_to_eager_including_nan_inf_and_signed_zeros(name, dtype):
    fn, shapes = FORWARD_PATTERNS[name]
    arrays = [_special(shape, dtype, seed=i) for i, shape in enumerate(shapes)]
    with np.errstate(all="ignore"):
        eager = fn(*[ember.tensor(a) for a in arrays]).numpy()
        plan, fused = _replay(fn, *arrays)
    assert plan.fused_groups, f"{name}: nothing was fused"
    _assert_same_bits(fused.numpy(), eager)
    assert fused.numpy().dtype == dtype


def test_relu_maximum_and_relu_backward_follow_numpy_at_ties_and_nan():
    x = np.array([-0.0, 0.0, np.nan, -np.nan, np.inf, -np.inf, 1.0, -1.0] * 4, np.float32)
    g = np.array([1.0, -2.0, np.nan, 3.0, -0.0, np.inf, 4.0, -5.0] * 4, np.float32)

    def make():
        leaf = ember.tensor(x, requires_grad=True)

        def fn(g):
            leaf.grad = None
            y = (leaf * 1.0).relu()
            (y * g * 2.0).sum().backward()
            ties = ember.maximum(leaf * 1.0, g * 0.0) * 2.0  # maximum(-0.0, 0.0) is 0.0, (0.0, -0.0) -0.0
            return ember.maximum(y, leaf * -1.0) + ember.minimum(leaf, g * 0.0), leaf.grad, ties

        return fn

    with np.errstate(all="ignore"):
        eager = make()(ember.tensor(g))
        plan, fused = _replay(make(), g)
    assert any("relu_backward" in d for d in _fused_names(plan)), _fused_names(plan)
    for got, expected in zip(fused, eager):
        _assert_same_bits(got.numpy(), expected.numpy())


# ------------------------------------------------------------------ training steps (values and gradients)
def _train(compiled_fuse, activation, steps=4, seed=0):
    ember.manual_seed(seed)
    w1 = (ember.randn(20, 32) * 0.2).requires_grad_()
    b1 = ember.zeros(32, requires_grad=True)
    w2 = (ember.randn(32, 5) * 0.2).requires_grad_()
    params = [w1, b1, w2]

    def step(x, y):
        for p in params:
            p.grad = None
        h = getattr(x @ w1 + b1, activation)()
        h = h * 0.5 + h * h * 0.25
        loss = ((h @ w2 - y) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            for p in params:
                p -= 0.05 * p.grad
        return loss, w1.grad, b1.grad

    fn = step if compiled_fuse is None else ember.compile(step, fuse=compiled_fuse)
    rng = np.random.default_rng(1)
    out = []
    for _ in range(steps):
        x = ember.tensor(rng.standard_normal((16, 20)).astype(np.float32))
        y = ember.tensor(rng.standard_normal((16, 5)).astype(np.float32))
        loss, g1, gb = fn(x, y)
        out.append((loss.numpy().copy(), g1.numpy().copy(), gb.numpy().copy()))
    return fn, out, [p.numpy().copy() for p in params]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_fused_training_step_matches_eager_bit_for_bit(activation):
    _, eager, eager_params = _train(None, activation)
    compiled, fused, fused_params = _train(True, activation)
    plan = next(iter(compiled.plans.values()))
    names = " ".join(_fused_names(plan))
    assert f"{activation}_backward" in names, names  # the backward chain ends in the activation's slope
    for (l1, g1, b1), (l2, g2, b2) in zip(eager, fused):
        _assert_same_bits(l2, l1)
        _assert_same_bits(g2, g1)
        _assert_same_bits(b2, b1)
    for p, q in zip(eager_params, fused_params):
        _assert_same_bits(q, p)


def test_fused_gradients_agree_with_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x, b0 = rng.standard_normal((8, 16)), rng.standard_normal(16)
    b = ember.tensor(b0, requires_grad=True)

    def fn(x):
        b.grad = None
        y = (x * b + b * 0.5).sigmoid() * (x - b)
        (y * y).sum().backward()
        return y, b.grad

    plan, (y, grad) = _replay(fn, x)
    assert any("neg" in d for d in _fused_names(plan)), _fused_names(plan)  # a backward chain fused
    tb = torch.tensor(b0, requires_grad=True)
    ty = (torch.tensor(x) * tb + tb * 0.5).sigmoid() * (torch.tensor(x) - tb)
    (ty * ty).sum().backward()
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad.numpy(), tb.grad.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ what is and is not fused
def test_values_read_outside_a_group_are_materialized():
    x = np.linspace(-2, 2, 64, dtype=np.float32).reshape(8, 8)

    def fn(x):
        y = x * 2.0
        z = y + 1.0
        return y, z.relu(), z.sum()  # y is returned, z is read by a reduction

    eager = fn(ember.tensor(x))
    plan, fused = _replay(fn, x)
    assert len(plan.fused_groups) == 1 and len(plan.fused_groups[0].outs) == 3
    for got, expected in zip(fused, eager):
        _assert_same_bits(got.numpy(), expected.numpy())


def test_a_group_does_not_span_an_in_place_update():
    x = np.arange(32, dtype=np.float32)

    def make():
        w = ember.ones(32)

        def fn(x):
            a = x * w
            with ember.no_grad():
                w.add_(1.0)
            return (a * w + 1.0) * 0.5

        return fn

    eager_fn = make()
    eager = [eager_fn(ember.tensor(x)).numpy() for _ in range(3)]
    compiled = ember.compile(make(), fuse=True)
    got = [compiled(ember.tensor(x)).numpy() for _ in range(3)]
    for g, e in zip(got, eager):
        _assert_same_bits(g, e)
    plan = compiled.plan_for(ember.tensor(x))
    assert [len(group.members) for group in plan.fused_groups] == [3]  # (a * w + 1) * 0.5, after the update


def test_transcendental_ops_fuse_only_with_fuse_all_and_stay_within_one_ulp():
    x = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
    fn = lambda x: ((x * 0.5).tanh() + (x * x).exp().log() + x.sigmoid()) * 2.0  # noqa: E731
    eager = fn(ember.tensor(x)).numpy()
    exact_plan, exact = _replay(fn, x, fuse=True)
    assert not any("tanh ->" in d or "exp" in d for d in _fused_names(exact_plan))
    _assert_same_bits(exact.numpy(), eager)
    all_plan, approximate = _replay(fn, x, fuse="all")
    assert any("tanh" in d and "exp" in d and "sigmoid" in d for d in _fused_names(all_plan))
    assert approximate.numpy().dtype == np.float32
    # Each op within an ulp of NumPy's; the sum of terms up to ~9 carries that as about 1e-6 absolute.
    np.testing.assert_allclose(approximate.numpy(), eager, rtol=2.5e-7, atol=1.5e-6)
    assert not np.array_equal(approximate.numpy(), eager)  # numba's libm really ran


def test_fusion_off_by_argument_by_environment_and_with_the_numpy_engine(monkeypatch):
    x = np.ones((4, 4), np.float32)
    fn = lambda x: (x * 2.0 + 1.0).relu()  # noqa: E731
    assert _replay(fn, x, fuse=True)[0].fused_groups
    assert not _replay(fn, x, fuse=False)[0].fused_groups
    monkeypatch.setenv(FUSE_VARIABLE, "0")
    assert not _replay(fn, x, fuse=None)[0].fused_groups
    monkeypatch.setenv(FUSE_VARIABLE, "1")
    assert _replay(fn, x, fuse=None)[0].fused_groups
    previous = ember.kernels.current()
    ember.kernels.use("numpy")
    try:
        plan, out = _replay(fn, x, fuse=True)
        assert not plan.fused_groups
        np.testing.assert_array_equal(out.numpy(), np.full((4, 4), 3.0, np.float32))
    finally:
        ember.kernels.use(previous)


def test_a_plan_fused_under_numba_replays_its_kernels_when_the_engine_switches_to_numpy():
    x = _special((16, 16), np.float32)
    fn = lambda x: (x * 3.0 - 1.0).relu() / 7.0  # noqa: E731
    compiled = ember.compile(fn, fuse=True)
    t = ember.tensor(x)
    expected = compiled(t).numpy()
    assert compiled.plan_for(t).fused_groups
    previous = ember.kernels.current()
    ember.kernels.use("numpy")
    try:
        _assert_same_bits(compiled(t).numpy(), expected)
    finally:
        ember.kernels.use(previous)


def test_fusion_mode_values_and_errors(monkeypatch):
    assert (fusion_mode(True), fusion_mode(False), fusion_mode("all")) == ("exact", "off", "all")
    with pytest.raises(ArgumentError, match="fuse must be True, False, 'exact' or 'all'; got 'fast'"):
        fusion_mode("fast")
    monkeypatch.setenv(FUSE_VARIABLE, "maybe")
    with pytest.raises(ArgumentError, match="EMBER_COMPILE_FUSE must be one of 0, 1, all; got 'maybe'"):
        fusion_mode(None)


def test_loop_layout_accepts_full_row_column_and_scalar_operands_and_refuses_the_rest():
    assert loop_layout((4, 5), [(4, 5), (), (1,)]) == (1, 20, ("full", "scalar", "scalar"))
    assert loop_layout((4, 5), [(4, 5), (5,)]) == (4, 5, ("full", "col"))
    assert loop_layout((4, 5, 6), [(4, 5, 6), (4, 1, 1), (5, 6)]) == (4, 30, ("full", "row", "col"))
    assert loop_layout((4, 5, 6), [(4, 5, 6), (4, 1, 6)]) is None


def test_unsupported_broadcasts_are_left_unfused_and_correct():
    x = _special((4, 5, 6), np.float32)
    m = _special((4, 1, 6), np.float32, seed=2)
    fn = lambda x, m: (x - m) * (x + m)  # noqa: E731
    eager = fn(ember.tensor(x), ember.tensor(m)).numpy()
    plan, out = _replay(fn, x, m)
    assert not plan.fused_groups
    _assert_same_bits(out.numpy(), eager)


def test_generated_source_is_written_to_the_cache_and_explain_reports_the_groups(capsys):
    x = np.linspace(-3, 3, 4096, dtype=np.float32)
    compiled = ember.compile(lambda x: ((x * 1.25 - 0.75) * x).relu() + x * 0.125, fuse=True)
    report = compiled.explain(ember.tensor(x), repeat=2)
    plan = compiled.plan_for(ember.tensor(x))
    (group,) = plan.fused_groups
    path = os.path.join(source_dir(), group.name + ".py")
    with open(path, encoding="utf-8") as f:
        assert f.read() == group.source
    assert "@numba_kernel" in group.source
    assert "fused[6] mul -> sub -> mul -> relu -> mul -> add (4096,) float32" in report
    assert "1 fused groups replace 6 kernels" in report
    assert report in capsys.readouterr().out


def test_large_groups_run_the_parallel_kernel_with_the_same_bits():
    from ember.kernels.threads import get_num_threads, set_num_threads

    x = _special((256, 160), np.float32)  # 40960 elements: above the parallel threshold
    b = _special((160,), np.float32, seed=5)
    fn = lambda x, b: ember.where(x > b, (x - b) * 0.5, (x + b).relu())  # noqa: E731
    eager = fn(ember.tensor(x), ember.tensor(b)).numpy()
    previous = get_num_threads()
    set_num_threads(2)
    try:
        plan, out = _replay(fn, x, b)
    finally:
        set_num_threads(previous)
    assert plan.fused_groups and plan.fused_groups[0].accesses == ("full", "col", "scalar")
    _assert_same_bits(out.numpy(), eager)


def _update_by_hand(overlapping, seed=0):
    """``target -= value`` with a fused value, eager and compiled; with ``overlapping`` the target is
    ``w[1:]`` and the value reads ``w[:-1]``, a view of the same memory one element behind."""
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(1 << 15).astype(np.float32)
    grads = [rng.standard_normal((1 << 15) - 1).astype(np.float32) for _ in range(3)]
    results = []
    for fuse in (None, True):
        w = ember.tensor(start.copy())

        def step(g):
            with ember.no_grad():
                target = w[1:]
                source = w[:-1] if overlapping else g
                target.sub_(source * 0.125 + g * 0.5)
            return w * 1.0

        fn = step if fuse is None else ember.compile(step, fuse=fuse)
        outs = [fn(ember.tensor(g)).numpy() for g in grads]
        results.append((fn, outs, w.numpy().copy()))
    return results


def test_an_in_place_update_finishes_the_group_that_computes_its_value():
    (_, eager, w_eager), (compiled, fused, w_fused) = _update_by_hand(overlapping=False)
    (plan,) = compiled.plans.values()
    assert any(d.endswith("subtract in place (32767,) float32") for d in _fused_names(plan)), _fused_names(plan)
    for got, expected in zip(fused, eager):
        _assert_same_bits(got, expected)
    _assert_same_bits(w_fused, w_eager)


def test_an_in_place_update_whose_value_reads_memory_of_the_target_runs_unfused():
    (_, eager, w_eager), (compiled, fused, w_fused) = _update_by_hand(overlapping=True)
    (plan,) = compiled.plans.values()
    assert any("in place" in d for d in _fused_names(plan))  # fused at plan time, refused at run time
    for got, expected in zip(fused, eager):
        _assert_same_bits(got, expected)
    _assert_same_bits(w_fused, w_eager)


def test_a_fused_kernel_that_fails_warns_once_and_runs_its_kernels(monkeypatch):
    import sys

    fuse_module = sys.modules["ember.compile.fuse"]

    def broken(*args):
        raise TypeError("no matching definition")

    class Broken:
        serial = staticmethod(lambda: broken)

        def __call__(self, *args):
            broken()

    monkeypatch.setattr(fuse_module, "load_kernel", lambda name, source: Broken())
    x = _special((8, 8), np.float32)
    fn = lambda x: ((x - 0.5) * 4.0).relu()  # noqa: E731
    compiled = ember.compile(fn, fuse=True)
    compiled(ember.tensor(x))  # the trace runs eagerly
    with pytest.warns(RuntimeWarning, match=r"fused kernel fused_\w+ \(fused\[3\] sub -> mul -> relu .*\) failed "
                                            r"\(TypeError: no matching definition\); its kernels run unfused"):
        first = compiled(ember.tensor(x)).numpy()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = compiled(ember.tensor(x)).numpy()
    expected = fn(ember.tensor(x)).numpy()
    _assert_same_bits(first, expected)
    _assert_same_bits(second, expected)
