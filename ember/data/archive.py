"""Safe extraction of named members from a ``.tar.gz`` archive.

Only the members asked for are extracted, only if they are regular files, and
each is written atomically under a name chosen by Ember (never by the archive),
so a hostile or damaged archive cannot write outside the target directory or
leave half a file behind.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import zlib
from pathlib import Path
from typing import Dict, Union

from .download import atomic_write
from .errors import DataError

PathLike = Union[str, "os.PathLike[str]"]


def extract_members(archive: PathLike, members: Dict[str, PathLike]) -> None:
    """Extract ``members`` (archive name -> destination path) from a tar archive.

    Args:
        archive: Path of a ``.tar``, ``.tar.gz`` or ``.tgz`` file.
        members: Maps each member name inside the archive to the path it is written to.

    Raises:
        DataError: The archive is unreadable, or a member is missing or not a
            regular file; the message names the archive and the member.

    Example:
        >>> import io, tarfile, tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with tarfile.open(d / "a.tar.gz", "w:gz") as tar:
        ...     info = tarfile.TarInfo("top/x.txt"); info.size = 2
        ...     tar.addfile(info, io.BytesIO(b"hi"))
        >>> extract_members(d / "a.tar.gz", {"top/x.txt": d / "x.txt"})
        >>> (d / "x.txt").read_text()
        'hi'
    """
    try:
        with tarfile.open(archive, "r:*") as tar:
            for name, dest in members.items():
                try:
                    info = tar.getmember(name)
                except KeyError:
                    raise DataError(f"archive has no member {name!r}", archive) from None
                if not info.isfile():
                    raise DataError(f"archive member {name!r} is not a regular file", archive)
                source = tar.extractfile(info)
                assert source is not None  # regular files always have content
                dest = Path(dest)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with source, atomic_write(dest) as out:
                    shutil.copyfileobj(source, out, 1 << 20)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot read archive ({type(exc).__name__}: {exc})", archive) from exc
