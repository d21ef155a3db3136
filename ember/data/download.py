"""Where dataset files live, and how they get there safely.

* :func:`data_dir` resolves the data directory: ``$EMBER_DATA`` if set, else
  ``~/.cache/ember``. Each dataset has its own folder below it (``mnist/``...).
* :func:`download_url` fetches one file from a list of mirrors with the standard
  library's :mod:`urllib` only, shows a progress bar on stderr, verifies its size
  and checksum, and writes it atomically: the bytes go to a temporary file in the
  same directory, which is fsynced and then renamed over the final name. A
  partial or corrupt download therefore never sits under the real file name.
* :func:`ensure_files` is what datasets call: nothing is downloaded when the files
  are present; when they are missing and ``download=False`` the error lists each
  file, the directory it belongs in and the URLs it can be fetched from.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Iterator, List, Optional, Sequence, Tuple, Union

from .errors import DataError, DataNotFoundError

PathLike = Union[str, "os.PathLike[str]"]

#: Environment variable that overrides the data directory.
ENV_DATA = "EMBER_DATA"
_CHUNK = 1 << 20  # 1 MiB: large enough to be fast, small enough for a smooth progress bar.


def data_dir() -> Path:
    """The directory that holds one folder per dataset.

    ``$EMBER_DATA`` wins when set (a relative value is resolved against the current
    directory); otherwise ``~/.cache/ember``. The directory is not created here.

    Returns:
        An absolute path.

    Example:
        >>> data_dir().is_absolute()
        True
    """
    env = os.environ.get(ENV_DATA)
    if env:
        return Path(env).expanduser().resolve()
    return (Path.home() / ".cache" / "ember").resolve()


def is_read_only_dir(path: PathLike) -> bool:
    """Whether ``path`` should be treated as read-only.

    A directory whose mode has no write bit counts as read-only even for root,
    who could write there anyway: shared data folders are marked that way on
    purpose, and Ember must not litter them with cache files.

    Example:
        >>> is_read_only_dir("/")  # doctest: +SKIP
        True
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return True
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return True
    return not os.access(path, os.W_OK)


# --------------------------------------------------------------------------- checksums

def file_digest(path: PathLike, algorithm: str = "md5") -> str:
    """Hex digest of a file, read in chunks.

    Args:
        path: File to hash.
        algorithm: Any :mod:`hashlib` name; Ember uses ``"md5"`` and ``"sha256"``.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"abc")
        >>> file_digest(p)
        '900150983cd24fb0d6963f7d28e17f72'
    """
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: PathLike, *, md5: Optional[str] = None, sha256: Optional[str] = None,
               size: Optional[int] = None) -> None:
    """Raise :class:`DataError` naming ``path`` unless it has the expected size and digests.

    Checks that are ``None`` are skipped. The size is checked first because it is
    free and explains a truncated file better than a digest does.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"abc")
        >>> check_file(p, md5="900150983cd24fb0d6963f7d28e17f72", size=3)
        >>> check_file(p, size=4)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ember.data.errors.DataError: ember.data: ...: size is 3 bytes, expected 4 ...
    """
    if size is not None:
        actual = os.path.getsize(path)
        if actual != size:
            raise DataError(f"size is {actual} bytes, expected {size} (truncated or wrong file)",
                            path)
    for algorithm, expected in (("md5", md5), ("sha256", sha256)):
        if expected is not None:
            actual_digest = file_digest(path, algorithm)
            if actual_digest != expected.lower():
                raise DataError(f"checksum mismatch: {algorithm} is {actual_digest}, "
                                f"expected {expected.lower()} (corrupt or different file)", path)


# --------------------------------------------------------------------------- atomic writes

@contextlib.contextmanager
def atomic_write(path: PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file next to ``path``; on success fsync it and rename it over ``path``.

    If the block raises, the temporary file is removed and ``path`` is untouched,
    so a reader never sees a half-written file under the final name.

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "out.bin"
        >>> with atomic_write(target) as f:
        ...     _ = f.write(b"complete")
        >>> target.read_bytes()
        b'complete'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); data files should read like any other.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable on POSIX; not possible (nor needed) everywhere.
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------- progress

class _Progress:
    """Plain-text progress on stderr; tqdm when it is installed."""

    def __init__(self, name: str, total: Optional[int], enabled: bool) -> None:
        self.name, self.total, self.enabled = name, total, enabled
        self.done = 0
        self._last = 0.0
        self._start = time.monotonic()
        self._tqdm = None
        if not enabled:
            return
        self._tty = sys.stderr.isatty()
        if not self._tty:  # logs get one line at the start and one at the end
            sys.stderr.write(f"Downloading {name} ({_human(total)})\n")
            return
        try:  # optional: a nicer bar on a terminal when the user already has tqdm
            from tqdm import tqdm  # type: ignore
            self._tqdm = tqdm(total=total, unit="B", unit_scale=True, desc=name, file=sys.stderr)
        except ImportError:
            pass

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.update(n)
            return
        now = time.monotonic()
        if self._tty and now - self._last > 0.1:
            self._last = now
            sys.stderr.write("\r" + self._line(now))
            sys.stderr.flush()

    def close(self, ok: bool) -> None:
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.close()
            return
        end = "" if ok else " (failed)"
        sys.stderr.write(("\r" if self._tty else "") + self._line(time.monotonic()) + end + "\n")
        sys.stderr.flush()

    def _line(self, now: float) -> str:
        rate = self.done / max(now - self._start, 1e-6)
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(30 * frac)
            return (f"{self.name}: [{bar:<30}] {100 * frac:5.1f}% "
                    f"{_human(self.done)}/{_human(self.total)} {_human(rate)}/s")
        return f"{self.name}: {_human(self.done)} {_human(rate)}/s"


def _human(n: Optional[float]) -> str:
    if n is None:
        return "unknown size"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000.0
    return f"{n} B"  # pragma: no cover


# --------------------------------------------------------------------------- download

def download_url(urls: Union[str, Sequence[str]], dest: PathLike, *, md5: Optional[str] = None,
             sha256: Optional[str] = None, size: Optional[int] = None, progress: bool = True,
             timeout: float = 60.0) -> Path:
    """Download ``dest`` from the first mirror that delivers a verified copy.

    Mirrors are tried in order; a mirror that fails (unreachable, HTTP error,
    short read, wrong size or checksum) is skipped and the next one is tried. The
    file is written atomically, so on failure ``dest`` does not exist (or keeps
    its previous content) and no temporary file is left behind.

    Args:
        urls: One URL or a list of mirror URLs for the same file (``http(s)://``
            or ``file://``).
        dest: Final path of the file; its directory is created.
        md5: Expected MD5 hex digest, or ``None``.
        sha256: Expected SHA-256 hex digest, or ``None``.
        size: Expected size in bytes, or ``None``.
        progress: Show a progress bar on stderr.
        timeout: Socket timeout in seconds for each mirror.

    Returns:
        ``dest`` as a :class:`~pathlib.Path`.

    Raises:
        DataError: No mirror delivered a verified file; the message lists what
            went wrong with each mirror.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "src").write_bytes(b"abc")
        >>> out = download_url(["file:///nonexistent/src", (d / "src").as_uri()], d / "copy",
        ...                md5="900150983cd24fb0d6963f7d28e17f72", progress=False)
        >>> out.read_bytes()
        b'abc'
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    dest = Path(dest)
    if not urls:
        raise DataError("no URL to download from", dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: List[str] = []
    for url in urls:
        try:
            _download_one(url, dest, md5=md5, sha256=sha256, size=size, progress=progress,
                          timeout=timeout)
            return dest
        except (OSError, ValueError, http.client.HTTPException) as exc:
            # DataError is a ValueError; URLError/HTTPError/timeouts are OSErrors.
            reason = exc.problem if isinstance(exc, DataError) else f"{type(exc).__name__}: {exc}"
            failures.append(f"  {url}: {reason}")
    raise DataError("download failed from every mirror; nothing was written:\n"
                    + "\n".join(failures)
                    + f"\nIf you can get the file another way, put it at {dest}.", dest)


def _download_one(url: str, dest: Path, *, md5: Optional[str], sha256: Optional[str],
                  size: Optional[int], progress: bool, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "ember-data/0.1"})
    hashers = {name: hashlib.new(name) for name, want in (("md5", md5), ("sha256", sha256))
               if want is not None}
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        announced = int(length) if length and length.isdigit() else None
        bar = _Progress(dest.name, size if size is not None else announced, progress)
        received = 0
        ok = False
        expected = size if size is not None else announced
        try:
            with atomic_write(dest) as out:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    if expected is not None and received + len(chunk) > expected:
                        # Stop at once: a hostile or broken server must not fill the disk.
                        raise DataError(f"got {received + len(chunk)}+ bytes, expected "
                                        f"{expected} (stopped reading)", url)
                    out.write(chunk)
                    for hasher in hashers.values():
                        hasher.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
                # Raising inside the block discards the temporary file: a short or
                # corrupt download never takes the final name.
                if announced is not None and received != announced:
                    raise DataError(f"connection closed after {received} of {announced} bytes",
                                    url)
                if size is not None and received != size:
                    raise DataError(f"got {received} bytes, expected {size}", url)
                for name, hasher in hashers.items():
                    want = (md5 if name == "md5" else sha256).lower()  # type: ignore[union-attr]
                    if hasher.hexdigest() != want:
                        raise DataError(f"checksum mismatch: {name} is {hasher.hexdigest()}, "
                                        f"expected {want}", url)
            ok = True
        finally:
            bar.close(ok)


# --------------------------------------------------------------------------- datasets' view

@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset: its name in the dataset folder, checksums and mirrors.

    Attributes:
        name: File name relative to the dataset folder.
        urls: Mirror URLs, tried in order.
        md5: Published MD5, or ``None``.
        sha256: SHA-256, or ``None``.
        size: Size in bytes, or ``None``.

    Example:
        >>> f = RemoteFile("t10k-labels-idx1-ubyte.gz", ("https://example.org/t10k-labels-idx1-ubyte.gz",),
        ...                md5="ec29112dd5afa0611ce80d1b7f02629c", size=4542)
        >>> f.name
        't10k-labels-idx1-ubyte.gz'
    """

    name: str
    urls: Tuple[str, ...] = field(default_factory=tuple)
    md5: Optional[str] = None
    sha256: Optional[str] = None
    size: Optional[int] = None

    def verify(self, directory: PathLike) -> Path:
        """Check the file in ``directory`` against size and checksums; return its path.

        Example:
            >>> RemoteFile("x").verify("/nonexistent")  # doctest: +SKIP
        """
        path = Path(directory) / self.name
        check_file(path, md5=self.md5, sha256=self.sha256, size=self.size)
        return path


def locate(folder: str, names: Sequence[str], root: Optional[PathLike] = None) -> Optional[Path]:
    """Find the directory that holds all of ``names`` for a dataset.

    With ``root`` given, ``root/folder`` is tried, then ``root`` itself (so both
    ``root=".../data"`` and ``root=".../data/mnist"`` work). Without it,
    ``data_dir()/folder`` is tried.

    Returns:
        The first directory holding every file, or ``None``.

    Example:
        >>> locate("mnist", ["no-such-file"], root="/nonexistent") is None
        True
    """
    for directory in candidate_dirs(folder, root):
        if all((directory / name).is_file() for name in names):
            return directory
    return None


def candidate_dirs(folder: str, root: Optional[PathLike] = None) -> List[Path]:
    """Directories searched for a dataset's files, in order; the first is where downloads go.

    Example:
        >>> [p.name for p in candidate_dirs("mnist", "/data")]
        ['mnist', 'data']
    """
    if root is not None:
        base = Path(root).expanduser().resolve()
        return [base / folder, base]
    return [data_dir() / folder]


def ensure_files(dataset: str, folder: str, files: Sequence[RemoteFile], *,
                 root: Optional[PathLike] = None, download_missing: bool = False,
                 progress: bool = True, verify: bool = True) -> Path:
    """Return the directory holding ``files``, downloading the missing ones if allowed.

    Args:
        dataset: Human name used in messages (``"MNIST"``).
        folder: Folder name under the data directory (``"mnist"``).
        files: The files needed.
        root: Data root overriding :func:`data_dir` (see :func:`locate`).
        download_missing: Fetch missing files from their mirrors.
        progress: Show a progress bar while downloading.
        verify: Check size and checksum of files that were already present.

    Raises:
        DataNotFoundError: Files are missing and ``download_missing`` is false; the
            message lists each file, its directory and its URLs.
        DataError: A file fails its checksum, or no mirror delivered it.

    Example:
        >>> ensure_files("Demo", "demo", [RemoteFile("a.txt")], root="/nonexistent")
        Traceback (most recent call last):
        ...
        ember.data.errors.DataNotFoundError: ember.data: /nonexistent/demo: Demo files missing...
    """
    names = [f.name for f in files]
    directory = locate(folder, names, root)
    if directory is None:
        directory = candidate_dirs(folder, root)[0]
        missing = [f for f in files if not (directory / f.name).is_file()]
        if not download_missing:
            raise missing_error(dataset, directory, missing)
        for f in missing:
            download_url(f.urls, directory / f.name, md5=f.md5, sha256=f.sha256, size=f.size,
                         progress=progress)
        return directory  # freshly downloaded files were verified on the way in
    if verify:
        for f in files:
            f.verify(directory)
    return directory


def missing_error(dataset: str, directory: Path, missing: Sequence[RemoteFile],
                  extra: str = "") -> DataNotFoundError:
    """The offline error: which files go where, and where to get them.

    Example:
        >>> err = missing_error("MNIST", Path("/d"), [RemoteFile("a.gz", ("https://x/a.gz",))])
        >>> "https://x/a.gz" in str(err)
        True
    """
    sources = "\n".join(f"  {f.name}: " + (", ".join(f.urls) if f.urls else "(no known URL)")
                        for f in missing)
    hint = (f"Download them from:\n{sources}\n"
            f"or pass download=True, or set {ENV_DATA} to a directory that holds "
            f"'{directory.name}/' with these files.")
    if extra:
        hint += "\n" + extra
    return DataNotFoundError.missing(dataset, directory, [f.name for f in missing], hint)
