"""Pooling kernels: the numba loops against the NumPy reference, bit for bit, in every memory layout."""
import numpy as np
import pytest
from kernels.helpers import DTYPES, assert_bit_identical, both, make

from ember.kernels import pool as P
from ember.kernels.geometry import ConvGeometry

#: Pooling geometries (as ember.ops.pool.pool_geometry builds them): 1-D/2-D/3-D, overlapping,
#: dilated, padded, ceil_mode's extra after-padding.
GEOMETRIES = [
    ((2, 3, 9), ConvGeometry((9,), (3,), (2,), (1,), ((1, 2),), 1, (5,))),
    ((2, 5, 8, 8), ConvGeometry((8, 8), (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), 1, (4, 4))),
    ((3, 4, 9, 7), ConvGeometry((9, 7), (3, 3), (2, 2), (1, 1), ((1, 1), (1, 1)), 1, (5, 4))),
    ((1, 2, 10, 9), ConvGeometry((10, 9), (2, 3), (1, 2), (2, 1), ((1, 1), (0, 1)), 1, (9, 4))),
    ((2, 3, 5, 6, 4), ConvGeometry((5, 6, 4), (2, 3, 2), (2, 1, 2), (1, 1, 1), ((1, 1), (1, 1), (0, 0)), 1,
                                   (3, 6, 2))),
]
LAYOUTS = ["c", "channels_last", "strided"]


def special_values(x):
    """Plant ties, NaNs and infinities, the cases where the winner rules matter."""
    x = x.copy()
    flat = x.reshape(-1)
    flat[::7] = 1.5
    flat[3::29] = np.nan
    flat[5::31] = -np.inf
    flat[11::37] = np.inf
    return x


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,geom", GEOMETRIES)
def test_max_pool_values_offsets_and_layout(shape, geom, dtype, layout):
    x = make(shape, dtype, layout)
    for data in (x, special_values(x)):
        (best, arg), (fast_best, fast_arg) = both(P.max_pool, data, geom)
        assert_bit_identical(best, fast_best)
        assert_bit_identical(arg, fast_arg)
        assert fast_best.strides == best.strides or layout == "strided"


def test_max_pool_of_an_all_minus_infinity_window_points_at_the_padding_like_the_reference():
    x = np.full((1, 1, 4), -np.inf)
    geom = ConvGeometry((4,), (2,), (2,), (1,), ((1, 1),), 1, (3,))
    (best, arg), (fast_best, fast_arg) = both(P.max_pool, x, geom)
    assert_bit_identical(arg, fast_arg)
    np.testing.assert_array_equal(arg, [[[0, 0, 0]]])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,geom", GEOMETRIES)
def test_scatter_gather_and_window_sums_match_the_reference(shape, geom, dtype, layout):
    x = make(shape, dtype, layout)
    _, arg = P.max_pool(x, geom)
    g = make(shape[:2] + geom.out_size, dtype, layout, seed=5)
    scatter, fast_scatter = both(P.max_pool_scatter, g, arg, geom)
    np.testing.assert_array_equal(scatter, fast_scatter)  # -0.0 == 0.0: the reference writes g * False
    assert fast_scatter.dtype == dtype and fast_scatter.shape == shape
    assert_bit_identical(*both(P.max_pool_gather, x, arg, geom))
    assert_bit_identical(*both(P.window_sum, x, geom))
    assert_bit_identical(*both(P.window_spread, g, geom))


def test_max_pool_and_indices_on_a_known_plane():
    x = np.array([[[[1.0, 5.0, 2.0, 2.0], [3.0, 4.0, 8.0, 0.0]]]])
    geom = ConvGeometry((2, 4), (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), 1, (1, 2))
    for values, arg in both(P.max_pool, x, geom):
        np.testing.assert_array_equal(values, [[[[5.0, 8.0]]]])
        np.testing.assert_array_equal(arg, [[[[1, 2]]]])
        np.testing.assert_array_equal(P.max_pool_indices(arg, geom), [[[[1, 6]]]])
    for back in both(P.max_pool_scatter, np.array([[[[10.0, 20.0]]]]), arg, geom):
        np.testing.assert_array_equal(back, [[[[0, 10, 0, 0], [0, 0, 20, 0]]]])
    for picked in both(P.max_pool_gather, x * 2, arg, geom):
        np.testing.assert_array_equal(picked, values * 2)


def test_window_sum_and_spread_are_adjoint():
    rng = np.random.default_rng(3)
    geom = ConvGeometry((5, 6), (3, 2), (2, 1), (1, 1), ((1, 1), (0, 1)), 1, (3, 6))
    x, g = rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((2, 3, 3, 6))
    for summed, spread in zip(both(P.window_sum, x, geom), both(P.window_spread, g, geom)):
        assert np.isclose((summed * g).sum(), (spread * x).sum())


def test_channels_last_input_keeps_channels_last_results():
    x = make((2, 8, 6, 6), np.float32, "channels_last")
    geom = ConvGeometry((6, 6), (2, 2), (2, 2), (1, 1), ((0, 0), (0, 0)), 1, (3, 3))
    best, arg = both(P.max_pool, x, geom)[1]
    assert np.moveaxis(best, 1, -1).flags.c_contiguous and np.moveaxis(arg, 1, -1).flags.c_contiguous
    back = both(P.max_pool_scatter, best, arg, geom)[1]
    assert np.moveaxis(back, 1, -1).flags.c_contiguous
