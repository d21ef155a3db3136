"""ember/data/datasets/vocab.py: token <-> id maps, vectorised character encoding, JSON."""

import numpy as np
import pytest

from ember.data.datasets.vocab import Vocabulary


def test_character_vocabulary_round_trip_including_non_ascii():
    text = "héllo wörld, 🙂 hello"
    vocab = Vocabulary.from_text(text)
    assert vocab.tokens == sorted(set(text))
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and len(ids) == len(text)
    assert vocab.decode_text(ids) == text
    assert "".join(vocab.decode(ids)) == text
    assert [vocab[c] for c in "hé"] == ids[:2].tolist()


def test_vectorised_encoding_matches_the_dictionary():
    rng = np.random.default_rng(0)
    alphabet = list("zyxabc!\n ")
    text = "".join(rng.choice(alphabet, 5000))
    vocab = Vocabulary(alphabet)  # not sorted: ids follow the given order
    assert vocab.encode(text).tolist() == [vocab.index[c] for c in text]


def test_unknown_tokens():
    vocab = Vocabulary.from_text("abc")
    with pytest.raises(KeyError, match="'z'"):
        vocab.encode("abz")
    with pytest.raises(KeyError, match="not in the vocabulary"):
        vocab.id("z")
    with_unk = Vocabulary(["?", "a", "b"], unk="?")
    assert with_unk.encode("abz").tolist() == [1, 2, 0]
    assert with_unk.encode(["a", "zz"]).tolist() == [1, 0]


def test_build_orders_by_frequency_with_specials_first():
    tokens = "the cat the dog the cat a".split()
    vocab = Vocabulary.build(tokens, specials=["<pad>"], unk="<unk>")
    assert vocab.tokens == ["<pad>", "<unk>", "the", "cat", "dog", "a"]
    assert Vocabulary.build(tokens, min_freq=2, unk="<unk>").tokens == ["<unk>", "the", "cat"]
    assert Vocabulary.build(tokens, max_size=3, unk="<unk>").tokens == ["<unk>", "the", "cat"]
    assert vocab.encode(["the", "zebra"]).tolist() == [2, 1]
    assert vocab.encode(iter(["cat"])).tolist() == [3]


def test_invalid_vocabularies():
    with pytest.raises(ValueError, match="duplicate"):
        Vocabulary(["a", "a"])
    with pytest.raises(ValueError, match="unk"):
        Vocabulary(["a"], unk="<unk>")


def test_json_round_trip(tmp_path):
    vocab = Vocabulary(["<unk>", "é", "\n", "word"], unk="<unk>")
    assert Vocabulary.from_json(vocab.to_json()) == vocab
    vocab.save(tmp_path / "vocab.json")
    loaded = Vocabulary.load(tmp_path / "vocab.json")
    assert loaded == vocab and loaded.unk == "<unk>" and len(loaded) == 4
    assert "word" in loaded and "zebra" not in loaded
    assert loaded.itos is loaded.tokens and loaded.stoi is loaded.index
    assert "4 tokens" in repr(loaded)
