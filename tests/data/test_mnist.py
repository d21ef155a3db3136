"""ember/data/datasets/mnist.py against the real files in shared/data (counts from its README)."""

import gzip
import hashlib
import os
import shutil

import numpy as np
import pytest

import ember.data.datasets.mnist as mnist_module
from ember.data import DataLoader
from ember.data.datasets.mnist import (MNIST, FashionMNIST, load_fashion_mnist, load_mnist,
                                       mnist_sample, sample_dir)
from ember.data.errors import DataError, DataNotFoundError
from ember.data.transforms import Flatten, OneHot, ToFloat

MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def mnist_train(shared_data):
    return MNIST(train=True)


def test_mnist_train_counts_from_the_readme(mnist_train):
    ds = mnist_train
    assert len(ds) == 60000
    assert ds.data.shape == (60000, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.shape == (60000,) and ds.targets.dtype == np.int64
    counts = np.bincount(ds.targets)
    assert len(counts) == 10 and counts.min() == 5421 and counts.max() == 6742
    assert ds.data.min() == 0 and ds.data.max() == 255


def test_mnist_test_counts_from_the_readme(shared_data):
    ds = MNIST(train=False)
    assert len(ds) == 10000 and ds.data.shape == (10000, 28, 28)
    counts = np.bincount(ds.targets)
    assert counts.min() == 892 and counts.max() == 1135
    assert ds.directory.resolve() == (shared_data / "mnist").resolve()


def test_items_batches_and_transforms(mnist_train):
    image, label = mnist_train[0]
    assert image.shape == (28, 28) and image.dtype == np.uint8 and int(label) == 5
    ds = MNIST(train=True, transform=ToFloat(), target_transform=OneHot(10))
    x, y = ds.__getitems__(np.array([0, 1, 2]))
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    assert y.shape == (3, 10) and y.argmax(1).tolist() == mnist_train.targets[:3].tolist()
    flat = MNIST(train=True, transform=Flatten())
    xb, yb = next(iter(DataLoader(flat, batch_size=128, shuffle=True, seed=0)))
    assert xb.shape == (128, 784) and yb.shape == (128,)


def test_load_mnist_is_keras_shaped(shared_data):
    (x_train, y_train), (x_test, y_test) = load_mnist()
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.dtype == np.int64


def test_fashion_mnist_counts_from_the_readme(shared_data):
    if not (shared_data / "fashion-mnist").is_dir():
        pytest.skip(f"Fashion-MNIST not found in {shared_data}")
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert x_train.max() == 255 and x_train.min() == 0
    assert len(FashionMNIST.classes) == 10 and FashionMNIST.classes[9] == "Ankle boot"


def test_shipped_sample_is_the_real_test_set(shared_data):
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert md5(sample_dir() / name) == MNIST_MD5[name]
    sample = mnist_sample()
    real = MNIST(train=False)
    assert np.array_equal(sample.data, real.data) and np.array_equal(sample.targets, real.targets)
    assert sample.directory == sample_dir()


def test_test_split_falls_back_to_the_sample_and_train_split_explains(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "empty"))
    ds = MNIST(train=False)
    assert len(ds) == 10000 and ds.directory == sample_dir()
    with pytest.raises(DataNotFoundError) as info:
        MNIST(train=True)
    text = str(info.value)
    assert str(tmp_path / "empty" / "mnist") in text
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        assert str(tmp_path / "empty" / "mnist" / name) in text
    assert "https://" in text and "download=True" in text
    assert isinstance(info.value, FileNotFoundError)


def test_sample_directory_is_never_written(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_CACHE", str(tmp_path / "cache"))
    before = sorted(p.name for p in sample_dir().iterdir())
    mnist_sample()
    assert sorted(p.name for p in sample_dir().iterdir()) == before
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2


def test_decoded_arrays_come_from_the_npy_cache(shared_data, tmp_path, monkeypatch):
    # A private copy whose folder has no write bit: the cache must go to $EMBER_CACHE
    # whatever the permissions of the real data directory are on this machine.
    folder = copy_test_split(shared_data, tmp_path / "data" / "mnist")
    monkeypatch.setenv("EMBER_CACHE", str(tmp_path / "cache"))
    folder.chmod(0o555)
    try:
        first = MNIST(root=tmp_path / "data", train=False)
        cached = sorted(p.name for p in (tmp_path / "cache").glob("*.npy"))
        assert len(cached) == 2
        assert all(name.startswith("t10k-images-idx3-ubyte.gz.") for name in cached)
        assert sorted(os.listdir(folder)) == ["t10k-images-idx3-ubyte.gz",
                                              "t10k-labels-idx1-ubyte.gz"]  # read-only: untouched

        def no_decoding(*args, **kwargs):
            raise AssertionError("decoded again instead of loading the .npy cache")

        monkeypatch.setattr(mnist_module, "read_idx", no_decoding)
        second = MNIST(root=tmp_path / "data", train=False)
    finally:
        folder.chmod(0o755)
    assert np.array_equal(first.data, second.data) and np.array_equal(first.targets, second.targets)
    arrays = [np.load(tmp_path / "cache" / name, allow_pickle=False) for name in cached]
    assert {a.dtype for a in arrays} == {np.dtype(np.uint8), np.dtype(np.int64)}


def test_a_writable_data_directory_gets_the_cache_beside_its_files(shared_data, tmp_path,
                                                                     monkeypatch):
    # The reproduction of the issue: $EMBER_DATA pointing at a contributor's own copy.
    copy_test_split(shared_data, tmp_path / "data" / "mnist")
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("EMBER_CACHE", str(tmp_path / "cache"))
    MNIST(train=False)
    assert len(list((tmp_path / "data" / "mnist").glob("*.npy"))) == 2
    assert not list((tmp_path / "cache").glob("*.npy"))
    monkeypatch.setattr(mnist_module, "read_idx", lambda *a, **k: 1 / 0)
    assert len(MNIST(train=False)) == 10000  # read back from beside the files


def copy_test_split(shared_data, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(shared_data / "mnist" / name, folder / name)
    return folder


def test_cache_goes_next_to_writable_files_and_survives_corruption(shared_data, tmp_path):
    folder = copy_test_split(shared_data, tmp_path / "data" / "mnist")
    ds = MNIST(root=tmp_path / "data", train=False)
    caches = sorted(folder.glob("*.npy"))
    assert len(caches) == 2 and ds.directory == folder
    caches[0].write_bytes(caches[0].read_bytes()[:100])  # a truncated cache file
    again = MNIST(root=tmp_path / "data", train=False)
    assert np.array_equal(again.data, ds.data) and np.array_equal(again.targets, ds.targets)
    assert np.load(caches[0], allow_pickle=False).size > 0  # rewritten


def test_root_may_also_be_the_dataset_folder_itself(shared_data):
    assert len(MNIST(root=shared_data / "mnist", train=False)) == 10000


def test_checksum_mismatch_names_the_file(shared_data, tmp_path):
    folder = copy_test_split(shared_data, tmp_path / "mnist")
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[100] = (raw[100] + 1) % 10  # still a valid file, with one label changed
    labels.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DataError, match="checksum mismatch|size is") as info:
        MNIST(root=tmp_path, train=False)
    assert info.value.path == str(labels)
    assert len(MNIST(root=tmp_path, train=False, verify=False)) == 10000


def test_corrupt_files_raise_errors_naming_the_file(write_mnist, make_idx, tmp_path):
    images, labels = np.zeros((3, 28, 28), np.uint8), np.array([1, 2, 3], np.uint8)
    folder = write_mnist(images, labels)
    image_file = folder / "t10k-images-idx3-ubyte.gz"

    # labels where the images should be: bad magic
    image_file.write_bytes(gzip.compress(make_idx(labels)))
    with pytest.raises(DataError) as info:
        MNIST(root=tmp_path, train=False, verify=False)
    assert str(info.value) == (f"ember.data: {image_file}: bad magic number 2049, expected 2051 "
                               "(IDX images)")

    # a gzip stream cut in half
    good = gzip.compress(make_idx(np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)))
    image_file.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="bad gzip data") as info:
        MNIST(root=tmp_path, train=False, verify=False)
    assert info.value.path == str(image_file)

    # valid gzip, truncated IDX content
    image_file.write_bytes(gzip.compress(make_idx(images)[:-10]))
    with pytest.raises(DataError, match="truncated IDX data"):
        MNIST(root=tmp_path, train=False, verify=False)

    # images and labels disagree in number
    write_mnist(np.zeros((4, 28, 28), np.uint8), labels)
    with pytest.raises(DataError, match="4 images .* but 3 labels"):
        MNIST(root=tmp_path, train=False, verify=False)

    # wrong image size
    write_mnist(np.zeros((3, 27, 28), np.uint8), labels)
    with pytest.raises(DataError, match=r"shape \(N, 28, 28\)"):
        MNIST(root=tmp_path, train=False, verify=False)

    # with verification on, the published checksum is checked first
    with pytest.raises(DataError, match="size is"):
        MNIST(root=tmp_path, train=False)


def test_download_from_mirrors_falls_through_and_verifies(shared_data, tmp_path, monkeypatch,
                                                           capsys):
    good_mirror = (shared_data / "mnist").as_uri() + "/"
    monkeypatch.setattr(MNIST, "mirrors", ("file:///nonexistent/mirror/", good_mirror))
    ds = MNIST(root=tmp_path, train=False, download=True)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert md5(tmp_path / "mnist" / name) == MNIST_MD5[name]
    assert len(ds) == 10000
    assert "t10k-images-idx3-ubyte.gz" in capsys.readouterr().err  # the progress bar

    # present files are not downloaded again
    monkeypatch.setattr(MNIST, "mirrors", ("file:///nonexistent/mirror/",))
    assert len(MNIST(root=tmp_path, train=False, download=True)) == 10000


# --------------------------------------------------------------------------- offline fallback
UNREACHABLE = ("file:///nonexistent/mirror/", "http://127.0.0.1:9/mnist/")


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No copy of MNIST anywhere and no mirror reachable; the fallback note not yet shown."""
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(MNIST, "mirrors", UNREACHABLE)
    monkeypatch.setattr(mnist_module, "_NOTED", set())
    return tmp_path / "empty" / "mnist"


def test_offline_fallback_is_a_fixed_split_of_the_sample(offline, capsys):
    train = mnist_module.mnist_or_sample(train=True)
    test = mnist_module.mnist_or_sample(train=False)
    sample = mnist_sample()
    assert len(train) == 8000 and len(test) == 2000
    assert np.array_equal(train.data, sample.data[:8000])
    assert np.array_equal(test.targets, sample.targets[8000:])
    err = capsys.readouterr().err.splitlines()
    assert err == [f"ember.data: MNIST training files are not in {offline} (add --download, or "
                   "download=True, to fetch them); using the MNIST sample shipped with Ember "
                   "instead: its first 8,000 images train, its last 2,000 test"]


def test_offline_fallback_after_a_failed_download(offline, capsys):
    assert len(mnist_module.mnist_or_sample(train=True, download=True, progress=False)) == 8000
    err = capsys.readouterr().err
    assert "could not be downloaded (no network?)" in err and len(err.splitlines()) == 1
    assert not list(offline.glob("*"))  # nothing half-downloaded


def test_no_fallback_when_the_data_is_present_or_downloadable(shared_data, tmp_path, monkeypatch,
                                                                capsys):
    monkeypatch.setattr(mnist_module, "_NOTED", set())
    assert len(mnist_module.mnist_or_sample(train=True)) == 60000
    assert len(mnist_module.mnist_or_sample(train=False)) == 10000
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    monkeypatch.setattr(MNIST, "mirrors", (UNREACHABLE[0], (shared_data / "mnist").as_uri() + "/"))
    train = mnist_module.mnist_or_sample(train=True, download=True, progress=False)
    assert len(train) == 60000 and train.directory == tmp_path / "mnist"
    assert capsys.readouterr().err == ""


def test_present_but_corrupt_training_files_are_not_papered_over(write_mnist, tmp_path,
                                                                   monkeypatch):
    folder = write_mnist(np.zeros((3, 28, 28), np.uint8), np.array([1, 2, 3], np.uint8),
                         split="train")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    with pytest.raises(DataError, match="size is"):
        mnist_module.mnist_or_sample(train=True)


def test_readme_first_command_trains_offline_on_the_sample(offline, tmp_path, capsys):
    from ember.cli import main

    out = tmp_path / "runs" / "mlp"
    assert main(["train", "mlp", "--epochs", "2", "--download", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("using the MNIST sample shipped with Ember") == 1
    test_line = next(l for l in captured.out.splitlines() if l.startswith("test: "))
    assert float(test_line.rsplit("accuracy: ", 1)[1]) > 0.85  # measured: 0.9515
    assert main(["evaluate", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == ["mlp on the mnist test set", test_line]
