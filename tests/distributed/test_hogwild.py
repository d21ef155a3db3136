"""Hogwild: lock-free SGD of several processes on shared parameters, against single-process SGD."""
import numpy as np
import pytest
from distributed.sparse_problem import accuracy, build, loss, problem

import ember
import ember.nn.functional as F
from ember.distributed import hogwild, sparse_sgd_step

EPOCHS, BATCH, LR = 3, 8, 0.5


def _plain_sgd(x, y):
    """Single-process SGD over the same sample order as hogwild(workers=1)."""
    model = build()
    opt = ember.optim.SGD(model.parameters(), lr=LR)
    for epoch in range(EPOCHS):
        order = np.random.default_rng([0, epoch]).permutation(len(x))
        for start in range(0, len(order), BATCH):
            chosen = order[start:start + BATCH]
            opt.zero_grad()
            F.cross_entropy(model(ember.tensor(x[chosen])), ember.tensor(y[chosen])).backward()
            opt.step()
    return model


@pytest.fixture(scope="module")
def trained():
    x, y = problem()
    reference = _plain_sgd(x, y)
    one = hogwild(build, F.cross_entropy, x, y, workers=1, epochs=EPOCHS, batch_size=BATCH, lr=LR, snapshots=3)
    two = hogwild(build, F.cross_entropy, x, y, workers=2, epochs=EPOCHS, batch_size=BATCH, lr=LR)
    return reference, one, two


def test_one_worker_is_plain_sgd(trained):
    reference, one, _ = trained
    for (name, p), q in zip(reference.named_parameters(), one.module.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=name)
    assert one.steps == [EPOCHS * 6000 // BATCH]


def test_snapshots_follow_the_training(trained):
    _, one, two = trained
    times = [t for t, _ in one.snapshots]
    assert len(times) == 3 and times == sorted(times) and 0 < times[-1] <= one.seconds
    last = one.snapshots[-1][1]  # taken after the last step: the final parameters
    for p, q in zip(last.parameters(), one.module.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    x, y = problem(2000, seed=1)
    assert loss(one.snapshots[0][1], x, y) > loss(last, x, y)
    assert two.snapshots == []


def test_two_workers_match_single_process_sgd(trained):
    reference, _, two = trained
    x_test, y_test = problem(2000, seed=1)
    assert two.steps == [EPOCHS * 3000 // BATCH] * 2  # each worker stepped through its half
    assert accuracy(reference, x_test, y_test) > 0.85
    assert abs(accuracy(two.module, x_test, y_test) - accuracy(reference, x_test, y_test)) <= 0.02
    assert loss(two.module, x_test, y_test) == pytest.approx(loss(reference, x_test, y_test), rel=0.05)
    untrained = build()
    assert not np.allclose(two.module.embedding.weight.numpy(), untrained.embedding.weight.numpy())


def test_sparse_step_leaves_unused_rows_alone():
    weight, grad = np.ones((4, 2)), np.zeros((4, 2))
    grad[2] = [1.0, -1.0]
    sparse_sgd_step(weight, grad, 0.5)
    np.testing.assert_array_equal(weight, [[1, 1], [1, 1], [0.5, 1.5], [1, 1]])
    dense = np.ones(3)
    sparse_sgd_step(dense, np.array([1.0, 0.0, 2.0]), 0.5)
    np.testing.assert_array_equal(dense, [0.5, 1.0, 0.0])


def test_argument_errors():
    x, y = problem(10)
    with pytest.raises(ValueError, match="workers must be a positive int, got 0"):
        hogwild(build, F.cross_entropy, x, y, workers=0)
    with pytest.raises(ValueError, match="same number of samples.* got 10 and 9"):
        hogwild(build, F.cross_entropy, x, y[:9])


def test_a_failing_worker_is_an_error():
    x, y = problem(10)
    with pytest.raises(RuntimeError, match=r"hogwild: worker\(s\) failed .*'hogwild-0', 1"):
        hogwild(build, F.cross_entropy, x, y.astype(np.float32), workers=1)  # float targets of shape (N,): an error
