"""ember/data/datasets/translation.py: Multi30k and Tatoeba fra-eng (README counts), padding, buckets."""

import shutil
import zipfile

import numpy as np
import pytest

from ember.data.datasets.translation import (MULTI30K_TOK, bucket_batches, build_translation_vocab,
                                             multi30k, pad_sequences, parse_tab_pairs,
                                             simple_tokenize, tatoeba_fra_eng)
from ember.data.errors import DataError, DataNotFoundError


@pytest.mark.parametrize("split", ["train", "val", "test_2016_flickr"])
def test_multi30k_counts_match_the_official_readme(shared_data, split):
    for src, tgt in (("de", "en"), ("fr", "en")):
        pairs = multi30k(split, src, tgt)
        assert len(pairs) == MULTI30K_TOK[split, src][2]
        assert pairs.num_tokens() == (MULTI30K_TOK[split, src][3], MULTI30K_TOK[split, tgt][3])
    assert len(multi30k("train")) == 29_000 and multi30k("val").num_tokens() == (12_828, 13_308)


def test_multi30k_lines_are_aligned(shared_data):
    pairs = multi30k("train", "de", "en")
    assert pairs[0] == ("zwei junge weiße männer sind im freien in der nähe vieler büsche .".split(),
                        pairs.tgt[0])
    assert pairs.tgt[0][:3] == ["two", "young", ","]


def test_tatoeba_has_142787_pairs(shared_data):
    pairs = tatoeba_fra_eng()
    assert len(pairs) == 142_787
    assert pairs[0] == (["go", "."], ["va", "!"])
    back = tatoeba_fra_eng(reverse=True)
    assert back[0] == (["va", "!"], ["go", "."]) and back.src_lang == "fr"


def test_tatoeba_is_extracted_from_the_zip_when_fra_txt_is_missing(shared_data, tmp_path):
    folder = tmp_path / "fra-eng"
    folder.mkdir()
    shutil.copy(shared_data / "fra-eng" / "fra-eng.zip", folder)
    pairs = tatoeba_fra_eng(root=tmp_path)
    assert len(pairs) == 142_787 and (folder / "fra.txt").is_file()


def test_a_corrupt_zip_names_the_archive(tmp_path):
    folder = tmp_path / "fra-eng"
    folder.mkdir()
    (folder / "fra-eng.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DataError, match=r"fra-eng\.zip: size is 104 bytes"):
        tatoeba_fra_eng(root=tmp_path)
    with pytest.raises(DataError, match=r"fra-eng\.zip: not a readable zip archive"):
        tatoeba_fra_eng(root=tmp_path, verify=False)
    with zipfile.ZipFile(folder / "fra-eng.zip", "w") as zf:
        zf.writestr("other.txt", "x")
    with pytest.raises(DataError, match=r"no member 'fra\.txt'"):
        tatoeba_fra_eng(root=tmp_path, verify=False)


def test_missing_files_point_to_the_download(tmp_path):
    with pytest.raises(DataNotFoundError, match="multi30k/dataset"):
        multi30k("val", root=tmp_path)
    with pytest.raises(DataNotFoundError, match="fra-eng.zip"):
        tatoeba_fra_eng(root=tmp_path)


def test_misaligned_multi30k_files_name_the_file(shared_data, tmp_path):
    folder = tmp_path / "multi30k" / "tok"
    folder.mkdir(parents=True)
    shutil.copy(shared_data / "multi30k" / "tok" / "val.lc.norm.tok.de", folder)
    (folder / "val.lc.norm.tok.en").write_text("a man .\n")
    with pytest.raises(DataError, match=r"val\.lc\.norm\.tok\.en: size is 8 bytes"):
        multi30k("val", root=tmp_path)
    with pytest.raises(DataError, match=r"val\.lc\.norm\.tok\.en: 1 lines, but val\.lc\.norm\.tok\.de "
                                        r"has 1014: the files are not aligned"):
        multi30k("val", root=tmp_path, verify=False)


@pytest.mark.parametrize("line, message", [
    ("no tab here", "line 2: expected 'English<TAB>French'"),
    ("Hello.\t ", "line 2: expected"),
])
def test_malformed_pair_lines_name_the_line(line, message):
    with pytest.raises(DataError, match=message):
        parse_tab_pairs(["Go.\tVa !", line], "fra.txt")


def test_simple_tokenize_splits_punctuation_and_keeps_accents():
    assert simple_tokenize("Ça va, Élodie ?") == ["ça", "va", ",", "élodie", "?"]
    assert simple_tokenize("Don't!", lowercase=False) == ["Don", "'", "t", "!"]


def test_vocab_specials_and_padding():
    vocab = build_translation_vocab([["b", "a", "b"], ["c"]])
    assert vocab.tokens[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"] and vocab.tokens[4] == "b"
    padded, lengths = pad_sequences([np.array([7, 8, 9]), np.array([], dtype=np.int64),
                                     np.array([5])], pad_id=0, bos_id=2, eos_id=3)
    assert padded.tolist() == [[2, 7, 8, 9, 3], [2, 3, 0, 0, 0], [2, 5, 3, 0, 0]]
    assert lengths.tolist() == [5, 2, 3]
    plain, n = pad_sequences([np.array([1, 2]), np.array([3])], pad_id=-1)
    assert plain.tolist() == [[1, 2], [3, -1]] and n.tolist() == [2, 1]


def test_bucket_batches_cover_every_pair_once_and_cut_padding(shared_data):
    pairs = multi30k("train", "de", "en")
    src_vocab, tgt_vocab = build_translation_vocab(pairs.src, 2), build_translation_vocab(pairs.tgt, 2)
    src, tgt = pairs.encode(src_vocab, tgt_vocab)

    def padding(batches):
        pad = sum(int((b.src == 0).sum() + (b.tgt == 0).sum()) for b in batches)
        return pad / sum(b.src.size + b.tgt.size for b in batches)

    batches = list(bucket_batches(src, tgt, 128, seed=1))
    index = np.concatenate([b.index for b in batches])
    assert np.array_equal(np.sort(index), np.arange(29_000))
    first = batches[0]
    i = int(first.index[0])
    assert first.src[0, :first.src_lengths[0]].tolist() == src[i].tolist()
    assert first.tgt[0, :first.tgt_lengths[0]].tolist() == [2] + tgt[i].tolist() + [3]
    unbucketed = list(bucket_batches(src, tgt, 128, seed=1, bucket_factor=1))
    assert padding(batches) < 0.2 < 0.4 < padding(unbucketed)
    again = [b.index for b in bucket_batches(src, tgt, 128, seed=1)]
    assert all(np.array_equal(a, b.index) for a, b in zip(again, batches))


def test_an_oversized_zip_member_is_refused_before_inflating(tmp_path):
    folder = tmp_path / "fra-eng"
    folder.mkdir()
    with zipfile.ZipFile(folder / "fra-eng.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("fra.txt", b"\x00" * 10_009_516)  # one byte more than the real file
    with pytest.raises(DataError, match=r"member fra\.txt declares 10009516 bytes, expected at most "
                                        r"10009515"):
        tatoeba_fra_eng(root=tmp_path, verify=False)
    assert not (folder / "fra.txt").exists()
