"""Embedding kernels: the numba gather and scatter-add against the NumPy reference, bit for bit."""
import numpy as np
import pytest
from kernels.helpers import DTYPES, assert_bit_identical, both, launch_fixture, run_with

import ember
import ember.functional as F
from ember.kernels import embedding as K


@pytest.fixture(autouse=True)
def every_embedding_kernel(monkeypatch):
    monkeypatch.setattr(K, "NUMBA_KERNELS", frozenset({"gather_rows", "scatter_add_rows"}))


launch = launch_fixture(K)  # each test in the serial and the thread-pool form


def table_of(rows, dim, dtype, layout="c", seed=0):
    rng = np.random.default_rng(seed)
    if layout == "strided":
        return rng.standard_normal((rows, 2 * dim)).astype(dtype)[:, ::2]
    if layout == "fortran":
        return np.asfortranarray(rng.standard_normal((rows, dim)).astype(dtype))
    return rng.standard_normal((rows, dim)).astype(dtype)


@pytest.mark.parametrize("layout", ["c", "strided", "fortran"])
@pytest.mark.parametrize("index_shape", [(), (0,), (1,), (13,), (5, 7), (2, 3, 4)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_gather_matches_the_reference_bit_for_bit(dtype, index_shape, layout):
    table = table_of(11, 5, dtype, layout)
    table[3, 1], table[4, 2] = np.nan, -0.0
    indices = np.random.default_rng(1).integers(0, 11, index_shape)
    reference, fast = both(K.gather_rows, table, indices)
    assert reference.shape == index_shape + (5,)
    assert_bit_identical(reference, fast)
    np.testing.assert_array_equal(reference, table[indices])


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64, np.uint8, np.int16])
def test_gather_takes_any_integer_and_strided_indices(index_dtype):
    table = table_of(9, 4, np.float32)
    indices = (np.arange(30).reshape(5, 6) % 9).astype(index_dtype)[::2, 1::2]
    assert not indices.flags.c_contiguous
    reference, fast = both(K.gather_rows, table, indices)
    assert_bit_identical(reference, fast)


def run_lengths_indices(rows, lengths, seed=0):
    """Indices in which row r appears lengths[r] times, shuffled (runs of every size, in any order)."""
    indices = np.repeat(np.arange(rows), lengths)
    return np.random.default_rng(seed).permutation(indices)


# Runs of every length class of NumPy's pairwise sum: under 8, up to 128 (eight partial sums and a
# tail), and longer (halved, with halves a multiple of 8): 1000 and 3000 go two and four levels down.
LENGTHS = [0, 1, 2, 7, 8, 9, 16, 31, 127, 128, 129, 130, 137, 257, 300, 1000, 3000]


@pytest.mark.parametrize("layout", ["c", "strided"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_sums_repeated_indices_in_the_references_order(dtype, layout, launch):
    rows, dim = len(LENGTHS), 6
    indices = run_lengths_indices(rows, LENGTHS).reshape(-1, 1)
    g = table_of(indices.size, dim, dtype, layout, seed=2).reshape(indices.shape + (dim,))
    reference, fast = both(K.scatter_add_rows, g, indices, rows, None)
    assert_bit_identical(reference, fast)
    expected = np.zeros((rows, dim))
    np.add.at(expected, indices.reshape(-1), g.reshape(-1, dim).astype(np.float64))
    np.testing.assert_allclose(fast, expected, rtol=1e-4 if dtype == np.float32 else 1e-12, atol=1e-3)


@pytest.mark.parametrize("padding_idx", [None, 0, 4])
@pytest.mark.parametrize("index_shape", [(0,), (1,), (35, 20), (3, 5, 2)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_scatter_matches_the_reference_with_padding_and_odd_shapes(dtype, index_shape, padding_idx):
    rows, dim = 7, 3
    indices = np.random.default_rng(3).integers(0, rows, index_shape)
    g = np.random.default_rng(4).standard_normal(index_shape + (dim,)).astype(dtype)
    reference, fast = both(K.scatter_add_rows, g, indices, rows, padding_idx)
    assert fast.shape == (rows, dim)
    assert_bit_identical(reference, fast)
    if padding_idx is not None:
        assert fast[padding_idx].tolist() == [0.0] * dim


def test_scatter_keeps_signed_zeros_and_nans_as_the_reference():
    g = np.array([[-0.0, np.nan, 1.0], [-0.0, 2.0, np.inf], [-0.0, 3.0, -np.inf], [5.0, -0.0, -0.0]],
                 np.float32)
    indices = np.array([1, 1, 1, 2])
    with np.errstate(invalid="ignore"):  # inf + -inf: the reference's reduceat warns, the loop does not
        reference, fast = both(K.scatter_add_rows, g, indices, 4, None)
    assert_bit_identical(reference, fast)
    assert np.signbit(fast[1, 0]) and np.isnan(fast[1, 1]) and np.isnan(fast[1, 2])
    assert not np.signbit(fast[0, 0]) and np.signbit(fast[2, 1])  # an untouched row is +0.0


def test_scatter_of_a_zero_width_gradient_is_an_empty_table():
    reference, fast = both(K.scatter_add_rows, np.zeros((4, 0), np.float32), np.array([0, 1, 1, 2]), 3, None)
    assert reference.shape == fast.shape == (3, 0)


def test_scatter_with_a_transposed_gradient(launch):
    rng = np.random.default_rng(5)
    g = np.ascontiguousarray(rng.standard_normal((8, 40)).astype(np.float32)).T  # (40, 8), F-ordered
    indices = rng.integers(0, 5, 40)
    reference, fast = both(K.scatter_add_rows, g, indices, 5, None)
    assert_bit_identical(reference, fast)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_embedding_gradients_are_the_same_bits_in_both_engines_and_match_pytorch(engine):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    table = rng.standard_normal((65, 16))
    idx = rng.integers(0, 65, (64, 32))
    g = rng.standard_normal((64, 32, 16))

    def gradient():
        w = ember.tensor(table, requires_grad=True)
        F.embedding(ember.tensor(idx), w, padding_idx=3).backward(ember.tensor(g))
        return w.grad.numpy()

    ours = run_with(engine, gradient)
    assert_bit_identical(run_with("numpy", gradient), ours)
    tw = torch.tensor(table, requires_grad=True)
    torch.nn.functional.embedding(torch.tensor(idx), tw, padding_idx=3).backward(torch.tensor(g))
    np.testing.assert_allclose(ours, tw.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_second_order_gradients_through_the_kernels(engine):
    rng = np.random.default_rng(7)
    table = rng.standard_normal((5, 3))
    idx = np.array([[0, 4, 4], [2, 0, 4]])

    def f(w):
        return (F.embedding(ember.tensor(idx), w, padding_idx=2) ** 2).sum()

    def check():
        w = ember.tensor(table, requires_grad=True)
        (gw,) = ember.autograd.grad(f(w), w, create_graph=True)
        (ggw,) = ember.autograd.grad((gw * gw).sum(), w)
        return gw.detach().numpy(), ggw.numpy()

    gw, ggw = run_with(engine, check)
    counts = np.bincount(idx.reshape(-1), minlength=5)[:, None] * np.ones((1, 3))
    counts[2] = 0  # the padding row gets no gradient
    np.testing.assert_allclose(gw, 2 * counts * table, rtol=1e-12)
    np.testing.assert_allclose(ggw, 8 * counts ** 2 * table, rtol=1e-12)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_out_of_range_indices_give_the_clear_error(engine):
    w = ember.randn(10, 3)
    with pytest.raises(IndexError, match=r"embedding: indices must lie in \[0, 10\) for a table of shape "
                                         r"\(10, 3\), got values in \[-1, 10\]"):
        run_with(engine, F.embedding, ember.tensor([-1, 3, 10]), w)


def test_non_float_tables_take_the_reference():
    table = np.arange(12, dtype=np.int64).reshape(4, 3)
    np.testing.assert_array_equal(K.gather_rows(table, np.array([3, 0])), [[9, 10, 11], [0, 1, 2]])
    g = np.ones((3, 2), np.float16)
    out = K.scatter_add_rows(g, np.array([1, 1, 0]), 2, None)
    assert out.dtype == np.float16 and out.tolist() == [[1.0, 1.0], [2.0, 2.0]]
