"""Recognising files that are not safetensors, to say what they are and how to convert them.

``ember.load`` reads safetensors only. When a file fails to parse, its first bytes
are compared with the signatures of the formats people most often hand it: a
PyTorch ``torch.save`` file (a zip archive holding ``data.pkl``, or a bare pickle
in the legacy format), any pickle, NumPy's ``.npy``/``.npz``, HDF5 (Keras) and
gzip. Only the bytes are looked at; nothing is unpickled or unpacked.
"""
from __future__ import annotations

import struct

#: How many leading bytes :func:`identify` needs (a zip entry's local header and name).
HEAD_BYTES = 256

_TORCH_LEGACY_MAGIC = b"\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19"  # pickle of torch's magic number 0x1950a86a20f9469cfc6c
_CONVERT = (
    "ember.load reads only safetensors files, because loading a pickle can run any code the file "
    "names. Convert it once, where PyTorch is installed and only if you trust the file: "
    "`import torch, ember; ember.save(torch.load(path, map_location='cpu', weights_only=True), "
    "'model.safetensors')` (ember.save accepts the torch tensors in it; for weights alone "
    "`safetensors.torch.save_file(torch_model.state_dict(), 'model.safetensors')` also works), "
    "then `ember.load('model.safetensors')` or `ember.io.load_torch_state_dict(model, 'model.safetensors')`"
)


def _first_zip_entry(head: bytes) -> str | None:
    # Local file header: signature, 22 bytes of fields, name length (offset 26), extra length, name (offset 30).
    if len(head) < 30:
        return None
    (name_length,) = struct.unpack("<H", head[26:28])
    return head[30:30 + name_length].decode("utf-8", "replace")


def identify(head: bytes) -> str | None:
    """What a file starting with ``head`` is, with a way forward; None if unrecognised.

    Example:
        >>> identify(b"\\x93NUMPY\\x01\\x00")
        'a NumPy .npy file, not safetensors; read it with numpy.load(path, allow_pickle=False)'
    """
    if head.startswith(b"PK\x03\x04"):
        entry = _first_zip_entry(head) or ""
        if entry.endswith(".npy"):
            return ("a NumPy .npz archive, not safetensors; read it with numpy.load(path, allow_pickle=False) "
                    "and save the arrays with ember.save")
        if entry.endswith("data.pkl") or "/data/" in entry or entry.endswith(("/version", "/.format_version",
                                                                              "/byteorder")):
            return f"a PyTorch pickle file (a torch.save zip archive), not safetensors. {_CONVERT}"
        return f"a zip archive (first entry {entry!r}), not safetensors"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        if head[2:2 + len(_TORCH_LEGACY_MAGIC)] == _TORCH_LEGACY_MAGIC:
            return f"a PyTorch pickle file (torch.save's legacy format), not safetensors. {_CONVERT}"
        return (f"a Python pickle (protocol {head[1]}), not safetensors; Ember never unpickles. If it came "
                f"from torch.save: {_CONVERT}")
    if head.startswith(b"\x93NUMPY"):
        return "a NumPy .npy file, not safetensors; read it with numpy.load(path, allow_pickle=False)"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return ("an HDF5 file (Keras .h5 weights?), not safetensors; read it with h5py and save the arrays "
                "with ember.save")
    if head.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file, not safetensors; decompress it first (gzip.open)"
    return None
