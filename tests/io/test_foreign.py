"""Files that are not safetensors: PyTorch pickles and others are named, with the way to convert them."""
import gzip
import io
import pickle
import zipfile

import numpy as np
import pytest

import ember
from ember import nn
from ember.io import SafetensorsError, load_torch_state_dict, load_weights
from ember.io.foreign import identify


def _bytes_of(write):
    buffer = io.BytesIO()
    write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("legacy", [False, True])
def test_a_torch_save_file_is_named_with_how_to_convert_it(tmp_path, legacy):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.pt"
    torch.save({"weight": torch.ones(2, 3)}, path, _use_new_zipfile_serialization=not legacy)
    expected = r"model\.pt: a PyTorch pickle file .*torch\.load\(path, map_location='cpu', weights_only=True\)"
    with pytest.raises(SafetensorsError, match=expected):
        ember.load(path)
    with open(path, "rb") as f, pytest.raises(SafetensorsError, match=expected):
        ember.load(f)
    with pytest.raises(SafetensorsError, match="<BytesIO>: a PyTorch pickle file"):
        ember.load(io.BytesIO(path.read_bytes()))
    with pytest.raises(SafetensorsError, match="a PyTorch pickle file"):
        load_weights(nn.Linear(3, 2), path)
    with pytest.raises(SafetensorsError, match="a PyTorch pickle file"):
        load_torch_state_dict(nn.Linear(3, 2), path)


def test_the_suggested_conversion_works(tmp_path):
    """ember.save takes what torch.load(weights_only=True) returns; the result loads into Ember."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    torch_opt = torch.optim.Adam(torch_model.parameters(), lr=1e-3)
    torch_model(torch.randn(5, 4)).sum().backward()
    torch_opt.step()
    torch.save({"epoch": 2, "model": torch_model.state_dict(), "optimizer": torch_opt.state_dict(),
                "bf16": torch.ones(2, dtype=torch.bfloat16)}, tmp_path / "ckpt.pt")

    ember.save(torch.load(tmp_path / "ckpt.pt", map_location="cpu", weights_only=True), tmp_path / "ckpt.safetensors")
    loaded = ember.load(tmp_path / "ckpt.safetensors")
    assert loaded["epoch"] == 2 and isinstance(loaded["model"]["0.weight"], ember.Tensor)
    assert loaded["bf16"].dtype == np.float32 and loaded["bf16"].tolist() == [1.0, 1.0]
    state = loaded["optimizer"]["state"]
    assert set(state) == {0, 1, 2, 3} and isinstance(state[0]["exp_avg"], ember.Tensor)
    ember_model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    ember_model.load_state_dict(loaded["model"])
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    with torch.no_grad():
        expected = torch_model(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ember_model(ember.tensor(x)).numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("blob, match", [
    (pickle.dumps({"a": 1}, protocol=2), r"a Python pickle \(protocol 2\).*Ember never unpickles"),
    (pickle.dumps([1, 2], protocol=5), r"a Python pickle \(protocol 5\)"),
    (_bytes_of(lambda f: np.save(f, np.ones(3))), r"a NumPy \.npy file.*allow_pickle=False"),
    (_bytes_of(lambda f: np.savez(f, a=np.ones(3))), r"a NumPy \.npz archive"),
    (_bytes_of(lambda f: zipfile.ZipFile(f, "w").writestr("notes.txt", "hi")),
     r"a zip archive \(first entry 'notes.txt'\)"),
    (b"\x89HDF\r\n\x1a\n" + bytes(64), "an HDF5 file"),
    (gzip.compress(b"x" * 100), "gzip-compressed"),
])
def test_other_formats_are_named(tmp_path, blob, match):
    path = tmp_path / "weights.bin"
    path.write_bytes(blob)
    with pytest.raises(SafetensorsError, match=match):
        ember.load(path)
    with pytest.raises(SafetensorsError, match=match):
        ember.load(io.BytesIO(blob))


def test_unrecognised_bytes_get_the_plain_safetensors_error():
    assert identify(b"hello world, not a known format") is None
    with pytest.raises(SafetensorsError, match="truncated or not safetensors"):
        ember.load(io.BytesIO(b"hello world, not a known format"))


def test_a_safetensors_file_whose_length_looks_like_a_pickle_opcode_still_loads():
    """0x80 0x02 is also a header length (640 bytes): identification only runs when parsing fails."""
    from ember.io import safetensors_io as st

    blob = next(b for n in range(700) if (b := st.dumps({"a": np.arange(3.0)}, {"pad": "x" * n}))[:2] == b"\x80\x02")
    assert identify(blob) is not None  # the signature alone would call it a pickle
    loaded = ember.load(io.BytesIO(blob))
    assert loaded["a"].tolist() == [0.0, 1.0, 2.0]
