"""Metrics: values against hand-computed and PyTorch references, accumulation over batches, errors."""
import math

import numpy as np
import pytest

import ember
from ember.train import metrics as M

rng = np.random.default_rng(0)
SCORES = rng.normal(size=(200, 5))
LABELS = rng.integers(0, 5, 200)


@pytest.mark.parametrize("metric", [M.Accuracy(), M.TopKAccuracy(3), M.Precision(), M.Recall(), M.F1Score(),
                                    M.Perplexity(), M.MeanSquaredError(), M.MeanAbsoluteError()])
def test_accumulating_batches_equals_one_big_batch(metric):
    if isinstance(metric, (M.MeanSquaredError, M.MeanAbsoluteError)):
        pred, true = SCORES, SCORES[::-1] * 0.5
    else:
        pred, true = SCORES, LABELS
    metric.reset()
    for start in range(0, 200, 37):
        metric.update(pred[start:start + 37], true[start:start + 37])
    assert metric.result() == pytest.approx(metric(pred, true), rel=1e-12)


def test_accuracy_kinds():
    assert M.accuracy(SCORES, LABELS) == pytest.approx(np.mean(SCORES.argmax(1) == LABELS))
    onehot = np.eye(5)[LABELS]
    assert M.accuracy(SCORES, onehot) == M.accuracy(SCORES, LABELS)  # categorical
    assert M.accuracy(SCORES, LABELS[:, None]) == M.accuracy(SCORES, LABELS)  # Keras's (N, 1) labels
    probs = np.array([[0.2], [0.7], [0.9], [0.4]])
    assert M.accuracy(probs, np.array([0, 1, 0, 0])) == 0.75  # binary, threshold 0.5
    assert M.accuracy(np.array([-1.0, 2.0]), np.array([0, 1]), threshold=0.0) == 1.0  # logits
    multilabel = np.array([[0.9, 0.1], [0.8, 0.7]])
    assert M.accuracy(multilabel, np.array([[1, 0], [1, 0]]), mode="binary") == 0.75


def test_accuracy_ignores_padding_and_uses_the_class_axis():
    scores = rng.normal(size=(4, 6, 7))  # (N, C, T): PyTorch's sequence layout
    labels = rng.integers(0, 6, (4, 7))
    labels[0, :3] = -100
    kept = labels != -100
    expected = np.mean((scores.argmax(1) == labels)[kept])
    assert M.Accuracy(ignore_index=-100)(scores, labels) == pytest.approx(expected)


def test_top_k_matches_torch():
    torch = pytest.importorskip("torch")
    top = torch.tensor(SCORES).topk(3, dim=1).indices.numpy()
    expected = np.mean((top == LABELS[:, None]).any(1))
    assert M.top_k_accuracy(SCORES, LABELS, k=3) == pytest.approx(expected)
    assert M.top_k_accuracy(SCORES, LABELS, k=5) == 1.0
    assert M.get_metric("top_3_accuracy").name == "top_3_accuracy"


def test_precision_recall_f1_on_a_known_confusion_matrix():
    true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 2])
    pred_classes = np.array([0, 1, 2, 1, 1, 2, 2, 0, 2, 1])
    scores = np.eye(3)[pred_classes]
    matrix = M.confusion_matrix(scores, true)
    np.testing.assert_array_equal(matrix, [[1, 1, 1], [0, 2, 0], [1, 1, 3]])
    precision = np.array([1 / 2, 2 / 4, 3 / 4])
    recall = np.array([1 / 3, 2 / 2, 3 / 5])
    f1 = 2 * precision * recall / (precision + recall)
    assert M.precision(scores, true) == pytest.approx(precision.mean())
    assert M.recall(scores, true) == pytest.approx(recall.mean())
    assert M.f1_score(scores, true) == pytest.approx(f1.mean())
    assert M.f1_score(scores, true, average="weighted") == pytest.approx(np.average(f1, weights=[3, 2, 5]))
    for fn in (M.precision, M.recall, M.f1_score):  # micro averages equal accuracy for single-label data
        assert fn(scores, true, average="micro") == pytest.approx(0.6)


def test_binary_precision_recall():
    probs = np.array([0.9, 0.8, 0.1, 0.7, 0.3])
    true = np.array([1, 0, 1, 1, 0])
    assert M.precision(probs, true) == pytest.approx(2 / 3)
    assert M.recall(probs, true) == pytest.approx(2 / 3)
    assert M.precision(np.zeros(3), np.array([1, 0, 1])) == 0.0  # nothing predicted positive: 0, not NaN


def test_regression_metrics():
    pred, true = np.array([[1.0], [3.0]]), np.array([0.0, 1.0])
    assert M.mean_squared_error(pred, true) == 2.5
    assert M.mean_absolute_error(pred, true) == 1.5
    with pytest.raises(ValueError, match="differ"):
        M.mean_squared_error(pred, np.zeros(3))


def test_perplexity_is_exp_of_cross_entropy():
    torch = pytest.importorskip("torch")
    ce = torch.nn.functional.cross_entropy(torch.tensor(SCORES), torch.tensor(LABELS)).item()
    assert M.perplexity(SCORES, LABELS) == pytest.approx(math.exp(ce), rel=1e-9)
    probs = np.exp(SCORES) / np.exp(SCORES).sum(1, keepdims=True)
    assert M.perplexity(probs, LABELS, from_logits=False) == pytest.approx(math.exp(ce), rel=1e-9)
    assert M.Perplexity.higher_is_better is False


def test_metrics_take_tensors_and_functions():
    assert M.accuracy(ember.tensor(SCORES), ember.tensor(LABELS)) == M.accuracy(SCORES, LABELS)
    custom = M.get_metric(lambda y_pred, y_true: float(np.mean(y_pred.argmax(1) == y_true)))
    custom.reset()
    custom.update(SCORES[:50], LABELS[:50])
    custom.update(SCORES[50:], LABELS[50:])
    assert custom.result() == pytest.approx(M.accuracy(SCORES, LABELS))


def test_metric_errors():
    with pytest.raises(ValueError, match=r"expected targets of class indices of shape \(200,\)"):
        M.accuracy(SCORES, LABELS[:10])
    with pytest.raises(ValueError, match="needs several class scores"):
        M.top_k_accuracy(np.zeros((3, 1)), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match=r"true classes must lie in \[0, 5\)"):
        M.confusion_matrix(SCORES[:2], np.array([0, 9]))
    with pytest.raises(ValueError, match="average must be"):
        M.Precision(average="mean")
    with pytest.raises(ValueError, match="k must be a positive int"):
        M.TopKAccuracy(0)
    with pytest.raises(ValueError, match=r"unknown metric 'f2'.*'f1'"):
        M.get_metric("f2")
    assert math.isnan(M.Accuracy().result())  # nothing seen yet
