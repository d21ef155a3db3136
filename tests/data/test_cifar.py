"""ember/data/datasets/cifar.py on small files written here in the exact CIFAR binary format."""

import hashlib
import io
import tarfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ember.data.datasets.cifar as cifar_module
from ember.data import DataLoader
from ember.data.datasets.cifar import (CIFAR10, CIFAR100, IMAGE_BYTES, load_cifar10,
                                       load_cifar100, parse_cifar)
from ember.data.errors import DataError, DataNotFoundError
from ember.data.transforms import Compose, RandomCrop, RandomHorizontalFlip, ToFloat


def records(labels, images):
    """CIFAR binary records: label byte(s), then 1024 R, 1024 G, 1024 B bytes per image."""
    labels = np.asarray(labels, np.uint8).reshape(len(images), -1)
    return b"".join(bytes(label) + np.ascontiguousarray(img, np.uint8).tobytes()
                    for label, img in zip(labels, images))


def make_images(n, seed):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
    images[:, 0, 0, 0], images[:, 1, 0, 0], images[:, 2, 0, 0] = 10, 20, 30  # R, G, B markers
    return images


def write_cifar10(folder, counts=(3, 2, 4, 1, 2), test=5):
    """An extracted cifar-10-batches-bin/ folder; returns (train arrays, test arrays)."""
    bins = folder / "cifar-10-batches-bin"
    bins.mkdir(parents=True)
    train_x, train_y = [], []
    for i, n in enumerate(counts, 1):
        x, y = make_images(n, i), (np.arange(n) + i) % 10
        (bins / f"data_batch_{i}.bin").write_bytes(records(y, x))
        train_x.append(x)
        train_y.append(y)
    test_x, test_y = make_images(test, 99), np.arange(test) % 10
    (bins / "test_batch.bin").write_bytes(records(test_y, test_x))
    return (np.concatenate(train_x), np.concatenate(train_y)), (test_x, test_y)


def write_cifar100(folder, n_train=6, n_test=3):
    bins = folder / "cifar-100-binary"
    bins.mkdir(parents=True)
    out = []
    for split, n, seed in (("train", n_train, 1), ("test", n_test, 2)):
        x = make_images(n, seed)
        fine = (np.arange(n) * 17) % 100
        coarse = fine // 5
        (bins / f"{split}.bin").write_bytes(records(np.stack([coarse, fine], 1), x))
        out.append((x, coarse, fine))
    return out


def tar_folder(archive, folder, inner):
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(folder / inner, arcname=inner)


def test_cifar10_from_the_extracted_folder(tmp_path):
    (train_x, train_y), (test_x, test_y) = write_cifar10(tmp_path / "cifar10")
    train = CIFAR10(root=tmp_path)
    assert len(train) == 12 and train.data.shape == (12, 3, 32, 32) and train.data.dtype == np.uint8
    assert np.array_equal(train.data, train_x) and np.array_equal(train.targets, train_y)
    assert train.targets.dtype == np.int64
    # channel-first: the first 1024 bytes of a record are the red plane
    assert (train.data[:, 0, 0, 0] == 10).all() and (train.data[:, 2, 0, 0] == 30).all()
    test = CIFAR10(root=tmp_path, train=False)
    assert np.array_equal(test.data, test_x) and np.array_equal(test.targets, test_y)
    assert CIFAR10.classes[int(test.targets[1])] == "automobile"


def test_cifar10_with_augmentation_through_a_loader(tmp_path):
    write_cifar10(tmp_path / "cifar10")
    augment = Compose([RandomCrop(32, padding=4, seed=0), RandomHorizontalFlip(seed=0), ToFloat()])
    loader = DataLoader(CIFAR10(root=tmp_path, transform=augment), batch_size=5, shuffle=True,
                        seed=0)
    x, y = next(iter(loader))
    assert x.shape == (5, 3, 32, 32) and x.dtype == np.float32 and y.shape == (5,)


def test_load_cifar10_keras_layout(tmp_path):
    (train_x, _), _ = write_cifar10(tmp_path / "cifar10")
    (x_train, y_train), (x_test, y_test) = load_cifar10(root=tmp_path, channels_last=True)
    assert x_train.shape == (12, 32, 32, 3) and x_test.shape == (5, 32, 32, 3)
    assert np.array_equal(x_train, train_x.transpose(0, 2, 3, 1))


def test_cifar100_fine_and_coarse_labels(tmp_path):
    (train_x, coarse, fine), _ = write_cifar100(tmp_path / "cifar100")
    ds = CIFAR100(root=tmp_path)
    assert np.array_equal(ds.data, train_x)
    assert np.array_equal(ds.targets, fine) and np.array_equal(ds.fine_targets, fine)
    assert np.array_equal(ds.coarse_targets, coarse)
    assert len(ds.classes) == 100 and len(CIFAR100.coarse_classes) == 20
    coarse_ds = CIFAR100(root=tmp_path, label_mode="coarse")
    assert np.array_equal(coarse_ds.targets, coarse) and coarse_ds[1][1] == coarse[1]
    assert coarse_ds.classes == CIFAR100.coarse_classes
    (_, y_train), (x_test, _) = load_cifar100(root=tmp_path, label_mode="coarse")
    assert np.array_equal(y_train, coarse) and len(x_test) == 3
    with pytest.raises(ValueError, match="label_mode"):
        CIFAR100(root=tmp_path, label_mode="medium")


def test_archive_is_read_in_place_and_its_checksum_checked(tmp_path, monkeypatch):
    source = tmp_path / "build"
    (train_x, train_y), (test_x, _) = write_cifar10(source)
    folder = tmp_path / "data" / "cifar10"
    folder.mkdir(parents=True)
    archive = folder / "cifar-10-binary.tar.gz"
    tar_folder(archive, source, "cifar-10-batches-bin")

    with pytest.raises(DataError, match="checksum mismatch") as info:  # not the real archive
        CIFAR10(root=tmp_path / "data")
    assert info.value.path == str(archive)

    monkeypatch.setattr(CIFAR10, "archive_md5", hashlib.md5(archive.read_bytes()).hexdigest())
    train = CIFAR10(root=tmp_path / "data")
    test = CIFAR10(root=tmp_path / "data", train=False)
    assert np.array_equal(train.data, train_x) and np.array_equal(train.targets, train_y)
    assert np.array_equal(test.data, test_x)
    assert not (folder / "cifar-10-batches-bin").exists()  # nothing extracted
    assert len(list(folder.glob("*.npy"))) == 4  # train and test arrays cached separately

    monkeypatch.setattr(cifar_module, "parse_cifar", lambda *a, **k: 1 / 0)
    assert np.array_equal(CIFAR10(root=tmp_path / "data").data, train_x)  # from the cache


def test_download_verifies_the_archive(tmp_path, monkeypatch, capsys):
    source = tmp_path / "build"
    (train_x, _), _ = write_cifar10(source)
    archive = tmp_path / "mirror" / "cifar-10-binary.tar.gz"
    archive.parent.mkdir()
    tar_folder(archive, source, "cifar-10-batches-bin")
    data = archive.read_bytes()
    monkeypatch.setattr(CIFAR10, "urls", ("file:///nowhere/cifar-10-binary.tar.gz",
                                          archive.as_uri()))
    monkeypatch.setattr(CIFAR10, "archive_md5", hashlib.md5(data).hexdigest())
    monkeypatch.setattr(CIFAR10, "archive_size", len(data))
    train = CIFAR10(root=tmp_path / "data", download=True, progress=False)
    assert np.array_equal(train.data, train_x)
    assert (tmp_path / "data" / "cifar10" / "cifar-10-binary.tar.gz").read_bytes() == data


def test_missing_files_explain_both_layouts(tmp_path):
    with pytest.raises(DataNotFoundError) as info:
        CIFAR10(root=tmp_path)
    text = str(info.value)
    assert str(tmp_path / "cifar10" / "cifar-10-binary.tar.gz") in text
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" in text
    assert str(tmp_path / "cifar10" / "cifar-10-batches-bin") in text and "data_batch_1.bin" in text


def test_corrupt_binary_files_name_the_file(tmp_path):
    write_cifar10(tmp_path / "cifar10")
    batch = tmp_path / "cifar10" / "cifar-10-batches-bin" / "data_batch_3.bin"
    good = batch.read_bytes()
    batch.write_bytes(good[:-100])
    with pytest.raises(DataError, match="wrong length") as info:
        CIFAR10(root=tmp_path)
    assert info.value.path == str(batch)
    batch.write_bytes(b"")
    with pytest.raises(DataError, match="empty file"):
        CIFAR10(root=tmp_path)
    batch.write_bytes(bytes([10]) + good[1:])  # label 10 in a 10-class dataset
    with pytest.raises(DataError, match="record 0: label 10 out of range for 10 classes"):
        CIFAR10(root=tmp_path)


def test_cifar100_files_are_not_cifar10_files(tmp_path):
    write_cifar100(tmp_path / "cifar100")
    raw = (tmp_path / "cifar100" / "cifar-100-binary" / "train.bin").read_bytes()
    with pytest.raises(DataError):
        parse_cifar(raw, "train.bin", label_bytes=1, num_classes=(10,))


def test_truncated_archive_is_a_data_error(tmp_path, monkeypatch):
    source = tmp_path / "build"
    write_cifar10(source)
    folder = tmp_path / "cifar10"
    folder.mkdir()
    archive = folder / "cifar-10-binary.tar.gz"
    tar_folder(archive, source, "cifar-10-batches-bin")
    archive.write_bytes(archive.read_bytes()[:5000])
    with pytest.raises(DataError, match="cannot read archive") as info:
        CIFAR10(root=tmp_path, verify=False)
    assert info.value.path == str(archive)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3 * (IMAGE_BYTES + 2)), st.sampled_from([1, 2]))
def test_fuzz_parser_parses_or_raises_data_error(data, label_bytes):
    classes = (10,) if label_bytes == 1 else (20, 100)
    try:
        images, labels = parse_cifar(data, "fuzz.bin", label_bytes, classes)
    except DataError:
        return
    assert images.shape == (len(data) // (IMAGE_BYTES + label_bytes), 3, 32, 32)
    assert labels.shape == (len(images), label_bytes)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=1, max_size=4), st.integers(-3, 3))
def test_fuzz_records_with_random_labels_and_lengths(labels, extra):
    data = records(labels, np.zeros((len(labels), 3, 32, 32), np.uint8))
    data = data[:len(data) + extra] if extra < 0 else data + bytes(extra)
    try:
        images, parsed = parse_cifar(data)
    except DataError:
        assert extra != 0 or max(labels) >= 10
        return
    assert extra == 0 and max(labels) < 10 and parsed[:, 0].tolist() == labels


def test_parse_cifar_from_memory():
    data = records([7, 1], make_images(2, 0))
    images, labels = parse_cifar(io.BytesIO(data).getvalue())
    assert labels[:, 0].tolist() == [7, 1] and images.shape == (2, 3, 32, 32)
