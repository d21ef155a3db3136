"""CTC loss against PyTorch (values, gradients, reductions, edge cases), gradcheck, decoders."""
import itertools

import numpy as np
import pytest
import torch

import ember
import ember.functional as F
import ember.nn as nn
from ember.errors import ArgumentError, DTypeError, ShapeError
from ember.kernels import ctc as ctc_kernels
from ember.kernels import engine


@pytest.fixture(params=["numpy", "numba"])
def kernel_engine(request):
    if request.param == "numba":
        pytest.importorskip("numba")
    previous = engine._requested
    ember.kernels.use(request.param)
    yield request.param
    engine._reset_for_tests(previous)


def _case(seed, T=12, N=5, C=6, S=4, blank=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((T, N, C))
    labels = [c for c in range(C) if c != blank]
    targets = rng.choice(labels, size=(N, S))
    targets[0] = labels[0]                    # all repeats: needs blanks between labels
    input_lengths = rng.integers(2 * S + 1, T + 1, N)
    target_lengths = rng.integers(1, S + 1, N)
    target_lengths[0] = S
    target_lengths[-1] = 0                    # the empty target
    return logits, targets, input_lengths, target_lengths


def _torch_loss(logits, targets, il, tl, dtype, concatenated=False, **kw):
    x = torch.tensor(logits, dtype=dtype, requires_grad=True)
    t = torch.tensor(targets)
    if concatenated:
        t = torch.cat([t[n, :tl[n]] for n in range(len(tl))])
    loss = torch.nn.functional.ctc_loss(torch.log_softmax(x, 2), t, torch.tensor(il), torch.tensor(tl), **kw)
    return loss, x


def _ember_loss(logits, targets, il, tl, dtype, concatenated=False, **kw):
    x = ember.tensor(logits.astype(dtype), requires_grad=True)
    t = targets
    if concatenated:
        t = np.concatenate([targets[n, :tl[n]] for n in range(len(tl))])
    loss = F.ctc_loss(F.log_softmax(x, dim=2), ember.tensor(t), ember.tensor(il), list(tl), **kw)
    return loss, x


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("concatenated", [False, True])
@pytest.mark.parametrize("blank", [0, 3])
def test_matches_torch(kernel_engine, dtype, reduction, concatenated, blank):
    logits, targets, il, tl = _case(7 + blank, blank=blank)
    tdtype = getattr(torch, dtype)
    ref, tx = _torch_loss(logits, targets, il, tl, tdtype, concatenated, blank=blank, reduction=reduction)
    out, ex = _ember_loss(logits, targets, il, tl, dtype, concatenated, blank=blank, reduction=reduction)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=tol, atol=tol)
    weights = np.linspace(0.5, 1.5, out.numel()).reshape(out.shape)
    (ref * torch.tensor(weights, dtype=tdtype)).sum().backward()
    (out * ember.tensor(weights.astype(dtype))).sum().backward()
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=10 * tol, atol=10 * tol)


def test_impossible_alignment_is_inf_and_zero_infinity(kernel_engine):
    logits, targets, il, tl = _case(3)
    il[1], tl[1] = 3, 4                        # four labels cannot fit in three frames
    for zero_infinity in (False, True):
        ref, tx = _torch_loss(logits, targets, il, tl, torch.float64, reduction="none",
                              zero_infinity=zero_infinity)
        out, ex = _ember_loss(logits, targets, il, tl, "float64", reduction="none", zero_infinity=zero_infinity)
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12)
        assert np.isinf(out.numpy()[1]) != zero_infinity
        ref.sum().backward()
        out.sum().backward()
        # NaN on the impossible sample's frames (without zero_infinity), exactly where PyTorch has them
        np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
        assert np.isnan(ex.grad.numpy()[:3, 1]).all() != zero_infinity


def test_repeated_labels_need_a_blank_between():
    # "11" needs three frames (1, blank, 1); with two frames it is impossible, "12" is not.
    lp = F.log_softmax(ember.zeros(2, 1, 3, dtype="float64"), dim=2)
    assert np.isinf(F.ctc_loss(lp, ember.tensor([[1, 1]]), [2], [2], reduction="sum").item())
    assert F.ctc_loss(lp, ember.tensor([[1, 2]]), [2], [2], reduction="sum").item() == pytest.approx(2 * np.log(3))


@pytest.mark.parametrize("frames", [4, 0])
def test_zero_input_length(kernel_engine, frames):
    lp = F.log_softmax(ember.randn(frames, 2, 3, dtype="float64"), dim=2)
    out = F.ctc_loss(lp, ember.tensor([[1], [1]]), [0, 0], [0, 1], reduction="none")
    assert out.numpy()[0] == 0 and np.isinf(out.numpy()[1])


def test_unbatched_matches_batched():
    logits, targets, il, tl = _case(5)
    lp = F.log_softmax(ember.tensor(logits), dim=2)
    batched = F.ctc_loss(lp, ember.tensor(targets), il, tl, reduction="none")
    single = F.ctc_loss(lp[:, 2], ember.tensor(targets[2, :tl[2]]), int(il[2]), int(tl[2]), reduction="none")
    assert single.shape == ()
    assert single.item() == pytest.approx(batched.numpy()[2], rel=1e-6)


def test_mean_reduction_divides_by_target_lengths():
    logits, targets, il, tl = _case(11)
    lp = F.log_softmax(ember.tensor(logits, dtype="float64"), dim=2)
    per = F.ctc_loss(lp, ember.tensor(targets), il, tl, reduction="none").numpy()
    mean = F.ctc_loss(lp, ember.tensor(targets), il, tl).item()
    assert mean == pytest.approx(np.mean(per / np.maximum(tl, 1)), rel=1e-12)


@pytest.mark.parametrize("blank", [0, 2])
def test_gradcheck_float64(kernel_engine, blank):
    logits, targets, il, tl = _case(2, T=7, N=3, C=4, S=2, blank=blank)
    lp = ember.tensor(logits, requires_grad=True, dtype="float64")   # a leaf: no log_softmax in front
    assert ember.autograd.gradcheck(
        lambda x: F.ctc_loss(x, ember.tensor(targets), il, tl, blank=blank, reduction="none"), (lp,))


def test_leaf_gradient_differs_from_torch_by_exp_log_probs():
    """PyTorch's gradient with respect to log_probs adds exp(log_probs) on the valid frames."""
    logits, targets, il, tl = _case(4)
    lp = logits - np.log(np.exp(logits).sum(2, keepdims=True))
    tx = torch.tensor(lp, requires_grad=True)
    torch.nn.functional.ctc_loss(tx, torch.tensor(targets), torch.tensor(il), torch.tensor(tl),
                                 reduction="sum").backward()
    ex = ember.tensor(lp, requires_grad=True)
    F.ctc_loss(ex, ember.tensor(targets), il, tl, reduction="sum").backward()
    valid = np.arange(lp.shape[0])[:, None, None] < il[None, :, None]
    np.testing.assert_allclose(tx.grad.numpy() - ex.grad.numpy(), np.where(valid, np.exp(lp), 0), atol=1e-12)


def test_numba_matches_reference():
    pytest.importorskip("numba")
    logits, targets, il, tl = _case(9, T=20, N=6, C=7, S=6)
    il[2] = 0
    for dtype in (np.float32, np.float64):
        lp = (logits - np.log(np.exp(logits).sum(2, keepdims=True))).astype(dtype)
        ref = ctc_kernels.ctc_nll_reference(lp, targets, il, tl, 0, True)
        fast = ctc_kernels.ctc_nll_numba(lp, targets, il, tl, 0, True)
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(fast[0], ref[0], rtol=tol)
        np.testing.assert_allclose(fast[1], ref[1], rtol=tol, atol=tol)
        assert fast[0].dtype == ref[0].dtype == dtype


def test_no_second_derivative():
    lp = ember.randn(5, 1, 3, dtype="float64", requires_grad=True)
    loss = F.ctc_loss(lp, ember.tensor([[1, 2]]), [5], [2])
    (plain,) = ember.autograd.grad(loss, lp)
    (g,) = ember.autograd.grad(F.ctc_loss(lp, ember.tensor([[1, 2]]), [5], [2]), lp, create_graph=True)
    np.testing.assert_allclose(g.numpy(), plain.numpy())   # first order works with create_graph too
    with pytest.raises(NotImplementedError, match="ctc_loss: the second derivative"):
        (g * g).sum().backward()


def test_module_matches_functional():
    logits, targets, il, tl = _case(1)
    lp = F.log_softmax(ember.tensor(logits), dim=2)
    criterion = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    assert criterion(lp, ember.tensor(targets), il, tl).item() == pytest.approx(
        F.ctc_loss(lp, ember.tensor(targets), il, tl, reduction="sum", zero_infinity=True).item())
    assert "zero_infinity=True" in repr(criterion)


@pytest.mark.parametrize("call, error, match", [
    (lambda lp, t: F.ctc_loss(lp[:, 0], t, 4, 2), ShapeError, r"unbatched \(T, C\) log_probs take 1-D"),
    (lambda lp, t: F.ctc_loss(lp[0, 0], t, [4, 4], [2, 2]), ShapeError, r"\(T, N, C\) or \(T, C\)"),
    (lambda lp, t: F.ctc_loss(lp, t, [4], [2, 2]), ShapeError, r"input_lengths of shape \(2,\)"),
    (lambda lp, t: F.ctc_loss(lp, t, [4, 9], [2, 2]), ArgumentError, r"exceed the T=4 frames"),
    (lambda lp, t: F.ctc_loss(lp, t, [4, -1], [2, 2]), ArgumentError, r"non-negative"),
    (lambda lp, t: F.ctc_loss(lp, t, [4, 4], [2, 3]), ArgumentError, r"exceed the padded target length S=2"),
    (lambda lp, t: F.ctc_loss(lp, t.reshape(-1), [4, 4], [3, 2]), ArgumentError, r"hold 4 labels.*sum to 5"),
    (lambda lp, t: F.ctc_loss(lp, t * 3, [4, 4], [2, 2]), ArgumentError, r"lie in \[0, 3\)"),
    (lambda lp, t: F.ctc_loss(lp, t, [4, 4], [2, 2], blank=1), ArgumentError, r"contain the blank label 1"),
    (lambda lp, t: F.ctc_loss(lp, t, [4, 4], [2, 2], blank=3), ArgumentError, r"blank must lie in \[0, 3\)"),
    (lambda lp, t: F.ctc_loss(lp, t.float(), [4, 4], [2, 2]), DTypeError, r"integer dtype"),
    (lambda lp, t: F.ctc_loss(lp, t, [4.0, 4.0], [2, 2]), DTypeError, r"input_lengths must hold integers"),
    (lambda lp, t: F.ctc_loss(lp, t, [4, 4], [2, 2], reduction="avg"), ArgumentError, r"reduction"),
])
def test_errors_name_the_op_and_sizes(call, error, match):
    lp = F.log_softmax(ember.randn(4, 2, 3), dim=2)
    with pytest.raises(error, match=match if match.startswith("reduction") else "ctc_loss: .*" + match):
        call(lp, ember.tensor([[1, 2], [2, 1]]))


# ------------------------------------------------------------------ decoding
def _one_hot_frames(path, C, high=5.0):
    scores = np.zeros((len(path), C))
    scores[np.arange(len(path)), path] = high
    return F.log_softmax(ember.tensor(scores), dim=1)


def test_greedy_collapses_repeats_and_drops_blanks():
    lp = _one_hot_frames([0, 1, 1, 0, 1, 2, 2, 0], C=3)
    assert F.ctc_greedy_decode(lp) == [1, 1, 2]
    assert F.ctc_greedy_decode(lp, blank=2) == [0, 1, 0, 1, 0]
    batch = ember.stack([lp, _one_hot_frames([2, 2, 2, 1, 1, 1, 0, 0], C=3)], dim=1)
    assert F.ctc_greedy_decode(batch, input_lengths=[8, 3]) == [[1, 1, 2], [2]]


def test_beam_search_beats_best_path_where_paths_add_up():
    p = ember.tensor([[0.6, 0.4], [0.6, 0.4]], dtype="float64").log()
    assert F.ctc_greedy_decode(p) == []
    (best, score), (second, score2) = F.ctc_beam_search_decode(p, beam_width=3)[:2]
    assert best == [1] and score == pytest.approx(np.log(0.64))
    assert second == [] and score2 == pytest.approx(np.log(0.36))


def test_wide_beam_scores_equal_exact_ctc_probabilities():
    rng = np.random.default_rng(0)
    T, C = 4, 3
    lp = F.log_softmax(ember.tensor(rng.standard_normal((T, C))), dim=1)
    hypotheses = F.ctc_beam_search_decode(lp, beam_width=1000)
    scores = dict((tuple(labels), score) for labels, score in hypotheses)
    every = [()] + [seq for L in range(1, T + 1) for seq in itertools.product([1, 2], repeat=L)]
    total = 0.0
    for seq in every:
        exact = -F.ctc_loss(lp, ember.tensor(list(seq), dtype="int64"), T, len(seq), reduction="sum").item()
        if np.isinf(exact):
            assert seq not in scores        # impossible in T frames: not a hypothesis
            continue
        total += np.exp(exact)
        assert scores[seq] == pytest.approx(exact, abs=1e-10)
    assert total == pytest.approx(1.0)
    assert [s for _, s in hypotheses] == sorted(scores.values(), reverse=True)


def test_narrow_beam_keeps_the_width_and_batches():
    lp = F.log_softmax(ember.randn(6, 2, 4), dim=2)
    out = F.ctc_beam_search_decode(lp, beam_width=2, input_lengths=[6, 2])
    assert len(out) == 2 and all(len(h) <= 2 for h in out)
    with pytest.raises(ArgumentError, match="ctc_beam_search_decode: beam_width must be at least 1"):
        F.ctc_beam_search_decode(lp, beam_width=0)
    with pytest.raises(ArgumentError, match="ctc_greedy_decode: input_lengths .* exceed the T=6"):
        F.ctc_greedy_decode(lp, input_lengths=[7, 1])
