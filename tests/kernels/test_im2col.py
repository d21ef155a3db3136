"""im2col / col2im kernels: the numba loops against the NumPy reference, bit for bit."""
import numpy as np
import pytest
from kernels.helpers import DTYPES, assert_bit_identical, both, make

from ember.kernels import im2col
from ember.kernels.geometry import ConvGeometry, kernel_offsets, output_size, padded_size


def geometry(in_size, kernel, stride=1, dilation=1, pads=0, groups=1):
    d = len(in_size)
    stride, dilation = (stride,) * d if isinstance(stride, int) else stride, \
        (dilation,) * d if isinstance(dilation, int) else dilation
    pads = ((pads, pads),) * d if isinstance(pads, int) else pads
    return ConvGeometry(tuple(in_size), tuple(kernel), stride, dilation, pads, groups,
                        output_size(in_size, kernel, stride, dilation, pads))


#: (N, C, spatial, kernel, keyword arguments): 1-D, 2-D and 3-D; stride, dilation, uneven padding, groups.
CASES = [
    (2, 3, (11,), (4,), dict(stride=3, pads=2)),
    (3, 4, (9, 8), (3, 3), dict(pads=1)),
    (2, 6, (9, 7), (3, 2), dict(stride=2, dilation=1, groups=3)),
    (1, 4, (10, 9), (2, 3), dict(stride=(2, 1), dilation=(2, 3), pads=((1, 2), (0, 3)))),
    (2, 4, (5, 6, 4), (2, 3, 2), dict(dilation=2, pads=1, groups=2)),
    (5, 1, (7, 7), (5, 5), dict()),
]


@pytest.mark.parametrize("layout", ["c", "channels_last", "strided"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,c,size,kernel,kw", CASES)
def test_unfold_and_both_column_layouts_match_the_reference(n, c, size, kernel, kw, dtype, layout):
    geom = geometry(size, kernel, **kw)
    x = make((n, c) + size, dtype, layout)
    for value in (0.0, -np.inf):
        assert_bit_identical(*both(im2col.unfold, x, geom, value))
    x_last = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    for start, stop in ((0, n), (n - 1, n)):
        assert_bit_identical(*both(im2col.columns_last, x_last, geom, start, stop))
        assert_bit_identical(*both(im2col.columns_first, x, geom, start, stop))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,c,size,kernel,kw", CASES)
def test_fold_matches_the_reference_and_is_the_adjoint_of_unfold(n, c, size, kernel, kw, dtype):
    geom = geometry(size, kernel, **kw)
    rng = np.random.default_rng(1)
    cols = rng.standard_normal((n, c) + geom.kernel + geom.out_size).astype(dtype)
    reference, fast = both(im2col.fold, cols, geom)
    assert_bit_identical(reference, fast)
    assert fast.shape == (n, c) + size
    x = rng.standard_normal((n, c) + size)
    assert np.isclose((cols * im2col.unfold(x, geom)).sum(), (fast * x).sum(), rtol=1e-4)


def test_fold_takes_non_contiguous_columns():
    geom = geometry((6, 6), (3, 3), stride=2, pads=1)
    cols = np.random.default_rng(2).standard_normal((2, 3, 3, 3, 3, 3)).transpose(0, 1, 3, 2, 5, 4)
    assert not cols.flags.c_contiguous
    assert_bit_identical(*both(im2col.fold, cols, geom))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n,c,size,kernel,kw", CASES)
def test_accumulate_windows_matches_the_reference(n, c, size, kernel, kw, dtype):
    geom = geometry(size, kernel, **kw)
    rng = np.random.default_rng(3)
    pieces = [rng.standard_normal((n,) + geom.out_size + (c,)).astype(dtype)
              for _ in kernel_offsets(geom.kernel)]

    def col2im():
        out = np.zeros((n,) + padded_size(geom) + (c,), dtype=dtype)
        return im2col.accumulate_windows(out, geom, 1, lambda t, offset: pieces[t])

    assert_bit_identical(*both(col2im))


def test_single_image_blocks_cover_the_batch():
    geom = geometry((8, 8), (3, 3), pads=1)
    x = make((4, 5, 8, 8), np.float32, "channels_last")
    x_last = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    whole = both(im2col.columns_last, x_last, geom, 0, 4)[1]
    parts = np.concatenate([both(im2col.columns_last, x_last, geom, i, i + 1)[1] for i in range(4)])
    assert_bit_identical(whole, parts)
