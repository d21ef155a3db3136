"""Grammar cells (the predictive gating pyramid) and the LSTM baseline: gradients, shapes, errors, learning."""
import doctest
import pathlib
import re

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck
from ember.data.waveforms import sine_waves, to_frames
from ember.models import grammar_cells
from ember.models.grammar_cells import (PyramidLayer, GateWeights, LSTMPredictor, PredictiveGatingPyramid,
                                        factored_mapping, factored_prediction, pgp_infer, pgp_step,
                                        prediction_errors, pretrain_pyramid_layer, repeat_last_frame,
                                        train_pgp_epoch)

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _gate(rng, inputs, factors, mappings):
    shapes = [(inputs, factors), (inputs, factors), (factors, mappings), (mappings,), (inputs,)]
    return GateWeights(*(ember.tensor(rng.normal(scale=0.7, size=s), dtype=ember.float64, requires_grad=True)
                         for s in shapes))


def test_gated_autoencoder_matches_its_equations():
    rng = np.random.default_rng(0)
    gate = _gate(rng, 4, 5, 3)
    x, y = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    u, v, w, bm, bx = (g.detach().numpy() for g in gate)
    m = 1 / (1 + np.exp(-(((x @ u) * (y @ v)) @ w + bm)))
    got = factored_mapping(ember.tensor(x), ember.tensor(y), gate)
    np.testing.assert_allclose(got.detach().numpy(), m, rtol=1e-10)
    pred = factored_prediction(ember.tensor(y), got, gate)
    np.testing.assert_allclose(pred.detach().numpy(), ((y @ u) * (m @ w.T)) @ v.T + bx, rtol=1e-10)


@pytest.mark.parametrize("layers", [1, 2])
def test_pgp_step_gradcheck_float64(layers):
    rng = np.random.default_rng(1)
    velocity = _gate(rng, 3, 4, 3)
    acceleration = _gate(rng, 3, 2, 2) if layers == 2 else None
    frames = [ember.tensor(rng.normal(size=(2, 3)), dtype=ember.float64, requires_grad=True)
              for _ in range(layers + 1)]
    weights = list(velocity) + (list(acceleration) if acceleration else [])

    def two_steps(*tensors):
        xs, ws = list(tensors[:layers + 1]), tensors[layers + 1:]
        vel, acc = GateWeights(*ws[:5]), (GateWeights(*ws[5:]) if layers == 2 else None)
        state = pgp_step(pgp_infer(xs, vel, acc), vel, acc)
        return pgp_step(state, vel, acc).frame  # two steps: the carried state's gradient is checked too

    assert gradcheck(two_steps, (*frames, *weights), eps=1e-6, atol=1e-6, rtol=1e-4, check_forward=False)


def test_one_layer_pyramid_continues_an_exact_rotation():
    # A hand-made gated autoencoder whose one mapping unit means "rotate by 90 degrees":
    # U = I and V = R^T make the prediction x U (1 * W^T) V^T = x R when the unit is on
    # (W = 1, a large bias switches it on: sigmoid(40 + |x|^2) = 1 in float64).
    rotation = np.array([[0.0, 1.0], [-1.0, 0.0]])
    model = PredictiveGatingPyramid(2, factors=(2, 1), mappings=(1, 1), layers=1).double()
    with ember.no_grad():
        model.velocity.left.copy_(ember.tensor(np.eye(2)))
        model.velocity.right.copy_(ember.tensor(rotation.T))
        model.velocity.weight.copy_(ember.tensor([[1.0], [1.0]]))
        model.velocity.bias_mapping.fill_(40.0)
        model.velocity.bias_output.zero_()
    start = np.array([1.0, 0.5])
    seed = np.stack([start, start @ rotation])[None]  # (1, 2, 2): two frames a quarter turn apart
    predicted = model.rollout(ember.tensor(seed), steps=4).detach().numpy()[0]
    expected = [start @ np.linalg.matrix_power(rotation, k) for k in range(2, 6)]
    np.testing.assert_allclose(predicted, expected, atol=1e-12)


def test_rollout_and_forward_shapes_and_consistency():
    ember.manual_seed(0)
    model = PredictiveGatingPyramid(5, factors=(6, 4), mappings=(4, 3)).double()
    frames = ember.randn(3, 7, 5, dtype=ember.float64)
    one_step = model(frames)
    assert one_step.shape == (3, 4, 5)
    rolled = model.rollout(frames[:, :3], 4)
    assert rolled.shape == (3, 4, 5)
    # the first rolled-out frame is the one-step prediction from the same three true frames
    np.testing.assert_allclose(rolled[:, 0].detach().numpy(), one_step[:, 0].detach().numpy(), rtol=1e-12)
    # rollout reads only the last seed_frames frames
    np.testing.assert_allclose(model.rollout(frames[:, :5], 2).detach().numpy(),
                               model.rollout(frames[:, 2:5], 2).detach().numpy(), rtol=1e-12)


def test_lstm_rollout_starts_where_teacher_forcing_ends():
    ember.manual_seed(0)
    model = LSTMPredictor(4, 6).double()
    seed = ember.randn(2, 3, 4, dtype=ember.float64)
    rolled = model.rollout(seed, 3)
    np.testing.assert_allclose(rolled[:, 0].detach().numpy(), model(seed)[:, -1].detach().numpy(), rtol=1e-12)
    # feeding the rollout back in by teacher forcing gives the rollout again
    again = model(ember.cat([seed, rolled[:, :2]], dim=1))[:, 2:]
    np.testing.assert_allclose(again.detach().numpy(), rolled.detach().numpy(), rtol=1e-10)


def test_errors_name_the_model_and_the_sizes():
    model = PredictiveGatingPyramid(10, factors=(8, 4), mappings=(4, 2))
    with pytest.raises(ValueError, match=r"PredictiveGatingPyramid.rollout: expected frames of shape \(N, T, 10\) "
                                         r"with T >= 3 \(2-layer pyramid\), got shape \(4, 2, 10\)"):
        model.rollout(ember.zeros(4, 2, 10), 5)
    with pytest.raises(ValueError, match=r"PredictiveGatingPyramid.forward: .*\(N, T, 10\).*got shape \(4, 6, 9\)"):
        model(ember.zeros(4, 6, 9))
    with pytest.raises(ValueError, match="PredictiveGatingPyramid: layers must be 1 or 2, got 3"):
        PredictiveGatingPyramid(10, layers=3)
    with pytest.raises(ValueError, match=r"PyramidLayer.mapping: expected inputs of shape \(N, 10\), "
                                         r"got shape \(3, 7\)"):
        model.velocity.mapping(ember.zeros(3, 7), ember.zeros(3, 7))
    with pytest.raises(ValueError, match=r"LSTMPredictor.rollout: expected frames of shape \(N, T, 10\)"):
        LSTMPredictor(10, 4).rollout(ember.zeros(2, 3, 5), 2)
    with pytest.raises(ValueError, match=r"prediction_errors: .* got \(2, 3, 4\) and \(2, 3, 5\)"):
        prediction_errors(ember.zeros(2, 3, 4), ember.zeros(2, 3, 5))
    with pytest.raises(ValueError, match="PyramidLayer: sizes must be positive"):
        PyramidLayer(10, 0, 4)


def test_prediction_errors_and_last_frame():
    seed = ember.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    assert repeat_last_frame(seed, 3).numpy().tolist() == [[[3.0, 4.0]] * 3]
    truth = ember.tensor([[[0.0, 0.0], [1.0, 1.0]], [[2.0, 0.0], [1.0, 3.0]]])
    errors = prediction_errors(ember.zeros(2, 2, 2), truth)
    np.testing.assert_allclose(errors, [2.0, 0.0, 1.0, 5.0])


def test_reduced_training_beats_repeating_the_last_frame_on_sines():
    ember.manual_seed(0)
    generator = ember.Generator().manual_seed(0)
    train = ember.tensor(to_frames(sine_waves(800, 80, seed=1).signals, 10))
    test = ember.tensor(to_frames(sine_waves(100, 80, seed=2).signals, 10))
    model = PredictiveGatingPyramid(10, factors=(32, 16), mappings=(16, 8), layers=2)
    pretrain_pyramid_layer(model.velocity, train[:, :-1].reshape(-1, 10), train[:, 1:].reshape(-1, 10),
                               ember.optim.Adam(model.velocity.parameters(), lr=3e-3), epochs=1,
                               generator=generator)
    optimizer = ember.optim.Adam(model.parameters(), lr=3e-3)
    for predicted in (1, 2, 3, 4, 5, 5):  # the rollout grows, as in the example's curriculum
        train_pgp_epoch(model, train[:, :3 + predicted], optimizer, batch_size=25, generator=generator)
    with ember.no_grad():
        pgp = prediction_errors(model.rollout(test[:, :3], 5), test[:, 3:]).mean()
        last = prediction_errors(repeat_last_frame(test[:, :3], 5), test[:, 3:]).mean()
        zeros = float((test[:, 3:] ** 2).mean().item())
    # 50 samples ahead: repeating the last frame scores ~1.0, predicting zeros ~0.5
    assert pgp < 0.2 * last and pgp < 0.3 * zeros, (pgp, last, zeros)


def test_pretraining_lowers_the_reconstruction_error():
    ember.manual_seed(0)
    frames = ember.tensor(to_frames(sine_waves(200, 60, seed=3).signals, 10))
    gae = PyramidLayer(10, 16, 8)
    losses = pretrain_pyramid_layer(gae, frames[:, :-1].reshape(-1, 10), frames[:, 1:].reshape(-1, 10),
                                        ember.optim.Adam(gae.parameters(), lr=3e-3), epochs=4, batch_size=20,
                                        corruption=0.2,
                                        generator=ember.Generator().manual_seed(0))
    assert losses[-1] < 0.5 * losses[0]
    with ember.no_grad():
        after = F.mse_loss(gae.reconstruct(frames[:, :-1].reshape(-1, 10), frames[:, 1:].reshape(-1, 10)),
                           frames[:, 1:].reshape(-1, 10)).item()
    assert after < 0.5 * float((frames ** 2).mean().item())


def test_docstring_examples():
    failures, tried = doctest.testmod(grammar_cells, optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


def test_guide_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "grammar_cells.md").read_text(), re.DOTALL)
    assert blocks
    for block in blocks:
        exec(compile(block, "docs/grammar_cells.md", "exec"), {})  # noqa: S102 - our own docs
