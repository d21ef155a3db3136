"""Seeded fuzzing of every file format Ember reads: each mutated file loads, or raises the documented error.

Mutations: bit flips, random byte overwrites, truncations, insertions, deletions and
header JSON edits (a node replaced by an odd value, deleted or duplicated, checksums
dropped half the time so the checks behind them are reached). For files Ember wrote,
a single flipped bit must never load as something else: the checksums catch it.
A failure message gives the seed and index to replay the case.
"""
import io
import math
from collections import OrderedDict

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.io import CheckpointError, SafetensorsError, load_checkpoint, save_checkpoint
from ember.io import safetensors_io as st

from ._hostile import mutate, without_checksums

SEED = 20240611


def _same(a, b) -> bool:
    """Exact equality of loaded structures: types, keys, dtypes, shapes and bits (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, ember.Tensor):
        return _same(a.numpy(), b.numpy())
    if isinstance(a, np.ndarray | np.generic):
        return a.dtype == b.dtype and np.shape(a) == np.shape(b) and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


def _fuzz(base: bytes, count: int, seed: int, load, errors, name: str, exact: bool) -> dict:
    """Load ``count`` mutations of ``base``; returns how many of each outcome."""
    expected = load(base)
    rng = np.random.default_rng(seed)
    outcomes = {"loaded": 0, "refused": 0}
    for index in range(count):
        kind, data = mutate(base, rng)
        where = f"{kind} #{index} (seed {seed})"
        try:
            value = load(data)
        except errors as err:
            assert name in str(err), f"{where}: the error does not name {name}: {err}"
            outcomes["refused"] += 1
            continue
        except BaseException as err:  # noqa: BLE001 - the point: nothing else may escape
            pytest.fail(f"{where}: {type(err).__name__} escaped: {str(err)[:300]}")
        if exact and kind == "bit flip":
            assert _same(value, expected), f"{where}: a flipped bit loaded as different values"
        outcomes["loaded"] += 1
    return outcomes


def _arrays():
    rng = np.random.default_rng(0)
    return {"weight": rng.standard_normal((4, 5)).astype(np.float32), "bias": np.arange(5, dtype=np.float64),
            "ids": np.array([3, 1, 2], np.int64), "mask": np.array([True, False]), "half": np.ones(3, np.float16),
            "scalar": np.array(7, np.int32), "empty": np.zeros((0, 3), np.uint8)}


@pytest.mark.parametrize("checksums", [True, False], ids=["ember", "other writer"])
def test_fuzz_safetensors(tmp_path, checksums):
    base = st.dumps(_arrays(), {"note": "fuzz"}, checksums=checksums)
    path = tmp_path / "fuzz.safetensors"

    def load(data):
        path.write_bytes(data)
        from_file = st.read_file(path)
        from_stream = st.read_stream(io.BytesIO(data), str(path))
        from_bytes = st.loads(data, str(path))
        assert _same(from_file, from_stream) and _same(from_file, from_bytes)
        # The tensors and the user's metadata: a flip in the checksum key's name makes a new key
        # (and a file without checksums), harmless as long as the rest is intact.
        return from_file[0], from_file[1].get("note")

    outcomes = _fuzz(base, 700, SEED + checksums, load, SafetensorsError, str(path), exact=checksums)
    assert outcomes["refused"] > 300  # the mutations do reach the checks


def _tree():
    return {"epoch": 3, "model": OrderedDict(w=ember.arange(6.0).reshape(2, 3), b=ember.zeros(3)),
            "optimizer": {"state": {0: {"step": 2, "exp_avg": np.ones(3, np.float32)}}, "lr": 1e-3},
            "betas": (0.9, 0.999), "best": float("nan"), "name": "run", "raw": b"\x00\x01", "seed": np.int64(5),
            "history": [0.5, None, True]}


def test_fuzz_ember_save_files(tmp_path):
    buffer = io.BytesIO()
    ember.save(_tree(), buffer)
    path = tmp_path / "fuzz.pt"

    def load(data):
        path.write_bytes(data)
        from_file = ember.load(path)
        assert _same(from_file, ember.load(io.BytesIO(data)))
        return from_file

    outcomes = _fuzz(buffer.getvalue(), 1200, SEED + 2, load, SafetensorsError, str(path), exact=True)
    assert outcomes["refused"] > 500


def _training():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.schedule.StepLR(opt, step_size=2, gamma=0.5)
    loss = (model(ember.randn(5, 3)) ** 2).mean()
    loss.backward()
    opt.step()
    sched.step()
    return model, opt, sched


def test_fuzz_checkpoints(tmp_path):
    source = tmp_path / "source.safetensors"
    save_checkpoint(source, *_training(), step=7, epoch=1, metric=0.25, extra={"batch": 3, "perm": np.arange(4)})
    model, opt, sched = _training()
    path = tmp_path / "fuzz.safetensors"

    def load(data):
        path.write_bytes(data)
        before = ({k: v.numpy().copy() for k, v in model.state_dict().items()}, ember.get_rng_state())
        try:
            checkpoint = load_checkpoint(path, model, opt, sched)
        except (SafetensorsError, CheckpointError):
            weights, rng = before  # all or nothing: a refused file changed nothing
            assert all(np.array_equal(v.numpy(), weights[k]) for k, v in model.state_dict().items())
            assert ember.get_rng_state() == rng
            raise
        return (checkpoint.step, checkpoint.epoch, checkpoint.metric, checkpoint.extra,
                {k: v.numpy() for k, v in model.state_dict().items()}, opt.state_dict(), sched.state_dict(),
                ember.get_rng_state())

    outcomes = _fuzz(source.read_bytes(), 600, SEED + 3, load, (SafetensorsError, CheckpointError), str(path),
                     exact=True)
    assert outcomes["refused"] > 250


def test_fuzz_finds_silent_corruption_in_files_without_checksums():
    """The control: the same bit flips in a file of another writer load silently (so the check above is real)."""
    base = without_checksums(st.dumps(_arrays(), checksums=True))
    expected = st.loads(base)
    header_end = 8 + int.from_bytes(base[:8], "little")
    changed = 0
    for position in range(header_end, len(base)):
        data = bytearray(base)
        data[position] ^= 1
        changed += not _same(st.loads(bytes(data)), expected)
    assert changed >= 0.9 * (len(base) - header_end)


@pytest.mark.parametrize("fmt", ["safetensors", "ember.save"])
def test_every_single_bit_flip_is_refused_or_harmless(fmt):
    """Exhaustively: no flipped bit in a file Ember wrote loads as different values.

    The only flips that load are harmless: those in the name of the checksum key,
    which make the file read as one without checksums, whose content is intact.
    """
    if fmt == "safetensors":
        def load(data):  # the tensors and the user's metadata (the flipped key name is a new metadata key)
            arrays, metadata = st.loads(data, "<flip>")
            return arrays, metadata["note"]

        base = st.dumps(_arrays(), {"note": "x"}, checksums=True)
    else:
        buffer = io.BytesIO()
        ember.save(_tree(), buffer)
        base, load = buffer.getvalue(), lambda data: ember.load(io.BytesIO(data))
    expected = load(base)
    loaded_at = set()
    for position in range(len(base)):
        for bit in range(8):
            data = bytearray(base)
            data[position] ^= 1 << bit
            try:
                value = load(bytes(data))
            except SafetensorsError:
                continue
            assert _same(value, expected), f"a flip of bit {bit} of byte {position} loaded as different values"
            loaded_at.add(position)
    key = base.index(st.CHECKSUM_KEY.encode())
    assert loaded_at <= set(range(key, key + len(st.CHECKSUM_KEY)))


@pytest.mark.parametrize("fmt", ["safetensors", "ember.save", "checkpoint"])
def test_every_truncation_is_refused(tmp_path, fmt):
    path = tmp_path / "cut.safetensors"
    if fmt == "checkpoint":
        save_checkpoint(path, *_training(), step=1, extra={"perm": np.arange(3)})
        base, objects = path.read_bytes(), _training()

        def load(data):
            path.write_bytes(data)
            load_checkpoint(path, *objects)
    else:
        buffer = io.BytesIO()
        if fmt == "safetensors":
            st.write_stream(buffer, _arrays(), checksums=True)
        else:
            ember.save(_tree(), buffer)
        base = buffer.getvalue()

        def load(data):
            path.write_bytes(data)
            ember.load(path)
    step = max(1, len(base) // 1500)  # every length of the small files; ~1500 of the checkpoint's
    for length in range(0, len(base), step):
        with pytest.raises(SafetensorsError, match="cut.safetensors"):
            load(base[:length])
