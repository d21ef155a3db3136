"""Vocabulary: a two-way map between tokens (characters or words) and integer ids."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Union

import numpy as np

from ..errors import DataError

PathLike = Union[str, "os.PathLike[str]"]


class Vocabulary:
    """Token <-> id map with optional special tokens and an unknown-token fallback.

    Ids are assigned in the order of ``tokens``. Encoding a string with a
    vocabulary of single characters is vectorised (one NumPy lookup for the whole
    text), so encoding Tiny Shakespeare's 1.1 M characters takes milliseconds.

    Args:
        tokens: Distinct tokens, in id order.
        unk: Token that unknown tokens map to (it must be in ``tokens``); ``None``
            makes unknown tokens an error.

    Example:
        >>> vocab = Vocabulary(["<unk>", "a", "b"], unk="<unk>")
        >>> vocab.encode(["a", "b", "z"]).tolist(), vocab.decode([2, 1])
        ([1, 2, 0], ['b', 'a'])
        >>> Vocabulary.from_text("hello").tokens
        ['e', 'h', 'l', 'o']
    """

    def __init__(self, tokens: Iterable[str], unk: Optional[str] = None) -> None:
        self.tokens: List[str] = list(tokens)
        self.index: Dict[str, int] = {}
        for i, token in enumerate(self.tokens):
            if token in self.index:
                raise ValueError(f"Vocabulary: duplicate token {token!r}")
            self.index[token] = i
        if unk is not None and unk not in self.index:
            raise ValueError(f"Vocabulary: unk token {unk!r} is not among the tokens")
        self.unk = unk
        self._char_table: Optional[tuple] = None

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_text(cls, text: str) -> "Vocabulary":
        """Character vocabulary: the sorted distinct characters of ``text``.

        Example:
            >>> len(Vocabulary.from_text("abcabc"))
            3
        """
        return cls(sorted(set(text)))

    @classmethod
    def build(cls, tokens: Iterable[str], min_freq: int = 1, max_size: Optional[int] = None,
              specials: Sequence[str] = (), unk: Optional[str] = None) -> "Vocabulary":
        """Word vocabulary from a token stream, most frequent first.

        Args:
            tokens: The token stream.
            min_freq: Drop tokens seen fewer times.
            max_size: Keep at most this many tokens (specials included).
            specials: Tokens placed first (e.g. ``"<pad>"``, ``"<unk>"``).
            unk: Unknown-token fallback (added to ``specials`` if missing).

        Example:
            >>> v = Vocabulary.build("a b a c a b".split(), specials=["<unk>"], unk="<unk>")
            >>> v.tokens
            ['<unk>', 'a', 'b', 'c']
        """
        specials = list(specials)
        if unk is not None and unk not in specials:
            specials.append(unk)
        counts = Counter(tokens)
        for s in specials:
            counts.pop(s, None)
        # Ties keep first-seen order (Counter preserves insertion order, sort is stable).
        ranked = [t for t, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c >= min_freq]
        if max_size is not None:
            ranked = ranked[: max(0, max_size - len(specials))]
        return cls(specials + ranked, unk=unk)

    # ----------------------------------------------------------------- queries
    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self.index

    def __getitem__(self, token: str) -> int:
        return self.id(token)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self.tokens == other.tokens and self.unk == other.unk

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.tokens[:8])
        return f"Vocabulary({len(self)} tokens: {head}{', ...' if len(self) > 8 else ''})"

    @property
    def itos(self) -> List[str]:
        """Id -> token list (alias of :attr:`tokens`)."""
        return self.tokens

    @property
    def stoi(self) -> Dict[str, int]:
        """Token -> id dict (alias of :attr:`index`)."""
        return self.index

    def id(self, token: str) -> int:
        """Id of ``token`` (the unk id for unknown tokens, if any)."""
        found = self.index.get(token)
        if found is None:
            if self.unk is None:
                raise KeyError(f"Vocabulary: {token!r} is not in the vocabulary")
            return self.index[self.unk]
        return found

    # ----------------------------------------------------------------- encode / decode
    def encode(self, tokens: Union[str, Sequence[str]]) -> np.ndarray:
        """Ids of a token sequence as ``int64``; a ``str`` is a sequence of characters.

        Raises:
            KeyError: An unknown token and no ``unk``.

        Example:
            >>> Vocabulary.from_text("abc").encode("cab").tolist()
            [2, 0, 1]
        """
        if isinstance(tokens, str) and self._is_char_level():
            return self._encode_chars(tokens)
        tokens = tokens if hasattr(tokens, "__len__") else list(tokens)
        return np.fromiter((self.id(t) for t in tokens), dtype=np.int64, count=len(tokens))

    def decode(self, ids: Iterable[int]) -> List[str]:
        """Tokens of a sequence of ids.

        Example:
            >>> "".join(Vocabulary.from_text("abc").decode([2, 0]))
            'ca'
        """
        tokens = self.tokens
        return [tokens[i] for i in np.asarray(ids, dtype=np.int64).ravel().tolist()]

    def decode_text(self, ids: Iterable[int], sep: str = "") -> str:
        """Ids back to a string: characters joined directly, words with ``sep``.

        Example:
            >>> Vocabulary.from_text("ab").decode_text([1, 0, 1])
            'bab'
        """
        ids = np.asarray(ids, dtype=np.int64).ravel()
        if sep == "" and self._is_char_level():
            codes, _, _ = self._chars()
            # One gather and one decode instead of a join over a million strings.
            return codes[ids].astype("<u4").tobytes().decode("utf-32-le")
        return sep.join(self.decode(ids))

    def _is_char_level(self) -> bool:
        return bool(self.tokens) and all(len(t) == 1 for t in self.tokens)

    def _chars(self) -> tuple:
        if self._char_table is None:
            codes = np.array([ord(t) for t in self.tokens], dtype=np.int64)
            order = np.argsort(codes, kind="stable")
            self._char_table = (codes, codes[order], order)
        return self._char_table

    def _encode_chars(self, text: str) -> np.ndarray:
        codes, sorted_codes, order = self._chars()
        points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.int64)
        pos = np.searchsorted(sorted_codes, points).clip(0, len(sorted_codes) - 1)
        known = sorted_codes[pos] == points
        ids = order[pos]
        if not known.all():
            if self.unk is None:
                bad = sorted({chr(c) for c in points[~known][:50].tolist()})
                raise KeyError(f"Vocabulary: characters not in the vocabulary: {bad!r}")
            ids[~known] = self.index[self.unk]
        return ids.astype(np.int64)

    # ----------------------------------------------------------------- persistence
    def to_json(self) -> str:
        """JSON text (no pickle) that :meth:`from_json` reads back.

        Example:
            >>> v = Vocabulary(["a", "b"]); Vocabulary.from_json(v.to_json()) == v
            True
        """
        return json.dumps({"tokens": self.tokens, "unk": self.unk}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, name: Optional[PathLike] = None) -> "Vocabulary":
        """Inverse of :meth:`to_json`.

        Raises:
            DataError: Not JSON, nested too deeply to parse, not an object with a
                ``"tokens"`` list of distinct strings, or an ``"unk"`` that is not
                one of them; the message names ``name`` (the file) when given.

        Example:
            >>> Vocabulary.from_json('{"tokens": ["a", "a"]}')  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            ember.data.errors.DataError: ember.data: not a vocabulary: duplicate token 'a'
        """
        try:
            obj = json.loads(text)
        except ValueError as exc:  # JSONDecodeError
            raise DataError(f"not a vocabulary: invalid JSON ({exc})", name) from exc
        except RecursionError:
            raise DataError("not a vocabulary: JSON nested too deeply", name) from None
        if not isinstance(obj, dict) or not isinstance(obj.get("tokens"), list):
            raise DataError("not a vocabulary: expected a JSON object with a \"tokens\" list",
                            name)
        tokens, unk = obj["tokens"], obj.get("unk")
        bad = next((t for t in tokens if not isinstance(t, str)), None)
        if bad is not None:
            raise DataError(f"not a vocabulary: tokens must be strings, got "
                            f"{type(bad).__name__} {str(bad)[:40]}", name)
        if unk is not None and not isinstance(unk, str):
            raise DataError(f"not a vocabulary: \"unk\" must be a string or null, got "
                            f"{type(unk).__name__}", name)
        try:
            return cls(tokens, unk=unk)
        except ValueError as exc:
            raise DataError(f"not a vocabulary: {str(exc).removeprefix('Vocabulary: ')}",
                            name) from exc

    def save(self, path: PathLike) -> None:
        """Write the vocabulary as JSON (UTF-8)."""
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: PathLike) -> "Vocabulary":
        """Read a vocabulary written by :meth:`save`.

        Raises:
            DataError: The file is not UTF-8 or not a vocabulary (see :meth:`from_json`).
        """
        from .text import decode_text  # text.py imports this module

        return cls.from_json(decode_text(Path(path).read_bytes(), path), path)
