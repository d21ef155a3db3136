"""DataParallel: 2 ranks x batch B match one process with batch 2B; single-process behaviour."""
import numpy as np
import pytest
from distributed.mpirun import needs_mpi, run_mpi
from distributed.training import build, load_rank, single_process

import ember
from ember import nn
from ember.distributed import DataParallel, allreduce_gradients, broadcast_parameters
from ember.distributed.data_parallel import _Tap, splice_taps

STEPS, BATCH = 5, 8


def _compare(prefix, kind, penalty=0.0):
    init0, final0, _ = load_rank(prefix, 0)
    init1, final1, _ = load_rank(prefix, 1)
    for name in init0:  # the ranks started from different seeds: the broadcast made them equal
        np.testing.assert_array_equal(init0[name], init1[name])
    expected = single_process(kind, init0, STEPS, 2 * BATCH, penalty)
    for name, value in expected.items():
        np.testing.assert_array_equal(final0[name], final1[name], err_msg=name)
        np.testing.assert_allclose(final0[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    assert any(not np.allclose(init0[n], expected[n]) for n in expected), "training did not move the weights"


@needs_mpi
@pytest.mark.parametrize("mode,kind,penalty", [
    ("dp", "mlp", 0.0),          # one flat Allreduce
    ("manual", "mlp", 0.0),      # broadcast_parameters + allreduce_gradients, no wrapper
    ("overlap", "mlp", 0.0),     # Iallreduce per bucket during backward
    ("shared", "shared", 0.0),   # a layer used twice: two contributions summed before the mean
    ("penalty", "mlp", 1e-3),    # an l2 penalty on the parameters, outside the wrapped forward
])
def test_two_ranks_match_one_process_with_twice_the_batch(tmp_path, mode, kind, penalty):
    run_mpi("worker_train.py", mode, tmp_path / mode, "--steps", STEPS, "--batch", BATCH)
    _compare(tmp_path / mode, kind, penalty)


@needs_mpi
def test_batch_norm_keeps_ranks_identical(tmp_path):
    run_mpi("worker_train.py", "bn", tmp_path / "bn", "--steps", STEPS, "--batch", BATCH)
    _, final0, _ = load_rank(tmp_path / "bn", 0)
    _, final1, _ = load_rank(tmp_path / "bn", 1)
    for name in final0:
        if "running" not in name:  # the statistics differ by the last step's local update only
            np.testing.assert_array_equal(final0[name], final1[name], err_msg=name)


def test_single_process_is_a_pass_through():
    net = build("mlp", seed=0)
    dp = DataParallel(net)
    x = ember.randn(4, 8)
    np.testing.assert_array_equal(dp(x).detach().numpy(), net(x).detach().numpy())
    assert list(dp.state_dict()) == list(net.state_dict())  # no "module." prefix
    dp.load_state_dict(build("mlp", seed=1).state_dict())
    np.testing.assert_array_equal(net[0].weight.numpy(), build("mlp", seed=1)[0].weight.numpy())
    assert "world_size=1" in repr(dp)
    dp(x).sum().backward()
    grads = [p.grad.numpy().copy() for p in net.parameters()]
    allreduce_gradients(net.parameters())
    dp.sync_gradients()
    broadcast_parameters(net)
    for p, g in zip(net.parameters(), grads):
        np.testing.assert_array_equal(p.grad.numpy(), g)


def test_no_sync_accumulates_locally():
    dp = DataParallel(nn.Linear(2, 1))
    with dp.no_sync():
        dp(ember.ones(1, 2)).sum().backward()
    dp(ember.ones(1, 2)).sum().backward()
    assert dp.module.bias.grad.tolist() == [2.0]


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected an ember.nn.Module, got int"):
        DataParallel(3)
    with pytest.raises(ValueError, match="bucket_cap_mb must be positive, got 0"):
        DataParallel(nn.Linear(2, 2), bucket_cap_mb=0)


def test_taps_deliver_each_parameter_gradient_once():
    # What the reducer sees: a parameter used twice reaches its tap as one summed gradient.
    w = nn.Parameter(ember.tensor([1.0, 2.0]))
    b = nn.Parameter(ember.tensor([0.5, 0.5]))
    seen = {}
    out = (w * w + w * b).sum()
    tapped = splice_taps(out, {id(w): 0, id(b): 1}, lambda i: lambda g: seen.setdefault(i, g.numpy().copy()))
    assert tapped.tolist() == [True, True]
    out.backward()
    np.testing.assert_allclose(seen[0], (2 * w + b).detach().numpy())
    np.testing.assert_allclose(seen[1], w.detach().numpy())
    assert w.grad is None and b.grad is None  # the taps keep the local gradient for the reducer
    assert _Tap.vjp(None, ember.ones(2)) is None


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.unused = nn.Linear(2, 1), nn.Linear(2, 1), nn.Linear(2, 1)

    def forward(self, x):
        return self.a(x), self.b(x)


def _with_reducer(module):
    """A DataParallel whose reducer runs in this single process (its collectives are identities)."""
    from ember.distributed.data_parallel import _Reducer

    dp = DataParallel(module)
    named = [(n, p) for n, p in module.named_parameters()]
    object.__setattr__(dp, "_reducer", _Reducer(named, cap_bytes=8, overlap=False))
    return dp


def test_reducer_writes_the_mean_and_keeps_later_local_terms():
    dp = _with_reducer(TwoHeads())
    x = ember.ones(3, 2)
    dp.module.unused.weight.grad = ember.ones(1, 2)  # not in the graph: its .grad is averaged as is
    a, b = dp(x)
    ((a + b).sum() + (dp.module.a.bias * 10).sum()).backward()
    assert dp.module.a.weight.grad.tolist() == [[3.0, 3.0]]
    assert dp.module.a.bias.grad.tolist() == [13.0]  # 3 from the forward + 10 from outside it
    assert dp.module.unused.weight.grad.tolist() == [[1.0, 1.0]]
    assert dp.module.unused.bias.grad.tolist() == [0.0]  # every parameter ends with a gradient


def test_reducer_second_backward_through_a_retained_graph():
    dp = _with_reducer(TwoHeads())
    a, b = dp(ember.ones(1, 2))
    loss = (a + b).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert dp.module.b.bias.grad.tolist() == [2.0]


def test_reducer_refuses_an_earlier_forwards_graph():
    dp = _with_reducer(TwoHeads())
    old = sum(dp(ember.ones(1, 2))).sum()
    dp(ember.ones(1, 2))  # a forward that is never backpropagated replaces the plan
    with pytest.raises(RuntimeError, match="output of an earlier forward"):
        old.backward()


def test_reducer_undelivered_gradients_need_sync_gradients():
    dp = _with_reducer(TwoHeads())
    a, _ = dp(ember.ones(1, 2))
    a.sum().backward()  # head b took part in the forward but receives nothing
    with pytest.raises(RuntimeError, match=r"did not deliver the gradients of b\.weight, b\.bias"):
        dp(ember.ones(1, 2))
    dp.sync_gradients()
    assert dp.module.a.bias.grad.tolist() == [1.0] and dp.module.b.bias.grad.tolist() == [0.0]
    dp(ember.ones(1, 2))  # the next step runs normally
    with dp.no_sync():
        dp(ember.ones(1, 2))
    dp.sync_gradients()  # after no_sync: average what was accumulated


def test_reducer_refuses_to_be_traced(monkeypatch):
    from ember.autograd.tracing import _Trace

    dp, x = _with_reducer(TwoHeads()), ember.ones(1, 2)
    monkeypatch.setattr(_Trace, "tracer", object())
    with pytest.raises(RuntimeError, match="cannot be traced by ember.compile"):
        dp(x)
