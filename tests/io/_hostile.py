"""Crafting hostile safetensors bytes for the corpus and fuzz tests (a helper module, not tests)."""
from __future__ import annotations

import json
import struct
from collections.abc import Iterator

import numpy as np


def blob(header: object = None, data: bytes = b"", raw: bytes | None = None) -> bytes:
    """A safetensors file: ``header`` as JSON (or ``raw`` header bytes), padded, then ``data``."""
    text = json.dumps(header).encode() if raw is None else raw
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def split(file_bytes: bytes) -> tuple[dict, bytes]:
    """The parsed header and the data of a valid file."""
    (length,) = struct.unpack("<Q", file_bytes[:8])
    return json.loads(file_bytes[8:8 + length]), file_bytes[8 + length:]


def without_checksums(file_bytes: bytes) -> bytes:
    """The file as another writer would have written it: the same, but no checksums."""
    header, data = split(file_bytes)
    header.get("__metadata__", {}).pop("ember.checksums", None)
    return blob(header, data)


#: Values a header mutation swaps in: wrong types, absurd sizes, booleans passing as ints, deep nesting.
ODD_VALUES = [0, -1, 1, 7, 2**31, 2**63, 10**20, -(2**70), 10**400, True, False, None, 1.5, float("nan"), "x",
              "F32", "", [], {}, [0], [True], [1] * 65, [2**40, 2**40, 0], [0, 10**20], [-1, 4], [4, 0], [0, 1, 2],
              {"__dict__": 5}, {"__array__": [1]}, {"__tensor__": "nowhere"}, {"__dict__": [[{"a": 1}, 2]]},
              {"__tuple__": 3}, {"__float__": "nan?"}, {"__tensor__": "x", "__device__": "bogus"},
              "[" * 400 + "]" * 400]  # deep, yet re-encodable here; the 100 000 levels are in the corpus


def _nodes(value: object, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _nodes(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nodes(item, path + (index,))


def mutate_json(value: object, rng: np.random.Generator) -> object:
    """``value`` (parsed JSON) with one node replaced, deleted or duplicated at random; JSON strings
    holding JSON (Ember's ``ember.tree``, ``ember.checkpoint``...) are mutated inside, as a crafted file would be."""
    nodes = list(_nodes(value))
    path = nodes[int(rng.integers(len(nodes)))]
    if not path:
        return ODD_VALUES[int(rng.integers(len(ODD_VALUES)))]
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    key, current = path[-1], parent[path[-1]]
    choice = rng.random()
    if isinstance(current, str) and current[:1] in "{[" and choice < 0.5:
        try:
            inner = json.loads(current)
        except ValueError:
            inner = None
        if inner is not None:
            parent[key] = json.dumps(mutate_json(inner, rng))
            return value
    if choice < 0.7:
        odd = ODD_VALUES[int(rng.integers(len(ODD_VALUES)))]
        parent[key] = json.loads(odd) if isinstance(odd, str) and odd.startswith("[[") else odd
    elif isinstance(parent, dict):
        del parent[key]
    else:
        parent.append(current)
    return value


def mutate(file_bytes: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One random mutation of ``file_bytes``: its kind and the result."""
    kind = ("bit flip", "byte flips", "truncation", "insertion", "deletion", "header json")[int(rng.integers(6))]
    data = bytearray(file_bytes)
    n = len(data)
    if kind == "bit flip":
        position = int(rng.integers(n))
        data[position] ^= 1 << int(rng.integers(8))
    elif kind == "byte flips":
        for position in rng.integers(n, size=int(rng.integers(2, 6))):
            data[int(position)] = int(rng.integers(256))
    elif kind == "truncation":
        del data[int(rng.integers(n)):]
    elif kind == "insertion":
        position = int(rng.integers(n + 1))
        data[position:position] = rng.integers(256, size=int(rng.integers(1, 17)), dtype=np.uint8).tobytes()
    elif kind == "deletion":
        start = int(rng.integers(n))
        del data[start:start + int(rng.integers(1, 17))]
    else:
        header, payload = split(file_bytes)
        header = mutate_json(header, rng)
        if isinstance(header, dict) and rng.random() < 0.5 and isinstance(header.get("__metadata__"), dict):
            header["__metadata__"].pop("ember.checksums", None)  # as a crafted file would, to reach the checks behind
        data = bytearray(blob(header, payload))
    return kind, bytes(data)
