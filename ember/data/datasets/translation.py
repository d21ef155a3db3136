"""Sentence-pair corpora for translation, and padded, length-bucketed batches.

* :func:`multi30k` reads the official tokenised Multi30k task-1 files
  (``multi30k/tok/<split>.lc.norm.tok.<lang>``: lower-cased, Moses-tokenised; English,
  German, French; train 29,000 / val 1,014 / test_2016_flickr 1,000 pairs). Line *i*
  of one language translates line *i* of the others.
* :func:`tatoeba_fra_eng` reads manythings.org's ``fra-eng/fra.txt`` (Tatoeba,
  2017-09-29 release, 142,787 ``English<TAB>French`` pairs) and tokenises it with
  :func:`simple_tokenize` (lower-case, words and punctuation apart).
* :func:`build_translation_vocab` gives a vocabulary whose first ids are the
  specials ``<pad>`` (0), ``<unk>`` (1), ``<bos>`` (2), ``<eos>`` (3).
* :func:`pad_sequences` pads a list of id arrays in one vectorised assignment;
  :func:`bucket_batches` groups pairs of similar length so little padding is
  computed, adding ``<bos>``/``<eos>`` to the targets.

Example:
    >>> pairs = TranslationPairs([["ein", "hund"]], [["a", "dog"]], "de", "en")
    >>> src_vocab = build_translation_vocab(pairs.src)
    >>> src_vocab.tokens
    ['<pad>', '<unk>', '<bos>', '<eos>', 'ein', 'hund']
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ..download import RemoteFile, ensure_files
from ..archive import file_or_zip_member
from ..bucketing import BucketBatchSampler
from ..errors import DataError
from .corpora import build_word_vocab, encode_tokens
from .text import decode_text
from .vocab import Vocabulary

PathLike = Union[str, "os.PathLike[str]"]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
SPECIALS = (PAD, UNK, BOS, EOS)
MULTI30K_LANGUAGES = ("en", "de", "fr")
MULTI30K_SPLITS = ("train", "val", "test_2016_flickr")

_TOKEN = re.compile(r"\w+|[^\w\s]")


def simple_tokenize(text: str, lowercase: bool = True) -> List[str]:
    """Words (Unicode letters/digits) and single punctuation marks of ``text``.

    Example:
        >>> simple_tokenize("Ça alors ! I'm fine.")
        ['ça', 'alors', '!', 'i', "'", 'm', 'fine', '.']
    """
    return _TOKEN.findall(text.lower() if lowercase else text)


@dataclass
class TranslationPairs:
    """Aligned tokenised sentences: ``src[i]`` translates to ``tgt[i]``.

    Attributes:
        src, tgt: Lists of token lists.
        src_lang, tgt_lang: Language codes.

    Example:
        >>> p = TranslationPairs([["a"]], [["b", "c"]], "x", "y")
        >>> len(p), p[0]
        (1, (['a'], ['b', 'c']))
    """

    src: List[List[str]]
    tgt: List[List[str]]
    src_lang: str
    tgt_lang: str

    def __post_init__(self) -> None:
        if len(self.src) != len(self.tgt):
            raise ValueError(f"TranslationPairs: {len(self.src)} source but {len(self.tgt)} "
                             f"target sentences")

    def __len__(self) -> int:
        return len(self.src)

    def __getitem__(self, index: int) -> Tuple[List[str], List[str]]:
        return self.src[index], self.tgt[index]

    def num_tokens(self) -> Tuple[int, int]:
        """Source and target token counts."""
        return sum(map(len, self.src)), sum(map(len, self.tgt))

    def filter(self, max_len: int) -> "TranslationPairs":
        """The pairs whose sides both have at most ``max_len`` tokens."""
        keep = [i for i in range(len(self)) if len(self.src[i]) <= max_len
                and len(self.tgt[i]) <= max_len]
        return TranslationPairs([self.src[i] for i in keep], [self.tgt[i] for i in keep],
                                self.src_lang, self.tgt_lang)

    def encode(self, src_vocab: Vocabulary,
               tgt_vocab: Vocabulary) -> Tuple[List[np.ndarray], List[np.ndarray]]:
        """Id arrays of both sides (unknown words become ``<unk>``)."""
        return ([encode_tokens(src_vocab, s) for s in self.src],
                [encode_tokens(tgt_vocab, t) for t in self.tgt])


def build_translation_vocab(sentences: Sequence[Sequence[str]], min_freq: int = 1,
                            max_size: Optional[int] = None) -> Vocabulary:
    """Vocabulary of tokenised sentences: ``<pad> <unk> <bos> <eos>`` then most frequent first.

    Example:
        >>> build_translation_vocab([["b", "a", "b"]], min_freq=2).tokens
        ['<pad>', '<unk>', '<bos>', '<eos>', 'b']
    """
    tokens = [t for s in sentences for t in s]
    return build_word_vocab(tokens, specials=SPECIALS, unk=UNK, min_freq=min_freq,
                            max_size=max_size)


def pad_sequences(seqs: Sequence[np.ndarray], pad_id: int = 0, bos_id: Optional[int] = None,
                  eos_id: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Pad id arrays into ``(len(seqs), max_len)`` ``int64``; optionally wrap each in bos/eos.

    Returns:
        ``(padded, lengths)``; ``lengths`` count the bos/eos tokens.

    Example:
        >>> x, n = pad_sequences([np.array([5, 6]), np.array([7])], pad_id=0, bos_id=2, eos_id=3)
        >>> x.tolist(), n.tolist()
        ([[2, 5, 6, 3], [2, 7, 3, 0]], [4, 3])
    """
    extra = (bos_id is not None) + (eos_id is not None)
    lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs)) + extra
    out = np.full((len(seqs), int(lengths.max(initial=0))), pad_id, dtype=np.int64)
    if not len(seqs):
        return out, lengths
    body = np.concatenate([np.asarray(s, dtype=np.int64) for s in seqs])
    start = 1 if bos_id is not None else 0
    columns = np.arange(out.shape[1])
    # One boolean-mask assignment fills every row's words, in row-major order.
    out[(columns >= start) & (columns < (lengths - (eos_id is not None))[:, None])] = body
    if bos_id is not None:
        out[:, 0] = bos_id
    if eos_id is not None:
        out[np.arange(len(seqs)), lengths - 1] = eos_id
    return out, lengths


class TranslationBatch(NamedTuple):
    """A padded batch: ``src (B, S)``, ``tgt (B, T)`` (``<bos> ... <eos>``) and their lengths.

    ``index`` holds the positions of the pairs in the input lists. For teacher
    forcing the decoder reads ``tgt[:, :-1]`` and predicts ``tgt[:, 1:]``.
    """

    src: np.ndarray
    src_lengths: np.ndarray
    tgt: np.ndarray
    tgt_lengths: np.ndarray
    index: np.ndarray


def bucket_batches(src: Sequence[np.ndarray], tgt: Sequence[np.ndarray], batch_size: int,
                   pad_id: int = 0, bos_id: int = 2, eos_id: int = 3, shuffle: bool = True,
                   seed: int = 0, bucket_factor: int = 50,
                   src_eos: bool = False) -> Iterator[TranslationBatch]:
    """Batches of pairs of similar length, padded with ``pad_id``; targets wrapped in bos/eos.

    The pairs are shuffled (if ``shuffle``), cut into buckets of
    ``batch_size * bucket_factor`` pairs, each bucket sorted by (source, target)
    length and cut into batches; the batch order is then shuffled. Every pair
    appears in exactly one batch (the last may be smaller). ``src_eos`` also
    appends ``<eos>`` to the sources.

    Example:
        >>> src = [np.array([4] * n) for n in (1, 5, 2, 6)]
        >>> tgt = [np.array([9] * n) for n in (1, 5, 2, 6)]
        >>> [b.src.shape for b in bucket_batches(src, tgt, 2, shuffle=False)]
        [(2, 2), (2, 6)]
    """
    if len(src) != len(tgt):
        raise ValueError(f"bucket_batches: {len(src)} sources but {len(tgt)} targets")
    if batch_size < 1 or bucket_factor < 1:
        raise ValueError(f"bucket_batches: batch_size and bucket_factor must be >= 1, got "
                         f"{batch_size}, {bucket_factor}")
    src_len = np.fromiter((len(s) for s in src), dtype=np.int64, count=len(src))
    tgt_len = np.fromiter((len(t) for t in tgt), dtype=np.int64, count=len(tgt))
    batches = BucketBatchSampler(np.stack([src_len, tgt_len], axis=1), batch_size, shuffle=shuffle,
                                 pool_batches=bucket_factor, seed=seed).batches()
    for index in batches:
        s, s_len = pad_sequences([src[i] for i in index], pad_id,
                                 eos_id=eos_id if src_eos else None)
        t, t_len = pad_sequences([tgt[i] for i in index], pad_id, bos_id, eos_id)
        yield TranslationBatch(s, s_len, t, t_len, index)


# --------------------------------------------------------------------------- Multi30k

_MULTI30K_URL = "https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/tok/"

#: (split, language) -> (md5, bytes, sentences, tokens); the counts are the official README's.
MULTI30K_TOK = {
    ("train", "en"): ("11ac4eac7988e6bd46cabe9755b71d26", 1837696, 29000, 377534),
    ("train", "de"): ("4380018035b602bd0d0c4f369918dfde", 2150008, 29000, 360706),
    ("train", "fr"): ("7c48349119f8a7dbbff2dc33248623e2", 2235588, 29000, 409845),
    ("val", "en"): ("02902c626a88ec3c0a56cca3c5bb77fe", 64608, 1014, 13308),
    ("val", "de"): ("579f1cd1c81ae3917e4485613e0a62f7", 77273, 1014, 12828),
    ("val", "fr"): ("a1cb900de37188e7220c719af23f9b87", 78242, 1014, 14381),
    ("test_2016_flickr", "en"): ("09aa5360d1e0ae3e03742297eb720d7d", 63307, 1000, 12968),
    ("test_2016_flickr", "de"): ("3054f8453b394c41d17df5c15849b5c8", 71917, 1000, 12103),
    ("test_2016_flickr", "fr"): ("647b8e2b48e705809f33acb5d42e4db1", 76394, 1000, 13988),
}


def multi30k_file(split: str, lang: str) -> RemoteFile:
    """The tokenised Multi30k file of ``split`` and ``lang``, with its checksum and URL.

    Example:
        >>> multi30k_file("val", "de").name
        'tok/val.lc.norm.tok.de'
    """
    if (split, lang) not in MULTI30K_TOK:
        raise ValueError(f"multi30k: split must be one of {MULTI30K_SPLITS} and lang one of "
                         f"{MULTI30K_LANGUAGES}, got {split!r}, {lang!r}")
    md5, size, _, _ = MULTI30K_TOK[split, lang]
    name = f"{split}.lc.norm.tok.{lang}"
    return RemoteFile(f"tok/{name}", (_MULTI30K_URL + name,), md5=md5, size=size)


def read_lines(path: PathLike) -> List[str]:
    """The lines of a UTF-8 text file (without their ``\\n``).

    Raises:
        DataError: Not UTF-8, or NUL bytes (binary or zero-filled file).
    """
    raw = Path(path).read_bytes()
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise DataError(f"NUL byte at offset {nul}: not a text file", path)
    lines = decode_text(raw, path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def multi30k(split: str = "train", src_lang: str = "de", tgt_lang: str = "en",
             root: Optional[PathLike] = None, download: bool = False, verify: bool = True,
             progress: bool = True) -> TranslationPairs:
    """Multi30k task 1 (tokenised, lower-cased) pairs of ``split`` from ``src_lang`` to ``tgt_lang``.

    Files: ``<data dir>/multi30k/tok/<split>.lc.norm.tok.<lang>``.

    Args:
        split: ``"train"`` (29,000), ``"val"`` (1,014) or ``"test_2016_flickr"`` (1,000).
        src_lang, tgt_lang: Two of ``"en"``, ``"de"``, ``"fr"``.
        root, download, verify, progress: As :func:`~ember.data.datasets.corpora.penn_treebank`
            (downloads come from the official ``multi30k/dataset`` repository).

    Raises:
        DataNotFoundError: Files missing and ``download=False``.
        DataError: Checksum, encoding, or the two files do not have the same number of lines.

    Example:
        >>> pairs = multi30k("val", "de", "en")  # doctest: +SKIP
        >>> len(pairs), pairs.num_tokens()  # doctest: +SKIP
        (1014, (12828, 13308))
    """
    if src_lang == tgt_lang:
        raise ValueError(f"multi30k: source and target language are both {src_lang!r}")
    files = [multi30k_file(split, src_lang), multi30k_file(split, tgt_lang)]
    directory = ensure_files("Multi30k", "multi30k", files, root=root, download_missing=download,
                             progress=progress, verify=verify)
    src_path, tgt_path = (directory / f.name for f in files)
    src, tgt = read_lines(src_path), read_lines(tgt_path)
    if len(src) != len(tgt):
        raise DataError(f"{len(tgt)} lines, but {src_path.name} has {len(src)}: the files are "
                        f"not aligned", tgt_path)
    return TranslationPairs([s.split() for s in src], [t.split() for t in tgt], src_lang, tgt_lang)


# --------------------------------------------------------------------------- Tatoeba fra-eng

#: The 2017-09-29 release; manythings.org serves newer releases at the same URL, which
#: fail this checksum (their pair counts differ), so a verified copy is listed first.
FRA_ENG_ZIP = RemoteFile(
    "fra-eng.zip", ("https://raw.githubusercontent.com/genimind/seq2seq/master/fra-eng.zip",
                    "https://www.manythings.org/anki/fra-eng.zip"),
    md5="c49e6073dca8524c9230ee8f68c3cf32", size=2951390)
FRA_TXT = RemoteFile("fra.txt", md5="5d10f7ccfce8d43c5486cbb43082148e", size=10009515)
FRA_ENG_PAIRS = 142787


def parse_tab_pairs(lines: Sequence[str], path: PathLike = "<lines>",
                    lowercase: bool = True) -> TranslationPairs:
    """``English<TAB>French`` lines to tokenised pairs (extra TAB columns, as in later releases, ignored).

    Raises:
        DataError: A line without a TAB, or with an empty side (names the line number).

    Example:
        >>> parse_tab_pairs(["Go.\\tVa !"]).tgt
        [['va', '!']]
    """
    src, tgt = [], []
    for number, line in enumerate(lines, 1):
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            raise DataError(f"line {number}: expected 'English<TAB>French', got {line[:60]!r}", path)
        src.append(simple_tokenize(fields[0], lowercase))
        tgt.append(simple_tokenize(fields[1], lowercase))
    return TranslationPairs(src, tgt, "en", "fr")


def tatoeba_fra_eng(root: Optional[PathLike] = None, download: bool = False, verify: bool = True,
                    progress: bool = True, reverse: bool = False,
                    lowercase: bool = True) -> TranslationPairs:
    """Tatoeba English-French pairs (manythings.org ``fra-eng``, 2017-09-29: 142,787 pairs).

    Reads ``<data dir>/fra-eng/fra.txt``, or extracts it from ``fra-eng.zip`` there
    (downloaded when ``download``). Sentences are tokenised by :func:`simple_tokenize`.

    Args:
        reverse: French -> English instead of English -> French.
        lowercase: Lower-case before tokenising.
        root, download, verify, progress: As :func:`multi30k`.

    Example:
        >>> pairs = tatoeba_fra_eng()  # doctest: +SKIP
        >>> len(pairs), pairs[0]  # doctest: +SKIP
        (142787, (['go', '.'], ['va', '!']))
    """
    directory = file_or_zip_member("fra-eng", FRA_TXT, FRA_ENG_ZIP, FRA_TXT.name, "Tatoeba fra-eng", root, download,
                                   verify, progress)
    path = directory / FRA_TXT.name
    pairs = parse_tab_pairs(read_lines(path), path, lowercase)
    if reverse:
        return TranslationPairs(pairs.tgt, pairs.src, "fr", "en")
    return pairs
