"""Text corpora for language modelling: characters or words from a plain text file.

A corpus encodes its whole text once into an ``int64`` id array and splits it
into a training part and a validation tail (contiguous, so no window straddles
the two). Two ways to feed a model:

* :meth:`TextCorpus.batches` gives **stateful BPTT windows**: the id stream is cut
  into ``batch_size`` parallel rows and consecutive windows continue each row, so
  a recurrent network can carry its hidden state from one batch to the next
  (char-rnn style).
* :meth:`TextCorpus.windows` gives a :class:`SequenceWindows` dataset of
  independent ``(input, target)`` windows for a shuffled
  :class:`~ember.data.DataLoader` (GPT style).

:func:`tiny_shakespeare` loads Karpathy's 1.1 MB Tiny Shakespeare file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar, Iterator, List, Optional, Tuple, Union

import numpy as np

from ..dataset import Dataset
from ..download import RemoteFile, ensure_files
from ..errors import DataError
from .vocab import Vocabulary

PathLike = Union[str, "os.PathLike[str]"]


class SequenceWindows(Dataset):
    """Next-token windows over an id stream: sample ``i`` is ``(ids[s:s+T], ids[s+1:s+T+1])``.

    With ``s = i * stride``. A batch is gathered with one fancy-index.

    Args:
        ids: 1-D id array.
        seq_len: Window length ``T``.
        stride: Distance between window starts (default ``seq_len``: no overlap).

    Example:
        >>> w = SequenceWindows(np.arange(10), seq_len=4)
        >>> len(w), w[1]
        (2, (array([4, 5, 6, 7]), array([5, 6, 7, 8])))
    """

    def __init__(self, ids: np.ndarray, seq_len: int, stride: Optional[int] = None) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self.seq_len = int(seq_len)
        self.stride = self.seq_len if stride is None else int(stride)
        if self.seq_len < 1 or self.stride < 1:
            raise ValueError("SequenceWindows: seq_len and stride must be >= 1")
        if len(self.ids) < self.seq_len + 1:
            raise ValueError(f"SequenceWindows: {len(self.ids)} tokens are too few for one window "
                             f"of {self.seq_len} (+1 target)")
        self._offsets = np.arange(self.seq_len)

    def __len__(self) -> int:
        return (len(self.ids) - 1 - self.seq_len) // self.stride + 1

    def __getitem__(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"SequenceWindows: index {index} out of range for {len(self)} windows")
        start = (index % len(self)) * self.stride
        return (self.ids[start:start + self.seq_len].copy(),
                self.ids[start + 1:start + 1 + self.seq_len].copy())

    def __getitems__(self, indices) -> Tuple[np.ndarray, np.ndarray]:
        indices = np.asarray(indices, dtype=np.int64) % len(self)
        gather = (indices * self.stride)[:, None] + self._offsets
        return self.ids[gather], self.ids[gather + 1]


class TextCorpus:
    """Base of :class:`CharCorpus` and :class:`WordCorpus`: ids, splits and batching.

    Attributes:
        text: The raw text.
        vocab: The :class:`Vocabulary`.
        ids: The whole text as ``int64`` ids.
        train: Ids of the training part (the first ``1 - val_fraction``).
        val: Ids of the validation tail.
    """

    level: ClassVar[str] = ""

    def __init__(self, text: str, vocab: Vocabulary, ids: np.ndarray, val_fraction: float) -> None:
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        self.text, self.vocab, self.ids = text, vocab, ids
        self.val_fraction = val_fraction
        cut = len(ids) - int(round(len(ids) * val_fraction))
        self.train, self.val = ids[:cut], ids[cut:]

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}({len(self.ids)} tokens, vocab {len(self.vocab)}, "
                f"train {len(self.train)}, val {len(self.val)})")

    def split(self, name: str) -> np.ndarray:
        """The ids of ``"train"``, ``"val"`` or ``"all"``."""
        try:
            return {"train": self.train, "val": self.val, "all": self.ids}[name]
        except KeyError:
            raise ValueError(f"split must be 'train', 'val' or 'all', got {name!r}") from None

    def encode(self, text: str) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def decode(self, ids) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def num_batches(self, batch_size: int, seq_len: int, split: str = "train") -> int:
        """Number of windows :meth:`batches` yields."""
        columns = (len(self.split(split)) - 1) // batch_size
        return columns // seq_len

    def batches(self, batch_size: int, seq_len: int,
                split: str = "train") -> Iterator[Tuple[np.ndarray, np.ndarray]]:
        """Stateful BPTT windows ``(x, y)``, each ``(batch_size, seq_len)``; ``y`` is ``x`` shifted.

        The split's ids are cut into ``batch_size`` contiguous rows; window ``k``
        holds columns ``k*seq_len ... (k+1)*seq_len - 1`` of every row, so row ``b``
        of window ``k + 1`` continues row ``b`` of window ``k``. The ragged end is dropped.

        Example:
            >>> corpus = CharCorpus("abcdefghijklmnopqrstuvwxyz")
            >>> x, y = next(corpus.batches(batch_size=2, seq_len=3, split="all"))
            >>> corpus.decode(x[0]), corpus.decode(y[0]), corpus.decode(x[1])
            ('abc', 'bcd', 'mno')
        """
        stream = self.split(split)
        columns = (len(stream) - 1) // batch_size
        if columns < seq_len:
            raise ValueError(f"batches: the {split} split ({len(stream)} tokens) is too short for "
                             f"{batch_size} rows of at least {seq_len} + 1 tokens")
        inputs = stream[: batch_size * columns].reshape(batch_size, columns)
        targets = stream[1: batch_size * columns + 1].reshape(batch_size, columns)
        for start in range(0, columns - seq_len + 1, seq_len):
            yield inputs[:, start:start + seq_len], targets[:, start:start + seq_len]

    def windows(self, seq_len: int, split: str = "train",
                stride: Optional[int] = None) -> SequenceWindows:
        """Independent next-token windows of the split, as a dataset for a DataLoader.

        Example:
            >>> from ember.data import DataLoader
            >>> corpus = CharCorpus("hello world, hello ember", val_fraction=0.0)
            >>> loader = DataLoader(corpus.windows(4), batch_size=2, shuffle=True, seed=0)
            >>> x, y = next(iter(loader)); x.shape
            (2, 4)
        """
        return SequenceWindows(self.split(split), seq_len, stride)


class CharCorpus(TextCorpus):
    """Character-level corpus: every character is a token; the vocabulary is the sorted characters.

    Args:
        text: The text.
        vocab: Reuse a vocabulary (default: built from ``text``).
        val_fraction: Size of the validation tail.

    Example:
        >>> corpus = CharCorpus("to be or not to be", val_fraction=0.0)
        >>> len(corpus.vocab), corpus.decode(corpus.encode("be"))
        (7, 'be')
    """

    level = "char"

    def __init__(self, text: str, vocab: Optional[Vocabulary] = None,
                 val_fraction: float = 0.1) -> None:
        vocab = Vocabulary.from_text(text) if vocab is None else vocab
        super().__init__(text, vocab, vocab.encode(text), val_fraction)

    @classmethod
    def from_file(cls, path: PathLike, encoding: str = "utf-8", **kwargs) -> "CharCorpus":
        """Read a plain text file (see :func:`read_text` for errors)."""
        return cls(read_text(path, encoding), **kwargs)

    def encode(self, text: str) -> np.ndarray:
        """Ids of ``text``'s characters."""
        return self.vocab.encode(text)

    def decode(self, ids) -> str:
        """Text of ``ids``."""
        return self.vocab.decode_text(ids)


class WordCorpus(TextCorpus):
    """Word-level corpus: whitespace-separated tokens, plus an end-of-line token.

    Args:
        text: The text.
        vocab: Reuse a vocabulary (default: built from ``text``, most frequent first).
        val_fraction: Size of the validation tail.
        lowercase: Lowercase before splitting.
        eos: Token appended at the end of each line (``None``: newlines are just spaces).
        min_freq: Words seen fewer times become ``unk``.
        max_size: Cap on the vocabulary size.
        unk: The unknown-word token.

    Example:
        >>> corpus = WordCorpus("the cat sat\\nthe dog sat\\n", val_fraction=0.0)
        >>> corpus.vocab.tokens[:4], corpus.decode(corpus.ids[:5])
        (['<unk>', '<eos>', 'the', 'sat'], 'the cat sat\\nthe')
    """

    level = "word"

    def __init__(self, text: str, vocab: Optional[Vocabulary] = None, val_fraction: float = 0.1,
                 lowercase: bool = False, eos: Optional[str] = "<eos>", min_freq: int = 1,
                 max_size: Optional[int] = None, unk: str = "<unk>") -> None:
        self.lowercase, self.eos = lowercase, eos
        tokens = self.tokenize(text)
        if vocab is None:
            specials = [unk] + ([eos] if eos is not None else [])
            vocab = Vocabulary.build(tokens, min_freq=min_freq, max_size=max_size,
                                     specials=specials, unk=unk)
        super().__init__(text, vocab, vocab.encode(tokens), val_fraction)

    @classmethod
    def from_file(cls, path: PathLike, encoding: str = "utf-8", **kwargs) -> "WordCorpus":
        """Read a plain text file (see :func:`read_text` for errors)."""
        return cls(read_text(path, encoding), **kwargs)

    def tokenize(self, text: str) -> List[str]:
        """Split ``text`` into tokens the way this corpus does.

        Example:
            >>> WordCorpus("a b", val_fraction=0.0).tokenize("x y\\nz")
            ['x', 'y', '<eos>', 'z', '<eos>']
        """
        if self.lowercase:
            text = text.lower()
        if self.eos is None:
            return text.split()
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # a final newline ends the last line; it does not start a new one
        tokens: List[str] = []
        for line in lines:
            tokens.extend(line.split())
            tokens.append(self.eos)
        return tokens

    def encode(self, text: str) -> np.ndarray:
        """Ids of ``text``'s tokens."""
        return self.vocab.encode(self.tokenize(text))

    def decode(self, ids) -> str:
        """Tokens joined by spaces, with ``eos`` turned back into newlines."""
        lines, line = [], []
        for word in self.vocab.decode(ids):
            if word == self.eos:
                lines.append(" ".join(line) + "\n")
                line = []
            else:
                line.append(word)
        return "".join(lines) + " ".join(line)


def read_text(path: PathLike, encoding: str = "utf-8") -> str:
    """Read a text file, reporting undecodable bytes as a :class:`DataError` naming the file.

    A leading UTF-8 byte-order mark (``EF BB BF``, written by some Windows editors)
    is dropped, so it never becomes a character of the text or a vocabulary token.
    Invalid bytes are reported with their byte offset in the file.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> _ = p.write_bytes(b"\\xef\\xbb\\xbfhi")
        >>> read_text(p)
        'hi'
        >>> _ = p.write_bytes(b"ok\\xff")
        >>> read_text(p)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ember.data.errors.DataError: ember.data: ...a.txt: not valid utf-8 text: byte offset 2 (invalid start byte)
    """
    raw = Path(path).read_bytes()
    return decode_text(raw, path, encoding)


def decode_text(raw: bytes, name: PathLike = "<bytes>", encoding: str = "utf-8") -> str:
    """Decode a text file's bytes: drop a leading UTF-8 BOM, report bad bytes as :class:`DataError`.

    Example:
        >>> decode_text("\\ufeffabc".encode("utf-8"))
        'abc'
    """
    bom = 0
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig") and \
            raw.startswith(b"\xef\xbb\xbf"):
        bom = 3
    try:
        return raw[bom:].decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataError(f"not valid {encoding} text: byte offset {exc.start + bom} "
                        f"({exc.reason})", name) from exc
    except LookupError as exc:
        raise ValueError(f"read_text: unknown encoding {encoding!r}") from exc


TINY_SHAKESPEARE = RemoteFile(
    "input.txt",
    ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",),
    md5="6fb458f1232090904fb40fe944165e91", size=1115394)


def tiny_shakespeare(level: str = "char", root: Optional[PathLike] = None, download: bool = False,
                     val_fraction: float = 0.1, verify: bool = True,
                     progress: bool = True, **kwargs) -> TextCorpus:
    """Tiny Shakespeare (1,115,394 characters, 65 distinct) as a char- or word-level corpus.

    The file is ``<data dir>/tinyshakespeare/input.txt`` (from Karpathy's char-rnn).

    Args:
        level: ``"char"`` or ``"word"``.
        root: Data directory (default: :func:`~ember.data.data_dir`).
        download: Download the file if missing.
        val_fraction: Size of the validation tail.
        verify: Check the file's MD5.
        progress: Progress bar while downloading.
        **kwargs: Passed to :class:`WordCorpus` (``lowercase``, ``eos``, ``min_freq``...).

    Example:
        >>> corpus = tiny_shakespeare()  # doctest: +SKIP
        >>> len(corpus.vocab), corpus.decode(corpus.ids[:14])  # doctest: +SKIP
        (65, 'First Citizen:')
    """
    if level not in ("char", "word"):
        raise ValueError(f"level must be 'char' or 'word', got {level!r}")
    directory = ensure_files("Tiny Shakespeare", "tinyshakespeare", [TINY_SHAKESPEARE], root=root,
                             download_missing=download, progress=progress, verify=verify)
    path = directory / TINY_SHAKESPEARE.name
    if level == "char":
        return CharCorpus.from_file(path, val_fraction=val_fraction, **kwargs)
    return WordCorpus.from_file(path, val_fraction=val_fraction, **kwargs)
