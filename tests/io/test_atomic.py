"""Atomic writes: the destination holds the old bytes or the new ones, never a mix."""
import os

import pytest

from ember.io import atomic
from ember.io.atomic import atomic_write, atomic_write_bytes, remove_stale_temporaries


def test_writes_bytes_and_text(tmp_path):
    atomic_write_bytes(tmp_path / "a.bin", b"\x00\x01")
    with atomic_write(tmp_path / "b.txt", "w") as f:
        f.write("héllo")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "héllo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "b.txt"]


def test_an_error_inside_the_block_keeps_the_old_file(tmp_path):
    target = tmp_path / "weights"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_write(target) as f:
        f.write(b"half of the new")
        raise RuntimeError("disk on fire")
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_a_failed_rename_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "weights"
    target.write_bytes(b"old")

    def failing_replace(src, dst):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="simulated crash"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [target]


def test_file_and_directory_are_fsynced_before_and_after_the_rename(tmp_path, monkeypatch):
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append("replace"), real_replace(a, b))[1])
    atomic_write_bytes(tmp_path / "x", b"data")
    assert events[:2] == ["fsync", "replace"]
    assert events.count("fsync") >= 1 + (os.name == "posix")  # the directory too, where it can be


def test_missing_directory_and_bad_mode(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        atomic_write_bytes(tmp_path / "no" / "such" / "file", b"")
    with pytest.raises(ValueError, match="mode must be"), atomic_write(tmp_path / "f", "a"):
        pass


def test_refuses_to_replace_what_is_not_a_regular_file(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(ValueError, match="is not a regular file"):
        atomic_write_bytes(tmp_path / "folder", b"x")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        with pytest.raises(ValueError, match="is not a regular file"):
            atomic_write_bytes(tmp_path / "pipe", b"x")


def test_writes_through_a_symlink(tmp_path):
    (tmp_path / "real").write_bytes(b"old")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    atomic_write_bytes(tmp_path / "link", b"new")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real").read_bytes() == b"new"


def test_stale_temporaries_are_removed_and_only_ours(tmp_path):
    stale = tmp_path / f"{atomic.TEMP_PREFIX}ckpt-1.safetensors.abc{atomic.TEMP_SUFFIX}"
    stale.write_bytes(b"partial")
    other = tmp_path / "notes.tmp"
    other.write_bytes(b"keep")
    assert remove_stale_temporaries(tmp_path, "ckpt-") == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.tmp"]


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _temporary(directory, target: str, writer: str):
    path = directory / f".{target}.{writer}.k3x9q2zz.tmp"
    path.write_bytes(b"half")
    return path


@pytest.mark.skipif(os.name == "nt", reason="a pid cannot be probed safely on Windows")
def test_the_next_write_of_a_target_removes_the_temporaries_of_dead_writers_only(tmp_path):
    host = atomic._host()
    dead = _temporary(tmp_path, "w.bin", f"{host}-{_dead_pid()}")
    live = _temporary(tmp_path, "w.bin", f"{host}-{os.getppid()}")  # our parent: alive
    own = _temporary(tmp_path, "w.bin", f"{host}-{os.getpid()}")  # another thread of this process
    remote = _temporary(tmp_path, "w.bin", f"otherhost-{_dead_pid()}")  # a pid of another machine
    legacy = tmp_path / ".w.bin.abcdefgh.tmp"  # an older Ember's name, without the writer
    legacy.write_bytes(b"half")
    longer = _temporary(tmp_path, "w.bin.old", f"{host}-{_dead_pid()}")  # another target's
    atomic_write_bytes(tmp_path / "w.bin", b"new")
    assert not dead.exists()
    assert all(p.exists() for p in (live, own, remote, legacy, longer))
    assert (tmp_path / "w.bin").read_bytes() == b"new"


@pytest.mark.skipif(os.name == "nt", reason="a pid cannot be probed safely on Windows")
def test_stale_temporaries_of_dead_writers_go_whatever_their_age(tmp_path):
    host = atomic._host()
    dead = _temporary(tmp_path, "ckpt-7.safetensors", f"{host}-{_dead_pid()}")
    live = _temporary(tmp_path, "ckpt-8.safetensors", f"{host}-{os.getpid()}")
    assert remove_stale_temporaries(tmp_path, "ckpt-", min_age=300) == [dead]
    assert live.exists()


def test_temporary_names_carry_the_writer(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(atomic.os, "replace", lambda src, dst: (seen.append(src), real_replace(src, dst)))
    atomic_write_bytes(tmp_path / "a.b", b"x")
    name = os.path.basename(seen[0])
    assert name.startswith(f".a.b.{atomic._host()}-{os.getpid()}.") and name.endswith(".tmp")
    assert atomic._WRITER.fullmatch(name[len(".a.b."):])
