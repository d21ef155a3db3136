"""ember.compile: a traced schedule must replay exactly what eager execution does."""
import numpy as np
import pytest

import ember
from ember.compile import CompileError
from ember.optim import SGD, Adam, clip_grad_norm_


def _mlp(seed=0, sizes=(4, 16, 3)):
    ember.manual_seed(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append((ember.randn(fan_in, fan_out) * (1 / fan_in ** 0.5)).requires_grad_())
        params.append(ember.zeros(fan_out, requires_grad=True))
    return params


def _forward(params, x):
    h = x
    for i in range(0, len(params), 2):
        h = h @ params[i] + params[i + 1]
        if i + 2 < len(params):
            h = h.tanh()
    return h


def _xent(logits, labels):
    log_probs = logits - logits.logsumexp(dim=1, keepdim=True)
    return -log_probs[ember.arange(labels.shape[0]), labels].mean()


def _batches(n=6, batch=8, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((batch, 4)).astype(np.float32), rng.integers(0, 3, batch)) for _ in range(n)]


def _run(step, params, batches):
    losses = [float(step(ember.tensor(x), ember.tensor(y)).numpy()) for x, y in batches]
    return losses, [p.numpy().copy() for p in params]


@pytest.mark.parametrize("make_optimizer", [
    lambda ps: SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: Adam(ps, lr=0.01),
])
def test_compiled_training_step_matches_eager_bit_for_bit(make_optimizer):
    results = []
    for compiled in (False, True):
        params = _mlp()
        optimizer = make_optimizer(params)

        def step(x, y):
            optimizer.zero_grad()
            loss = _xent(_forward(params, x), y)
            loss.backward()
            clip_grad_norm_(params, 1.0)
            optimizer.step()
            return loss

        results.append(_run(ember.compile(step) if compiled else step, params, _batches()))
    (eager_losses, eager_params), (comp_losses, comp_params) = results
    assert eager_losses == comp_losses
    for a, b in zip(eager_params, comp_params):
        np.testing.assert_array_equal(a, b)


def test_manual_update_with_inplace_ops_and_grad_reset():
    results = []
    for compiled in (False, True):
        params = _mlp(seed=3)

        def step(x, y):
            for p in params:
                p.grad = None
            loss = _xent(_forward(params, x), y)
            loss.backward()
            with ember.no_grad():
                for p in params:
                    p -= 0.05 * p.grad
            return loss

        results.append(_run(ember.compile(step) if compiled else step, params, _batches(seed=1)))
    assert results[0][0] == results[1][0]


def test_inference_function_and_retrace_on_new_shape():
    params = _mlp()

    @ember.compile
    def predict(x):
        with ember.no_grad():
            return _forward(params, x).argmax(dim=1)

    for batch in (5, 9, 5):
        x = ember.randn(batch, 4)
        np.testing.assert_array_equal(predict(x).numpy(), _forward(params, x).argmax(dim=1).numpy())
    assert len(predict.plans) == 2


def test_random_draws_are_replayed_not_frozen():
    def noisy(x):
        return x + ember.randn(*x.shape)

    compiled = ember.compile(noisy)
    x = ember.zeros(3)
    ember.manual_seed(5)
    eager = [noisy(x).numpy() for _ in range(3)]
    ember.manual_seed(5)
    replayed = [compiled(x).numpy() for _ in range(3)]
    for a, b in zip(eager, replayed):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(replayed[1], replayed[2])


def test_dead_code_is_eliminated_and_constants_folded():
    def f(x):
        unused = (x * 3).exp()  # noqa: F841 - nothing reads it
        scale = ember.ones(3) * 2 + 1  # constants only: folded at trace time
        return x * scale

    compiled = ember.compile(f)
    x = ember.tensor([1.0, 2.0, 3.0])
    assert compiled(x).tolist() == [3.0, 6.0, 9.0]
    assert compiled(ember.tensor([1.0, 1.0, 1.0])).tolist() == [3.0, 3.0, 3.0]
    plan = compiled.plan_for(x)
    assert plan.kernel_count == 1  # only the final multiply remains


def test_data_dependent_control_flow_raises_clearly():
    def f(x):
        return x * 2 if (x.sum() > 0).item() else x * 3

    with pytest.raises(CompileError, match="control flow"):
        ember.compile(f)(ember.ones(2))


def test_fallback_runs_eagerly_with_a_warning():
    def f(x):
        return x * 2 if (x.sum() > 0).item() else x * 3

    compiled = ember.compile(f, fallback=True)
    with pytest.warns(UserWarning, match="eagerly"):
        assert compiled(ember.ones(2)).tolist() == [2.0, 2.0]
    assert compiled(-ember.ones(2)).tolist() == [-3.0, -3.0]


def test_reading_inputs_is_allowed():
    def f(x, n):
        return x * n

    compiled = ember.compile(f)
    assert compiled(ember.ones(2), 3).tolist() == [3.0, 3.0]
    assert compiled(ember.ones(2), 4).tolist() == [4.0, 4.0]  # a new static value retraces


def test_replaced_parameter_array_triggers_retrace():
    w = ember.ones(2, requires_grad=True)

    @ember.compile
    def f(x):
        return (x * w).sum()

    assert f(ember.ones(2)).item() == 2.0
    w.data = ember.full((2,), 5.0)  # PyTorch's way to swap a parameter's values
    assert f(ember.ones(2)).item() == 10.0


def test_leftover_gradient_is_refused():
    w = ember.ones(2, requires_grad=True)

    @ember.compile
    def f(x):
        (x * w).sum().backward()

    f(ember.ones(2))          # traced: w.grad was None
    with pytest.raises(CompileError, match="already holds a gradient"):
        f(ember.ones(2))      # replay: w.grad from the previous call is still there


def test_compile_rejects_non_callables():
    with pytest.raises(TypeError, match="expected a function"):
        ember.compile(3)


def test_any_and_all_are_replayed_not_frozen():
    # Issue 18: Tensor.any/all used to compute on the array outside any primitive, so the
    # compiled function kept answering what the first (traced) call had found.
    f = ember.compile(lambda x: (x > 0).any())
    assert f(ember.tensor([-1.0, -2.0])).item() is False
    assert f(ember.tensor([1.0, -2.0])).item() is True
    g = ember.compile(lambda x: ((x > 0).all(dim=1), ember.any(x < -1, dim=0, keepdim=True)))
    x = ember.tensor([[1.0, 2.0], [3.0, -4.0]])
    g(x)
    fresh = ember.tensor([[-1.0, 2.0], [3.0, 4.0]])
    for got, want in zip(g(fresh), ((fresh > 0).all(dim=1), ember.any(fresh < -1, dim=0, keepdim=True))):
        assert got.tolist() == want.tolist()
    assert g(fresh)[0].tolist() == [False, True]


def test_lookups_into_constant_tables_follow_their_indices():
    # The table is a constant, but the indices are the argument: the lookup must not be folded.
    import ember.nn.functional as F

    f = ember.compile(lambda ids: F.embedding(ids, ember.eye(4)))
    assert f(ember.tensor([0, 1])).argmax(dim=1).tolist() == [0, 1]
    assert f(ember.tensor([3, 2])).argmax(dim=1).tolist() == [3, 2]
    g = ember.compile(lambda ids: ember.arange(5.0).index_select(0, ids))
    g(ember.tensor([0, 0, 1]))
    assert g(ember.tensor([4, 2, 3])).tolist() == [4.0, 2.0, 3.0]


def test_sorting_and_rounding_are_replayed():
    def f(x):
        return x.sort(dim=0).values, x.topk(1).indices, x.round(), x.sign(), x.amax(dim=0)

    compiled = ember.compile(f)
    compiled(ember.tensor([3.0, -1.0, 2.0]))
    fresh = ember.tensor([-5.0, 4.5, 0.5])
    assert [t.tolist() for t in compiled(fresh)] == [t.tolist() for t in f(fresh)]
    assert compiled(fresh)[1].tolist() == [1]


def test_value_dependent_helpers_replay_under_compile():
    """isclose, sequence masks, multi-margin one-hot masks and scatter indices are traced, not frozen."""
    import ember.nn.functional as F

    close = ember.compile(lambda a, b: ember.isclose(a, b).long().sum())
    assert close(ember.ones(3), ember.ones(3)).item() == 3
    assert close(ember.ones(3), ember.zeros(3)).item() == 0
    masks = ember.compile(lambda lengths: F.sequence_mask(lengths, 4).long().sum())
    assert masks(ember.tensor([1, 2])).item() == 3 and masks(ember.tensor([3, 4])).item() == 7
    scores = ember.tensor([[0.2, 0.5, 0.1], [0.9, 0.3, 0.4]])
    margin = ember.compile(lambda s, y: F.multi_margin_loss(s, y, reduction="none"))
    for labels in ([0, 1], [2, 0]):
        y = ember.tensor(labels)
        np.testing.assert_allclose(margin(scores, y).numpy(), F.multi_margin_loss(scores, y, reduction="none").numpy())
    scatter = ember.compile(lambda x, i: ember.zeros(4).scatter(0, i * 1, x))
    for index in ([0, 1, 2], [3, 1, 0]):
        i = ember.tensor(index)
        np.testing.assert_array_equal(scatter(ember.arange(1.0, 4.0), i).numpy(),
                                      ember.zeros(4).scatter(0, i, ember.arange(1.0, 4.0)).numpy())
