"""ember/data/datasets/word_similarity.py: WordSim-353, SimLex-999, Google analogy; Spearman, 3CosAdd."""

import shutil

import numpy as np
import pytest

from ember.data.datasets.word_similarity import (AnalogyQuestions, WordPairs, average_ranks,
                                                 evaluate_analogy, evaluate_similarity,
                                                 google_analogy, parse_analogies,
                                                 parse_word_pairs, simlex999, spearman, wordsim353)
from ember.data.errors import DataError


def test_readers_match_the_readme_counts(shared_data):
    ws = wordsim353()
    assert len(ws) == 353 and ws[0] == ("love", "sex", 6.77)
    assert (ws.scores.min(), ws.scores.max()) == (0.23, 10.0)
    assert sum(1 for a, b in zip(ws.word1, ws.word2) if (a, b) == ("money", "cash")) == 2
    sl = simlex999()
    assert len(sl) == 999 and sl[0] == ("old", "new", 1.58)
    assert (sl.scores.min(), sl.scores.max()) == (0.23, 9.8)
    q = google_analogy()
    assert len(q) == 19_544 and len(q.section_names()) == 14
    assert q.questions[0] == ("Athens", "Greece", "Baghdad", "Iraq")
    assert sum(not s.startswith("gram") for s in q.sections) == 8_869


def test_simlex_is_extracted_from_the_zip(shared_data, tmp_path):
    folder = tmp_path / "simlex999"
    folder.mkdir()
    shutil.copy(shared_data / "simlex999" / "SimLex-999.zip", folder)
    assert len(simlex999(root=tmp_path)) == 999
    assert (folder / "SimLex-999.txt").is_file()


def test_a_damaged_file_fails_its_checksum(shared_data, tmp_path):
    folder = tmp_path / "wordsim353"
    folder.mkdir()
    data = (shared_data / "wordsim353" / "combined.csv").read_bytes().replace(b"6.77", b"7.77")
    (folder / "combined.csv").write_bytes(data)
    with pytest.raises(DataError, match=r"combined\.csv: checksum mismatch"):
        wordsim353(root=tmp_path)


@pytest.mark.parametrize("lines, message", [
    (["h", "tiger,cat"], "line 2: expected at least 3 fields"),
    (["h", "tiger,cat,seven"], "line 2: score 'seven' is not a finite number"),
    (["h", "tiger,cat,nan"], "line 2: score 'nan'"),
    (["h"], "no word pairs"),
])
def test_malformed_pair_files_name_the_line(lines, message):
    with pytest.raises(DataError, match=message):
        parse_word_pairs(lines, ",", 2, "combined.csv")


@pytest.mark.parametrize("lines, message", [
    (["a b c d"], "line 1: a question before the first"),
    ([": s", "a b c"], "line 2: expected 4 words, got 3"),
    ([": s"], "no analogy questions"),
])
def test_malformed_analogy_files_name_the_line(lines, message):
    with pytest.raises(DataError, match=message):
        parse_analogies(lines, "questions-words.txt")


def test_spearman_with_ties_against_a_hand_computed_value():
    # x ranks (average for the tie): 1, 2.5, 2.5, 4;  y ranks: 1, 3, 2, 4.
    # Centred: (-1.5, 0, 0, 1.5) and (-1.5, .5, -.5, 1.5): 4.5 / sqrt(4.5 * 5) = 3 / sqrt(10).
    assert average_ranks(np.array([1, 2, 2, 3])).tolist() == [1.0, 2.5, 2.5, 4.0]
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(3 / np.sqrt(10), abs=1e-12)
    assert spearman([3, 1, 2], [30, 10, 20]) == pytest.approx(1.0)
    assert spearman([3, 1, 2], [10, 30, 20]) == pytest.approx(-1.0)
    assert np.isnan(spearman([1, 1, 1], [1, 2, 3]))
    with pytest.raises(ValueError, match="same length"):
        spearman([1, 2], [1, 2, 3])


def test_spearman_equals_pearson_of_ranks_on_many_ties():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 4, 200), rng.integers(0, 4, 200) + rng.integers(0, 2, 200)
    expected = np.corrcoef(average_ranks(x), average_ranks(y))[0, 1]
    assert spearman(x, y) == pytest.approx(expected, abs=1e-12)
    # The ranks of tied values are the mean of the positions they span.
    ranks = average_ranks(x)
    for value in range(4):
        positions = np.flatnonzero(np.sort(x) == value) + 1
        assert np.all(ranks[x == value] == positions.mean())


def test_similarity_skips_pairs_with_unknown_words():
    e = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]])
    words = ["cat", "Dog", "car", "anti"]
    pairs = WordPairs(["cat", "cat", "cat", "cat"], ["dog", "car", "anti", "unicorn"],
                      np.array([9.0, 5.0, 1.0, 7.0]))
    result = evaluate_similarity(e, words, pairs)  # cosines 0.8, 0, -1: same order as the humans
    assert result == {"spearman": pytest.approx(1.0), "found": 3, "total": 4}
    assert evaluate_similarity(e, words, pairs, lowercase=False)["found"] == 2


def test_analogy_accuracy_on_a_tiny_embedding():
    words = ["man", "king", "woman", "queen", "apple", "paris", "france", "rome", "italy"]
    e = np.array([
        [1, 0, 0, 0], [1, 1, 0, 0], [0, 0, 1, 0], [0, 1, 1, 0],   # king - man + woman = queen
        [0, 0, 0, 1],
        [1, 0, 0, 1], [0.9, 0.1, 0, 1], [0, 0, 1, 1], [0, -1, 0, 0.2],  # 'apple' beats 'italy'
    ], dtype=float)
    questions = AnalogyQuestions(
        [("man", "king", "woman", "queen"), ("paris", "france", "rome", "italy"),
         ("man", "king", "woman", "empress")],  # 'empress' is not in the vocabulary
        ["family", "capital", "family"])
    result = evaluate_analogy(e, words, questions)
    assert (result["correct"], result["found"], result["total"]) == (1, 2, 3)
    assert result["accuracy"] == 0.5
    assert result["sections"] == {"family": (1, 1), "capital": (0, 1)}
    # restrict_vocab keeps only the first words: the capital question is no longer asked.
    assert evaluate_analogy(e, words, questions, restrict_vocab=5)["found"] == 1


def test_analogy_excludes_the_question_words():
    # b - a + c points straight at c ('woman'); excluded, the next best ('queen') answers.
    words = ["man", "king", "woman", "queen"]
    e = np.array([[1, 0.0, 0], [1, 0.1, 0], [0, 0, 1], [0, 0.3, 1]])
    q = AnalogyQuestions([("man", "king", "woman", "queen")], ["family"])
    assert evaluate_analogy(e, words, q)["accuracy"] == 1.0
