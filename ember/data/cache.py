"""Cache of decoded arrays as ``.npy`` files, so a dataset decodes only once.

Decoding MNIST means gunzipping 10 MB into 47 MB and checking its checksum; that
is done on the first load only. The result is saved with :func:`numpy.save` (never
pickle; it is loaded with ``allow_pickle=False``) and later loads read it back in
a few milliseconds.

Where the cache goes: next to the source file when its directory is writable
(``train-images-idx3-ubyte.gz.images.<fingerprint>.npy``), otherwise in
:func:`decoded_cache_dir` (``$EMBER_CACHE``, else ``~/.cache/ember/decoded``).
The fingerprint is derived from the source's size and modification time (and,
in the shared cache directory, its absolute path), so replacing a source file
invalidates its cache without any bookkeeping.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from .download import atomic_write, is_read_only_dir

PathLike = Union[str, "os.PathLike[str]"]

#: Environment variable that overrides where decoded arrays are cached.
ENV_CACHE = "EMBER_CACHE"
_PACKAGE_DIR = Path(__file__).resolve().parent


def decoded_cache_dir() -> Path:
    """Directory for decoded arrays whose source directory is read-only.

    ``$EMBER_CACHE`` when set, else ``~/.cache/ember/decoded``.

    Example:
        >>> decoded_cache_dir().is_absolute()
        True
    """
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env).expanduser().resolve()
    return (Path.home() / ".cache" / "ember" / "decoded").resolve()


def cache_paths(sources: Sequence[PathLike], key: str) -> List[Path]:
    """Where the decoded array ``key`` of ``sources`` is looked for, in order.

    Args:
        sources: The original data file(s) the array is decoded from.
        key: Name of the array (``"images"``, ``"labels"``...).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.gz"; _ = p.write_bytes(b"x")
        >>> first = cache_paths([p], "images")[0]
        >>> first.parent == p.parent, first.name.startswith("a.gz.images."), first.suffix
        (True, True, '.npy')
    """
    resolved = [Path(s).resolve() for s in sources]
    stats = [(p, p.stat()) for p in resolved]
    local = _fingerprint("|".join(f"{p.name}:{st.st_size}:{st.st_mtime_ns}" for p, st in stats))
    shared = _fingerprint("|".join(f"{p}:{st.st_size}:{st.st_mtime_ns}" for p, st in stats))
    first = resolved[0]
    stem = f"{first.name}.{key}"
    paths = []
    # Never write into the installed package (the shipped sample) or a folder
    # marked read-only (a shared data directory).
    if _PACKAGE_DIR not in first.parents and not is_read_only_dir(first.parent):
        paths.append(first.parent / f"{stem}.{local}.npy")
    paths.append(decoded_cache_dir() / f"{stem}.{shared}.npy")
    return paths


def cached_arrays(sources: Union[PathLike, Sequence[PathLike]],
                  decode: Callable[[], Dict[str, np.ndarray]],
                  keys: Sequence[str]) -> Dict[str, np.ndarray]:
    """Return the arrays ``decode()`` would produce, from the ``.npy`` cache when present.

    ``decode`` is called only on a cache miss (some key missing or unreadable),
    and its arrays are then saved atomically for next time. A cache file that
    cannot be read (truncated, foreign) is ignored and rewritten. If no location is
    writable, the arrays are simply decoded each time.

    Args:
        sources: The original file(s); their size and mtime key the cache.
        decode: Produces a dict holding at least ``keys``.
        keys: Names of the arrays to cache.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "nums.txt"; _ = p.write_text("1 2 3")
        >>> cached_arrays(p, lambda: {"x": np.loadtxt(p, dtype=np.int64)}, ["x"])["x"]
        array([1, 2, 3])
    """
    sources = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    locations = {key: cache_paths(sources, key) for key in keys}
    hits = {key: load_cached(paths) for key, paths in locations.items()}
    if all(v is not None for v in hits.values()):
        return hits  # type: ignore[return-value]
    decoded = decode()
    result = {key: np.ascontiguousarray(decoded[key]) for key in keys}
    for key in keys:
        save_first(locations[key], result[key])
    return result


def save_first(paths: List[Path], array: np.ndarray) -> Optional[Path]:
    """Save ``array`` atomically at the first writable path; return it (or ``None``).

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> save_first([d / "a.npy"], np.arange(3)).name
        'a.npy'
    """
    for path in paths:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as f:
                np.save(f, array, allow_pickle=False)
            return path
        except OSError:
            continue  # try the next location; caching is an optimisation, not a requirement
    return None


def load_cached(paths: List[Path]) -> Optional[np.ndarray]:
    """The first readable array among ``paths``, or ``None``.

    Example:
        >>> load_cached([Path("/nonexistent.npy")]) is None
        True
    """
    for path in paths:
        if path.is_file():
            try:
                # Mapped first: a damaged or foreign header claiming more data than the
                # file holds fails here instead of allocating what it claims.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # numpy's "Python 2 header" notice
                    mapped = np.load(path, mmap_mode="r", allow_pickle=False)
                    return np.array(mapped)  # a private copy, so no file stays open
            except Exception:  # noqa: BLE001 - a damaged header fails in many ways
                # (ValueError, OSError, tokenize.TokenError, SyntaxError, MemoryError...);
                # the cache is only an optimisation, so any unreadable file is re-decoded.
                continue
    return None


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]
