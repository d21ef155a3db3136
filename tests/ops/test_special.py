"""erf, erfc and erfinv: accuracy against PyTorch (float32 and float64), edges, gradients."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.special import erf, erfc, erfinv

torch = pytest.importorskip("torch")


def _ulps(mine, ref):
    """|mine - ref| in units of ``ref``'s last place (in ``ref``'s dtype)."""
    spacing = np.spacing(np.abs(ref)).astype(np.float64)
    return np.abs(mine.astype(np.float64) - ref.astype(np.float64)) / spacing


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_float32_is_within_one_ulp_of_torch_everywhere(name):
    x = (np.random.default_rng(0).standard_normal(20000) * 3).astype(np.float32)
    mine = {"erf": erf, "erfc": erfc}[name](ember.tensor(x)).numpy()
    ref = getattr(torch, name)(torch.tensor(x)).numpy()
    assert mine.dtype == np.float32
    tiny = np.abs(ref) < 1e-37  # float32 denormals: compare absolutely
    np.testing.assert_allclose(mine[tiny], ref[tiny], atol=2e-45, rtol=0)
    assert _ulps(mine[~tiny], ref[~tiny]).max() <= 1.0


EDGES = [0.0, -0.0, 1e-300, 1e-8, 0.1, 0.46875, 0.5, 1.0, 2.0, 3.9, 4.0, 4.1, 6.0, 10.0, 26.0, 27.5,
         -0.3, -2.0, -5.0, -10.0, np.inf, -np.inf, np.nan]


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_float64_edges_match_torch_to_two_ulp(name):
    x = np.array(EDGES)
    mine = {"erf": erf, "erfc": erfc}[name](ember.tensor(x)).numpy()
    ref = getattr(torch, name)(torch.tensor(x)).numpy()
    np.testing.assert_allclose(mine, ref, rtol=5e-16, atol=0, equal_nan=True)


def test_erfc_keeps_relative_accuracy_in_the_far_tail():
    x = ember.tensor(np.array([10.0, 20.0, 26.0]))
    ref = torch.erfc(torch.tensor([10.0, 20.0, 26.0], dtype=torch.float64)).numpy()
    np.testing.assert_allclose(erfc(x).numpy(), ref, rtol=1e-15)
    assert erfc(ember.tensor([10.0])).numpy()[0] > 0  # a float32 denormal, not 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_erfinv_matches_torch_including_the_edges(dtype):
    y = np.concatenate([np.tanh(np.random.default_rng(1).standard_normal(2000) * 2),
                        [0.0, 1e-300, 0.5, 0.7, 0.999999, 1 - 1e-12, 1.0, -1.0, 1.5, -2.0, np.nan]]).astype(dtype)
    mine = erfinv(ember.tensor(y)).numpy()
    ref = torch.erfinv(torch.tensor(y)).numpy()
    np.testing.assert_allclose(mine, ref, rtol=3e-7 if dtype == "float32" else 2e-15, atol=0, equal_nan=True)


def test_erfinv_inverts_erf_in_float64():
    x = np.linspace(-5.5, 5.5, 1001)
    back = erfinv(erf(ember.tensor(x))).numpy()
    inside = np.abs(x) < 2  # beyond, rounding erf(x) near 1 moves x by more than 1e-13
    np.testing.assert_allclose(back[inside], x[inside], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("fn, tname, values", [(erf, "erf", [-2.0, 0.0, 0.7, 3.0]),
                                              (erfc, "erfc", [-2.0, 0.0, 0.7, 3.0]),
                                              (erfinv, "erfinv", [-0.9, 0.0, 0.3, 0.99])])
def test_gradients_match_torch_and_gradcheck(fn, tname, values):
    x = ember.tensor(np.array(values), requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (g,) = ember.autograd.grad(fn(x).sum(), [x])
    (r,) = torch.autograd.grad(getattr(torch, tname)(t).sum(), [t])
    np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-12)
    assert gradcheck(fn, [x]) and gradgradcheck(fn, [x])


def test_functional_erf_is_the_special_one():
    import ember.functional as F

    x = np.float32(0.123456)
    assert F.erf(ember.tensor([x])).numpy()[0] == erf(ember.tensor([x])).numpy()[0]


def test_integer_input_becomes_float():
    assert erf(ember.tensor([0, 1])).dtype == np.float32


def test_zero_dimensional_inputs():
    assert erf(ember.tensor(0.0)).shape == ()
    assert erfc(ember.tensor(10.0, dtype="float64")).item() == pytest.approx(2.088487583762545e-45, rel=1e-14)
    assert erfinv(ember.tensor(1.0)).item() == float("inf")
