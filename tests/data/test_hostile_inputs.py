"""Hostile input for every file format ember.data reads: crafted cases and seeded fuzzing.

Every outcome must be a successful load or a DataError naming the file: never a bare
Python/NumPy exception, and never an allocation larger than the file justifies.
The corpus below keeps each crafted case of issue 24 as a named regression test.
"""

import gzip
import io
import json
import random
import struct
import tarfile
import tracemalloc

import numpy as np
import pytest

from ember.data.archive import find_members
from ember.data.cache import load_cached
from ember.data.datasets import CIFAR10, MNIST, CharCorpus, Vocabulary, WordCorpus, parse_babi
from ember.data.datasets.cifar import IMAGE_BYTES, _read_file, _read_members, parse_cifar
from ember.data.datasets.idx import MAGIC_IMAGES, MAGIC_LABELS, gunzip, parse_idx, read_idx
from ember.data.datasets.text import decode_text, read_text
from ember.data.errors import DataError


def idx(shape, type_code=0x08):
    return bytes([0, 0, type_code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


def gz(data):
    return gzip.compress(data, compresslevel=9)


BABI = ("1 Mary moved to the bathroom.\n2 John went to the hallway.\n"
        "3 Where is Mary?\tbathroom\t1\n4 Daniel went back to the hallway.\n"
        "5 Where is Daniel?\thallway\t4\n1 Sandra journeyed to the garden.\n"
        "2 Where is Sandra?\tgarden\t1\n")


def cifar_records(labels):
    return b"".join(bytes([label]) + bytes(range(256)) * (IMAGE_BYTES // 256) for label in labels)


def tar_gz(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def peak_bytes(fn):
    """Peak Python/NumPy allocation while ``fn`` runs (it must raise DataError)."""
    tracemalloc.start()
    try:
        with pytest.raises(DataError) as info:
            fn()
        return tracemalloc.get_traced_memory()[1], info.value
    finally:
        tracemalloc.stop()


# --------------------------------------------------------------------------- crafted corpus

# name -> (file name, bytes, loader(path), pattern of the expected message)
CASES = {
    "idx-gzip-bomb-header-too-big-for-mnist": (
        "t10k-labels-idx1-ubyte.gz", gz(idx([1 << 30]) + bytes(1 << 22)),
        lambda p: read_idx(p, MAGIC_LABELS, limit=10000), "more than the 10000 bytes"),
    "idx-gzip-bomb-trailing-data": (
        "x.gz", gz(idx([16]) + bytes(1 << 25)), read_idx, "continues past"),
    "idx-gzip-truncated-stream": (
        "x.gz", gz(idx([3, 28, 28]) + bytes(range(256)) * 9)[:-40], read_idx, "bad gzip data"),
    "idx-gzip-truncated-data": ("x.gz", gz(idx([3, 28, 28]) + bytes(100)), read_idx,
                                "truncated IDX data"),
    "idx-gzip-not-gzip": ("x.gz", b"\x00\x00\x08\x01\x00\x00\x00\x01a", read_idx, "bad gzip"),
    "idx-absurd-dimensions": ("x.idx", idx([2**32 - 1] * 4) + bytes(8), read_idx,
                              "truncated IDX data"),
    "idx-bad-crc": ("x.gz", gz(idx([4]) + b"abcd")[:-8] + b"\0\0\0\0\x08\0\0\0", read_idx,
                    "bad gzip data"),
    "babi-superscript-id": ("qa.txt", "\u00b2 Mary went home.\n".encode(),
                            lambda p: parse_babi(read_text(p), p), r"line 1: expected 'ID text'"),
    "babi-5000-digit-id": ("qa.txt", ("9" * 5000 + " Mary went home.\n").encode(),
                           lambda p: parse_babi(read_text(p), p), r"line 1: expected 'ID text'"),
    "babi-empty-question": ("qa.txt", b"1 Mary went home.\n2 \thome\t1\n",
                            lambda p: parse_babi(read_text(p), p), r"line 2: .*non-empty question"),
    "babi-empty-answer": ("qa.txt", b"1 Mary went home.\n2 Where is Mary?\t\t1\n",
                          lambda p: parse_babi(read_text(p), p), r"line 2: .*non-empty question"),
    "babi-superscript-support": ("qa.txt", "1 Mary went home.\n2 Where?\thome\t\u00b9\n".encode(),
                                 lambda p: parse_babi(read_text(p), p), r"line 2: supporting"),
    "babi-huge-support-id": ("qa.txt", ("1 A.\n2 Where?\thome\t" + "1" * 5000 + "\n").encode(),
                             lambda p: parse_babi(read_text(p), p), r"line 2: supporting"),
    "babi-empty-statement": ("qa.txt", b"1 Mary went home.\n2  \n",
                             lambda p: parse_babi(read_text(p), p), r"line 2: statement 2 is empty"),
    "text-invalid-utf8": ("t.txt", b"hello\n\xc3\x28world", CharCorpus.from_file,
                          r"byte offset 6 \(invalid continuation byte\)"),
    "text-invalid-utf8-after-bom": ("t.txt", b"\xef\xbb\xbfab\xff", WordCorpus.from_file,
                                    r"byte offset 5"),
    "vocab-deep-nesting": ("v.json", b"[" * 100000 + b"]" * 100000, Vocabulary.load,
                           "nested too deeply|expected a JSON object"),
    "vocab-not-json": ("v.json", b'{"tokens": [', Vocabulary.load, "invalid JSON"),
    "vocab-not-utf8": ("v.json", b'{"tokens": ["\xff"]}', Vocabulary.load, "byte offset 13"),
    "vocab-token-not-a-string": ("v.json", b'{"tokens": [1, 2]}', Vocabulary.load,
                                 "tokens must be strings"),
    "vocab-duplicate-tokens": ("v.json", b'{"tokens": ["a", "a"]}', Vocabulary.load,
                               "duplicate token"),
    "vocab-unk-not-a-token": ("v.json", b'{"tokens": ["a"], "unk": "?"}', Vocabulary.load,
                              "unk token"),
    "cifar-truncated": ("data_batch_1.bin", cifar_records([1, 2])[:-1],
                        lambda p: parse_cifar(p.read_bytes(), p), "wrong length"),
    "cifar-100-records-read-as-cifar-10": (
        "data_batch_1.bin", cifar_records([1, 2, 3]) + bytes(3),
        lambda p: parse_cifar(p.read_bytes(), p), "not a whole number"),
    "cifar-bad-label": ("data_batch_1.bin", cifar_records([3, 200]),
                        lambda p: parse_cifar(p.read_bytes(), p), "record 1: label 200"),
    "cifar-empty": ("data_batch_1.bin", b"", lambda p: parse_cifar(p.read_bytes(), p), "empty"),
    "cifar-archive-garbage": ("c.tar.gz", b"\x1f\x8b" + bytes(100),
                              lambda p: _read_members(p, ["a/x.bin"], 10), "cannot read archive"),
    "cifar-archive-member-too-big": (
        "c.tar.gz", tar_gz({"a/x.bin": bytes(100)}),
        lambda p: _read_members(p, ["a/x.bin"], 50), "declares 100 bytes, more than the 50"),
    "cifar-archive-member-missing": ("c.tar.gz", tar_gz({"a/y.bin": b""}),
                                     lambda p: _read_members(p, ["a/x.bin"], 50), "no member"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_crafted_case_is_a_data_error_naming_the_file(case, tmp_path):
    name, data, load, message = CASES[case]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DataError, match=message) as info:
        load(path)
    assert str(path) in str(info.value)


def test_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    # 32 MiB of zeros after a header declaring 16 bytes: ~32 KB on disk.
    path = tmp_path / "bomb.gz"
    path.write_bytes(gz(idx([16]) + bytes(1 << 25)))
    assert path.stat().st_size < 100_000
    peak, err = peak_bytes(lambda: read_idx(path))
    assert "continues past" in str(err) and peak < 4 << 20
    # A header declaring a GiB: refused against MNIST's bound before inflating anything.
    path.write_bytes(gz(idx([1 << 30]) + bytes(1 << 22)))
    peak, err = peak_bytes(lambda: read_idx(path, limit=10000))
    assert peak < 4 << 20
    # With no bound, memory follows the data actually present (4 MiB), not the header.
    peak, err = peak_bytes(lambda: read_idx(path))
    assert "truncated IDX data" in str(err) and peak < 16 << 20
    peak, err = peak_bytes(lambda: gunzip(path.read_bytes(), path, limit=1000))
    assert "inflates past 1000 bytes" in str(err) and peak < 4 << 20


def test_mnist_without_verification_refuses_a_gzip_bomb(write_mnist, tmp_path):
    folder = write_mnist(np.zeros((3, 28, 28), np.uint8), np.array([1, 2, 3], np.uint8))
    bomb = folder / "t10k-images-idx3-ubyte.gz"
    bomb.write_bytes(gz(idx([3_000_000, 28, 28], ) + bytes(1 << 22)))
    peak, err = peak_bytes(lambda: MNIST(root=tmp_path, train=False, verify=False))
    assert err.path == str(bomb) and "more than the 7840000 bytes" in str(err)
    assert peak < 4 << 20


def test_a_cifar_file_larger_than_any_batch_is_refused_unread(tmp_path):
    path = tmp_path / "data_batch_1.bin"
    with open(path, "wb") as f:
        f.truncate(1 << 40)  # a sparse 1 TiB file: nothing on disk, nothing read
    with pytest.raises(DataError, match=r"more than the 30730000 bytes") as info:
        _read_file(path, 10000 * (IMAGE_BYTES + 1))
    assert info.value.path == str(path)


def test_cifar_dataset_checks_member_sizes_in_the_archive(tmp_path, monkeypatch):
    folder = tmp_path / "cifar10"
    folder.mkdir()
    members = {f"cifar-10-batches-bin/{n}": cifar_records([1, 2, 3])
               for n in CIFAR10.split_files["train"] + CIFAR10.split_files["test"]}
    (folder / CIFAR10.archive).write_bytes(tar_gz(members))
    monkeypatch.setattr(CIFAR10, "max_records", 2)
    with pytest.raises(DataError, match="declares 9219 bytes, more than the 6146"):
        CIFAR10(root=tmp_path, verify=False)


def test_archive_with_endless_members_is_refused(tmp_path, monkeypatch):
    import ember.data.archive as archive_module

    monkeypatch.setattr(archive_module, "MAX_MEMBERS", 50)
    path = tmp_path / "many.tar.gz"
    path.write_bytes(tar_gz({f"f{i}": b"" for i in range(60)}))
    with tarfile.open(path) as tar, pytest.raises(DataError, match="more than 50 members"):
        find_members(tar, ["wanted"], path)


def test_leading_bom_is_not_a_token(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("\ufeffthe cat\nthe dog\n".encode("utf-8"))
    assert "\ufeff" not in CharCorpus.from_file(path).vocab.tokens
    assert WordCorpus.from_file(path).vocab.tokens[2] == "the"
    assert read_text(path) == "the cat\nthe dog\n"
    assert decode_text("a\ufeffb".encode()) == "a\ufeffb"  # only a leading BOM is a BOM


def test_crafted_npy_cache_is_ignored_not_allocated(tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.arange(10))
    raw = good.read_bytes()
    crafted = tmp_path / "crafted.npy"
    crafted.write_bytes(raw.replace(b"(10,), }        ", b"(9999999999,), }"))
    assert len(crafted.read_bytes()) == len(raw)
    tracemalloc.start()
    try:
        assert load_cached([crafted]) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20
    assert load_cached([crafted, good]).tolist() == list(range(10))


# --------------------------------------------------------------------------- seeded fuzzing

def mutate(rng: random.Random, data: bytes) -> bytes:
    """One random corruption: bit flips, truncation, insertion, deletion or a header overwrite."""
    b = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0 and b:
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:
        del b[rng.randrange(len(b) + 1):]
    elif kind == 2:
        at = rng.randrange(len(b) + 1)
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == 3 and b:
        at = rng.randrange(len(b))
        del b[at:at + rng.randint(1, 64)]
    elif kind == 4:
        for i in range(min(len(b), 16)):
            if rng.random() < 0.3:
                b[i] = rng.choice([0, 1, 0x7F, 0x80, 0xFF, rng.randrange(256)])
    else:
        at = rng.randrange(len(b) + 1)
        b[at:at] = rng.choice([b"\xff\xff\xff\xff", b"\t", b"\n", b"\xef\xbb\xbf", b"\xc3",
                               b"[" * 50, b"\x00" * 4, "\u00b2".encode()])
    return bytes(b)


def fuzz(seed, base, count, load):
    rng = random.Random(seed)
    loaded = 0
    for _ in range(count):
        data = mutate(rng, base)
        try:
            load(data)
            loaded += 1
        except DataError:
            pass
    return loaded


def test_fuzz_idx_gzip_files(tmp_path):
    images = np.arange(3 * 28 * 28, dtype=np.uint8).reshape(3, 28, 28)
    base = gz(idx([3, 28, 28]) + images.tobytes())
    path = tmp_path / "t10k-images-idx3-ubyte.gz"

    def load(data):
        path.write_bytes(data)
        out = read_idx(path, MAGIC_IMAGES, limit=10000 * 784)
        assert out.dtype == np.uint8 and out.size <= 10000 * 784

    fuzz(1, base, 1000, load)


def test_fuzz_idx_raw_bytes():
    base = idx([5, 4], 0x0B) + np.arange(20, dtype=">i2").tobytes()
    fuzz(2, base, 1500, lambda data: parse_idx(data, "x.idx"))


def test_fuzz_cifar_records_and_archives(tmp_path):
    base = cifar_records([1, 9, 0])
    fuzz(3, base, 500, lambda data: parse_cifar(data, "x.bin", 1, (10,)))
    fuzz(4, base, 300, lambda data: parse_cifar(data, "x.bin", 2, (20, 100)))
    archive = tmp_path / "c.tar.gz"
    member = "cifar-10-batches-bin/test_batch.bin"
    base = tar_gz({member: cifar_records([1, 2])})

    def load(data):
        archive.write_bytes(data)
        (name, raw), = _read_members(archive, [member], 10 * (IMAGE_BYTES + 1))
        parse_cifar(raw, name)

    fuzz(5, base, 400, load)


def test_fuzz_babi_files():
    base = BABI.encode()

    def load(data):
        questions, stories = parse_babi(decode_text(data, "qa.txt"), "qa.txt")
        assert all(q.question and q.answer for q in questions)

    assert fuzz(6, base, 1500, load) > 0


def test_fuzz_text_corpora():
    base = "First Citizen:\nBefore we proceed, h\u00e9las, any further\n".encode()

    def load(data):
        text = decode_text(data, "t.txt")
        corpus = CharCorpus(text, val_fraction=0.0)
        assert corpus.decode(corpus.ids) == text
        WordCorpus(text, val_fraction=0.0)

    assert fuzz(7, base, 1000, load) > 0


def test_fuzz_vocabulary_json():
    base = json.dumps({"tokens": ["<unk>", "a", "b", "\u00e9"], "unk": "<unk>"}).encode()
    fuzz(8, base, 1500, lambda data: Vocabulary.from_json(decode_text(data, "v.json"), "v.json"))


def test_fuzz_npy_cache(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.arange(12, dtype=np.int64).reshape(3, 4))
    path = tmp_path / "c.npy"
    rng = random.Random(9)
    for _ in range(500):
        path.write_bytes(mutate(rng, buf.getvalue()))
        out = load_cached([path])  # never raises: a bad cache is ignored and rewritten
        assert out is None or isinstance(out, np.ndarray)


def test_fuzz_babi_task_arrays(tmp_path):
    from ember.data.datasets.babi import BabiTask, task_file

    paths = [tmp_path / "babi" / task_file(1, split) for split in ("train", "test")]
    paths[0].parent.mkdir(parents=True)
    paths[1].write_text(BABI)

    def load(data):
        paths[0].write_bytes(data)
        task = BabiTask(1, root=tmp_path, verify=False)
        assert task.stories.shape[0] == len(task) > 0

    assert fuzz(10, BABI.encode(), 300, load) > 0
    paths[0].write_text("1 Mary went home.\n")
    with pytest.raises(DataError, match="no questions") as info:
        BabiTask(1, root=tmp_path, verify=False)
    assert info.value.path == str(paths[0])


def test_fuzz_outcomes_include_both_loads_and_errors(tmp_path):
    # Guards the fuzzers themselves: mutations must reach the success path and the checks.
    counts = [fuzz(11, idx([5, 4], 0x0B) + bytes(40), 300, lambda d: parse_idx(d, "x")),
              fuzz(12, BABI.encode(), 300, lambda d: parse_babi(decode_text(d), "x"))]
    assert all(0 < c < 300 for c in counts), counts


def test_babi_arrays_must_stay_proportional_to_the_file(tmp_path):
    from ember.data.datasets.babi import BabiTask, task_file

    n = 3000
    lines = [f"{i} a." for i in range(1, n + 1)]
    lines += [f"{i} w?\ta\t1" for i in range(n + 1, 2 * n + 1)]
    for split in ("train", "test"):
        path = tmp_path / "babi" / task_file(1, split)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"padded arrays would hold 9003000 elements") as info:
        BabiTask(1, root=tmp_path, verify=False)
    assert info.value.path.endswith("qa1_single-supporting-fact_train.txt")
    task = BabiTask(1, root=tmp_path, verify=False, memory_size=10, sentence_len=2,
                    question_len=2)  # explicit sizes are the caller's choice
    assert task.stories.shape == (n, 10, 2)
