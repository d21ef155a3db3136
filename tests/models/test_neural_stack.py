"""Neural Stack / Queue / DeQue (Grefenstette et al. 2015): the memory updates against a loop-by-loop reference of the
paper's equations and its Figure 1a, float64 gradchecks of the updates and of the controller, greedy decoding, errors,
and a reduced copy training that must learn."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.data.transduction import make_transduction_batch
from ember.models.neural_stack import (
    PAPER_TABLE,
    DeepLSTM,
    NeuralMemoryLSTM,
    deque_step,
    evaluate_transduction,
    greedy_transduce,
    queue_step,
    stack_step,
    train_transduction,
    transduction_loss,
)


def _reference(kind, pushes, pops, values, bottom=None):
    """The paper's equations 1-11 with explicit loops over one sequence (no batch): the list of reads per step."""
    strengths, rows, reads = [], [], []
    for t in range(len(pushes)):
        def pop(s, u, order):
            s = list(s)
            for i in order:  # traverse from the popped end, removing what remains of u
                removed = min(s[i], u)
                s[i], u = s[i] - removed, u - removed
            return s

        def read(s, order):
            weights, left = np.zeros(len(s)), 1.0
            for i in order:
                weights[i] = min(s[i], left)
                left = max(0.0, left - s[i])
            return weights @ np.array(rows)

        top_order = range(len(strengths) - 1, -1, -1)
        if kind == "stack":
            strengths = pop(strengths, pops[t], top_order) + [pushes[t]]
            rows.append(values[t])
            reads.append(read(strengths, range(len(strengths) - 1, -1, -1)))
        elif kind == "queue":
            strengths = pop(strengths, pops[t], range(len(strengths))) + [pushes[t]]
            rows.append(values[t])
            reads.append(read(strengths, range(len(strengths))))
        else:
            (bottom_push, bottom_pop, bottom_value) = bottom[0][t], bottom[1][t], bottom[2][t]
            strengths = pop(pop(strengths, pops[t], top_order), bottom_pop, range(len(strengths)))
            strengths = [bottom_push] + strengths + [pushes[t]]
            rows = [bottom_value] + rows + [values[t]]
            reads.append((read(strengths, range(len(strengths) - 1, -1, -1)), read(strengths, range(len(strengths)))))
    return reads


def _random_controls(rng, steps, n, m):
    return (rng.uniform(0.05, 0.95, (steps, n, 1)), rng.uniform(0.05, 0.95, (steps, n, 1)),
            rng.standard_normal((steps, n, m)))


def _run(kind, controls, dtype=ember.float64, bottom=None):
    pushes, pops, values = (ember.tensor(c, dtype=dtype) if not isinstance(c, ember.Tensor) else c for c in controls)
    n, m = values.shape[1], values.shape[2]
    v, s = ember.zeros(n, 0, m, dtype=dtype), ember.zeros(n, 0, dtype=dtype)
    reads = []
    for t in range(values.shape[0]):
        if kind == "stack":
            v, s, r = stack_step(v, s, values[t], pushes[t], pops[t])
        elif kind == "queue":
            v, s, r = queue_step(v, s, values[t], pushes[t], pops[t])
        else:
            bp, bu, bv = (ember.tensor(c, dtype=dtype) if not isinstance(c, ember.Tensor) else c for c in bottom)
            v, s, top, low = deque_step(v, s, values[t], pushes[t], pops[t], bv[t], bp[t], bu[t])
            r = ember.cat([top, low], dim=1)
        reads.append(r)
    return ember.stack(reads, dim=0), s


def test_figure_1a_stack_example():
    """The paper's Figure 1a: pushes 0.8, 0.5, 0.9 and pops 0, 0.1, 0.9 of v1, v2, v3."""
    v, s = ember.zeros(1, 0, 3, dtype=ember.float64), ember.zeros(1, 0, dtype=ember.float64)
    eye = ember.eye(3, dtype=ember.float64)
    expected_strengths = [[0.8], [0.7, 0.5], [0.3, 0.0, 0.9]]
    expected_reads = [[0.8, 0, 0], [0.5, 0.5, 0], [0.1, 0, 0.9]]
    for t, (d, u) in enumerate([(0.8, 0.0), (0.5, 0.1), (0.9, 0.9)]):
        v, s, r = stack_step(v, s, eye[t:t + 1], ember.tensor([[d]], dtype=ember.float64),
                             ember.tensor([[u]], dtype=ember.float64))
        np.testing.assert_allclose(s.numpy()[0], expected_strengths[t], atol=1e-12)
        np.testing.assert_allclose(r.numpy()[0], expected_reads[t], atol=1e-12)


@pytest.mark.parametrize("kind", ["stack", "queue", "deque"])
def test_memory_matches_the_loop_reference(kind):
    rng = np.random.default_rng(0)
    steps, n, m = 6, 3, 4
    controls = _random_controls(rng, steps, n, m)
    bottom = _random_controls(rng, steps, n, m) if kind == "deque" else None
    reads, _ = _run(kind, controls, bottom=bottom)
    for row in range(n):
        expected = _reference(kind, controls[0][:, row, 0], controls[1][:, row, 0], controls[2][:, row],
                              bottom=None if bottom is None else (bottom[0][:, row, 0], bottom[1][:, row, 0],
                                                                  bottom[2][:, row]))
        for t in range(steps):
            want = np.concatenate(expected[t]) if kind == "deque" else expected[t]
            np.testing.assert_allclose(reads.numpy()[t, row], want, atol=1e-12)


def test_queue_reads_first_in_and_stack_last_in():
    one, zero = np.ones((3, 1, 1)), np.zeros((3, 1, 1))
    values = np.arange(1.0, 4.0).reshape(3, 1, 1)
    stack_reads, _ = _run("stack", (one, zero, values))
    queue_reads, _ = _run("queue", (one, zero, values))
    assert stack_reads.numpy().ravel().tolist() == [1.0, 2.0, 3.0]
    assert queue_reads.numpy().ravel().tolist() == [1.0, 1.0, 1.0]
    _, s = _run("queue", (one, np.concatenate([zero[:2], one[:1]]), values))  # the last pop removes the first push
    assert s.numpy().ravel().tolist() == [0.0, 1.0, 1.0]


@pytest.mark.parametrize("kind", ["stack", "queue", "deque"])
def test_memory_update_gradcheck_float64(kind):
    rng = np.random.default_rng(1)
    steps, n, m = 4, 2, 3

    def leaves(c):
        return [ember.tensor(x, requires_grad=True) for x in c]

    top = leaves(_random_controls(rng, steps, n, m))
    bottom = leaves(_random_controls(rng, steps, n, m)) if kind == "deque" else []

    def loss(*tensors):
        reads, s = _run(kind, tensors[:3], bottom=tensors[3:] or None)
        return (reads ** 2).sum() + (s ** 2).sum()

    assert gradcheck(loss, top + bottom, check_forward=False)


@pytest.mark.parametrize("memory", ["stack", "queue", "deque"])
def test_controller_recurrence_gradcheck_float64(memory):
    """Through 5 controller steps from a non-empty memory: gradients reach h, the read, the values and strengths."""
    ember.manual_seed(0)
    model = NeuralMemoryLSTM(3, memory, embedding=3, hidden=4, memory_size=2).to(ember.float64)
    ids = ember.tensor([[3, 0, 2, 4, 6], [3, 1, 4, 5, 7]])
    rng = np.random.default_rng(2)
    h = ember.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    read = ember.tensor(rng.standard_normal((2, model.ends * 2)), requires_grad=True)
    values = ember.tensor(rng.standard_normal((2, 2, 2)), requires_grad=True)
    strengths = ember.tensor(rng.uniform(0.05, 0.95, (2, 2)), requires_grad=True)

    def loss(h, read, values, strengths):
        state = (h, ember.zeros(2, 4, dtype=ember.float64), read, values, strengths)
        total = 0
        for t in range(ids.shape[1]):
            logits, state = model.step(ids[:, t], state)
            total = total + (logits ** 2).sum()
        return total

    assert gradcheck(loss, (h, read, values, strengths), check_forward=False)


def test_deep_lstm_steps_match_its_teacher_forced_forward():
    ember.manual_seed(0)
    model = DeepLSTM(5, layers=2, embedding=4, hidden=6)
    batch = make_transduction_batch("copy", [3, 2], np.random.default_rng(0), vocab_size=5)
    full = model(ember.tensor(batch.inputs)).numpy()
    state = model.initial_state(2)
    for t in range(batch.inputs.shape[1]):
        logits, state = model.step(ember.tensor(batch.inputs[:, t]), state)
        np.testing.assert_allclose(logits.numpy(), full[:, t], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["deque", "lstm"])
def test_greedy_decoding_feeds_back_its_own_predictions(kind):
    ember.manual_seed(1)
    model = (NeuralMemoryLSTM(4, kind, embedding=4, hidden=8, memory_size=3) if kind != "lstm"
             else DeepLSTM(4, 1, embedding=4, hidden=8))
    batch = make_transduction_batch("reversal", [3, 5], np.random.default_rng(2), vocab_size=4)
    predicted = greedy_transduce(model, batch)
    for row in range(2):
        sep, length = int(batch.separator[row]), int(batch.target_lengths[row])
        prefix = list(batch.inputs[row, :sep + 1])
        with ember.no_grad():
            for j in range(length):
                symbol = int(model(ember.tensor([prefix])).argmax(dim=2).numpy()[0, -1])
                assert predicted[row, sep + j] == symbol
                prefix.append(4 + 2 + symbol)


def test_errors_name_the_model_and_sizes():
    model = NeuralMemoryLSTM(5, "stack", embedding=4, hidden=6, memory_size=3, max_length=10)
    with pytest.raises(ValueError, match=r"NeuralMemoryLSTM\(stack, vocab_size=5, hidden=6, memory_size=3\): "
                                         r"sequence of 12 steps exceeds max_length=10"):
        model(ember.zeros(1, 12, dtype=ember.int64))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 13\) for vocab_size=5 .* got ids in \[0, 40\]"):
        model(ember.tensor([[0, 40]]))
    batch = make_transduction_batch("copy", [2], np.random.default_rng(0), vocab_size=8)
    with pytest.raises(ValueError, match="the batch has vocab_size=8, the model was built for vocab_size=5"):
        transduction_loss(model, batch)
    with pytest.raises(ValueError, match=r"DeepLSTM\(layers=2, vocab_size=5, hidden=6\): sequence of 12 steps"):
        DeepLSTM(5, 2, 4, 6, max_length=10)(ember.zeros(1, 12, dtype=ember.int64))
    with pytest.raises(ValueError, match="memory must be one of stack, queue, deque, got 'tape'"):
        NeuralMemoryLSTM(5, "tape")
    with pytest.raises(ValueError, match=r"expected joint ids of shape \(N, T\), got \(4,\)"):
        model(ember.zeros(4, dtype=ember.int64))


def test_paper_table_is_complete():
    for task in ("copy", "reversal", "bigram-flip"):
        assert set(PAPER_TABLE[task]) == {"deep-lstm", "stack", "queue", "deque"}
        assert all(len(row) == 4 and all(0 <= x <= 1 for x in row) for row in PAPER_TABLE[task].values())
    assert PAPER_TABLE["copy"]["queue"] == (1.0, 1.0, 1.0, 1.0) and PAPER_TABLE["reversal"]["stack"][2] == 1.0


def test_reduced_queue_copy_learns():
    """About 8 s on an idle core: a queue controller on 8 symbols, sources of 2..6, must at least halve its loss."""
    ember.manual_seed(0)
    rng = np.random.default_rng(0)
    model = NeuralMemoryLSTM(8, "queue", embedding=16, hidden=32, memory_size=32)
    optimizer = ember.optim.RMSprop(model.parameters(), lr=5e-3)
    losses = train_transduction(model, "copy", 200, optimizer, rng, batch_size=10, lengths=(2, 6))
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    coarse, fine = evaluate_transduction(model, "copy", 100, (2, 6), np.random.default_rng(5))
    assert fine > 0.3
