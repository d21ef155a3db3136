"""ember/data/download.py: data directory, checksums, atomic writes, mirrors, offline errors.

Downloads are exercised for real, through ``file://`` URLs and through an HTTP
server started on 127.0.0.1 by the test itself.
"""

import functools
import hashlib
import http.server
import stat
import threading
from pathlib import Path

import pytest

from ember.data.download import (RemoteFile, atomic_write, check_file, data_dir, download_url,
                                 ensure_files, file_digest, is_read_only_dir, locate)
from ember.data.errors import DataError, DataNotFoundError

PAYLOAD = bytes(range(256)) * 4000  # about 1 MB
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


def leftovers(directory: Path):
    """Temporary files an interrupted write would leave behind."""
    return [p.name for p in directory.iterdir() if p.name.endswith(".part")]


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        if self.path.startswith("/short/"):
            # Announce the full length, send half, hang up: a broken connection.
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "payload.bin").write_bytes(PAYLOAD)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                            functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


# ----------------------------------------------------------------------- directories

def test_data_dir_honours_ember_data_and_resolves_relative_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "abs"))
    assert data_dir() == tmp_path / "abs"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBER_DATA", "rel/data")
    assert data_dir() == (tmp_path / "rel" / "data").resolve()
    monkeypatch.delenv("EMBER_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == (tmp_path / "home" / ".cache" / "ember").resolve()


def test_read_only_directories_are_recognised_even_for_root(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    assert not is_read_only_dir(ro)
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert is_read_only_dir(ro)
    finally:
        ro.chmod(0o755)
    assert is_read_only_dir(tmp_path / "missing")


def test_locate_tries_root_folder_then_root(tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "a").write_bytes(b"")
    (tmp_path / "b").write_bytes(b"")
    assert locate("mnist", ["a"], tmp_path) == tmp_path / "mnist"
    assert locate("mnist", ["b"], tmp_path) == tmp_path
    assert locate("mnist", ["a", "b"], tmp_path) is None


# ----------------------------------------------------------------------- checksums

def test_digests_of_a_real_file(shared_data):
    path = shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz"
    assert file_digest(path) == "ec29112dd5afa0611ce80d1b7f02629c"
    assert file_digest(path, "sha256") == hashlib.sha256(path.read_bytes()).hexdigest()
    check_file(path, md5="EC29112DD5AFA0611CE80D1B7F02629C", size=4542)


def test_check_file_names_the_file_and_the_problem(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(PAYLOAD)
    check_file(path, md5=PAYLOAD_MD5, sha256=PAYLOAD_SHA256, size=len(PAYLOAD))
    with pytest.raises(DataError, match=f"size is {len(PAYLOAD)} bytes, expected 5") as info:
        check_file(path, size=5)
    assert info.value.path == str(path)
    with pytest.raises(DataError, match="checksum mismatch: md5 is"):
        check_file(path, md5="0" * 32)
    with pytest.raises(DataError, match="checksum mismatch: sha256 is"):
        check_file(path, sha256="0" * 64)


# ----------------------------------------------------------------------- atomic writes

def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_write(target) as f:
        f.write(b"first")
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"half of the sec")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"first" and leftovers(tmp_path) == []


# ----------------------------------------------------------------------- downloads

def test_download_from_a_file_url(tmp_path, capsys):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    out = download_url(src.as_uri(), tmp_path / "dl" / "copy.bin", md5=PAYLOAD_MD5,
                   sha256=PAYLOAD_SHA256, size=len(PAYLOAD))
    assert out.read_bytes() == PAYLOAD
    err = capsys.readouterr().err
    assert "copy.bin" in err and "MB" in err  # plain-text progress on stderr


def test_checksum_mismatch_leaves_no_file(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = tmp_path / "dl" / "copy.bin"
    with pytest.raises(DataError, match="checksum mismatch") as info:
        download_url(src.as_uri(), dest, md5="0" * 32, progress=False)
    assert "nothing was written" in str(info.value) and src.as_uri() in str(info.value)
    assert not dest.exists() and leftovers(dest.parent) == []


def test_size_mismatch_leaves_no_file(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    dest = tmp_path / "copy.bin"
    with pytest.raises(DataError, match="expected 7"):
        download_url(src.as_uri(), dest, size=7, progress=False)
    assert not dest.exists()


def test_mirrors_fall_through_to_the_second(server, tmp_path, capsys):
    dest = tmp_path / "payload.bin"
    download_url([f"{server}/missing/payload.bin", f"{server}/payload.bin"], dest, md5=PAYLOAD_MD5)
    assert dest.read_bytes() == PAYLOAD
    assert "payload.bin" in capsys.readouterr().err


def test_every_mirror_failing_is_reported_per_mirror(server, tmp_path):
    dest = tmp_path / "payload.bin"
    urls = [f"{server}/missing/payload.bin", f"{server}/short/payload.bin",
            "file:///nonexistent/payload.bin", "not a url"]
    with pytest.raises(DataError) as info:
        download_url(urls, dest, md5=PAYLOAD_MD5, progress=False)
    text = str(info.value)
    for url in urls:
        assert url in text
    assert "HTTP Error 404" in text
    assert f"connection closed after {len(PAYLOAD) // 2} of {len(PAYLOAD)} bytes" in text
    assert not dest.exists() and leftovers(tmp_path) == []


def test_a_partial_download_never_replaces_a_good_file(server, tmp_path):
    dest = tmp_path / "payload.bin"
    dest.write_bytes(b"previous complete content")
    with pytest.raises(DataError):
        download_url(f"{server}/short/payload.bin", dest, progress=False)
    assert dest.read_bytes() == b"previous complete content"


def test_http_download_with_progress(server, tmp_path, capsys):
    dest = download_url(f"{server}/payload.bin", tmp_path / "p.bin", sha256=PAYLOAD_SHA256)
    assert dest.read_bytes() == PAYLOAD
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "Downloading p.bin (1.0 MB)" in err  # start and end lines


def test_download_needs_a_url(tmp_path):
    with pytest.raises(DataError, match="no URL"):
        download_url([], tmp_path / "x")


# ----------------------------------------------------------------------- ensure_files

def remote(tmp_path, name="payload.bin"):
    mirror = tmp_path / "mirror"
    mirror.mkdir(exist_ok=True)
    (mirror / name).write_bytes(PAYLOAD)
    return RemoteFile(name, ("file:///nonexistent/" + name, (mirror / name).as_uri()),
                      md5=PAYLOAD_MD5, size=len(PAYLOAD))


def test_offline_error_says_which_files_go_where(tmp_path):
    files = [remote(tmp_path, "a.bin"), remote(tmp_path, "b.bin")]
    (tmp_path / "data" / "demo").mkdir(parents=True)
    (tmp_path / "data" / "demo" / "a.bin").write_bytes(PAYLOAD)
    with pytest.raises(DataNotFoundError) as info:
        ensure_files("Demo", "demo", files, root=tmp_path / "data")
    text = str(info.value)
    assert f"Put these 1 file(s) in {tmp_path / 'data' / 'demo'}" in text
    assert str(tmp_path / "data" / "demo" / "b.bin") in text
    assert str(tmp_path / "data" / "demo" / "a.bin") not in text  # present files are not listed
    assert files[1].urls[1] in text and "download=True" in text and "EMBER_DATA" in text
    assert info.value.missing == ("b.bin",)


def test_ensure_files_downloads_missing_then_nothing(tmp_path, monkeypatch):
    files = [remote(tmp_path)]
    directory = ensure_files("Demo", "demo", files, root=tmp_path / "data",
                             download_missing=True, progress=False)
    assert directory == tmp_path / "data" / "demo"
    assert (directory / "payload.bin").read_bytes() == PAYLOAD

    import ember.data.download as module

    monkeypatch.setattr(module, "download_url", lambda *a, **k: pytest.fail("downloaded again"))
    assert ensure_files("Demo", "demo", files, root=tmp_path / "data",
                        download_missing=True) == directory


def test_ensure_files_uses_ember_data_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path / "env"))
    (tmp_path / "env" / "demo").mkdir(parents=True)
    (tmp_path / "env" / "demo" / "payload.bin").write_bytes(PAYLOAD)
    assert ensure_files("Demo", "demo", [remote(tmp_path)]) == tmp_path / "env" / "demo"


def test_ensure_files_verifies_present_files(tmp_path):
    folder = tmp_path / "data" / "demo"
    folder.mkdir(parents=True)
    (folder / "payload.bin").write_bytes(PAYLOAD[:-1] + b"\x00")
    with pytest.raises(DataError, match="checksum mismatch") as info:
        ensure_files("Demo", "demo", [remote(tmp_path)], root=tmp_path / "data")
    assert info.value.path == str(folder / "payload.bin")
    ensure_files("Demo", "demo", [remote(tmp_path)], root=tmp_path / "data", verify=False)


def test_an_oversized_download_stops_at_the_expected_size(tmp_path):
    # A server sending more than the published size is cut off, not read to the end.
    src = tmp_path / "big.bin"
    src.write_bytes(bytes(5 << 20))
    dest = tmp_path / "copy.bin"
    with pytest.raises(DataError, match=r"got 1048576\+ bytes, expected 1000 \(stopped reading\)"):
        download_url(src.as_uri(), dest, size=1000, progress=False)
    assert not dest.exists() and not list(tmp_path.glob(".copy.bin.*"))
