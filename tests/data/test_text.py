"""ember/data/datasets/text.py: Tiny Shakespeare (counts from shared/data/README) and batching."""

import hashlib

import numpy as np
import pytest

import ember.data.datasets.text as text_module
from ember.data import DataLoader
from ember.data.datasets.text import (CharCorpus, SequenceWindows, WordCorpus, read_text,
                                      tiny_shakespeare)
from ember.data.download import RemoteFile
from ember.data.errors import DataError, DataNotFoundError


@pytest.fixture(scope="module")
def shakespeare(shared_data):
    return tiny_shakespeare()


def test_tiny_shakespeare_counts(shakespeare):
    assert len(shakespeare.text) == 1_115_394 == len(shakespeare.ids)
    assert len(shakespeare.vocab) == 65
    assert shakespeare.text.startswith("First Citizen:")
    assert shakespeare.text.count("\n") == 40_000
    assert shakespeare.decode(shakespeare.ids[:14]) == "First Citizen:"
    assert shakespeare.decode(shakespeare.ids) == shakespeare.text


def test_train_val_split_is_a_contiguous_tail(shakespeare):
    train, val = shakespeare.train, shakespeare.val
    assert len(val) == round(0.1 * 1_115_394) and len(train) + len(val) == 1_115_394
    assert np.array_equal(np.concatenate([train, val]), shakespeare.ids)
    assert shakespeare.split("all") is shakespeare.ids
    with pytest.raises(ValueError, match="split"):
        shakespeare.split("test")


def test_word_level_counts(shared_data):
    plain = tiny_shakespeare("word", eos=None)
    assert len(plain.ids) == 202_651  # whitespace-separated tokens, from the README
    lines = tiny_shakespeare("word")
    assert len(lines.ids) == 202_651 + 40_000  # plus one <eos> per line
    assert lines.vocab.tokens[:2] == ["<unk>", "<eos>"]
    assert lines.decode(lines.ids[:5]) == "First Citizen:\nBefore we"
    small = tiny_shakespeare("word", min_freq=5, lowercase=True)
    assert len(small.vocab) < len(lines.vocab) and small.vocab.unk == "<unk>"
    assert (small.ids == 0).any()  # rare words became <unk>


def test_bptt_batches_continue_each_row(shakespeare):
    batches = list(shakespeare.batches(batch_size=32, seq_len=64))
    expected = (len(shakespeare.train) - 1) // 32 // 64
    assert len(batches) == shakespeare.num_batches(32, 64) == expected
    for x, y in batches[:3]:
        assert x.shape == y.shape == (32, 64) and x.dtype == np.int64
        assert np.array_equal(x[:, 1:], y[:, :-1])  # targets are inputs shifted by one
    (x0, y0), (x1, _) = batches[0], batches[1]
    assert np.array_equal(y0[:, -1], x1[:, 0])  # row b of the next window continues row b
    columns = (len(shakespeare.train) - 1) // 32
    assert x0[1, 0] == shakespeare.train[columns]  # row 1 starts a column-length later
    with pytest.raises(ValueError, match="too short"):
        next(CharCorpus("tiny").batches(batch_size=4, seq_len=8))


def test_windows_for_a_shuffled_loader(shakespeare):
    windows = shakespeare.windows(seq_len=64, split="val")
    assert len(windows) == (len(shakespeare.val) - 1 - 64) // 64 + 1
    x, y = next(iter(DataLoader(windows, batch_size=16, shuffle=True, seed=0)))
    assert x.shape == (16, 64) and np.array_equal(x[:, 1:], y[:, :-1])
    text = shakespeare.decode(x[0])
    assert text in shakespeare.text


def test_sequence_windows_indexing():
    w = SequenceWindows(np.arange(20), seq_len=5, stride=3)
    assert len(w) == 5
    x, y = w[4]
    assert x.tolist() == [12, 13, 14, 15, 16] and y.tolist() == [13, 14, 15, 16, 17]
    bx, by = w.__getitems__(np.array([4, 0]))
    assert bx[0].tolist() == x.tolist() and by[1].tolist() == [1, 2, 3, 4, 5]
    assert w[-1][0].tolist() == x.tolist()
    with pytest.raises(IndexError):
        w[5]
    with pytest.raises(ValueError, match="too few"):
        SequenceWindows(np.arange(5), seq_len=5)


def test_corpora_from_plain_strings_and_files(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text("roses are red\nviolets are blue\n", encoding="utf-8")
    chars = CharCorpus.from_file(path, val_fraction=0.0)
    assert chars.decode(chars.encode("are")) == "are" and len(chars.val) == 0
    words = WordCorpus.from_file(path, val_fraction=0.25)
    assert words.tokenize("a b\nc") == ["a", "b", "<eos>", "c", "<eos>"]
    assert words.decode(words.ids) == "roses are red\nviolets are blue\n"
    assert len(words.train) == 6 and len(words.val) == 2
    with pytest.raises(ValueError, match="val_fraction"):
        CharCorpus("abc", val_fraction=1.0)
    with pytest.raises(ValueError, match="level"):
        tiny_shakespeare("sentence")


def test_invalid_text_names_the_file(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("café".encode("latin-1"))
    with pytest.raises(DataError, match="not valid utf-8 text") as info:
        read_text(path)
    assert info.value.path == str(path)
    assert read_text(path, encoding="latin-1") == "café"


def test_checksum_and_missing_file_errors(shared_data, tmp_path):
    folder = tmp_path / "tinyshakespeare"
    folder.mkdir()
    text = (shared_data / "tinyshakespeare" / "input.txt").read_text()
    (folder / "input.txt").write_text(text.replace("First Citizen", "Second Citizen", 1))
    with pytest.raises(DataError, match="size is") as info:
        tiny_shakespeare(root=tmp_path)
    assert info.value.path == str(folder / "input.txt")
    with pytest.raises(DataNotFoundError) as info:
        tiny_shakespeare(root=tmp_path / "nothing")
    message = str(info.value)
    assert str(tmp_path / "nothing" / "tinyshakespeare" / "input.txt") in message
    assert "raw.githubusercontent.com/karpathy/char-rnn" in message


def test_download_verifies_the_file(shared_data, tmp_path, monkeypatch):
    source = shared_data / "tinyshakespeare" / "input.txt"
    mirror = RemoteFile("input.txt", ("file:///nonexistent/input.txt", source.as_uri()),
                        md5=hashlib.md5(source.read_bytes()).hexdigest(), size=1_115_394)
    monkeypatch.setattr(text_module, "TINY_SHAKESPEARE", mirror)
    corpus = tiny_shakespeare(root=tmp_path, download=True, progress=False)
    assert len(corpus.vocab) == 65
    copy = tmp_path / "tinyshakespeare" / "input.txt"
    assert copy.read_bytes() == source.read_bytes()
