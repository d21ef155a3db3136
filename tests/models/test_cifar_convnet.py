"""The Keras CIFAR-10 convnet: shape, Keras' parameter count, augmentation, and the pipeline on a
synthetic CIFAR-format file (CIFAR-10 itself is not stored on the project's machines)."""
import numpy as np
import pytest

import ember
from ember.data import CIFAR10
from ember.models import (
    CifarConvNet,
    ClassifierConfig,
    cifar_augmentation,
    train_classifier,
)
from ember.models.cifar_convnet import write_synthetic_cifar10


def test_shape_and_keras_parameter_count():
    model = CifarConvNet()
    assert model(ember.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == 1_250_858  # Keras' model.summary() of cifar10_cnn.py


def test_wrong_input_names_the_model():
    with pytest.raises(ValueError, match=r"CifarConvNet: expected input of shape \(N, 3, 32, 32\), got shape \(2, 1, 32, 32\)"):
        CifarConvNet()(ember.zeros(2, 1, 32, 32))


def test_augmentation_shifts_and_flips():
    images = np.random.default_rng(0).standard_normal((16, 3, 32, 32)).astype(np.float32)
    out = cifar_augmentation(seed=0).batch(images)
    assert out.shape == images.shape
    assert not np.array_equal(out, images)
    # a shifted (and maybe flipped) image keeps most of its pixels
    same = [np.isin(out[i], images[i]).mean() for i in range(16)]
    assert min(same) > 0.7


def test_pipeline_on_a_synthetic_cifar_file(tmp_path):
    write_synthetic_cifar10(tmp_path, train_per_batch=8, test=20)
    train, test = CIFAR10(root=tmp_path, train=True), CIFAR10(root=tmp_path, train=False)
    assert train.data.shape == (40, 3, 32, 32) and test.data.shape == (20, 3, 32, 32)
    x = (train.data.astype(np.float32) / 255 - 0.5) / 0.25
    xt = (test.data.astype(np.float32) / 255 - 0.5) / 0.25
    result = train_classifier(CifarConvNet(), x, train.targets, xt, test.targets,
                              ClassifierConfig(epochs=4, batch_size=8, optimizer="rmsprop", lr=5e-4, shift=3,
                                               flip=True), verbose=0, log=lambda s: None)
    losses = result["history"]["loss"]
    assert losses[-1] < losses[0] - 0.3
