"""Errors raised by the data layer.

Every problem with a data file is reported as a :class:`DataError` whose message
names the file and says what is wrong with it, so that a user can act on the
message alone (delete the file, download it again, or put it somewhere else).
"""

from __future__ import annotations

import os
from typing import Optional, Sequence, Union

PathLike = Union[str, "os.PathLike[str]"]


class DataError(ValueError):
    """A data file is corrupt, truncated, of the wrong kind, or fails its checksum.

    The message reads ``ember.data: <path>: <problem>``; the path is also kept as
    :attr:`path` (``None`` when the problem is not about one file).

    Example:
        >>> err = DataError("bad magic number 2049, expected 2051 (IDX images)",
        ...                 path="/data/mnist/train-images-idx3-ubyte.gz")
        >>> str(err)
        'ember.data: /data/mnist/train-images-idx3-ubyte.gz: bad magic number 2049, expected 2051 (IDX images)'
    """

    def __init__(self, problem: str, path: Optional[PathLike] = None) -> None:
        self.path = None if path is None else os.fspath(path)
        self.problem = problem
        prefix = "ember.data: " if self.path is None else f"ember.data: {self.path}: "
        super().__init__(prefix + problem)

    # Exceptions are re-created from ``args`` when copied or sent across threads;
    # keep the (problem, path) pair so that the copy reads the same.
    def __reduce__(self):  # pragma: no cover - exercised only by copy/multiprocessing
        return (type(self), (self.problem, self.path))


class DataNotFoundError(DataError, FileNotFoundError):
    """Files a dataset needs are missing and were not (or could not be) downloaded.

    It is both a :class:`DataError` and a :class:`FileNotFoundError`, so either
    ``except`` clause catches it. The message lists every missing file and the
    directory to put it in.

    Example:
        >>> err = DataNotFoundError.missing("MNIST", "/data/mnist", ["t10k-labels-idx1-ubyte.gz"])
        >>> "t10k-labels-idx1-ubyte.gz" in str(err) and isinstance(err, FileNotFoundError)
        True
    """

    def __init__(self, problem: str, path: Optional[PathLike] = None,
                 missing: Sequence[str] = ()) -> None:
        self.missing = tuple(missing)
        DataError.__init__(self, problem, path)

    def __reduce__(self):  # pragma: no cover
        return (type(self), (self.problem, self.path, self.missing))

    @classmethod
    def missing(cls, dataset: str, directory: PathLike, names: Sequence[str],
                hint: str = "") -> "DataNotFoundError":
        """Build the error for ``names`` missing from ``directory``.

        Args:
            dataset: Human name of the dataset, e.g. ``"MNIST"``.
            directory: The directory the files belong in.
            names: File names (relative to ``directory``) that are missing.
            hint: Extra sentence(s) appended to the message, e.g. where to download.

        Returns:
            The error, ready to raise.

        Example:
            >>> raise DataNotFoundError.missing("MNIST", "/d", ["a.gz"])  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            ember.data.errors.DataNotFoundError: ember.data: /d: MNIST files missing...
        """
        directory = os.fspath(directory)
        listing = "\n".join(f"  {os.path.join(directory, name)}" for name in names)
        problem = (f"{dataset} files missing. Put these {len(names)} file(s) in {directory}:\n"
                   f"{listing}")
        if hint:
            problem += "\n" + hint
        return cls(problem, directory, missing=names)
