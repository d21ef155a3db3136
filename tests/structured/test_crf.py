"""Linear-chain CRF: forward algorithm, Viterbi and marginals against brute-force enumeration."""
import itertools

import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.errors import ArgumentError, ShapeError


def _problem(seed, B=3, T=4, K=3, lengths=(4, 2, 1)):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal((B, T, K))
    start, end, trans = rng.standard_normal(K), rng.standard_normal(K), rng.standard_normal((K, K))
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]
    return e, mask, start, end, trans


def _score(e, start, end, trans, path):
    s = start[path[0]] + e[0, path[0]] + end[path[-1]]
    return s + sum(trans[a, b] + e[t + 1, b] for t, (a, b) in enumerate(zip(path, path[1:])))


def _brute(e, mask, start, end, trans):
    """Per sequence: log Z, the best path, and the marginals, by enumerating every path."""
    out = []
    K = e.shape[2]
    for b in range(e.shape[0]):
        L = int(mask[b].sum())
        paths = list(itertools.product(range(K), repeat=L))
        scores = np.array([_score(e[b], start, end, trans, p) for p in paths])
        log_z = np.logaddexp.reduce(scores)
        marg = np.zeros((e.shape[1], K))
        for p, s in zip(paths, scores):
            marg[np.arange(L), p] += np.exp(s - log_z)
        out.append((log_z, list(paths[int(scores.argmax())]), marg, dict(zip(paths, scores))))
    return out


def _t(*arrays):
    return [ember.tensor(a) for a in arrays]


def test_log_partition_matches_enumeration():
    e, mask, start, end, trans = _problem(0)
    log_z = F.crf_log_partition(*_t(e, mask, start, end, trans)).numpy()
    np.testing.assert_allclose(log_z, [b[0] for b in _brute(e, mask, start, end, trans)], rtol=1e-12)


def test_sequence_score_matches_enumeration_with_garbage_padding():
    e, mask, start, end, trans = _problem(1)
    brute = _brute(e, mask, start, end, trans)
    rng = np.random.default_rng(0)
    tags = rng.integers(0, 3, (3, 4))
    tags[~mask] = 99                                     # padding is never read
    got = F.crf_sequence_score(*_t(e, tags, mask, start, end, trans)).numpy()
    for b in range(3):
        assert got[b] == pytest.approx(brute[b][3][tuple(tags[b, :mask[b].sum()])], rel=1e-12)


def test_viterbi_matches_enumeration():
    for seed in range(5):
        e, mask, start, end, trans = _problem(seed, K=4)
        paths = F.crf_viterbi_decode(*_t(e, mask, start, end, trans))
        assert paths == [b[1] for b in _brute(e, mask, start, end, trans)]


def test_marginals_sum_to_one_and_match_enumeration():
    e, mask, start, end, trans = _problem(2)
    marg = F.crf_marginals(*_t(e, mask, start, end, trans)).numpy()
    np.testing.assert_allclose(marg.sum(2), mask.astype(float), atol=1e-12)
    np.testing.assert_allclose(marg, np.stack([b[2] for b in _brute(e, mask, start, end, trans)]), atol=1e-12)


def test_marginals_are_the_gradient_of_log_partition():
    e, mask, start, end, trans = _problem(3)
    et = ember.tensor(e, requires_grad=True)
    F.crf_log_partition(et, *_t(mask, start, end, trans)).sum().backward()
    np.testing.assert_allclose(et.grad.numpy(), F.crf_marginals(*_t(e, mask, start, end, trans)).numpy(),
                               atol=1e-12)


def test_gradcheck_float64():
    e, mask, start, end, trans = _problem(4, B=2, T=3, K=2, lengths=(3, 2))
    tags = ember.tensor(np.array([[0, 1, 1], [1, 0, 0]]))
    inputs = [ember.tensor(a, requires_grad=True) for a in (e, start, end, trans)]
    m = ember.tensor(mask)

    def nll(e, s, n, tr):
        return F.crf_log_partition(e, m, s, n, tr) - F.crf_sequence_score(e, tags, m, s, n, tr)

    assert ember.autograd.gradcheck(nll, inputs)
    assert ember.autograd.gradcheck(lambda e, s, n, tr: F.crf_marginals(e, m, s, n, tr), inputs)


@pytest.mark.parametrize("batch_first", [False, True])
def test_module_log_likelihood_decode_marginals(batch_first):
    e, mask, start, end, trans = _problem(5)
    crf = nn.CRF(3, batch_first=batch_first).double()
    with ember.no_grad():
        crf.start_transitions.copy_(ember.tensor(start))
        crf.end_transitions.copy_(ember.tensor(end))
        crf.transitions.copy_(ember.tensor(trans))
    brute = _brute(e, mask, start, end, trans)
    tags = np.array([[0, 1, 2, 0], [2, 2, 0, 0], [1, 0, 0, 0]])
    expected = np.array([brute[b][3][tuple(tags[b, :mask[b].sum()])] - brute[b][0] for b in range(3)])
    order = (lambda a: a) if batch_first else (lambda a: np.swapaxes(a, 0, 1))
    args = (ember.tensor(order(e)), ember.tensor(order(tags)))
    llh = crf(*args, mask=ember.tensor(order(mask)), reduction="none")
    np.testing.assert_allclose(llh.numpy(), expected, rtol=1e-12)
    assert crf(*args, mask=ember.tensor(order(mask))).item() == pytest.approx(expected.sum())
    assert crf(*args, mask=ember.tensor(order(mask)), reduction="mean").item() == pytest.approx(expected.mean())
    assert crf(*args, mask=ember.tensor(order(mask)), reduction="token_mean").item() == pytest.approx(
        expected.sum() / mask.sum())
    assert crf.decode(args[0], mask=ember.tensor(order(mask))) == [b[1] for b in brute]
    marg = crf.marginals(args[0], mask=ember.tensor(order(mask))).numpy()
    np.testing.assert_allclose(order(marg), np.stack([b[2] for b in brute]), atol=1e-12)
    (-crf(*args, mask=ember.tensor(order(mask)))).backward()
    assert crf.transitions.grad.shape == (3, 3) and np.abs(crf.transitions.grad.numpy()).sum() > 0


def test_module_defaults_and_training_raises_likelihood():
    crf = nn.CRF(4)
    assert repr(crf) == "CRF(num_tags=4)"
    assert sorted(n for n, _ in crf.named_parameters()) == ["end_transitions", "start_transitions", "transitions"]
    assert all(np.abs(p.numpy()).max() <= 0.1 for p in crf.parameters())
    emissions = ember.randn(6, 2, 4)
    tags = ember.tensor(np.array([[0, 1, 2, 3, 0, 1]] * 2).T)
    opt = ember.optim.SGD(crf.parameters(), lr=0.5)
    first = crf(emissions, tags).item()
    for _ in range(20):
        opt.zero_grad()
        (-crf(emissions, tags)).backward()
        opt.step()
    assert crf(emissions, tags).item() > first + 1.0


@pytest.mark.parametrize("call, error, match", [
    (lambda c: c(ember.randn(3, 2, 5), ember.zeros(3, 2, dtype="int64")), ArgumentError, r"last size 4"),
    (lambda c: c(ember.randn(3, 2, 4), ember.zeros(3, 3, dtype="int64")), ShapeError, r"tags of shape \(2, 3\)"),
    (lambda c: c(ember.randn(3, 2, 4), ember.zeros(3, 2, dtype="int64"), mask=ember.zeros(3, 2, dtype="bool")),
     ArgumentError, r"first time step must be on"),
    (lambda c: c(ember.randn(3, 1, 4), ember.zeros(3, 1, dtype="int64"),
                 mask=ember.tensor([[True], [False], [True]])), ArgumentError, r"prefix"),
    (lambda c: c(ember.randn(3, 2, 4), ember.full((3, 2), 7, dtype="int64")), ArgumentError, r"lie in \[0, 4\)"),
    (lambda c: c(ember.randn(3, 2, 4), ember.zeros(3, 2, dtype="int64"), reduction="avg"), ArgumentError,
     r"reduction"),
    (lambda c: nn.CRF(0), ArgumentError, r"invalid number of tags: 0"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(nn.CRF(4))
