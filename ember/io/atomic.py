"""Atomic file writes: a reader sees the old file or the new one, never half of one.

The bytes go to a temporary file in the destination's directory (a rename is only
atomic within one file system), which is flushed and fsync'ed before
``os.replace`` puts it in place; the directory is then fsync'ed so that the
rename itself survives a power cut. A crash at any point leaves at worst a
stray ``.<name>.<host>-<pid>.<random>.tmp`` file, never a truncated ``<name>``.

The temporary file's name carries the writer's host and process id, so the next
write of the same target can tell a crashed write from one in progress: it
deletes the temporary files of that target whose writer was on this host and is
no longer running. A file of another host (a shared file system), or of an older
Ember without the id, is left alone here: only an age rule
(:func:`remove_stale_temporaries` with ``min_age``) removes those.
"""
from __future__ import annotations

import contextlib
import functools
import glob
import os
import re
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: Prefix and suffix of the temporary files, so that cleanup can recognise its own.
TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"
#: What follows ``.<name>.`` in a temporary file's name: ``<host>-<pid>.<random>.tmp``. The host
#: holds no dots, so a target whose name extends another's (``a.bin``, ``a.bin.old``) never
#: passes for the shorter one.
_WRITER = re.compile(r"(?P<host>[A-Za-z0-9_]+)-(?P<pid>[0-9]+)\.[^.]+" + re.escape(TEMP_SUFFIX))


@functools.lru_cache(maxsize=1)
def _host() -> str:
    """This machine, as temporary file names spell it: the host name, plus the pid namespace on Linux.

    The namespace tells apart containers that share a host name and a volume but
    not their process ids, where a live writer's pid would look dead.
    """
    name = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:48] or "host"
    try:
        return f"{name}_{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:  # not Linux
        return name


def _writer_is_dead(remainder: str) -> bool:
    """Whether the writer of a temporary file surely died; ``remainder``: its name after ``.<target>.``.

    Only a writer on this host can be checked; a pid reused by another process
    reads as alive, which keeps the file (the safe mistake).
    """
    match = _WRITER.fullmatch(remainder)
    if match is None or match["host"] != _host() or os.name == "nt":  # on Windows os.kill(pid, 0) kills
        return False
    pid = int(match["pid"])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (OverflowError, OSError):  # alive under another user (PermissionError), or no such pid number
        return False
    return False


def _writer_part(file_name: str) -> str:
    """The ``<host>-<pid>.<random>.tmp`` end of a temporary file's name (whatever its target)."""
    parts = file_name.rsplit(".", 3)
    return ".".join(parts[-3:]) if len(parts) == 4 else ""


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
    _remove_dead_writers(directory, path.name)
    fd, temp = tempfile.mkstemp(dir=directory, prefix=f"{TEMP_PREFIX}{path.name}.{_host()}-{os.getpid()}.",
                                suffix=TEMP_SUFFIX)
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


def _remove_dead_writers(directory: Path, name: str) -> None:
    """Delete the temporary files of target ``name`` whose writer died (a killed save)."""
    start = len(TEMP_PREFIX) + len(name) + 1
    for entry in directory.glob(f"{glob.escape(TEMP_PREFIX + name)}.*{TEMP_SUFFIX}"):
        if _writer_is_dead(entry.name[start:]):
            with contextlib.suppress(OSError):  # removed by another process meanwhile, or read-only
                entry.unlink()


def remove_stale_temporaries(directory: str | os.PathLike, name_prefix: str = "",
                             min_age: float = 0.0) -> list[Path]:
    """Delete temporary files left by writes that crashed; returns what was removed.

    Only files made by :func:`atomic_write` for names starting with ``name_prefix``
    are touched, and of those: the ones whose writer ran on this host and has
    exited, and the ones not modified for ``min_age`` seconds (0: all of them).
    With several processes sharing a directory (MPI ranks, several hosts), a
    younger file of a live or unknown writer may be a write in progress.
    """
    removed = []
    now = time.time()
    for entry in Path(directory).glob(f"{glob.escape(TEMP_PREFIX + name_prefix)}*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            young = min_age and now - entry.stat().st_mtime < min_age
            if young and not _writer_is_dead(_writer_part(entry.name)):
                continue
            entry.unlink()
            removed.append(entry)
    return removed
