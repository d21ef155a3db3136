"""Fixtures of the data-layer tests: the real shared data, a private decode cache, file writers.

The real datasets come from ``$EMBER_DATA`` (CI sets it to ``../shared/data``,
relative to the repository, which is resolved here), else from
``<repo>/../shared/data``. Decoded ``.npy`` caches go to a temporary directory for
the session (``$EMBER_CACHE``), so the tests never write into the home directory
nor into the shared data.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def _resolve_shared_data() -> Path:
    env = os.environ.get("EMBER_DATA")
    if not env:
        return (REPO.parent / "shared" / "data").resolve()
    path = Path(env).expanduser()
    if path.is_absolute():
        return path
    # A relative EMBER_DATA is meant relative to where pytest runs, which is
    # normally the repository root; fall back to the repository root if not.
    for base in (Path.cwd(), REPO):
        if (base / path).is_dir():
            return (base / path).resolve()
    return (Path.cwd() / path).resolve()


SHARED_DATA = _resolve_shared_data()


@pytest.fixture(scope="session")
def decoded_cache(tmp_path_factory) -> Path:
    """One private decode cache for the session, so MNIST is decoded once per run."""
    return tmp_path_factory.mktemp("ember-decoded")


@pytest.fixture(autouse=True)
def _data_environment(monkeypatch, decoded_cache):
    monkeypatch.setenv("EMBER_DATA", str(SHARED_DATA))
    monkeypatch.setenv("EMBER_CACHE", str(decoded_cache))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real datasets (see shared/data/README.md); tests needing them skip without them."""
    if not (SHARED_DATA / "mnist").is_dir():
        pytest.skip(f"real datasets not found in {SHARED_DATA}; set EMBER_DATA to shared/data")
    return SHARED_DATA


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """An IDX file (uncompressed) holding ``array``, written the way the MNIST files are."""
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=dtypes[type_code]).tobytes()


@pytest.fixture
def write_mnist(tmp_path):
    """Write a small MNIST-format split (gzipped IDX) into a folder; returns the folder."""

    def write(images: np.ndarray, labels: np.ndarray, split: str = "t10k",
              folder: Path | None = None) -> Path:
        folder = folder or tmp_path / "mnist"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{split}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images)))
        (folder / f"{split}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
        return folder

    return write


@pytest.fixture
def make_idx():
    """The :func:`idx_bytes` writer, as a fixture (conftest modules are not importable)."""
    return idx_bytes
