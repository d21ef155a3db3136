"""Matplotlib charts: learning curves, confusion matrices, labelled images (skipped without matplotlib)."""
import numpy as np
import pytest

from ember import viz
from ember.train import History
from ember.train.metrics import confusion_matrix

pytest.importorskip("matplotlib")


def is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_learning_curves_pair_training_and_validation(tmp_path):
    history = History()
    for epoch, (loss, val, lr) in enumerate([(1.0, 1.1, 0.1), (0.6, 0.8, 0.1), (0.4, 0.7, 0.05)]):
        history.on_epoch_end(epoch, {"loss": loss, "val_loss": val, "accuracy": 0.5 + epoch / 10, "lr": lr})
    figure = viz.plot_history(history, tmp_path / "curves.png")
    assert is_png(tmp_path / "curves.png")
    assert [a.get_title() for a in figure.axes] == ["loss", "accuracy", "lr"]
    loss_axis = figure.axes[0]
    assert [line.get_label() for line in loss_axis.get_lines()] == ["training", "validation"]
    np.testing.assert_array_equal(loss_axis.get_lines()[1].get_ydata(), [1.1, 0.8, 0.7])
    assert figure.axes[2].get_yscale() == "log"
    constant_lr = viz.plot_history({"loss": [1, 2], "lr": [0.1, 0.1]})
    assert [a.get_title() for a in constant_lr.axes] == ["loss"]
    with pytest.raises(ValueError, match="nothing logged under \\['f1'\\]"):
        viz.plot_history(history, metrics=["f1"])


def test_confusion_matrix_plot(tmp_path):
    matrix = confusion_matrix(np.array([0, 1, 1, 2, 2, 2]), np.array([0, 1, 2, 2, 2, 1]))
    figure = viz.plot_confusion_matrix(matrix, tmp_path / "cm.png", class_names=["a", "b", "c"])
    assert is_png(tmp_path / "cm.png")
    axis = figure.axes[0]
    assert [t.get_text() for t in axis.texts] == [str(v) for v in matrix.ravel()]
    assert [t.get_text() for t in axis.get_xticklabels()] == ["a", "b", "c"]
    normalized = viz.plot_confusion_matrix(matrix, normalize=True)
    assert normalized.axes[0].texts[4].get_text() == "0.50"
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        viz.plot_confusion_matrix(matrix, class_names=["a", "b"])


def test_labelled_images_mark_mistakes(tmp_path):
    figure = viz.plot_images(np.zeros((3, 1, 8, 8)), tmp_path / "imgs.png", labels=[0, 1, 2],
                             predictions=[0, 1, 1], class_names=["zero", "one", "two"])
    assert is_png(tmp_path / "imgs.png")
    titles = [(a.get_title(), a.title.get_color()) for a in figure.axes]
    assert titles == [("zero / zero", "black"), ("one / one", "black"), ("two / one", "red")]
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        viz.plot_images(np.zeros((3, 8, 8)), labels=[0, 1])
