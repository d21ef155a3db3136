"""ember.vision.datasets: torchvision's signature and samples, offline from the data dir."""
import numpy as np
import pytest

import ember
from ember.data.errors import DataNotFoundError
from ember.vision import datasets, transforms


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network: any download attempt fails the test; '../data' is an empty place."""
    def no_download(*args, **kwargs):
        raise AssertionError("tried to download")
    import ember.data.datasets.cifar as cifar
    import ember.data.datasets.mnist as mnist
    monkeypatch.setattr(mnist, "download_url", no_download)
    monkeypatch.setattr(cifar, "download_url", no_download)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")


@pytest.mark.parametrize("cls, first_label", [(datasets.MNIST, 5), (datasets.FashionMNIST, 9)])
def test_mnist_style_datasets_like_torchvision(offline, cls, first_label):
    train = cls("../data", train=True, download=True)
    image, target = train[0]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
    assert type(target) is int and target == first_label
    assert isinstance(train.data, ember.Tensor) and train.data.shape == (60000, 28, 28)
    assert str(train.data.dtype) == "uint8" and str(train.targets.dtype) == "int64"
    assert len(train) == 60000 and len(cls("../data", train=False)) == 10000
    assert len(train.classes) == 10 and train.class_to_idx[train.classes[3]] == 3
    np.testing.assert_array_equal(train.data.numpy()[0], image)


def test_mnist_finds_torchvision_layout(offline, tmp_path):
    raw = tmp_path / "tv" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    from ember.data.datasets.mnist import sample_dir
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (raw / name).write_bytes((sample_dir() / name).read_bytes())
    test = datasets.MNIST(tmp_path / "tv", train=False)
    assert test.directory == raw and test[0][1] == 7


def test_mnist_transforms_and_batches(offline):
    pipeline = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    test = datasets.MNIST("../data", train=False, transform=pipeline, target_transform=lambda y: y + 100)
    x, y = test[3]
    expected = (test.data.numpy()[3].astype(np.float32) / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(x.numpy()[0], expected, rtol=1e-6)
    assert y == 100 + int(test.targets.numpy()[3])
    xb, yb = test.__getitems__(np.array([3, 5]))
    np.testing.assert_array_equal(xb.numpy()[0], x.numpy())
    assert yb.tolist() == [test[3][1], test[5][1]]


def _write_cifar_binary(folder, rng):
    """Files in CIFAR-10's binary format (label byte, then 3072 channel-first pixel bytes)."""
    folder.mkdir(parents=True)
    records = {}
    for name, count in [(f"data_batch_{i}.bin", 3) for i in range(1, 6)] + [("test_batch.bin", 4)]:
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        images = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
        rows = np.concatenate([labels[:, None], images.reshape(count, -1)], axis=1)
        (folder / name).write_bytes(rows.tobytes())
        records[name] = (images, labels)
    return records


def test_cifar10_like_torchvision(offline, tmp_path):
    records = _write_cifar_binary(tmp_path / "root" / "cifar-10-batches-bin", np.random.default_rng(0))
    train = datasets.CIFAR10(tmp_path / "root", train=True, download=True, transform=transforms.ToTensor())
    assert len(train) == 15 and train.data.shape == (15, 32, 32, 3) and train.data.dtype == np.uint8
    images, labels = records["data_batch_2.bin"]
    assert isinstance(train.targets, list) and train.targets[3:6] == labels.tolist()
    np.testing.assert_array_equal(train.data[4], images[1].transpose(1, 2, 0))  # HWC, as torchvision
    x, y = train[4]
    assert x.shape == (3, 32, 32) and y == int(labels[1])
    np.testing.assert_array_equal(x.numpy(), images[1] / np.float32(255))
    test = datasets.CIFAR10(tmp_path / "root", train=False)
    assert len(test) == 4 and test.classes[0] == "airplane" and test[0][0].shape == (32, 32, 3)


def test_cifar10_refuses_the_pickled_python_version(offline, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "empty"))
    (tmp_path / "root" / "cifar-10-batches-py").mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match="pickled python version, which Ember never loads"):
        datasets.CIFAR10(tmp_path / "root", train=True)


def test_missing_mnist_without_download(offline, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "empty"))
    with pytest.raises(DataNotFoundError, match="train-images-idx3-ubyte.gz"):
        datasets.MNIST(tmp_path / "nothing", train=True)
