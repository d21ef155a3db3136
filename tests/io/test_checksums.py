"""Checksums in the files Ember writes: damaged data is refused, naming the file and the tensor."""
import io
import json
import zlib

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.io import SafetensorsError, load_checkpoint, read_checkpoint, save_checkpoint
from ember.io import safetensors_io as st

from ._hostile import split, without_checksums


def _flip_in_tensor(path, name, byte=0):
    """Flip one bit of ``name``'s data in the file at ``path``."""
    data = bytearray(path.read_bytes())
    header, _ = split(bytes(data))
    start = 8 + int.from_bytes(data[:8], "little") + header[name]["data_offsets"][0]
    data[start + byte] ^= 0x10
    path.write_bytes(bytes(data))


def test_ember_save_stores_a_crc32_of_every_tensor_and_the_header(tmp_path):
    path = tmp_path / "w.safetensors"
    weight = ember.arange(6.0).reshape(2, 3)
    ember.save({"weight": weight, "step": 3}, path)
    record = json.loads(ember.io.read_metadata(path)[st.CHECKSUM_KEY])
    assert record["algorithm"] == "crc32" and set(record["tensors"]) == {"weight"}
    assert record["tensors"]["weight"] == f"{zlib.crc32(weight.numpy().tobytes()):08x}"
    assert len(record["header"]) == 8


@pytest.mark.parametrize("target", ["path", "stream"])
def test_a_flipped_bit_in_a_tensor_is_refused_naming_file_and_tensor(tmp_path, target):
    path = tmp_path / "w.safetensors"
    ember.save({"weight": ember.ones(4, 4), "bias": ember.zeros(4)}, path)
    _flip_in_tensor(path, "bias", byte=5)
    source = path if target == "path" else io.BytesIO(path.read_bytes())
    name = str(path) if target == "path" else "<BytesIO>"
    with pytest.raises(SafetensorsError, match=r"checksum mismatch in tensor 'bias'") as info:
        ember.load(source)
    assert str(info.value).startswith(name + ": ") and "verify=False" in str(info.value)
    if target == "stream":
        source.seek(0)
    damaged = ember.load(source, verify=False)  # the opt-out loads what is there
    assert damaged["bias"].numpy()[1] != 0 and np.array_equal(damaged["weight"].numpy(), np.ones((4, 4)))


def test_load_weights_and_read_metadata_verify_too(tmp_path):
    path = tmp_path / "w.safetensors"
    net = nn.Linear(3, 2)
    ember.save(net.state_dict(), path)
    _flip_in_tensor(path, "weight", byte=2)
    before = net.weight.numpy().copy()
    with pytest.raises(SafetensorsError, match="w.safetensors: checksum mismatch in tensor 'weight'"):
        ember.io.load_weights(net, path)
    assert np.array_equal(net.weight.numpy(), before)
    ember.io.load_weights(net, path, verify=False)
    assert not np.array_equal(net.weight.numpy(), before)
    ember.io.read_metadata(path)  # the header is intact


def test_a_changed_header_is_refused(tmp_path):
    path = tmp_path / "t.pt"
    ember.save({"epoch": 3, "w": ember.ones(2)}, path)
    data = path.read_bytes()
    edited = data.replace(b'\\"epoch\\": 3', b'\\"epoch\\": 4')  # still valid JSON, same length
    assert edited != data
    path.write_bytes(edited)
    for load in (lambda: ember.load(path), lambda: ember.io.read_metadata(path),
                 lambda: ember.load(io.BytesIO(edited))):
        with pytest.raises(SafetensorsError, match="checksum mismatch in the header"):
            load()
    assert ember.load(path, verify=False)["epoch"] == 4
    assert ember.io.read_metadata(path, verify=False)["ember.kind"] == "tree"


def test_malformed_or_unknown_checksum_records_are_refused(tmp_path):
    arrays = {"a": np.arange(3)}
    for record, match in [("{oops", "malformed"), ('{"algorithm": "crc32"}', "malformed"),
                          ('{"algorithm": "md5", "header": "0", "tensors": {}}', "unknown checksum algorithm 'md5'")]:
        header, data = split(st.dumps(arrays, {"x": "y"}))
        header["__metadata__"][st.CHECKSUM_KEY] = record
        blob = json.dumps(header).encode()
        blob += b" " * (-len(blob) % 8)
        with pytest.raises(SafetensorsError, match=match):
            st.loads(len(blob).to_bytes(8, "little") + blob + data, "f")


def test_files_without_checksums_load_as_before(tmp_path):
    arrays = {"a": np.arange(4.0), "b": np.ones((2, 2), np.int32)}
    plain = st.dumps(arrays, {"k": "v"})
    assert st.CHECKSUM_KEY not in st.loads(plain)[1]
    data = bytearray(plain)
    data[-1] ^= 1  # another writer's file: nothing to check against, so the damage goes unseen
    assert st.loads(bytes(data))[0]["b"][1, 1] != 1
    path = tmp_path / "old.safetensors"
    buffer = io.BytesIO()
    ember.save({"w": ember.arange(3.0)}, buffer)
    path.write_bytes(without_checksums(buffer.getvalue()))  # as earlier Ember versions wrote it
    assert ember.load(path)["w"].tolist() == [0.0, 1.0, 2.0]


def test_the_package_reads_files_with_checksums(tmp_path):
    numpy_api = pytest.importorskip("safetensors.numpy")
    path = tmp_path / "w.safetensors"
    ember.save({"w": ember.arange(3.0)}, path)
    np.testing.assert_array_equal(numpy_api.load_file(str(path))["w"], [0.0, 1.0, 2.0])


def test_the_checksum_key_is_reserved(tmp_path):
    with pytest.raises(ValueError, match="'ember.checksums' is reserved"):
        ember.save({"w": ember.ones(1)}, tmp_path / "x.pt", metadata={st.CHECKSUM_KEY: "{}"})
    with pytest.raises(ValueError, match="'ember.checksums' is reserved"):
        st.dumps({"w": np.ones(1)}, {st.CHECKSUM_KEY: "{}"})
    assert not (tmp_path / "x.pt").exists()


def _training():
    ember.manual_seed(0)
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    (model(ember.randn(4, 3)) ** 2).mean().backward()
    opt.step()
    return model, opt


def test_a_damaged_checkpoint_is_refused_and_changes_nothing(tmp_path):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, *_training(), step=5)
    _flip_in_tensor(path, "optimizer/state/0/exp_avg", byte=1)
    model, opt = _training()
    before = model.weight.numpy().copy()
    with pytest.raises(SafetensorsError, match="c.safetensors: checksum mismatch in tensor 'optimizer/state/0/exp_avg"):
        load_checkpoint(path, model, opt)
    assert np.array_equal(model.weight.numpy(), before)
    assert read_checkpoint(path, verify=False).step == 5
    assert load_checkpoint(path, model, opt, verify=False).step == 5


def test_selected_tensors_are_verified_alone(tmp_path):
    path = tmp_path / "w.safetensors"
    ember.save({"a": ember.ones(3), "b": ember.ones(3)}, path)
    _flip_in_tensor(path, "b")
    assert st.read_file(path, names=["a"])[0]["a"].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(SafetensorsError, match="tensor 'b'"):
        st.read_file(path, names=["b"])
