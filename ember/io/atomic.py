"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The bytes go to a temporary file in the destination's directory (a rename is only
atomic within one file system), which is flushed and fsync'ed before
``os.replace`` puts it in place; the directory is then fsync'ed so that the
rename itself survives a power cut. A crash at any point leaves at worst a
stray ``.<name>.*.tmp`` file, never a truncated ``<name>``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: Prefix and suffix of the temporary files, so that cleanup can recognise its own.
TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"


def fsync_directory(directory: str | os.PathLike) -> None:
    """Flush a directory entry to disk (a no-op where the OS cannot open directories)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on directories; the rename still happened
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file that replaces ``path`` only if the block succeeds.

    Args:
        path: the destination; its directory must exist.
        mode: ``"wb"`` (default) or ``"w"`` for text.

    Example:
        >>> import os, tempfile
        >>> from ember.io.atomic import atomic_write
        >>> target = os.path.join(tempfile.mkdtemp(), "notes.txt")
        >>> with atomic_write(target, "w") as f:
        ...     _ = f.write("all or nothing")
        >>> open(target).read()
        'all or nothing'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write: mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    if path.is_symlink():
        path = path.resolve()  # replace the file the link points to, keep the link
    if path.exists() and not path.is_file():
        # os.replace would swap a device (/dev/null), FIFO or directory entry for a plain file.
        raise ValueError(f"atomic_write: {str(path)!r} exists and is not a regular file")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"atomic_write: directory {str(directory)!r} of {str(path)!r} does not exist")
    fd, temp = tempfile.mkstemp(dir=directory, prefix=TEMP_PREFIX + path.name + ".", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    fsync_directory(directory)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "wb") as handle:
        handle.write(data)


def remove_stale_temporaries(directory: str | os.PathLike, name_prefix: str = "",
                             min_age: float = 0.0) -> list[Path]:
    """Delete temporary files left by writes that crashed; returns what was removed.

    Only files made by :func:`atomic_write` for names starting with ``name_prefix``
    and not modified for ``min_age`` seconds are touched: with several processes
    sharing a directory (MPI ranks), a younger file may be another's write in progress.
    """
    import time

    removed = []
    now = time.time()
    for entry in Path(directory).glob(f"{TEMP_PREFIX}{name_prefix}*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            if min_age and now - entry.stat().st_mtime < min_age:
                continue
            entry.unlink()
            removed.append(entry)
    return removed
