"""Tensor creation: dtypes follow PyTorch's defaults; random draws are reproducible."""
import numpy as np
import pytest

import ember


def test_python_data_dtypes():
    assert ember.tensor([1.0, 2.0]).dtype == np.float32
    assert ember.tensor([1, 2]).dtype == np.int64
    assert ember.tensor([True, False]).dtype == np.bool_
    assert ember.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert ember.tensor([1, 2], dtype="float64").dtype == np.float64


def test_tensor_copies_but_from_numpy_shares():
    a = np.zeros(3, np.float32)
    t = ember.tensor(a)
    s = ember.from_numpy(a)
    a[0] = 5
    assert t.tolist()[0] == 0.0 and s.tolist()[0] == 5.0


def test_constant_constructors():
    assert ember.zeros(2, 3).shape == (2, 3)
    assert ember.ones((2, 3)).numpy().sum() == 6
    assert ember.full((2,), 7).dtype == np.int64
    assert ember.full((2,), 0.5).tolist() == [0.5, 0.5]
    assert ember.eye(3).numpy().trace() == 3
    assert ember.arange(5).tolist() == [0, 1, 2, 3, 4]
    assert ember.arange(0, 1, 0.25).dtype == np.float32
    np.testing.assert_allclose(ember.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    x = ember.randn(2, 2, dtype="float64")
    assert ember.zeros_like(x).dtype == np.float64
    assert ember.ones_like(x).numpy().sum() == 4
    assert ember.full_like(x, 3.0).numpy().max() == 3.0


def test_random_is_seeded_and_reproducible():
    ember.manual_seed(7)
    a = [ember.randn(4).numpy(), ember.rand(3).numpy(), ember.randint(0, 10, (5,)).numpy()]
    ember.manual_seed(7)
    b = [ember.randn(4).numpy(), ember.rand(3).numpy(), ember.randint(0, 10, (5,)).numpy()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    r = ember.rand(10_000).numpy()
    assert 0 <= r.min() and r.max() < 1 and abs(r.mean() - 0.5) < 0.02
    n = ember.randn(10_000).numpy()
    assert abs(n.std() - 1) < 0.05
    assert ember.randn_like(ember.zeros(2, dtype="float64")).dtype == np.float64
    assert ember.rand_like(ember.zeros(3)).shape == (3,)


def test_rng_state_round_trip():
    ember.manual_seed(3)
    ember.randn(2)
    state = ember.get_rng_state()
    first = ember.randn(3).numpy()
    ember.set_rng_state(state)
    np.testing.assert_array_equal(ember.randn(3).numpy(), first)


def test_default_dtype_switch():
    ember.set_default_dtype("float64")
    try:
        assert ember.ones(2).dtype == np.float64
        assert ember.tensor([1.5]).dtype == np.float64
    finally:
        ember.set_default_dtype("float32")
    with pytest.raises(TypeError, match="floating"):
        ember.set_default_dtype("int32")


def test_creation_errors():
    with pytest.raises(ValueError, match="negative dimension"):
        ember.zeros(-1)
    with pytest.raises(TypeError, match="cannot convert|unsupported"):
        ember.tensor("hello")
    with pytest.raises(TypeError, match="cannot convert|unsupported"):
        ember.tensor([[1, 2], [3]])
    with pytest.raises(ValueError, match="empty range"):
        ember.randint(5, 5, (2,))
    with pytest.raises(ValueError, match="step"):
        ember.arange(0, 3, 0)
    with pytest.raises(ValueError, match="non-negative"):
        ember.manual_seed(-1)
    with pytest.raises(RuntimeError, match="CuPy|cupy"):
        ember.zeros(2, device="cuda") if ember.backend.cupy_module() is None else (_ for _ in ()).throw(
            RuntimeError("cupy present"))
    with pytest.raises(ValueError, match="unknown device"):
        ember.zeros(2, device="tpu")


# ------------------------------------------------------------------ ranges, against PyTorch
def test_linspace_with_integer_dtypes_truncates_as_torch():
    import torch

    cases = [(0, 10, 4), (0, 10, 7), (-5, 5, 4), (10, 0, 4), (0, 1, 5), (0.5, 10.7, 4), (-0.5, 9.9, 3),
             (3, 3, 1), (3, 10, 0)]
    for start, end, steps in cases:
        for dtype, torch_dtype in (("int64", torch.int64), ("int32", torch.int32)):
            got = ember.linspace(start, end, steps, dtype=dtype)
            assert got.dtype == np.dtype(dtype)
            assert got.tolist() == torch.linspace(start, end, steps, dtype=torch_dtype).tolist(), (start, end, steps)
    assert ember.linspace(0, 10, 4, dtype="int64").tolist() == [0, 3, 6, 10]
    # Random end points: PyTorch's rounding differs from ours at most where a point is an exact integer.
    rng = np.random.default_rng(0)
    for _ in range(200):
        start, end = rng.standard_normal(2) * 100
        steps = int(rng.integers(2, 40))
        ours = ember.linspace(float(start), float(end), steps, dtype="int64").numpy()
        theirs = torch.linspace(float(start), float(end), steps, dtype=torch.int64).numpy()
        assert np.abs(ours - theirs).max() <= 1


def test_linspace_float_and_errors():
    import torch

    for start, end, steps in ((0, 1, 5), (-3.3, 7.7, 13), (5, -5, 2), (1, 2, 1), (0, 1, 0)):
        got = ember.linspace(start, end, steps)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), torch.linspace(start, end, steps).numpy(), rtol=1e-6, atol=1e-6)
    assert ember.linspace(0, 1, 3, dtype="float64").dtype == np.float64
    assert ember.linspace(0, 1, 3, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="linspace: number of steps must be non-negative, got -1"):
        ember.linspace(0, 1, -1)


def test_logspace_matches_torch():
    import torch
    from ember.creation import logspace

    for start, end, steps, base in ((0, 2, 3, 10.0), (0, 2, 5, 10.0), (0, 3, 4, 2.0), (0.5, 2.5, 3, 10.0),
                                    (-1, 1, 5, 3.0)):
        for dtype, torch_dtype in (("int64", torch.int64), ("int32", torch.int32)):
            assert (logspace(start, end, steps, base, dtype=dtype).tolist()
                    == torch.logspace(start, end, steps, base, dtype=torch_dtype).tolist())
        np.testing.assert_allclose(logspace(start, end, steps, base).numpy(),
                                   torch.logspace(start, end, steps, base).numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="logspace: number of steps must be non-negative"):
        logspace(0, 1, -2)


def test_arange_float_values_do_not_drift():
    import torch

    for start, end, step in ((0, 10, 0.1), (0.3, 7.1, 0.7), (1e6, 1e6 + 100, 0.3), (5, 0, -1.5), (0, 1, 0.3)):
        ours, theirs = ember.arange(start, end, step).numpy(), torch.arange(start, end, step).numpy()
        assert ours.shape == theirs.shape and ours.dtype == np.float32
        # float32 rounding of the same float64 points: within one ulp of PyTorch.
        np.testing.assert_allclose(ours, theirs, rtol=2e-7, atol=1e-6)
    assert ember.arange(5, dtype="float64").dtype == np.float64
    assert ember.arange(0.5, 5.5, dtype="int64").tolist() == torch.arange(0.5, 5.5, dtype=torch.int64).tolist()
    assert ember.arange(3, requires_grad=False).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="inconsistent with the sign of step"):
        ember.arange(5, 0, 1)
