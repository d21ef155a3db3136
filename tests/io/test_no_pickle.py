"""No code path in Ember loads a pickle: checked on the source, so a new one fails CI.

Writing a pickle (``pickle.dumps`` to check that a function can be sent to a worker
process) is allowed; what is refused is any call that *reads* one, since reading
runs whatever code the file names.
"""
import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[2] / "ember"
PICKLE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "jsonpickle", "torch", "marshal"}
READERS = {"load", "loads", "Unpickler", "decode"}


def _problems(path: pathlib.Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = {}  # local name -> module, for `import pickle as pk`
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name] = alias.name.split(".")[0]
                if alias.name.split(".")[0] == "shelve":
                    yield f"{path}:{node.lineno}: imports shelve (pickle underneath)"
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in PICKLE_MODULES | {"shelve"} and any(a.name in READERS | {"open"} for a in node.names):
                yield f"{path}:{node.lineno}: imports a reader from {module}"
        elif isinstance(node, ast.keyword) and node.arg == "allow_pickle" and \
                not (isinstance(node.value, ast.Constant) and node.value.value is False):
            yield f"{path}:{node.value.lineno}: allow_pickle is not False"
        elif isinstance(node, ast.Attribute) and node.attr in READERS and isinstance(node.value, ast.Name) and \
                aliases.get(node.value.id) in PICKLE_MODULES:
            yield f"{path}:{node.lineno}: calls {node.value.id}.{node.attr}"


def test_the_package_never_unpickles():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20
    problems = [p for path in files for p in _problems(path)]
    assert problems == []


def test_the_scanner_finds_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle as pk\nfrom joblib import load\nimport numpy as np\nnp.load('x', allow_pickle=True)\n"
                   "import torch\ntorch.load('m.pt')\npk.loads(b'')\nimport shelve\n")
    assert len(list(_problems(bad))) == 5
    fine = tmp_path / "fine.py"
    fine.write_text("import pickle\npickle.dumps(print)\nimport numpy as np\nnp.load('x', allow_pickle=False)\n")
    assert list(_problems(fine)) == []


def test_ember_io_imports_no_pickle_module_at_all():
    """ember.io reads untrusted files: no pickle module is imported there, not even to write."""
    imported = set()
    for path in sorted((PACKAGE / "io").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                imported |= {(path.name, alias.name.split(".")[0]) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add((path.name, (node.module or "").split(".")[0]))
    assert len({name for name, _ in imported}) >= 8  # the scan saw the package's files
    assert {(name, module) for name, module in imported if module in PICKLE_MODULES | {"shelve", "copyreg"}} == set()


def test_loading_never_calls_a_pickle_reader(tmp_path, monkeypatch):
    """Belt and braces: ember.load of a torch pickle refuses it without unpickling anything."""
    import io
    import pickle

    import ember

    def forbidden(*args, **kwargs):
        raise AssertionError("a pickle reader was called")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    blob = pickle.dumps({"w": [1.0, 2.0]}, protocol=2)
    with pytest.raises(ValueError, match="Python pickle"):
        ember.load(io.BytesIO(blob))
