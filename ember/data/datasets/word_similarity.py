"""Word-embedding test sets and their evaluations.

Readers (files under ``$EMBER_DATA``, checksummed like every Ember dataset):

* :func:`wordsim353` - WordSim-353 (Finkelstein et al. 2002), 353 pairs rated for
  relatedness 0-10, from the original ``wordsim353/combined.csv``;
* :func:`simlex999` - SimLex-999 (Hill et al. 2015), 999 pairs rated for similarity,
  from ``simlex999/SimLex-999.txt`` (extracted from ``SimLex-999.zip`` when needed);
* :func:`google_analogy` - the 19,544 questions of Mikolov et al.'s (2013)
  ``google-analogy/questions-words.txt``, in 14 sections.

Evaluations over an embedding matrix ``(V, D)`` with a word list:

* :func:`spearman` - Spearman's rank correlation, ties given their average rank
  (NumPy only, equal to ``scipy.stats.spearmanr``);
* :func:`evaluate_similarity` - Spearman between the human scores and the cosine
  similarities, over the pairs whose two words are in the vocabulary;
* :func:`evaluate_analogy` - 3CosAdd accuracy (``argmax cos(d, b - a + c)``, the three
  question words excluded) over the questions whose four words are in the
  vocabulary, as word2vec's ``compute-accuracy`` and gensim do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..download import RemoteFile, ensure_files
from ..errors import DataError
from ..archive import file_or_zip_member
from .translation import read_lines
from .vocab import Vocabulary

PathLike = Union[str, "os.PathLike[str]"]
Words = Union[Vocabulary, Sequence[str]]


@dataclass
class WordPairs:
    """Word pairs with human scores: ``(word1[i], word2[i])`` rated ``scores[i]``.

    Example:
        >>> p = WordPairs(["cat"], ["dog"], np.array([7.5]), "demo")
        >>> len(p), p[0]
        (1, ('cat', 'dog', 7.5))
    """

    word1: List[str]
    word2: List[str]
    scores: np.ndarray
    name: str = "pairs"

    def __len__(self) -> int:
        return len(self.word1)

    def __getitem__(self, i: int) -> Tuple[str, str, float]:
        return self.word1[i], self.word2[i], float(self.scores[i])


@dataclass
class AnalogyQuestions:
    """Analogy questions ``a : b :: c : d`` (``questions[i] = (a, b, c, d)``) with their section.

    Example:
        >>> q = AnalogyQuestions([("man", "king", "woman", "queen")], ["family"])
        >>> len(q), q.section_names()
        (1, ['family'])
    """

    questions: List[Tuple[str, str, str, str]]
    sections: List[str]

    def __len__(self) -> int:
        return len(self.questions)

    def section_names(self) -> List[str]:
        """Section names in file order."""
        return list(dict.fromkeys(self.sections))


# --------------------------------------------------------------------------- readers

WORDSIM353 = RemoteFile(
    "combined.csv",
    ("https://raw.githubusercontent.com/fanglanting/skip-gram-pytorch/master/wordsim353/combined.csv",),
    md5="5a605187d8c46fd27be60f0033c217a0", size=7433)
SIMLEX999_ZIP = RemoteFile("SimLex-999.zip", ("https://www.cl.cam.ac.uk/~fh295/SimLex-999.zip",),
                           md5="543312deb2e9db438f818ef036588b77", size=16805)
SIMLEX999 = RemoteFile("SimLex-999.txt", md5="406383a0f16c060200662f4d7798ec34", size=44050)
GOOGLE_ANALOGY = RemoteFile(
    "questions-words.txt", ("http://download.tensorflow.org/data/questions-words.txt",
                            "https://raw.githubusercontent.com/tmikolov/word2vec/master/questions-words.txt"),
    md5="8b7461cbf7ecc0aec9b32eb626821105", size=603955)


def parse_word_pairs(lines: Sequence[str], sep: str, score_column: int, path: PathLike = "<lines>",
                     name: str = "pairs", header: bool = True) -> WordPairs:
    """Rows ``word1 <sep> word2 ... score`` to :class:`WordPairs` (``\\r`` endings and ``#`` lines skipped).

    Raises:
        DataError: A row with too few fields or a score that is not a finite number
            (names the line number).

    Example:
        >>> parse_word_pairs(["w1,w2,s", "tiger,cat,7.35"], ",", 2).scores.tolist()
        [7.35]
    """
    word1, word2, scores = [], [], []
    for number, line in enumerate(lines, 1):
        line = line.rstrip("\r")
        if (header and number == 1) or not line.strip() or line.startswith("#"):
            continue
        fields = line.split(sep)
        if len(fields) <= max(1, score_column):
            raise DataError(f"line {number}: expected at least {max(2, score_column + 1)} fields "
                            f"separated by {sep!r}, got {len(fields)}: {line[:60]!r}", path)
        try:
            score = float(fields[score_column])
        except ValueError:
            score = float("nan")
        if not np.isfinite(score):
            raise DataError(f"line {number}: score {fields[score_column][:20]!r} is not a finite "
                            f"number", path)
        word1.append(fields[0].strip())
        word2.append(fields[1].strip())
        scores.append(score)
    if not scores:
        raise DataError("no word pairs in the file", path)
    return WordPairs(word1, word2, np.array(scores), name)


def wordsim353(root: Optional[PathLike] = None, download: bool = False, verify: bool = True,
               progress: bool = True) -> WordPairs:
    """WordSim-353: 353 pairs (``combined.csv`` in ``<data dir>/wordsim353/``), scores 0.23-10.

    Args:
        root, download, verify, progress: As :func:`~ember.data.datasets.corpora.penn_treebank`.

    Example:
        >>> ws = wordsim353()  # doctest: +SKIP
        >>> len(ws), ws[0]  # doctest: +SKIP
        (353, ('love', 'sex', 6.77))
    """
    directory = ensure_files("WordSim-353", "wordsim353", [WORDSIM353], root=root,
                             download_missing=download, progress=progress, verify=verify)
    path = directory / WORDSIM353.name
    return parse_word_pairs(read_lines(path), ",", 2, path, "WordSim-353")


def simlex999(root: Optional[PathLike] = None, download: bool = False, verify: bool = True,
              progress: bool = True) -> WordPairs:
    """SimLex-999: 999 pairs (the ``SimLex999`` column of ``SimLex-999.txt``), scores 0.23-9.8.

    Reads ``<data dir>/simlex999/SimLex-999.txt``, or extracts it from ``SimLex-999.zip``.

    Example:
        >>> sl = simlex999()  # doctest: +SKIP
        >>> len(sl), sl[0]  # doctest: +SKIP
        (999, ('old', 'new', 1.58))
    """
    directory = file_or_zip_member("simlex999", SIMLEX999, SIMLEX999_ZIP, "SimLex-999/SimLex-999.txt", "SimLex-999",
                                   root, download, verify, progress)
    path = directory / SIMLEX999.name
    return parse_word_pairs(read_lines(path), "\t", 3, path, "SimLex-999")


def parse_analogies(lines: Sequence[str], path: PathLike = "<lines>") -> AnalogyQuestions:
    """``: section`` headers and ``a b c d`` lines to :class:`AnalogyQuestions`.

    Raises:
        DataError: A question before any section, or a line without exactly 4 words.

    Example:
        >>> parse_analogies([": family", "boy girl brother sister"]).questions
        [('boy', 'girl', 'brother', 'sister')]
    """
    questions, sections, section = [], [], None
    for number, line in enumerate(lines, 1):
        if line.startswith(":"):
            section = line[1:].strip()
            continue
        words = line.split()
        if not words:
            continue
        if section is None:
            raise DataError(f"line {number}: a question before the first ': section' header", path)
        if len(words) != 4:
            raise DataError(f"line {number}: expected 4 words, got {len(words)}: {line[:60]!r}",
                            path)
        questions.append(tuple(words))
        sections.append(section)
    if not questions:
        raise DataError("no analogy questions in the file", path)
    return AnalogyQuestions(questions, sections)  # type: ignore[arg-type]


def google_analogy(root: Optional[PathLike] = None, download: bool = False, verify: bool = True,
                   progress: bool = True) -> AnalogyQuestions:
    """Mikolov et al.'s analogy test set: 19,544 questions in 14 sections (8,869 semantic).

    Example:
        >>> q = google_analogy()  # doctest: +SKIP
        >>> len(q), q.questions[0]  # doctest: +SKIP
        (19544, ('Athens', 'Greece', 'Baghdad', 'Iraq'))
    """
    directory = ensure_files("Google analogy", "google-analogy", [GOOGLE_ANALOGY], root=root,
                             download_missing=download, progress=progress, verify=verify)
    path = directory / GOOGLE_ANALOGY.name
    return parse_analogies(read_lines(path), path)


# --------------------------------------------------------------------------- evaluation

def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values``; tied values share the mean of the ranks they span.

    Example:
        >>> average_ranks(np.array([10.0, 20.0, 10.0, 30.0])).tolist()
        [1.5, 3.0, 1.5, 4.0]
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts  # 0-based rank of each distinct value's first copy
    return (first + (counts + 1) / 2.0)[inverse]


def spearman(x, y) -> float:
    """Spearman's rank correlation of ``x`` and ``y`` (Pearson of their average ranks).

    Returns ``nan`` when either side is constant (its ranks have no variance).

    Example:
        >>> round(spearman([1, 2, 2, 3], [1, 3, 2, 4]), 4)
        0.9487
    """
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"spearman: expected two sequences of the same length >= 2, got "
                         f"{x.size} and {y.size}")
    rx, ry = average_ranks(x) - (x.size + 1) / 2.0, average_ranks(y) - (y.size + 1) / 2.0
    denominator = np.sqrt((rx * rx).sum() * (ry * ry).sum())
    return float((rx * ry).sum() / denominator) if denominator > 0 else float("nan")


def _index(words: Words, lowercase: bool) -> Dict[str, int]:
    tokens = words.tokens if isinstance(words, Vocabulary) else list(words)
    index: Dict[str, int] = {}
    for i, w in enumerate(tokens):
        index.setdefault(w.lower() if lowercase else w, i)  # first (most frequent) spelling wins
    return index


def _unit_rows(embeddings) -> np.ndarray:
    e = np.asarray(embeddings, dtype=np.float64)
    if e.ndim != 2:
        raise ValueError(f"expected embeddings of shape (vocab, dim), got shape {e.shape}")
    norms = np.linalg.norm(e, axis=1, keepdims=True)
    return e / np.where(norms > 0, norms, 1.0)


def evaluate_similarity(embeddings, words: Words, pairs: WordPairs,
                        lowercase: bool = True) -> Dict[str, float]:
    """Spearman between ``pairs.scores`` and the cosine similarity of the pairs' embeddings.

    Pairs with a word missing from ``words`` are skipped (as gensim's
    ``evaluate_word_pairs`` does); ``found`` tells how many were scored.

    Args:
        embeddings: ``(V, D)`` array; row ``i`` is the vector of ``words[i]``.
        words: The vocabulary (a :class:`Vocabulary` or a list of words).
        pairs: The test set.
        lowercase: Match words case-insensitively.

    Returns:
        ``{"spearman", "found", "total"}``.

    Example:
        >>> e = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> p = WordPairs(["a", "a", "b"], ["b", "c", "zz"], np.array([9.0, 1.0, 5.0]))
        >>> evaluate_similarity(e, ["a", "b", "c"], p)["found"]
        2
    """
    unit = _unit_rows(embeddings)
    index = _index(words, lowercase)
    norm = (lambda w: w.lower()) if lowercase else (lambda w: w)
    keep = [(index[norm(a)], index[norm(b)], s) for a, b, s in
            zip(pairs.word1, pairs.word2, pairs.scores) if norm(a) in index and norm(b) in index]
    result = {"spearman": float("nan"), "found": len(keep), "total": len(pairs)}
    if len(keep) >= 2:
        i, j, human = (np.array(column) for column in zip(*keep))
        result["spearman"] = spearman(human, (unit[i] * unit[j]).sum(axis=1))
    return result


def evaluate_analogy(embeddings, words: Words, questions: AnalogyQuestions,
                     restrict_vocab: Optional[int] = None, lowercase: bool = True,
                     chunk: int = 512) -> Dict[str, object]:
    """3CosAdd analogy accuracy over the in-vocabulary questions.

    For ``a : b :: c : ?`` the answer is the word whose unit vector has the largest
    dot product with ``unit(b) - unit(a) + unit(c)``, ``a``, ``b`` and ``c``
    excluded. Only questions whose four words are among the first
    ``restrict_vocab`` words (all when ``None``) are asked, as in word2vec's
    ``compute-accuracy`` and gensim's ``evaluate_word_analogies``.

    Returns:
        ``{"accuracy", "correct", "found", "total", "sections": {name: (correct, found)}}``;
        ``accuracy`` is ``nan`` when no question is in the vocabulary.

    Example:
        >>> e = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1], [1, 0, 1]], dtype=float)
        >>> q = AnalogyQuestions([("man", "king", "woman", "queen")], ["family"])
        >>> evaluate_analogy(e, ["man", "king", "woman", "queen", "apple"], q)["accuracy"]
        1.0
    """
    unit = _unit_rows(embeddings)
    if restrict_vocab is not None:
        unit = unit[:restrict_vocab]
        words = (words.tokens if isinstance(words, Vocabulary) else list(words))[:restrict_vocab]
    index = _index(words, lowercase)
    norm = (lambda w: w.lower()) if lowercase else (lambda w: w)
    asked, sections = [], []
    for q, section in zip(questions.questions, questions.sections):
        ids = [index.get(norm(w), -1) for w in q]
        if min(ids) >= 0:
            asked.append(ids)
            sections.append(section)
    per_section: Dict[str, List[int]] = {name: [0, 0] for name in questions.section_names()}
    correct = 0
    if asked:
        ids = np.array(asked, dtype=np.int64)
        hits = np.zeros(len(ids), dtype=bool)
        rows = np.arange(min(chunk, len(ids)))
        for start in range(0, len(ids), chunk):
            a, b, c, d = ids[start:start + chunk].T
            scores = (unit[b] - unit[a] + unit[c]) @ unit.T
            r = rows[:len(a)]
            scores[r, a] = scores[r, b] = scores[r, c] = -np.inf
            hits[start:start + chunk] = scores.argmax(axis=1) == d
        correct = int(hits.sum())
        for hit, section in zip(hits.tolist(), sections):
            per_section[section][0] += hit
            per_section[section][1] += 1
    return {"accuracy": correct / len(asked) if asked else float("nan"), "correct": correct,
            "found": len(asked), "total": len(questions),
            "sections": {k: tuple(v) for k, v in per_section.items()}}
