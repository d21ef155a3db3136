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
