"""F.pad (every mode, negative widths), F.interpolate (every mode, 1-D to 3-D), F.normalize and
one_hot against PyTorch: values and gradients, float64 gradchecks and the errors."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.autograd import gradcheck
from ember.functional.encoding import one_hot

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _compare(call_ours, call_theirs, shape, seed=0, rtol=1e-10):
    values = np.random.default_rng(seed).standard_normal(shape)
    ours, theirs = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out, ref = call_ours(ours), call_theirs(theirs)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=1e-12)
    cot = np.random.default_rng(seed + 1).standard_normal(ref.shape)
    out.backward(ember.tensor(cot))
    ref.backward(torch.tensor(cot))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol, atol=1e-12)


PADS = [
    ("constant", (1, 2), (2, 3, 5)), ("constant", (1, -2, 0, 3), (2, 3, 5)), ("constant", (2, 1, 1, 1, 1, 0), (2, 3, 4)),
    ("reflect", (2, 1), (2, 3, 5)), ("reflect", (-1, 2), (1, 1, 5)), ("reflect", (1, 2, 2, 1), (2, 3, 4, 5)),
    ("reflect", (1, 1, 1, 1, 1, 1), (1, 2, 3, 3, 3)), ("replicate", (3, 0), (2, 5)), ("replicate", (2, -1, 1, 2), (1, 2, 3, 4)),
    ("replicate", (1, 2, 0, 1, 2, 0), (2, 2, 2, 3)), ("circular", (-1, 2), (1, 1, 5)), ("circular", (2, 3, 1, 0), (2, 3, 4)),
    ("circular", (5, 1), (1, 1, 5)), ("circular", (1, 1, 2, 2, 1, 0), (1, 1, 2, 3, 2)),
]


@pytest.mark.parametrize("mode, widths, shape", PADS, ids=[f"{m}-{w}" for m, w, _ in PADS])
def test_pad_matches_torch(mode, widths, shape):
    value = {"value": 0.75} if mode == "constant" else {}
    _compare(lambda x: F.pad(x, widths, mode=mode, **value), lambda x: TF.pad(x, widths, mode=mode, **value), shape)


def test_pad_gradcheck_float64():
    x = ember.tensor(np.random.default_rng(2).standard_normal((1, 2, 4)), requires_grad=True)
    assert gradcheck(lambda t: F.pad(t, (2, -1), mode="reflect"), [x])
    assert gradcheck(lambda t: F.pad(t, (1, 3), mode="circular"), [x])


def test_pad_errors_follow_torch():
    with pytest.raises(ValueError, match="padding length must be divisible by 2"):
        F.pad(ember.ones(2, 3), (1,))
    with pytest.raises(ValueError, match="padding length 6 and input of dimension 2"):
        F.pad(ember.ones(2, 3), (1, 1, 1, 1, 1, 1))
    with pytest.raises(NotImplementedError, match="padding size 2 is not supported for 1D input"):
        F.pad(ember.ones(5), (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="should be less than the corresponding input dimension"):
        F.pad(ember.ones(1, 1, 5), (5, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="wrapping around more than once"):
        F.pad(ember.ones(1, 1, 5), (6, 1), mode="circular")
    with pytest.raises(RuntimeError, match="negative padding -3 and -3"):
        F.pad(ember.ones(2, 5), (-3, -3))
    with pytest.raises(ValueError, match="mode must be one of"):
        F.pad(ember.ones(1, 2, 3), (1, 1), mode="wrap")


def test_padding_layers_match_torch():
    x = np.random.default_rng(4).standard_normal((1, 2, 4, 5))
    for cls, args in [(nn.ZeroPad2d, ((1, 2, 0, 1),)), (nn.ReflectionPad2d, (2,)), (nn.ReplicationPad2d, ((1, 0, 2, 1),)),
                      (nn.CircularPad2d, (1,)), (nn.ConstantPad2d, (1, 3.5))]:
        ours, theirs = cls(*args), getattr(torch.nn, cls.__name__)(*args)
        np.testing.assert_allclose(ours(ember.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())
    assert nn.ReflectionPad1d(1)(ember.ones(1, 1, 3)).shape == (1, 1, 5)
    with pytest.raises(ValueError, match="padding must be an int or 4 ints"):
        nn.ZeroPad2d((1, 2))


RESIZES = [
    ("nearest", (1, 2, 5), {"size": 8}), ("nearest", (1, 2, 6), {"scale_factor": 0.5}),
    ("nearest", (2, 1, 3, 4), {"scale_factor": (2, 1.5)}), ("nearest-exact", (1, 2, 5), {"size": 8}),
    ("nearest-exact", (1, 1, 5, 4), {"size": (3, 7)}), ("linear", (1, 2, 5), {"size": 9}),
    ("linear", (1, 2, 5), {"size": 9, "align_corners": True}), ("linear", (1, 1, 7), {"scale_factor": 0.4}),
    ("bilinear", (1, 2, 3, 4), {"size": (5, 7)}), ("bilinear", (1, 1, 4, 4), {"scale_factor": 1.7, "align_corners": True}),
    ("bilinear", (1, 1, 5, 6), {"scale_factor": 0.6, "recompute_scale_factor": True}),
    ("bicubic", (1, 2, 4, 5), {"size": (7, 3)}), ("bicubic", (1, 1, 3, 3), {"scale_factor": 2.5, "align_corners": True}),
    ("bicubic", (1, 1, 6, 4), {"scale_factor": 0.7}), ("trilinear", (1, 1, 2, 3, 4), {"size": (3, 5, 2)}),
    ("trilinear", (1, 1, 2, 3, 3), {"scale_factor": 2, "align_corners": True}), ("area", (1, 2, 7), {"size": 3}),
    ("area", (1, 1, 5, 7), {"size": (2, 4)}), ("area", (1, 1, 2, 5, 3), {"size": (3, 2, 5)}),
    ("area", (1, 1, 3, 4), {"scale_factor": 2}),
]


@pytest.mark.parametrize("mode, shape, kwargs", RESIZES, ids=[f"{m}-{k}" for m, _, k in RESIZES])
def test_interpolate_matches_torch_values_and_gradients(mode, shape, kwargs):
    _compare(lambda x: F.interpolate(x, mode=mode, **kwargs), lambda x: TF.interpolate(x, mode=mode, **kwargs),
             shape, rtol=1e-9)


def test_interpolate_float32_and_gradcheck_float64():
    x32 = np.random.default_rng(5).standard_normal((1, 1, 4, 4)).astype(np.float32)
    out = F.interpolate(ember.tensor(x32), size=(6, 3), mode="bicubic")
    np.testing.assert_allclose(out.numpy(), TF.interpolate(torch.tensor(x32), size=(6, 3), mode="bicubic").numpy(),
                               rtol=1e-5, atol=1e-6)
    x = ember.tensor(np.random.default_rng(6).standard_normal((1, 1, 3, 3)), requires_grad=True)
    assert gradcheck(lambda t: F.interpolate(t, scale_factor=1.5, mode="bicubic"), [x])
    assert gradcheck(lambda t: F.interpolate(t, size=(2, 2), mode="area"), [x])


def test_interpolate_errors_follow_torch():
    with pytest.raises(RuntimeError, match="got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(ember.ones(1, 1, 4), size=3, mode="bilinear")
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(ember.ones(1, 1, 4), size=3, mode="nearest", align_corners=True)
    with pytest.raises(ValueError, match="mode must be one of"):
        F.interpolate(ember.ones(1, 1, 4), size=3, mode="cubic")
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(ember.ones(1, 1, 4))


def test_upsample_layer_passes_every_argument():
    x = np.random.default_rng(7).standard_normal((1, 1, 3, 3))
    ours = nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=False, recompute_scale_factor=True)
    theirs = torch.nn.Upsample(scale_factor=1.5, mode="bicubic", align_corners=False, recompute_scale_factor=True)
    np.testing.assert_allclose(ours(ember.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-10)


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1), (1.5, (0, 1))])
def test_normalize_matches_torch_including_zero_vectors(p, dim):
    values = np.random.default_rng(8).standard_normal((3, 4))
    values[1] = 0.0
    ours, theirs = ember.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out, ref = F.normalize(ours, p=p, dim=dim), TF.normalize(theirs, p=p, dim=dim)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
    cot = np.random.default_rng(9).standard_normal((3, 4))
    out.backward(ember.tensor(cot))
    ref.backward(torch.tensor(cot))
    assert np.isfinite(ours.grad.numpy()).all()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_normalize_gradcheck_and_eps():
    x = ember.tensor(np.random.default_rng(10).standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(lambda t: F.normalize(t, dim=1), [x])
    tiny = F.normalize(ember.tensor([[1e-14, 0.0]]), eps=1e-12)
    np.testing.assert_allclose(tiny.numpy(), [[1e-2, 0.0]])


def test_one_hot_matches_torch():
    idx = [[0, 3], [2, 1]]
    ours, ref = one_hot(ember.tensor(idx)), TF.one_hot(torch.tensor(idx))
    assert ours.dtype == np.int64 and ours.tolist() == ref.tolist()
    assert one_hot(ember.tensor([1]), num_classes=4).tolist() == TF.one_hot(torch.tensor([1]), 4).tolist()
    with pytest.raises(ValueError, match="class values must be non-negative"):
        one_hot(ember.tensor([-1, 0]))
    with pytest.raises(ValueError, match="must be smaller than num_classes"):
        one_hot(ember.tensor([3]), num_classes=3)
    with pytest.raises(TypeError, match="index tensors of integer type"):
        one_hot(ember.tensor([1.0]))
