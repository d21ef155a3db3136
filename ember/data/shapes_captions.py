"""A generated captioned image set: two coloured shapes on a grid, captions like "a red circle above a blue square".

No captioned image collection is available offline, so this module draws one (seeded, NumPy only).

* **Images**: ``(3, size, size)`` float32 RGB in ``[0, 1]`` (default 48x48), a black background with
  a little Gaussian noise, cut into a ``grid x grid`` lattice of cells (default 3x3, 16 px each). Two
  objects sit in two distinct cells of the same row or the same column, each a circle, square or
  triangle (12-14 px across, jittered by a pixel) in one of four colours.
* **Captions**: ``a <colour> <shape> <relation> a <colour> <shape>`` with the relation ``above``,
  ``below``, ``left of`` or ``right of`` read from the cells. The subject is the object whose colour
  comes first in ``red, green, blue, yellow`` (then shape order ``circle, square, triangle``), so each
  image has exactly one correct caption and all four relations occur. (With a random subject the
  word after "a" would be a coin flip the decoder cannot know while it attends.)
* **Masks**: one boolean ``(size, size)`` mask per object (its painted pixels), in the order of
  :attr:`ShapeCaptions.objects`, for measuring where a captioner attends.
* **Held-out combinations** (:func:`shape_caption_splits`): the 12 object kinds (colour, shape) make
  66 unordered pairs of distinct kinds; ``n_held_out`` of them (a seeded choice) never appear together
  in a training image, and the test images hold only those pairs. Every kind still appears in
  training (each is in 11 pairs), so the test asks for a *new combination* of known objects.

Example:
    >>> splits = shape_caption_splits(n_train=20, n_test=5, seed=0)
    >>> splits.train.images.shape, splits.train.masks.shape
    ((20, 3, 48, 48), (20, 2, 48, 48))
    >>> splits.train.captions[0]
    ['a', 'red', 'square', 'left', 'of', 'a', 'green', 'triangle']
    >>> vocab = shape_caption_vocab()
    >>> ids, lengths = encode_captions(vocab, [["a", "red", "circle", "above", "a", "blue", "square"]])
    >>> vocab.decode(ids[0]), lengths.tolist()
    (['<bos>', 'a', 'red', 'circle', 'above', 'a', 'blue', 'square', '<eos>'], [9])
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import FrozenSet, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from .datasets.translation import BOS, EOS, PAD, SPECIALS, UNK, pad_sequences
from .datasets.vocab import Vocabulary

__all__ = ["COLOURS", "SHAPES", "RELATIONS", "ShapeCaptions", "ShapeCaptionSplits", "object_pairs",
           "make_shape_captions", "shape_caption_splits", "shape_caption_vocab", "encode_captions",
           "render_shape", "shape_word_objects"]

#: Colour names and their RGB values.
COLOURS = {"red": (0.9, 0.1, 0.1), "green": (0.1, 0.8, 0.1), "blue": (0.15, 0.3, 1.0), "yellow": (0.95, 0.9, 0.1)}
SHAPES = ("circle", "square", "triangle")
RELATIONS = ("above", "below", "left of", "right of")
#: The caption words, in vocabulary order (after ``<pad> <unk> <bos> <eos>``).
WORDS = ("a",) + tuple(COLOURS) + SHAPES + ("above", "below", "left", "right", "of")

Kind = Tuple[str, str]           # (colour, shape)
Pair = FrozenSet[Kind]


def object_pairs() -> List[Pair]:
    """The 66 unordered pairs of distinct object kinds, in a fixed order."""
    kinds = [(c, s) for c in COLOURS for s in SHAPES]
    return [frozenset(p) for p in itertools.combinations(kinds, 2)]


def render_shape(shape: str, size: int, centre: Tuple[float, float], extent: float) -> np.ndarray:
    """Boolean ``(size, size)`` mask of a ``shape`` with bounding box ``extent`` px centred at ``centre`` (row, col).

    Pixel ``(y, x)`` is inside when its centre ``(y + 0.5, x + 0.5)`` is; the triangle points up.

    Example:
        >>> int(render_shape("square", 8, (4.0, 4.0), 4).sum())
        16
    """
    y, x = np.mgrid[0:size, 0:size] + 0.5
    cy, cx = centre
    half = extent / 2.0
    if shape == "circle":
        return (y - cy) ** 2 + (x - cx) ** 2 <= half ** 2
    if shape == "square":
        return (np.abs(y - cy) <= half) & (np.abs(x - cx) <= half)
    if shape == "triangle":
        top = cy - half
        return (y >= top) & (y <= cy + half) & (np.abs(x - cx) <= (y - top) / 2.0)
    raise ValueError(f"render_shape: unknown shape {shape!r}; expected one of {SHAPES}")


def _relation(subject: Tuple[int, int], other: Tuple[int, int]) -> str:
    """Where the subject's cell (row, col) is relative to the other's (they share a row or a column)."""
    if subject[0] == other[0]:
        return "left of" if subject[1] < other[1] else "right of"
    return "above" if subject[0] < other[0] else "below"


def _priority(kind: Kind) -> Tuple[int, int]:
    """The subject of a caption is the object of the smaller key: colour order, then shape order."""
    return list(COLOURS).index(kind[0]), SHAPES.index(kind[1])


def _caption(subject: Kind, relation: str, other: Kind) -> List[str]:
    return ["a", subject[0], subject[1], *relation.split(), "a", other[0], other[1]]


@dataclass
class ShapeCaptions:
    """A generated captioned set of ``N`` images (see the module docstring).

    Attributes:
        images: ``(N, 3, size, size)`` float32 in ``[0, 1]``.
        masks: ``(N, 2, size, size)`` bool, one per object, in the order of ``objects``.
        objects: per image, the two ``(colour, shape)`` kinds.
        cells: ``(N, 2, 2)`` int64, each object's grid cell ``(row, col)``.
        captions: per image, its caption (tokens), whose subject is object 0.
    """

    images: np.ndarray
    masks: np.ndarray
    objects: List[Tuple[Kind, Kind]]
    cells: np.ndarray
    captions: List[List[str]]

    def __len__(self) -> int:
        return len(self.captions)

    def pairs(self) -> List[Pair]:
        """The unordered object-kind pair of every image."""
        return [frozenset(o) for o in self.objects]


def make_shape_captions(n: int, seed: int = 0, pairs: Optional[Sequence[Pair]] = None, size: int = 48,
                        grid: int = 3, noise: float = 0.03) -> ShapeCaptions:
    """Draw ``n`` captioned images whose object pairs come from ``pairs`` (all 66 if ``None``).

    Args:
        n: number of images.
        seed: the NumPy generator's seed; equal arguments give equal sets.
        pairs: allowed unordered pairs of distinct ``(colour, shape)`` kinds (uniform over them).
        size: image side in pixels (a multiple of ``grid``, cells of at least 8 px).
        grid: cells per side.
        noise: standard deviation of the additive pixel noise.

    Example:
        >>> data = make_shape_captions(3, seed=1)
        >>> len(data), data.images.dtype, [c[1:3] == list(o[0]) for c, o in zip(data.captions, data.objects)]
        (3, dtype('float32'), [True, True, True])
    """
    if size % grid or size // grid < 8:
        raise ValueError(f"make_shape_captions: size {size} must be a multiple of grid {grid} with cells of "
                         f"at least 8 px, got cells of {size / grid:g} px")
    pairs = list(object_pairs() if pairs is None else pairs)
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ValueError(f"make_shape_captions: expected a non-empty list of pairs of two distinct kinds, got "
                         f"{len(pairs)} pairs")
    rng = np.random.default_rng(seed)
    cell = size // grid
    # Ordered cell pairs sharing a row or a column: the relation is then unambiguous.
    cells_all = [(r, c) for r in range(grid) for c in range(grid)]
    layouts = [(a, b) for a in cells_all for b in cells_all if a != b and (a[0] == b[0] or a[1] == b[1])]
    images = np.zeros((n, 3, size, size), dtype=np.float32)
    masks = np.zeros((n, 2, size, size), dtype=bool)
    cells = np.zeros((n, 2, 2), dtype=np.int64)
    objects, captions = [], []
    for i in range(n):
        kinds = sorted(pairs[rng.integers(len(pairs))], key=_priority)     # the subject first
        layout = layouts[rng.integers(len(layouts))]
        for j, ((colour, shape), (row, col)) in enumerate(zip(kinds, layout)):
            extent = rng.uniform(cell - 4, cell - 2)
            jitter = rng.uniform(-1.0, 1.0, size=2)
            centre = ((row + 0.5) * cell + jitter[0], (col + 0.5) * cell + jitter[1])
            mask = render_shape(shape, size, centre, extent)
            masks[i, j] = mask
            images[i, :, mask] = COLOURS[colour]
            cells[i, j] = (row, col)
        objects.append((kinds[0], kinds[1]))
        captions.append(_caption(kinds[0], _relation(layout[0], layout[1]), kinds[1]))
    if noise:
        images += rng.normal(0.0, noise, size=images.shape).astype(np.float32)
        np.clip(images, 0.0, 1.0, out=images)
    return ShapeCaptions(images, masks, objects, cells, captions)


class ShapeCaptionSplits(NamedTuple):
    """Train and test sets and the held-out pairs (which occur in ``test`` only)."""

    train: ShapeCaptions
    test: ShapeCaptions
    held_out: List[Pair]


def shape_caption_splits(n_train: int = 20000, n_test: int = 1000, seed: int = 0, n_held_out: int = 10,
                         size: int = 48, grid: int = 3) -> ShapeCaptionSplits:
    """Train/test sets with ``n_held_out`` object pairs (a seeded choice) held out of training.

    The training images draw their pairs from the other ``66 - n_held_out``, the test images only from
    the held-out ones; the three sets use independent seeds derived from ``seed``.

    Example:
        >>> s = shape_caption_splits(n_train=50, n_test=10, seed=3, n_held_out=6)
        >>> len(s.held_out), set(s.test.pairs()) <= set(s.held_out), set(s.train.pairs()) & set(s.held_out)
        (6, True, set())
    """
    every = object_pairs()
    if not 1 <= n_held_out < len(every):
        raise ValueError(f"shape_caption_splits: n_held_out must be in [1, {len(every) - 1}], got {n_held_out}")
    order = np.random.default_rng([seed, 0]).permutation(len(every))
    held_out = [every[k] for k in sorted(order[:n_held_out])]
    kept = [every[k] for k in sorted(order[n_held_out:])]
    train = make_shape_captions(n_train, seed=int(np.random.default_rng([seed, 1]).integers(2 ** 31)),
                                pairs=kept, size=size, grid=grid)
    test = make_shape_captions(n_test, seed=int(np.random.default_rng([seed, 2]).integers(2 ** 31)),
                               pairs=held_out, size=size, grid=grid)
    return ShapeCaptionSplits(train, test, held_out)


def shape_caption_vocab() -> Vocabulary:
    """The fixed vocabulary ``<pad> <unk> <bos> <eos>`` + the caption words (ids 0-3 as in translation).

    Example:
        >>> v = shape_caption_vocab()
        >>> v.tokens[:5], len(v)
        (['<pad>', '<unk>', '<bos>', '<eos>', 'a'], 17)
    """
    return Vocabulary(SPECIALS + WORDS, unk=UNK)


def encode_captions(vocab: Vocabulary, captions: Sequence[Sequence[str]]) -> Tuple[np.ndarray, np.ndarray]:
    """``(ids (N, T), lengths (N,))``: each caption as ``<bos> ... <eos>``, padded with ``<pad>``."""
    return pad_sequences([vocab.encode(list(c)) for c in captions], pad_id=vocab.id(PAD),
                         bos_id=vocab.id(BOS), eos_id=vocab.id(EOS))


def shape_word_objects(tokens: Sequence[str], objects: Sequence[Kind]) -> List[Tuple[int, int]]:
    """``(position, object index)`` of every word of ``tokens`` naming a shape that is in the image.

    A shape word is matched to the object of that colour (the preceding word) and shape; if none
    matches, to the only object of that shape; otherwise (absent, or two of that shape and no colour
    match) it is left out.

    Example:
        >>> shape_word_objects("a red circle above a blue circle".split(), [("blue", "circle"), ("red", "circle")])
        [(2, 1), (6, 0)]
    """
    found = []
    for t, word in enumerate(tokens):
        if word not in SHAPES:
            continue
        colour = tokens[t - 1] if t else None
        exact = [k for k, o in enumerate(objects) if o == (colour, word)]
        same_shape = [k for k, o in enumerate(objects) if o[1] == word]
        match = exact or (same_shape if len(same_shape) == 1 else [])
        if match:
            found.append((t, match[0]))
    return found
