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
import zipfile
import zlib
from pathlib import Path
from typing import Dict, Iterable, Optional, Union

from .download import atomic_write
from .errors import DataError

PathLike = Union[str, "os.PathLike[str]"]


#: Members read from an archive's table before giving up: the archives Ember reads
#: have at most a few hundred, while a small ``.tar.gz`` of empty headers can hold
#: millions (each kept in memory by :mod:`tarfile`).
MAX_MEMBERS = 10_000


def find_members(tar: tarfile.TarFile, names: Iterable[str], archive: PathLike,
                 max_size: Optional[int] = None) -> Dict[str, tarfile.TarInfo]:
    """Scan ``tar`` for the regular-file members ``names``, stopping as soon as all are found.

    Args:
        tar: An open archive.
        names: Member names wanted.
        archive: The archive's path, for error messages.
        max_size: Largest member size accepted (bytes), or ``None``.

    Raises:
        DataError: A member is missing, not a regular file, or larger than
            ``max_size``; or the archive has more than :data:`MAX_MEMBERS` members
            before all are found.

    Example:
        >>> import io, tarfile
        >>> buf = io.BytesIO()
        >>> with tarfile.open(fileobj=buf, mode="w") as t:
        ...     info = tarfile.TarInfo("a.txt"); info.size = 2; t.addfile(info, io.BytesIO(b"hi"))
        >>> _ = buf.seek(0)
        >>> with tarfile.open(fileobj=buf) as t:
        ...     find_members(t, ["a.txt"], "mem.tar")["a.txt"].size
        2
    """
    wanted = set(names)
    found: Dict[str, tarfile.TarInfo] = {}
    for count, info in enumerate(tar, 1):
        if info.name in wanted and info.name not in found:
            if not info.isfile():
                raise DataError(f"archive member {info.name!r} is not a regular file", archive)
            if max_size is not None and info.size > max_size:
                raise DataError(f"archive member {info.name!r} declares {info.size} bytes, "
                                f"more than the {max_size} it can hold (crafted or wrong "
                                "archive)", archive)
            found[info.name] = info
            if len(found) == len(wanted):
                break
        if count >= MAX_MEMBERS:
            raise DataError(f"archive has more than {MAX_MEMBERS} members before "
                            f"{sorted(wanted - set(found))[0]!r} (not the expected archive)",
                            archive)
    for name in names:
        if name not in found:
            raise DataError(f"archive has no member {name!r}", archive)
    return found


def extract_members(archive: PathLike, members: Dict[str, PathLike],
                    max_size: Optional[int] = None) -> None:
    """Extract ``members`` (archive name -> destination path) from a tar archive.

    Args:
        archive: Path of a ``.tar``, ``.tar.gz`` or ``.tgz`` file.
        members: Maps each member name inside the archive to the path it is written to.
        max_size: Largest member size accepted (see :func:`find_members`).

    Raises:
        DataError: The archive is unreadable, or a member is missing, not a
            regular file or too large; the message names the archive and the member.

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
            infos = find_members(tar, members, archive, max_size)
            for name, dest in members.items():
                source = tar.extractfile(infos[name])
                assert source is not None  # regular files always have content
                dest = Path(dest)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with source, atomic_write(dest) as out:
                    shutil.copyfileobj(source, out, 1 << 20)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        if isinstance(exc, DataError):
            raise
        raise DataError(f"cannot read archive ({type(exc).__name__}: {exc})", archive) from exc


def extract_zip_member(archive: PathLike, member: str, dest: PathLike, max_bytes: int) -> None:
    """Write one member of a zip to ``dest`` atomically; zip damage becomes a :class:`DataError`.

    The member's declared size is bounded by ``max_bytes`` before anything is
    inflated, and :mod:`zipfile` checks its CRC. (Zip counterpart of
    :func:`extract_members`.)
    """
    try:
        with zipfile.ZipFile(archive) as zf:
            info = zf.getinfo(member)
            if info.file_size > max_bytes:
                raise DataError(f"member {member} declares {info.file_size} bytes, expected at "
                                f"most {max_bytes}", archive)
            data = zf.read(info)  # checks the CRC
    except KeyError:
        raise DataError(f"no member {member!r} in the archive", archive) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise DataError(f"not a readable zip archive ({exc})", archive) from exc
    with atomic_write(dest) as f:
        f.write(data)


def file_or_zip_member(folder: str, wanted, archive, member: str, dataset: str, root, download: bool,
                       verify: bool, progress: bool) -> Path:
    """The folder holding ``wanted`` (a :class:`~ember.data.download.RemoteFile`): found as it is, or
    extracted from ``archive`` (a RemoteFile: found, or downloaded when ``download``), member ``member``.

    ``folder`` is the dataset's folder name under the data directories (see
    :func:`ember.data.download.locate`); checksums are checked when ``verify``, and the extracted
    file always is.
    """
    from .download import candidate_dirs, check_file, download_url, locate, missing_error

    directory = locate(folder, [wanted.name], root)
    if directory is not None:
        if verify:
            wanted.verify(directory)
        return directory
    directory = locate(folder, [archive.name], root)
    if directory is None:
        directory = candidate_dirs(folder, root)[0]
        if not download:
            raise missing_error(dataset, directory, [archive], extra=f"({wanted.name} is extracted from it)")
        download_url(archive.urls, directory / archive.name, md5=archive.md5, size=archive.size, progress=progress)
    elif verify:
        archive.verify(directory)
    extract_zip_member(directory / archive.name, member, directory / wanted.name, wanted.size or 0)
    check_file(directory / wanted.name, md5=wanted.md5, size=wanted.size)
    return directory
