"""ember.amp.autocast: op lists against torch.autocast on the CPU, gradients to float32 weights,
nesting, enabled=False, decorator form, the weight-cast cache, errors."""
import numpy as np
import pytest
import torch

import ember
import ember.amp
import ember.functional as F
from ember.autograd import function as autograd_function
from ember.errors import ArgumentError, DTypeError

from amp.guards import CHECKS_AWARE, needs_checks

BF16 = ember.amp.bfloat16

LOW = [pytest.param(BF16, torch.bfloat16, id="bfloat16"), pytest.param(np.float16, torch.float16, id="float16")]


def _pair(*shape, seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    return ember.tensor(a), torch.tensor(a)


def _lower_ops():
    """(name, ember fn, torch fn) over float32 inputs for PyTorch's lower-precision CPU list."""
    (x, tx), (w, tw), (b, tb) = _pair(4, 8), _pair(6, 8, seed=1), _pair(6, seed=2)
    (xb, txb), (wb, twb) = _pair(3, 4, 8, seed=3), _pair(3, 8, 5, seed=4)
    (img, timg), (k, tk) = _pair(2, 3, 9, 9, seed=5), _pair(4, 3, 3, 3, seed=6)
    (sig, tsig), (k1, tk1) = _pair(2, 3, 16, seed=7), _pair(5, 3, 3, seed=8)
    return [
        ("matmul", lambda: x @ w.t(), lambda: tx @ tw.T),
        ("mm", lambda: ember.mm(x, w.t()), lambda: torch.mm(tx, tw.T)),
        ("bmm", lambda: ember.bmm(xb, wb), lambda: torch.bmm(txb, twb)),
        *([("addmm", lambda: ember.addmm(b, x, w.t()), lambda: torch.addmm(tb, tx, tw.T)),
           ("baddbmm", lambda: ember.baddbmm(ember.zeros(3, 4, 5), xb, wb),
            lambda: torch.baddbmm(torch.zeros(3, 4, 5), txb, twb))] if CHECKS_AWARE else []),
        ("einsum", lambda: ember.einsum("ij,kj->ik", x, w), lambda: torch.einsum("ij,kj->ik", tx, tw)),
        ("linear", lambda: F.linear(x, w, b), lambda: torch.nn.functional.linear(tx, tw, tb)),
        ("conv1d", lambda: F.conv1d(sig, k1), lambda: torch.nn.functional.conv1d(tsig, tk1)),
        ("conv2d", lambda: F.conv2d(img, k, padding=1), lambda: torch.nn.functional.conv2d(timg, tk, padding=1)),
        ("conv_transpose2d", lambda: F.conv_transpose2d(img, k.transpose(0, 1)),
         lambda: torch.nn.functional.conv_transpose2d(timg, tk.transpose(0, 1))),
    ]


def _float32_ops():
    """Ops PyTorch's CPU autocast runs in (or leaves in) float32 for float32 inputs."""
    (x, tx), (y, ty) = _pair(4, 8), _pair(4, 8, seed=1)
    t = np.array([1, 0, 7, 3])
    p = ember.tensor(np.random.default_rng(2).uniform(0.1, 0.9, (4, 8)).astype(np.float32))
    tp = torch.tensor(p.numpy())
    return [
        ("softmax", lambda: F.softmax(x, -1), lambda: torch.softmax(tx, -1)),
        ("log_softmax", lambda: F.log_softmax(x, -1), lambda: torch.log_softmax(tx, -1)),
        ("layer_norm", lambda: F.layer_norm(x, (8,)), lambda: torch.nn.functional.layer_norm(tx, (8,))),
        ("sum", lambda: x.sum(), lambda: tx.sum()),
        ("exp", lambda: x.exp(), lambda: tx.exp()),
        ("cross_entropy", lambda: F.cross_entropy(x, ember.tensor(t)),
         lambda: torch.nn.functional.cross_entropy(tx, torch.tensor(t))),
        ("nll_loss", lambda: F.nll_loss(x, ember.tensor(t)), lambda: torch.nn.functional.nll_loss(tx, torch.tensor(t))),
        ("mse_loss", lambda: F.mse_loss(x, y), lambda: torch.nn.functional.mse_loss(tx, ty)),
        ("bce_with_logits", lambda: F.binary_cross_entropy_with_logits(x, p),
         lambda: torch.nn.functional.binary_cross_entropy_with_logits(tx, tp)),
    ]


@pytest.mark.parametrize("dtype,torch_dtype", LOW)
def test_lower_precision_ops_match_torch_autocast(dtype, torch_dtype):
    for name, ember_fn, torch_fn in _lower_ops():
        with ember.amp.autocast("cpu", dtype=dtype):
            out = ember_fn()
        with torch.autocast("cpu", dtype=torch_dtype):
            expected = torch_fn()
        assert out.dtype.name == str(expected.dtype).replace("torch.", ""), name
        # Same roundings (inputs and result to the low precision, float32 accumulation): within an ulp or two.
        got, want = out.numpy().astype(np.float32), expected.float().numpy()
        np.testing.assert_allclose(got, want, rtol=2e-2, atol=2e-2 * np.abs(want).max(), err_msg=name)


@pytest.mark.parametrize("dtype,torch_dtype", LOW)
def test_float32_ops_match_torch_autocast(dtype, torch_dtype):
    for name, ember_fn, torch_fn in _float32_ops():
        with ember.amp.autocast("cpu", dtype=dtype):
            out = ember_fn()
        with torch.autocast("cpu", dtype=torch_dtype):
            expected = torch_fn()
        assert out.dtype == np.float32 and expected.dtype == torch.float32, name
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("dtype,torch_dtype", LOW)
def test_losses_of_low_precision_inputs_run_in_float32(dtype, torch_dtype):
    (x, tx), (y, ty) = _pair(4, 8), _pair(4, 8, seed=1)
    t = np.array([1, 0, 7, 3])
    with ember.amp.autocast("cpu", dtype=dtype):
        logits = F.linear(x, y)  # low-precision logits (4, 4)
        loss = F.cross_entropy(logits, ember.tensor(t % 4))
        mse = F.mse_loss(logits, ember.zeros(4, 4))
    with torch.autocast("cpu", dtype=torch_dtype):
        tlogits = torch.nn.functional.linear(tx, ty)
        tloss = torch.nn.functional.cross_entropy(tlogits, torch.tensor(t % 4))
        tmse = torch.nn.functional.mse_loss(tlogits, torch.zeros(4, 4))
    assert logits.dtype == np.dtype(dtype) and tlogits.dtype == torch_dtype
    assert loss.dtype == np.float32 and tloss.dtype == torch.float32
    assert mse.dtype == np.float32 and tmse.dtype == torch.float32
    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-2)
    np.testing.assert_allclose(mse.item(), tmse.item(), rtol=1e-2)


def test_softmax_of_low_precision_input_runs_in_float32():
    # Ember's documented choice (PyTorch's CUDA list): softmax casts float16/bfloat16 up to float32.
    x = ember.randn(3, 5).half()
    with ember.amp.autocast("cpu", dtype=ember.float16):
        assert F.softmax(x, -1).dtype == np.float32
    assert F.softmax(x, -1).dtype == np.float16  # outside autocast it stays float16


def test_unlisted_ops_keep_their_dtype_and_float64_is_not_cast():
    x16 = ember.randn(3, 4).half()
    x64 = ember.randn(3, 4, dtype=ember.float64)
    with ember.amp.autocast("cpu", dtype=ember.float16):
        assert (x16 + x16).dtype == np.float16
        assert x16.relu().dtype == np.float16
        assert (x64 @ x64.t()).dtype == np.float64  # PyTorch: float64 is not eligible
        assert ember.ones(2, 3).relu().dtype == np.float32


@pytest.mark.parametrize("dtype,torch_dtype", LOW)
def test_gradients_reach_float32_parameters_in_float32(dtype, torch_dtype):
    (x, tx), (w, tw), (b, tb) = _pair(5, 8), _pair(3, 8, seed=1), _pair(3, seed=2)
    w.requires_grad_(True)
    b.requires_grad_(True)
    tw.requires_grad_(True)
    tb.requires_grad_(True)
    with ember.amp.autocast("cpu", dtype=dtype):
        y = F.linear(x, w, b)
        loss = F.log_softmax(y, -1)[:, 0].sum()
    loss.backward()
    with torch.autocast("cpu", dtype=torch_dtype):
        ty = torch.nn.functional.linear(tx, tw, tb)
        tloss = torch.log_softmax(ty, -1)[:, 0].sum()
    tloss.backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32
    assert tw.grad.dtype == torch.float32
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=3e-2, atol=3e-2)
    np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), rtol=3e-2, atol=3e-2)


def test_nesting_and_enabled_false():
    a, b = ember.ones(2, 3), ember.ones(3, 2)
    with ember.amp.autocast("cpu", dtype=BF16):
        assert (a @ b).dtype == np.dtype(BF16)
        with ember.amp.autocast("cpu", dtype=ember.float16):
            assert (a @ b).dtype == np.float16
            with ember.amp.autocast("cpu", enabled=False):
                assert (a @ b).dtype == np.float32
                assert not ember.amp.is_autocast_enabled("cpu")
            assert ember.amp.get_autocast_dtype("cpu") == np.float16
        assert (a @ b).dtype == np.dtype(BF16)
        assert ember.amp.is_autocast_enabled("cpu") and not ember.amp.is_autocast_enabled()  # no arg: CUDA
    assert (a @ b).dtype == np.float32
    assert autograd_function._autocast_hook is None  # nothing left on the hot path


def test_state_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with ember.amp.autocast("cpu"):
            1 / 0
    assert not ember.amp.is_autocast_enabled("cpu") and autograd_function._autocast_hook is None


def test_decorator_form_and_aliases():
    @ember.amp.autocast("cpu", dtype=ember.float16)
    def product(a, b):
        return a @ b

    assert product(ember.ones(2, 3), ember.ones(3, 2)).dtype == np.float16
    assert (ember.ones(2, 3) @ ember.ones(3, 2)).dtype == np.float32
    with ember.amp.cpu.autocast():
        assert (ember.ones(2, 3) @ ember.ones(3, 2)).dtype == np.dtype(BF16)
    assert ember.amp.cuda.autocast().device_type == "cuda"
    assert ember.amp.get_autocast_dtype("cuda") == np.float16


def test_cuda_region_leaves_cpu_tensors_alone():
    with ember.amp.autocast("cuda"):
        assert (ember.ones(2, 3) @ ember.ones(3, 2)).dtype == np.float32


def test_weight_casts_are_cached_until_the_weight_changes():
    x = ember.ones(1, 2)
    w = ember.tensor([[1.0, 2.0]], requires_grad=True)
    with ember.amp.autocast("cpu", dtype=ember.float16):
        first = F.linear(x, w)
        assert F.linear(x, w).item() == first.item() == 3.0
        with ember.no_grad():
            w.mul_(2.0)  # an in-place update bumps the version: the cached cast must not be reused
        assert F.linear(x, w).item() == 6.0
    with ember.amp.autocast("cpu", dtype=ember.float16, cache_enabled=False):
        assert not ember.amp.is_autocast_cache_enabled()
        assert F.linear(x, w).item() == 6.0
    assert ember.amp.is_autocast_cache_enabled()


def test_errors():
    with pytest.raises(ArgumentError, match=r"autocast: device_type must be 'cpu' or 'cuda', got 'xpu'"):
        ember.amp.autocast("xpu")
    with pytest.raises(DTypeError, match=r"autocast: autocast runs in a lower-precision float, got float64; "
                                         r"expected ember.float16 or ember.bfloat16"):
        ember.amp.autocast("cpu", dtype=ember.float64)
    with pytest.raises(DTypeError, match="got int64"):
        ember.amp.autocast("cpu", dtype=ember.int64)
    with pytest.raises(DTypeError, match="unknown dtype 'float17'"):
        ember.amp.autocast("cpu", dtype="float17")
    with pytest.raises(ArgumentError, match="get_autocast_dtype: device_type must be 'cpu' or 'cuda'"):
        ember.amp.get_autocast_dtype("tpu")


@needs_checks
def test_float32_layers_accept_float16_activations_under_autocast():
    layer = ember.nn.Linear(4, 3)
    x16 = ember.randn(2, 4).half()
    with ember.amp.autocast("cpu", dtype=ember.float16):
        assert layer(x16).dtype == np.float16
        assert (x16 @ ember.ones(4, 2)).dtype == np.float16
        assert F.conv1d(ember.randn(1, 4, 5).half(), ember.randn(2, 4, 3)).dtype == np.float16
    with pytest.raises(TypeError, match="matmul: dtypes float16 and float32 differ"):
        x16 @ ember.ones(4, 2)  # outside autocast the mismatch is still an error
