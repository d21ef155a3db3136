"""ember.amp.GradScaler: scaling, unscale_, skipping inf/nan steps, backoff and growth (checked against
torch.amp.GradScaler over the same gradient sequence), state_dict round trip, errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
import ember.amp
from ember.errors import ArgumentError


def _model(values=(1.0, -2.0, 3.0)):
    w = ember.tensor(list(values), requires_grad=True)
    return w, ember.optim.SGD([w], lr=0.5)


def test_scale_multiplies_the_loss_and_unscale_divides_the_gradients():
    w, opt = _model()
    scaler = ember.amp.GradScaler("cpu", init_scale=256.0)
    loss = (w * w).sum()
    scaled = scaler.scale(loss)
    assert scaled.item() == pytest.approx(256.0 * loss.item())
    scaled.backward()
    np.testing.assert_allclose(w.grad.numpy(), 256.0 * 2 * np.array([1.0, -2.0, 3.0]))
    scaler.unscale_(opt)
    np.testing.assert_allclose(w.grad.numpy(), 2 * np.array([1.0, -2.0, 3.0]))
    scaler.step(opt)  # does not unscale a second time
    np.testing.assert_allclose(w.numpy(), np.array([1.0, -2.0, 3.0]) * (1 - 2 * 0.5))
    scaler.update()
    assert scaler.get_scale() == 256.0
    assert scaler.scale([loss, {"a": loss}])[1]["a"].item() == pytest.approx(256.0 * loss.item())


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_gradient_skips_the_step_and_backs_off(bad):
    w, opt = _model()
    scaler = ember.amp.GradScaler("cpu", init_scale=1024.0, backoff_factor=0.25)
    (w * ember.tensor([1.0, bad, 1.0])).sum().backward()
    before = w.numpy().copy()
    assert scaler.step(opt) is None
    np.testing.assert_array_equal(w.numpy(), before)  # skipped
    scaler.update()
    assert scaler.get_scale() == 256.0
    assert scaler.state_dict()["_growth_tracker"] == 0


def test_growth_after_growth_interval_clean_steps():
    w, opt = _model()
    scaler = ember.amp.GradScaler("cpu", init_scale=8.0, growth_factor=3.0, growth_interval=3)
    scales = []
    for _ in range(7):
        opt.zero_grad()
        scaler.scale(w.sum()).backward()
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
    assert scales == [8.0, 8.0, 24.0, 24.0, 24.0, 72.0, 72.0]


def test_scale_sequence_matches_torch_grad_scaler():
    """Same gradients (some inf/nan) into both scalers: same scales, same skipped steps, same weights."""
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((12, 3)).astype(np.float32)
    grads[2, 1], grads[3, 0], grads[7, 2] = np.inf, np.nan, -np.inf
    w, opt = _model()
    tw = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    topt = torch.optim.SGD([tw], lr=0.5)
    kwargs = dict(init_scale=16.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
    scaler = ember.amp.GradScaler("cpu", **kwargs)
    tscaler = torch.amp.GradScaler("cpu", **kwargs)
    for g in grads:
        opt.zero_grad()
        topt.zero_grad()
        scaler.scale((w * ember.tensor(g)).sum()).backward()
        tscaler.scale((tw * torch.tensor(g)).sum()).backward()
        scaler.step(opt)
        tscaler.step(topt)
        scaler.update()
        tscaler.update()
        assert scaler.get_scale() == tscaler.get_scale()
        np.testing.assert_allclose(w.numpy(), tw.detach().numpy(), rtol=1e-6)
    assert scaler.state_dict() == {k: (v.item() if hasattr(v, "item") else v) for k, v in tscaler.state_dict().items()}


def test_state_dict_round_trip():
    scaler = ember.amp.GradScaler("cpu", init_scale=4.0, growth_interval=5)
    w, opt = _model()
    for _ in range(2):
        scaler.scale(w.sum()).backward()
        scaler.step(opt)
        scaler.update()
    state = scaler.state_dict()
    assert state == {"scale": 4.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 5,
                     "_growth_tracker": 2}
    fresh = ember.amp.GradScaler("cpu")
    fresh.load_state_dict(state)
    assert fresh.state_dict() == state
    fresh.load_state_dict(torch.amp.GradScaler("cpu", init_scale=32.0).state_dict())  # PyTorch's own dict
    assert fresh.get_scale() == 32.0
    with pytest.raises(RuntimeError, match="state dict is empty"):
        fresh.load_state_dict({})


def test_update_with_new_scale():
    scaler = ember.amp.GradScaler("cpu")
    scaler.update(new_scale=128.0)
    assert scaler.get_scale() == 128.0
    scaler.update(new_scale=ember.tensor(64.0))
    assert scaler.get_scale() == 64.0


def test_errors():
    w, opt = _model()
    scaler = ember.amp.GradScaler("cpu")
    scaler.scale(w.sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match=r"unscale_: already called on this optimizer since the last update\(\)"):
        scaler.unscale_(opt)
    scaler.step(opt)
    with pytest.raises(RuntimeError, match=r"step: already called on this optimizer since the last update\(\)"):
        scaler.step(opt)
    with pytest.raises(RuntimeError, match=r"unscale_: called after step\(\)"):
        scaler.unscale_(opt)
    scaler.update()
    with pytest.raises(RuntimeError, match="no inf/nan checks were recorded"):
        scaler.update()
    with pytest.raises(ArgumentError, match="GradScaler: device must be 'cpu' or 'cuda', got 'xpu'"):
        ember.amp.GradScaler("xpu")
    with pytest.raises(ArgumentError, match="backoff_factor must be in"):
        ember.amp.GradScaler("cpu", backoff_factor=1.5)
    with pytest.raises(ArgumentError, match="growth_interval must be a positive integer"):
        ember.amp.GradScaler("cpu", growth_interval=0)


def test_disabled_scaler_is_a_pass_through():
    w, opt = _model()
    scaler = ember.amp.GradScaler("cpu", enabled=False)
    loss = w.sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and not scaler.is_enabled()
    loss.backward()
    scaler.step(opt)
    np.testing.assert_allclose(w.numpy(), [0.5, -2.5, 2.5])
    assert scaler.state_dict() == {}


@pytest.mark.skipif(ember.cuda.is_available(), reason="checks the behaviour without a GPU")
def test_cuda_scaler_without_a_gpu_disables_itself_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scaler = ember.amp.GradScaler()
        legacy = ember.amp.cuda.GradScaler()
    assert not scaler.is_enabled() and not legacy.is_enabled()
    assert any("CUDA is not available" in str(w.message) for w in caught)
