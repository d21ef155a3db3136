"""Stack RNN: the stack update's values and float64 gradients, the recurrence's gradients, the task generators and
their deterministic parts, rounding, errors, baselines and a reduced a^n b^n training that must learn."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.models.stack_rnn import (
    EMPTY,
    SequenceBaseline,
    StackRNN,
    deterministic_mask,
    make_batch,
    make_sequence,
    sequence_accuracy,
    stack_update,
    train_sequence_model,
)


def _one_hot(*actions):
    return ember.tensor(np.eye(3)[list(actions)][None])


def test_stack_update_push_pop_noop_and_mixtures():
    stack = ember.tensor([[[1.0, 2.0, 3.0], [4.0, 5.0, EMPTY]]])
    value = ember.tensor([[9.0, 8.0]])
    assert stack_update(stack, _one_hot(0, 1), value).numpy().tolist() == [[[9.0, 1.0, 2.0], [5.0, EMPTY, EMPTY]]]
    assert stack_update(stack, _one_hot(2, 0), value).numpy().tolist() == [[[1.0, 2.0, 3.0], [8.0, 4.0, 5.0]]]
    mix = ember.tensor([[[0.5, 0.25, 0.25], [0.2, 0.3, 0.5]]])
    s, v, a = stack.numpy()[0], value.numpy()[0], mix.numpy()[0]
    pushed = np.concatenate([v[:, None], s[:, :-1]], 1)
    popped = np.concatenate([s[:, 1:], np.full((2, 1), EMPTY)], 1)
    expected = a[:, :1] * pushed + a[:, 1:2] * popped + a[:, 2:] * s
    np.testing.assert_allclose(stack_update(stack, mix, value).numpy()[0], expected, rtol=1e-6)


def test_stack_update_gradcheck_float64():
    rng = np.random.default_rng(0)
    stack = ember.tensor(rng.standard_normal((2, 3, 5)), requires_grad=True)
    action = ember.tensor(rng.random((2, 3, 3)), requires_grad=True)
    value = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(lambda s, a, v: (stack_update(s, a, v) ** 2).sum(), (stack, action, value), check_forward=False)


def test_recurrence_gradcheck_float64():
    ember.manual_seed(0)
    model = StackRNN(3, hidden=4, num_stacks=2, depth=2, stack_size=4)
    model.to(ember.float64)
    rng = np.random.default_rng(1)
    symbols = ember.tensor(rng.integers(0, 3, (2, 5)))
    h0 = ember.tensor(rng.random((2, 4)), requires_grad=True)
    s0 = ember.tensor(rng.standard_normal((2, 2, 4)), requires_grad=True)
    assert gradcheck(lambda h, s: (model(symbols, state=(h, s)) ** 2).sum(), (h0, s0), check_forward=False)
    x = ember.tensor(rng.standard_normal((2, 4)), requires_grad=True)  # the parameters' path: R's input
    assert gradcheck(lambda w: model.step(symbols[:, 0], (w, s0.detach()))[0].sum(), (x,), check_forward=False)


def test_generators_and_deterministic_parts():
    assert make_sequence("anbn", 2) == [0, 0, 1, 1]
    assert make_sequence("anbncn", 2) == [0, 0, 1, 1, 2, 2]
    assert make_sequence("anbncndn", 1) == [0, 1, 2, 3]
    assert make_sequence("anb2n", 1) == [0, 1, 1]
    assert make_sequence("anbmcnm", 2, 1) == [0, 0, 1, 2, 2, 2]
    # the next symbol is known from the first b on (the first c for anbmcnm), the next word's a included
    assert deterministic_mask("anbncn", [0, 0, 1, 1, 2, 2]).tolist() == [False, False, True, True, True, True]
    assert deterministic_mask("anbmcnm", [0, 1, 1, 2, 2, 2]).tolist() == [False] * 3 + [True] * 3
    inputs, targets, mask, det = make_batch("anbn", [1, 2], np.random.default_rng(0))
    assert inputs.tolist() == [[0, 1, 0, 0], [0, 0, 1, 1]] and targets.tolist() == [[1, 0, 0, 0], [0, 1, 1, 0]]
    assert mask.tolist() == [[True, True, False, False], [True] * 4]
    assert det.tolist() == [[False, True, False, False], [False, False, True, True]]
    with pytest.raises(ValueError, match="task must be one of"):
        make_sequence("anbnan", 2)
    with pytest.raises(ValueError, match="anbmcnm needs m >= 1"):
        make_sequence("anbmcnm", 2)


def test_rounding_makes_discrete_actions():
    ember.manual_seed(0)
    model = StackRNN(2, hidden=5, num_stacks=3, stack_size=6)
    model.rounding = True
    _, (h, stack) = model(ember.tensor([[0]]), return_state=True)
    top = stack.numpy()[0]
    pushed = ember.sigmoid(model.push(h)).detach().numpy()[0]
    for k in range(3):  # each stack did exactly one of push (value on top), pop or no-op (still empty)
        assert np.allclose(top[k], [pushed[k]] + [EMPTY] * 5) or np.allclose(top[k], EMPTY)


def test_bad_input_raises_errors():
    with pytest.raises(ValueError, match=r"StackRNN: symbols must lie in \[0, 2\).*\[0, 3\]"):
        StackRNN(2, 4, 1, stack_size=4)(ember.tensor([[0, 3]]))
    with pytest.raises(ValueError, match=r"StackRNN: expected symbols of shape \(N, T\)"):
        StackRNN(2, 4, 1, stack_size=4)(ember.tensor([0, 1]))
    with pytest.raises(ValueError, match="depth <= stack_size"):
        StackRNN(2, 4, 1, depth=3, stack_size=2)
    with pytest.raises(ValueError, match="cell must be 'rnn' or 'lstm'"):
        SequenceBaseline(2, 4, "gru")


def test_baselines_shapes():
    for cell in ("rnn", "lstm"):
        assert SequenceBaseline(3, 6, cell)(ember.tensor([[0, 1, 2, 1]])).shape == (1, 4, 3)


def test_stack_rnn_learns_anbn_and_rounding_generalises():
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    model = StackRNN(2, hidden=40, num_stacks=10, stack_size=30)  # the paper's 40+10
    before = sequence_accuracy(model, "anbn", list(range(1, 21)), rng)
    # n <= 10 in training: with smaller n the hidden units count on their own and nothing reaches the stack
    train_sequence_model(model, "anbn", 150, ember.optim.Adam(model.parameters(), lr=0.01), n_max=10,
                         batch_size=16, rng=rng)
    model.rounding = True
    after = sequence_accuracy(model, "anbn", list(range(1, 21)), rng)  # n up to 20: twice the training range
    assert before < 0.2 and after == 1.0, (before, after)
