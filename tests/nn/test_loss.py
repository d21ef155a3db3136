"""Losses: PyTorch parity for every option and reduction, float64 gradchecks, stability, bad input."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from nn.oracle import LayerCase, check_against_torch, check_gradients

N, C = 6, 4
CLASS_WEIGHT = np.array([0.5, 2.0, 1.0, 1.5])


def logits_and_classes(*extra, ignore=False, scale=2.0):
    def make(rng):
        x = rng.standard_normal((N, C) + extra) * scale
        t = rng.integers(0, C, (N,) + extra)
        if ignore:
            t.reshape(-1)[::3] = -100
        return [x, t]
    return make


def logits_and_probabilities(rng):
    x = rng.standard_normal((N, C)) * 2
    p = rng.random((N, C))
    return [x, p / p.sum(axis=1, keepdims=True)]


def pair(shape=(N, C), target=None):
    def make(rng):
        x = rng.standard_normal(shape)
        return [x, rng.standard_normal(shape) if target is None else target(rng, shape)]
    return make


def signs(rng, shape):
    return rng.choice([-1.0, 1.0], shape)


def probabilities(rng, shape):
    return rng.random(shape)


def torch_weight(t):
    return t.tensor(CLASS_WEIGHT, dtype=t.float32)


def ember_weight():
    return ember.tensor(CLASS_WEIGHT, dtype="float32")


def loss_case(name, ember_factory, torch_factory, inputs, grad_inputs=(0,), **kw):
    return LayerCase(name, ember_factory, torch_factory, inputs, grad_inputs=grad_inputs, **kw)


CASES = [
    loss_case("CrossEntropy", nn.CrossEntropyLoss, lambda t: t.nn.CrossEntropyLoss(), logits_and_classes(),
              second_order=True),
    loss_case("CrossEntropy-sum", lambda: nn.CrossEntropyLoss(reduction="sum"),
              lambda t: t.nn.CrossEntropyLoss(reduction="sum"), logits_and_classes()),
    loss_case("CrossEntropy-none", lambda: nn.CrossEntropyLoss(reduction="none"),
              lambda t: t.nn.CrossEntropyLoss(reduction="none"), logits_and_classes()),
    loss_case("CrossEntropy-weight-ignore", lambda: nn.CrossEntropyLoss(weight=ember_weight()),
              lambda t: t.nn.CrossEntropyLoss(weight=torch_weight(t)), logits_and_classes(ignore=True)),
    loss_case("CrossEntropy-smoothing", lambda: nn.CrossEntropyLoss(label_smoothing=0.2),
              lambda t: t.nn.CrossEntropyLoss(label_smoothing=0.2), logits_and_classes(), second_order=True),
    loss_case("CrossEntropy-smoothing-weight-ignore",
              lambda: nn.CrossEntropyLoss(weight=ember_weight(), label_smoothing=0.2),
              lambda t: t.nn.CrossEntropyLoss(weight=torch_weight(t), label_smoothing=0.2),
              logits_and_classes(ignore=True)),
    loss_case("CrossEntropy-smoothing-none-ignore",
              lambda: nn.CrossEntropyLoss(label_smoothing=0.3, reduction="none"),
              lambda t: t.nn.CrossEntropyLoss(label_smoothing=0.3, reduction="none"),
              logits_and_classes(ignore=True)),
    loss_case("CrossEntropy-smoothing-sum-weight",
              lambda: nn.CrossEntropyLoss(weight=ember_weight(), label_smoothing=0.3, reduction="sum"),
              lambda t: t.nn.CrossEntropyLoss(weight=torch_weight(t), label_smoothing=0.3, reduction="sum"),
              logits_and_classes(ignore=True)),
    loss_case("CrossEntropy-spatial", nn.CrossEntropyLoss, lambda t: t.nn.CrossEntropyLoss(),
              logits_and_classes(3, 2)),
    loss_case("CrossEntropy-single", nn.CrossEntropyLoss, lambda t: t.nn.CrossEntropyLoss(),
              lambda rng: [rng.standard_normal(C), np.array(2)]),
    loss_case("CrossEntropy-probabilities", nn.CrossEntropyLoss, lambda t: t.nn.CrossEntropyLoss(),
              logits_and_probabilities, grad_inputs=(0, 1), second_order=True),
    loss_case("CrossEntropy-probabilities-smoothing-weight",
              lambda: nn.CrossEntropyLoss(weight=ember_weight(), label_smoothing=0.1),
              lambda t: t.nn.CrossEntropyLoss(weight=torch_weight(t), label_smoothing=0.1),
              logits_and_probabilities, grad_inputs=(0, 1)),
    loss_case("CrossEntropy-probabilities-none", lambda: nn.CrossEntropyLoss(reduction="none"),
              lambda t: t.nn.CrossEntropyLoss(reduction="none"), logits_and_probabilities),
    loss_case("NLL", nn.NLLLoss, lambda t: t.nn.NLLLoss(), logits_and_classes()),
    loss_case("NLL-weight-ignore-none", lambda: nn.NLLLoss(weight=ember_weight(), reduction="none"),
              lambda t: t.nn.NLLLoss(weight=torch_weight(t), reduction="none"), logits_and_classes(ignore=True)),
    loss_case("NLL-weight-ignore-mean", lambda: nn.NLLLoss(weight=ember_weight(), ignore_index=1),
              lambda t: t.nn.NLLLoss(weight=torch_weight(t), ignore_index=1), logits_and_classes()),
    loss_case("NLL-spatial-sum", lambda: nn.NLLLoss(reduction="sum"), lambda t: t.nn.NLLLoss(reduction="sum"),
              logits_and_classes(2, 3)),
    loss_case("MSE", nn.MSELoss, lambda t: t.nn.MSELoss(), pair(), grad_inputs=(0, 1), second_order=True),
    loss_case("MSE-none", lambda: nn.MSELoss(reduction="none"), lambda t: t.nn.MSELoss(reduction="none"), pair()),
    loss_case("L1", nn.L1Loss, lambda t: t.nn.L1Loss(), pair(), grad_inputs=(0, 1)),
    loss_case("L1-sum", lambda: nn.L1Loss(reduction="sum"), lambda t: t.nn.L1Loss(reduction="sum"), pair()),
    loss_case("SmoothL1", lambda: nn.SmoothL1Loss(beta=0.5), lambda t: t.nn.SmoothL1Loss(beta=0.5), pair(),
              grad_inputs=(0, 1)),
    loss_case("SmoothL1-beta0", lambda: nn.SmoothL1Loss(beta=0.0), lambda t: t.nn.SmoothL1Loss(beta=0.0), pair()),
    loss_case("Huber", lambda: nn.HuberLoss(delta=0.7, reduction="sum"),
              lambda t: t.nn.HuberLoss(delta=0.7, reduction="sum"), pair(), grad_inputs=(0, 1)),
    loss_case("BCE", nn.BCELoss, lambda t: t.nn.BCELoss(),
              lambda rng: [rng.uniform(0.05, 0.95, (N, C)), rng.random((N, C))], second_order=True),
    loss_case("BCE-weight-none", lambda: nn.BCELoss(weight=ember_weight(), reduction="none"),
              lambda t: t.nn.BCELoss(weight=torch_weight(t), reduction="none"),
              lambda rng: [rng.uniform(0.05, 0.95, (N, C)), rng.integers(0, 2, (N, C)).astype(float)]),
    loss_case("BCEWithLogits", nn.BCEWithLogitsLoss, lambda t: t.nn.BCEWithLogitsLoss(),
              pair(target=probabilities), grad_inputs=(0, 1), second_order=True),
    loss_case("BCEWithLogits-weights",
              lambda: nn.BCEWithLogitsLoss(weight=ember_weight(), pos_weight=ember_weight() * 2),
              lambda t: t.nn.BCEWithLogitsLoss(weight=torch_weight(t), pos_weight=torch_weight(t) * 2),
              pair(target=probabilities), grad_inputs=(0, 1)),
    loss_case("HingeEmbedding", lambda: nn.HingeEmbeddingLoss(margin=0.5),
              lambda t: t.nn.HingeEmbeddingLoss(margin=0.5), pair(target=signs)),
    loss_case("HingeEmbedding-none", lambda: nn.HingeEmbeddingLoss(reduction="none"),
              lambda t: t.nn.HingeEmbeddingLoss(reduction="none"), pair(target=signs)),
    loss_case("MultiMargin", nn.MultiMarginLoss, lambda t: t.nn.MultiMarginLoss(), logits_and_classes(scale=0.5)),
    loss_case("MultiMargin-p2-weight", lambda: nn.MultiMarginLoss(p=2, margin=0.7, weight=ember_weight()),
              lambda t: t.nn.MultiMarginLoss(p=2, margin=0.7, weight=torch_weight(t)), logits_and_classes(scale=0.5)),
    loss_case("MultiMargin-single-none", lambda: nn.MultiMarginLoss(reduction="none"),
              lambda t: t.nn.MultiMarginLoss(reduction="none"),
              lambda rng: [rng.standard_normal(C) * 0.5, np.array(1)]),
    loss_case("MarginRanking", lambda: nn.MarginRankingLoss(margin=0.2), lambda t: t.nn.MarginRankingLoss(margin=0.2),
              lambda rng: [rng.standard_normal(N), rng.standard_normal(N), signs(rng, (N,))], grad_inputs=(0, 1)),
    loss_case("KLDiv-batchmean", lambda: nn.KLDivLoss(reduction="batchmean"),
              lambda t: t.nn.KLDivLoss(reduction="batchmean"),
              lambda rng: [np.log(rng.dirichlet(np.ones(C), N)), rng.dirichlet(np.ones(C), N)], grad_inputs=(0, 1),
              second_order=True),
    loss_case("KLDiv-zero-targets", lambda: nn.KLDivLoss(reduction="sum"), lambda t: t.nn.KLDivLoss(reduction="sum"),
              lambda rng: [rng.standard_normal((N, C)), np.where(rng.random((N, C)) < 0.5, 0.0, rng.random((N, C)))]),
    loss_case("KLDiv-log-target", lambda: nn.KLDivLoss(reduction="none", log_target=True),
              lambda t: t.nn.KLDivLoss(reduction="none", log_target=True), pair(), grad_inputs=(0, 1)),
    loss_case("CosineEmbedding", lambda: nn.CosineEmbeddingLoss(margin=0.3),
              lambda t: t.nn.CosineEmbeddingLoss(margin=0.3),
              lambda rng: [rng.standard_normal((N, 5)), rng.standard_normal((N, 5)), signs(rng, (N,))],
              grad_inputs=(0, 1), second_order=True),
    loss_case("CosineEmbedding-single", lambda: nn.CosineEmbeddingLoss(reduction="none"),
              lambda t: t.nn.CosineEmbeddingLoss(reduction="none"),
              lambda rng: [rng.standard_normal(5), rng.standard_normal(5), np.array(-1.0)], grad_inputs=(0, 1)),
]


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_matches_pytorch(case):
    torch = pytest.importorskip("torch")
    check_against_torch(torch, case)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_gradcheck_float64(case):
    check_gradients(case)


def test_cross_entropy_is_log_softmax_then_nll():
    x, t = ember.randn(5, 7), ember.randint(0, 7, (5,))
    np.testing.assert_allclose(F.cross_entropy(x, t).item(), F.nll_loss(F.log_softmax(x, dim=1), t).item(), rtol=1e-6)


def test_cross_entropy_is_finite_for_huge_logits():
    x = ember.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, ember.tensor([1, 1]))
    loss.backward()
    assert loss.item() == pytest.approx(1e4, rel=1e-6)
    assert np.isfinite(x.grad.numpy()).all()


def test_all_ignored_targets_give_nan_like_pytorch():
    loss = F.cross_entropy(ember.randn(3, 4), ember.tensor([-100, -100, -100]))
    assert np.isnan(loss.item())


def test_bce_with_logits_is_exact_for_large_logits():
    x = ember.tensor([-200.0, 200.0, 0.0], requires_grad=True)
    y = F.binary_cross_entropy_with_logits(x, ember.tensor([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(y.numpy(), [200.0, 200.0, np.log(2)], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, 1.0, -0.5], rtol=1e-6)


def test_bce_clamps_logs_at_minus_100_and_stays_finite():
    x = ember.tensor([0.0, 1.0], requires_grad=True)
    y = F.binary_cross_entropy(x, ember.tensor([1.0, 0.0]), reduction="none")
    assert y.tolist() == [100.0, 100.0]
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


# ------------------------------------------------------------------ bad input
def test_cross_entropy_target_shape_and_dtype_errors_name_the_shapes():
    x = ember.zeros(32, 10)
    with pytest.raises(ValueError, match=r"cross_entropy: expected target of shape \(32,\) \(the input \(32, 10\) "
                                         r"without its class dimension 1\), got shape \(32, 5\)"):
        F.cross_entropy(x, ember.zeros(32, 5, dtype="int64"))
    with pytest.raises(ValueError, match=r"cross_entropy: expected target of class indices \(integers\) of shape "
                                         r"\(32,\) or class probabilities \(floats\) of shape \(32, 10\), got float32 "
                                         r"of shape \(32,\)"):
        nn.CrossEntropyLoss()(x, ember.zeros(32))
    with pytest.raises(IndexError,
                       match=r"cross_entropy: class indices must lie in \[0, 10\).*got values in \[10, 10\]"):
        F.cross_entropy(x, ember.full((32,), 10))


def test_nll_target_must_be_integers():
    with pytest.raises(TypeError, match=r"nll_loss: expected target of class indices \(an integer dtype\), got float"):
        nn.NLLLoss()(ember.zeros(4, 3), ember.zeros(4))


def test_pointwise_losses_do_not_broadcast():
    with pytest.raises(ValueError,
                       match=r"mse_loss: expected target of shape \(32, 1\) \(the input's\), got shape \(32,\)"):
        nn.MSELoss()(ember.zeros(32, 1), ember.zeros(32))
    with pytest.raises(ValueError, match="l1_loss: expected target of shape"):
        F.l1_loss(ember.zeros(3), ember.zeros(4))


def test_other_bad_inputs():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities in \[0, 1\]"):
        F.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))
    with pytest.raises(ValueError, match=r"reduction must be one of 'none', 'mean', 'sum', got 'avg'"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match=r"cross_entropy: expected a class weight of shape \(10,\), got \(3,\)"):
        F.cross_entropy(ember.zeros(2, 10), ember.tensor([0, 1]), weight=ember.ones(3))
    with pytest.raises(ValueError, match=r"label_smoothing must lie in \[0, 1\]"):
        F.cross_entropy(ember.zeros(2, 10), ember.tensor([0, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"cosine_embedding_loss: expected target of shape \(4,\)"):
        F.cosine_embedding_loss(ember.zeros(4, 3), ember.zeros(4, 3), ember.ones(3))
    with pytest.raises(ValueError, match="multi_margin_loss: p must be 1 or 2"):
        F.multi_margin_loss(ember.zeros(2, 3), ember.tensor([0, 1]), p=3)


def test_class_weights_are_buffers_in_the_state_dict():
    loss = nn.CrossEntropyLoss(weight=ember.ones(3))
    assert list(loss.state_dict()) == ["weight"] and list(loss.parameters()) == []
    assert list(nn.CrossEntropyLoss().state_dict()) == []
