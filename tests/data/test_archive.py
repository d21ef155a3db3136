"""ember/data/archive.py: extracting only named, regular members, atomically."""

import io
import tarfile

import pytest

from ember.data.archive import extract_members
from ember.data.errors import DataError


def build(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.SYMTYPE
                info.linkname = "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = len(content)
                tar.addfile(info, io.BytesIO(content))


def test_extracts_named_members_to_chosen_paths(tmp_path):
    archive = tmp_path / "a.tar.gz"
    build(archive, {"top/en/x.txt": b"x" * 1000, "top/en/y.txt": b"y", "../evil.txt": b"bad"})
    extract_members(archive, {"top/en/x.txt": tmp_path / "out" / "x.txt"})
    assert (tmp_path / "out" / "x.txt").read_bytes() == b"x" * 1000
    assert not (tmp_path / "out" / "y.txt").exists()  # only what was asked for
    assert not (tmp_path.parent / "evil.txt").exists()


def test_missing_and_irregular_members_are_refused(tmp_path):
    archive = tmp_path / "a.tar.gz"
    build(archive, {"link": None, "ok": b"1"})
    with pytest.raises(DataError, match="archive has no member 'nope'") as info:
        extract_members(archive, {"nope": tmp_path / "nope"})
    assert info.value.path == str(archive)
    with pytest.raises(DataError, match="not a regular file"):
        extract_members(archive, {"link": tmp_path / "link"})
    assert not (tmp_path / "link").exists()


def test_truncated_archive_leaves_no_partial_file(tmp_path):
    archive = tmp_path / "a.tar.gz"
    big = bytes(range(256)) * 40000
    build(archive, {"big.bin": big})
    archive.write_bytes(archive.read_bytes()[:2000])
    with pytest.raises(DataError, match="cannot read archive"):
        extract_members(archive, {"big.bin": tmp_path / "out" / "big.bin"})
    out = tmp_path / "out"
    assert not (out / "big.bin").exists()
    assert not out.exists() or [p.name for p in out.iterdir()] == []


def test_not_an_archive(tmp_path):
    path = tmp_path / "x.tar.gz"
    path.write_bytes(b"plain text")
    with pytest.raises(DataError, match="cannot read archive"):
        extract_members(path, {"a": tmp_path / "a"})
