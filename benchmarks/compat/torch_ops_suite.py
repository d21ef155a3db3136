"""Run tinygrad's op tests against Ember, using their PyTorch half as the specification.

tinygrad's ``test/backend/test_ops.py`` checks each op with
``helper_test_op(shapes, torch_fxn, tinygrad_fxn, ...)``: ``torch_fxn`` is plain PyTorch code
(``lambda x: x.logsumexp(1)``, ``lambda x: torch.nn.functional.gelu(x)``). This harness runs
every test method twice, once in a *torch world* where the name ``torch`` is PyTorch and once
in an *ember world* where ``torch`` is the ``ember`` module (``import torch`` and
``import torch.nn.functional as F`` resolve to ``ember`` and ``ember.nn.functional``). In each
world ``helper_test_op`` is replaced by a recorder that builds the inputs exactly as tinygrad's
``prepare_test_op`` does (``np.random.seed(0)``, ``uniform(low, high)`` in float32, or
``vals``), calls ``torch_fxn`` on them and, unless ``forward_only``, takes the gradients of
``output.sum()``. The k-th case of a method in the ember world is compared with the k-th case
in the torch world using the call's own ``atol``/``rtol``/``grad_atol``/``grad_rtol``.
``helper_test_exception`` is checked the same way: Ember must raise the expected exception type.
The tinygrad function (third argument) is never called; tinygrad itself is not imported (its
names are inert stubs), so only the PyTorch semantics are measured.

Each case ends in one status:

- ``pass``: same shape, dtype and values (and gradients);
- ``wrong_value``: ran but disagrees with PyTorch (shape, values, gradients, or an expected
  exception that was not raised): the dangerous class, since a ported program runs on silently;
- ``wrong_dtype``: values agree but the result dtype differs (for example int64 for int32);
- ``error``: raised (missing name, unsupported argument ...), or timed out;
- ``skipped``: out of scope: the PyTorch side itself failed, the lambda uses tinygrad-only names,
  or tinygrad skips the test unconditionally.

Usage::

    python -m benchmarks.compat.torch_ops_suite /tmp/compat_src/tinygrad --json out.json
    python -m benchmarks.compat.torch_ops_suite path/to/test_ops.py -k softmax --timeout 5

The path is a tinygrad checkout (``test/backend/test_ops.py`` or ``test/test_ops.py`` is found
inside it) or a test file in the same format. Nothing from that file is stored here.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import collections
import contextlib
import dataclasses
import importlib
import inspect
import json
import os
import pathlib
import random
import re
import signal
import sys
import time
import traceback
import types
import unittest
from typing import Any, Callable, Iterator

import numpy as np

#: Names tinygrad's helper uses when a call leaves them out (its defaults at the time of writing;
#: the defaults of the file's own ``helper_test_op`` are used when it defines one).
HELPER_DEFAULTS: dict[str, Any] = dict(tinygrad_fxn=None, atol=1e-6, rtol=1e-3, grad_atol=1e-4,
                                       grad_rtol=1e-3, forward_only=False, vals=None, low=-2, high=2)
EXCEPTION_DEFAULTS: dict[str, Any] = dict(tinygrad_fxn=None, expected=None, forward_only=False,
                                          exact=False, vals=None, low=-1.5, high=1.5)
STATUSES = ("pass", "wrong_value", "wrong_dtype", "error", "skipped")
#: Ember submodules imported before the run, as ``import torch.nn.functional`` would in a program.
EMBER_SUBMODULES = ("ember.nn", "ember.nn.functional", "ember.nn.init", "ember.optim",
                    "ember.utils", "ember.utils.data", "ember.linalg", "ember.special", "ember.fft",
                    "ember.autograd")


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

@dataclasses.dataclass
class CaseResult:
    """The outcome of one ``helper_test_op``/``helper_test_exception`` call compared across worlds.

    Attributes:
        test: ``Class.method`` the call ran in.
        index: position of the call among the method's calls (0-based).
        line: line of the ``helper_test_op`` call in the test file.
        kind: ``"op"`` or ``"exception"``.
        source: source text of the PyTorch function (the lambda).
        shapes: the input shapes (or ``vals``) as text.
        status: one of :data:`STATUSES`.
        cause: a short grouping key (``missing Tensor.logsumexp``, ``values differ`` ...).
        message: first line of the exception or of the comparison failure.
        where: innermost ``file:line`` inside ``ember/`` where the error was raised, if any.
        seconds: time spent in the ember world on this case.
    """
    test: str
    index: int
    line: int
    kind: str
    source: str
    shapes: str
    status: str = "error"
    cause: str = ""
    message: str = ""
    where: str = ""
    seconds: float = 0.0


class CaseTimeout(Exception):
    """Raised inside a case that ran past the per-case time limit."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`CaseTimeout` in the body if it runs longer than ``seconds`` (main thread only).

    A hang inside one C call ends when that call returns to Python; a Python-level loop ends
    at once.
    """
    if seconds <= 0 or not hasattr(signal, "setitimer"):
        yield
        return

    def _expire(signum, frame):
        raise CaseTimeout(f"case ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------------------------
# Inert stand-ins for tinygrad
# --------------------------------------------------------------------------------------------

class Stub:
    """An inert stand-in for any tinygrad object: attributes, calls and operators give Stubs.

    Comparisons are False and truth is False, so backend conditions (``Device.DEFAULT == "WEBGPU"``,
    ``IMAGE > 0``) take their plain-CPU branch. Iteration yields a bounded number of Stubs so that
    ``zip(torch_chunks, tinygrad_chunks)`` follows the PyTorch side.
    """

    def __init__(self, name: str = "tinygrad"):
        object.__setattr__(self, "_name", name)

    def __repr__(self) -> str:
        return f"<stub {self._name}>"

    def __getattr__(self, name: str) -> "Stub":
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return Stub(f"{self._name}.{name}")

    def __setattr__(self, name, value) -> None:
        pass

    def __call__(self, *args, **kwargs) -> "Stub":
        return Stub(f"{self._name}()")

    def __getitem__(self, key) -> "Stub":
        return Stub(f"{self._name}[]")

    def __setitem__(self, key, value) -> None:
        pass

    def __iter__(self):
        return iter([Stub(f"{self._name}[]") for _ in range(256)])

    def __len__(self) -> int:
        return 0

    def __array__(self, *args, **kwargs):
        raise TypeError("a tinygrad stub has no array")

    def __bool__(self) -> bool:
        return False

    def __eq__(self, other) -> bool:
        return False

    def __ne__(self, other) -> bool:
        return True

    def __hash__(self) -> int:
        return id(self)

    def __enter__(self) -> "Stub":
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def __index__(self) -> int:
        return 0

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0

    def _op(self, *args) -> "Stub":
        return Stub(self._name)

    __lt__ = __le__ = __gt__ = __ge__ = lambda self, other: False
    __contains__ = lambda self, item: False
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _op
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _op
    __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __and__ = __rand__ = _op
    __or__ = __ror__ = __xor__ = __rxor__ = __lshift__ = __rlshift__ = __rshift__ = __rrshift__ = _op
    __neg__ = __pos__ = __abs__ = __invert__ = _op


class _Device(Stub):
    """tinygrad's ``Device``: the default device is the plain CPU one."""
    DEFAULT = "CPU"


def _getenv(key: str, default: Any = 0) -> Any:
    """tinygrad's ``getenv``: an environment variable converted to the type of ``default``."""
    return type(default)(os.environ.get(key, default))


#: tinygrad names given real values rather than Stubs.
TINYGRAD_VALUES: dict[str, Any] = {"getenv": _getenv, "DEBUG": 0, "IMAGE": 0, "CI": False,
                                   "OSX": False, "Device": _Device("Device")}


class _StubModule(types.ModuleType):
    """A module whose every attribute is a Stub (or one of :data:`TINYGRAD_VALUES`)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return TINYGRAD_VALUES.get(name, Stub(name))


def _is_stubbed(name: str) -> bool:
    root = name.split(".")[0]
    return root in ("tinygrad", "test", "extra")


def make_import(world: str) -> Callable:
    """An ``__import__`` that stubs tinygrad and, in the ember world, maps ``torch`` to ``ember``."""
    real_import = builtins.__import__

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and _is_stubbed(name):
            return _StubModule(name)
        if world == "ember" and level == 0 and (name == "torch" or name.startswith("torch.")):
            target = "ember" + name[len("torch"):]
            module = importlib.import_module(target)
            return module if fromlist else importlib.import_module("ember")
        return real_import(name, globals, locals, fromlist, level)

    return _import


# --------------------------------------------------------------------------------------------
# Loading the test file
# --------------------------------------------------------------------------------------------

def find_test_file(path: str | os.PathLike) -> pathlib.Path:
    """The ``test_ops.py`` inside a tinygrad checkout, or ``path`` itself if it is a file."""
    path = pathlib.Path(path)
    if path.is_file():
        return path
    for candidate in ("test/backend/test_ops.py", "test/test_ops.py"):
        if (path / candidate).is_file():
            return path / candidate
    found = sorted(path.rglob("test_ops.py"))
    if not found:
        raise FileNotFoundError(f"torch_ops_suite: no test_ops.py under {path}")
    return found[0]


class _Prepare(ast.NodeTransformer):
    """Strip decorators and ``assert`` statements from test classes (they concern tinygrad).

    Unconditional ``@unittest.skip(reason)`` decorators are remembered so that those tests are
    reported as skipped rather than run.
    """

    def __init__(self):
        self.skipped: dict[str, str] = {}
        self._class: str | None = None

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.ClassDef:
        outer, self._class = self._class, node.name
        self.generic_visit(node)
        self._class = outer
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        if self._class is not None:
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                        and decorator.func.attr == "skip"):
                    reason = decorator.args[0].value if decorator.args and isinstance(
                        decorator.args[0], ast.Constant) else "skipped"
                    self.skipped[f"{self._class}.{node.name}"] = str(reason)
            node.decorator_list = []
        self.generic_visit(node)
        return node

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        return ast.Pass() if self._class is not None else node


@dataclasses.dataclass
class TestFile:
    """A parsed test file: its prepared code, its lambdas and its helper call sites."""
    path: pathlib.Path
    source: str
    code: types.CodeType
    skipped: dict[str, str]
    calls: list[ast.Call]
    lambdas: dict[tuple[int, int], ast.Lambda]
    tinygrad_names: set[str]

    @classmethod
    def load(cls, path: pathlib.Path) -> "TestFile":
        """Parse ``path``, find its helper calls, lambdas and tinygrad imports, compile it."""
        source = path.read_text()
        tree = ast.parse(source, filename=str(path))
        calls, lambdas, tinygrad_names = [], {}, set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in ("helper_test_op", "helper_test_exception"):
                    calls.append(node)
            elif isinstance(node, ast.Lambda):
                lambdas[(node.body.lineno, node.body.col_offset)] = node
            elif isinstance(node, ast.ImportFrom) and node.module and _is_stubbed(node.module):
                tinygrad_names.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                tinygrad_names.update((alias.asname or alias.name).split(".")[0]
                                      for alias in node.names if _is_stubbed(alias.name))
        prepare = _Prepare()
        tree = ast.fix_missing_locations(prepare.visit(tree))
        code = compile(tree, str(path), "exec")
        return cls(path, source, code, prepare.skipped, calls, lambdas, tinygrad_names)

    def call_at(self, line: int) -> ast.Call | None:
        """The innermost helper call whose source spans ``line``."""
        best = None
        for call in self.calls:
            if call.lineno <= line <= (call.end_lineno or call.lineno):
                if best is None or call.lineno >= best.lineno:
                    best = call
        return best

    def describe(self, fxn: Any, line: int) -> str:
        """Source text of the PyTorch function passed at ``line`` (the lambda itself if possible)."""
        code = getattr(fxn, "__code__", None)
        if code is not None and code.co_name == "<lambda>":
            for position in list(code.co_positions())[1:]:
                node = self.lambdas.get((position[0], position[2]))
                if node is not None:
                    return ast.get_source_segment(self.source, node) or "<lambda>"
        call = self.call_at(line)
        if call is not None and len(call.args) > 1:
            return ast.get_source_segment(self.source, call.args[1]) or "?"
        return getattr(fxn, "__qualname__", repr(fxn))


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def uses_tinygrad(fxn: Any, tinygrad_names: set[str]) -> str | None:
    """The tinygrad-only name ``fxn`` refers to (global or captured), or None."""
    code = getattr(fxn, "__code__", None)
    if code is None:
        return None
    for name in sorted(_code_names(code) & tinygrad_names):
        if name not in TINYGRAD_VALUES:
            return name
    for name, cell in zip(code.co_freevars, fxn.__closure__ or ()):
        try:
            if isinstance(cell.cell_contents, Stub):
                return name
        except ValueError:
            pass
    return None


# --------------------------------------------------------------------------------------------
# Worlds
# --------------------------------------------------------------------------------------------

def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


def _ember_frame(exc: BaseException) -> str:
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if f"{os.sep}ember{os.sep}" in frame.filename:
            where = f"{frame.filename.split(os.sep + 'ember' + os.sep, 1)[1]}:{frame.lineno}"
    return f"ember/{where}" if where else ""


_NUMBERS = re.compile(r"(?<![\w.])-?\d+(\.\d+)?(e-?\d+)?")


def cause_of(exc: BaseException) -> str:
    """A grouping key for an exception: the missing name, or the message with numbers elided."""
    if isinstance(exc, CaseTimeout):
        return "timeout"
    if isinstance(exc, ModuleNotFoundError):
        return f"missing module {exc.name}"
    if isinstance(exc, AttributeError) and getattr(exc, "name", None):
        obj = getattr(exc, "obj", None)
        owner = obj.__name__ if isinstance(obj, types.ModuleType) else type(obj).__name__
        return f"missing {owner}.{exc.name}"
    message = _first_line(exc)
    message = re.sub(r"\((\s*-?\d+\s*,?)+\)", "(...)", message)
    message = re.sub(r"\[(\s*-?\d+\s*,?)+\]", "[...]", message)
    return _NUMBERS.sub("N", message)[:160]


def _torch_array(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy()


def _ember_array(t: Any) -> np.ndarray:
    try:
        return np.asarray(t.detach().numpy())
    except AttributeError:
        return np.asarray(t.numpy())


@dataclasses.dataclass
class Recorded:
    """What one world saw for one helper call."""
    line: int
    kind: str
    fxn: Any
    params: dict[str, Any]
    output: np.ndarray | None = None
    grads: list[np.ndarray | None] | None = None
    error: BaseException | None = None
    seconds: float = 0.0


def _inputs(torch_module, params: dict[str, Any]) -> tuple[list, list[np.ndarray]]:
    """Tinygrad's ``prepare_test_op``: the torch tensors, and their arrays for the ember side."""
    requires_grad = not params["forward_only"]
    if params["shps"] is None:
        ts = [torch_module.tensor(x, requires_grad=requires_grad) for x in params["vals"]]
    else:
        np.random.seed(0)
        data = [np.random.uniform(low=params["low"], high=params["high"], size=size).astype(np.float32)
                for size in params["shps"]]
        ts = [torch_module.tensor(x, requires_grad=requires_grad) for x in data]
    for i, t in enumerate(ts):
        if t.dtype == torch_module.int64:
            ts[i] = t.type(torch_module.int32)
    return ts, [_torch_array(t) for t in ts]


class World:
    """One execution of the test module with ``torch`` bound to PyTorch or to Ember."""

    def __init__(self, name: str, test_file: TestFile, timeout: float):
        import torch
        self.name = name
        self.test_file = test_file
        self.timeout = timeout
        self.torch = torch
        self.ember = importlib.import_module("ember") if name == "ember" else None
        self.records: list[Recorded] = []
        module_builtins = dict(builtins.__dict__, __import__=make_import(name))
        self.globals: dict[str, Any] = {"__name__": "compat_test_ops", "__file__": str(test_file.path),
                                        "__builtins__": module_builtins}
        exec(test_file.code, self.globals)
        original = self.globals.get("helper_test_op")
        self.helper_defaults = dict(HELPER_DEFAULTS)
        if isinstance(original, types.FunctionType):
            for parameter in inspect.signature(original).parameters.values():
                if parameter.default is not inspect.Parameter.empty:
                    self.helper_defaults[parameter.name] = parameter.default
        self.globals["helper_test_op"] = self.record_op

    # -- recorders ------------------------------------------------------------------------------
    def _line(self) -> int:
        frame = sys._getframe(2)
        while frame is not None and frame.f_code.co_filename != str(self.test_file.path):
            frame = frame.f_back
        return frame.f_lineno if frame is not None else 0

    def record_op(self, shps, torch_fxn, *args, **kwargs) -> None:
        """Stand-in for ``helper_test_op``: run ``torch_fxn`` in this world and keep the result."""
        names = ["tinygrad_fxn", "atol", "rtol", "grad_atol", "grad_rtol", "forward_only", "vals", "low", "high"]
        params = dict(self.helper_defaults)
        params.update(zip(names, args))
        params.update(kwargs, shps=shps)
        self._run(Recorded(self._line(), "op", torch_fxn, params))

    def record_exception(self, shps, torch_fxn, *args, **kwargs) -> None:
        """Stand-in for ``TestOps.helper_test_exception``."""
        names = ["tinygrad_fxn", "expected", "forward_only", "exact", "vals", "low", "high"]
        params = dict(EXCEPTION_DEFAULTS)
        params.update(zip(names, args))
        params.update(kwargs, shps=shps)
        self._run(Recorded(self._line(), "exception", torch_fxn, params))

    def _run(self, record: Recorded) -> None:
        self.records.append(record)
        start = time.perf_counter()
        try:
            with time_limit(self.timeout):
                ts, arrays = _inputs(self.torch, record.params)
                if self.name == "ember":
                    inputs = [self.ember.tensor(a, requires_grad=t.requires_grad) for a, t in zip(arrays, ts)]
                else:
                    inputs = ts
                if record.kind == "exception":
                    try:
                        record.fxn(*inputs)
                    except CaseTimeout:
                        raise
                    except Exception as exc:  # the exception *is* the result here
                        record.output = exc  # type: ignore[assignment]
                    return
                out = record.fxn(*inputs)
                if self.name == "torch":
                    record.output = _torch_array(out)
                    if not record.params["forward_only"] and ts:
                        record.grads = [_torch_array(g) for g in self.torch.autograd.grad(out.sum(), ts)]
                else:
                    if not isinstance(out, self.ember.Tensor):
                        raise TypeError(f"returned {type(out).__name__} instead of an ember Tensor")
                    record.output = _ember_array(out)
                    if not record.params["forward_only"] and inputs:
                        out.sum().backward()
                        record.grads = [None if x.grad is None else _ember_array(x.grad) for x in inputs]
        except Exception as exc:
            record.error = exc
        finally:
            record.seconds = time.perf_counter() - start

    # -- running a method -----------------------------------------------------------------------
    def run_method(self, class_name: str, method_name: str) -> BaseException | None:
        """Run one test method; return the exception its body raised outside the cases, if any."""
        self.records = []
        # Both worlds start every method from the same NumPy state (the test body draws
        # indices and class labels from np.random; tinygrad's own main seeds it with 1337).
        np.random.seed(1337)
        random.seed(1337)
        (self.ember or self.torch).manual_seed(1337)
        cls = self.globals[class_name]
        fake = FakeTestCase(cls, self)
        try:
            with time_limit(max(self.timeout * 6, 60.0)):
                cls.__dict__[method_name](fake)
        except unittest.SkipTest as exc:
            return exc
        except Exception as exc:
            return exc
        return None


class _Suppress:
    """Context manager and callable swallowing everything: stands for ``assertRaises`` and friends."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return True


def _no_check(*args, **kwargs) -> _Suppress:
    for arg in args[1:2]:
        if callable(arg):
            with _Suppress():
                arg(*args[2:], **kwargs)
    return _Suppress()


class FakeTestCase:
    """The ``self`` a test method gets: assertions are inert (they check tinygrad), helpers recorded."""

    def __init__(self, cls: type, world: World):
        self._cls = cls
        self._world = world

    def __getattr__(self, name: str) -> Any:
        if name == "helper_test_exception":
            return self._world.record_exception
        if name.startswith("assert") or name in ("fail", "subTest"):
            return _no_check
        if name == "skipTest":
            def _skip(reason: str = "") -> None:
                raise unittest.SkipTest(reason)
            return _skip
        attr = getattr(self._cls, name)
        if isinstance(attr, types.FunctionType):
            return types.MethodType(attr, self)
        return attr


# --------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------

def _compare(what: str, got: np.ndarray, want: np.ndarray, atol: float, rtol: float) -> tuple[str, str, str] | None:
    """None when equal under tinygrad's rule, else (status, cause, message)."""
    if got.shape != want.shape:
        return "wrong_value", f"{what} shape differs", f"{what}: shape {got.shape}, PyTorch gives {want.shape}"
    try:
        if np.issubdtype(want.dtype, np.floating):
            np.testing.assert_allclose(got.astype(want.dtype), want, atol=atol, rtol=rtol)
        else:
            np.testing.assert_equal(got, want)
    except AssertionError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        summary = "; ".join(line for line in lines if line.startswith(("Mismatched", "Max abs", "Max rel")))
        return "wrong_value", f"{what} values differ", f"{what}: values differ ({summary or (lines[0] if lines else '')})"
    except (TypeError, ValueError) as exc:
        return "wrong_value", f"{what} values not comparable", f"{what}: {exc}"
    if got.dtype != want.dtype:
        return "wrong_dtype", f"{what} dtype {got.dtype} vs {want.dtype}", f"{what}: dtype {got.dtype}, PyTorch gives {want.dtype}"
    return None


def judge(torch_rec: Recorded, ember_rec: Recorded | None, body_error: BaseException | None,
          tinygrad_names: set[str]) -> tuple[str, str, str, str]:
    """(status, cause, message, where) for one case."""
    name = uses_tinygrad(torch_rec.fxn, tinygrad_names)
    if name:
        return "skipped", f"uses tinygrad-only name {name}", "", ""
    if torch_rec.error is not None:
        return "skipped", "PyTorch side raised", _first_line(torch_rec.error), ""
    if ember_rec is None:
        if body_error is None:
            return "error", "case not reached in the ember world", "", ""
        return ("error", f"test body: {cause_of(body_error)}", f"(test body) {_first_line(body_error)}",
                _ember_frame(body_error))
    if ember_rec.line != torch_rec.line:
        return "error", "control flow diverged", f"reached line {ember_rec.line}", ""
    params = torch_rec.params
    if torch_rec.kind == "exception":
        expected = params["expected"] or Exception
        if not isinstance(torch_rec.output, BaseException):
            return "skipped", "PyTorch did not raise", "", ""
        if ember_rec.error is not None:
            return "error", cause_of(ember_rec.error), _first_line(ember_rec.error), _ember_frame(ember_rec.error)
        got = ember_rec.output
        if not isinstance(got, BaseException):
            return "wrong_value", "expected exception not raised", f"expected {expected}", ""
        if not isinstance(got, expected):
            wanted = getattr(expected, "__name__", None) or "/".join(e.__name__ for e in expected)
            return "error", f"raised {type(got).__name__} instead of {wanted}", _first_line(got), _ember_frame(got)
        return "pass", "", "", ""
    if ember_rec.error is not None:
        return "error", cause_of(ember_rec.error), _first_line(ember_rec.error), _ember_frame(ember_rec.error)
    dtype_issue = None
    found = _compare("forward", ember_rec.output, torch_rec.output, params["atol"], params["rtol"])
    if found and found[0] == "wrong_value":
        return found + ("",)
    dtype_issue = found
    for i, want in enumerate(torch_rec.grads or []):
        got = ember_rec.grads[i] if ember_rec.grads and i < len(ember_rec.grads) else None
        if got is None:
            return "error", "gradient is None", f"no gradient reached input {i}", ""
        bad = _compare(f"gradient {i}", got, want, params["grad_atol"], params["grad_rtol"])
        if bad and bad[0] == "wrong_value":
            return bad[0], bad[1].replace(f"gradient {i}", "gradient"), bad[2], ""
        dtype_issue = dtype_issue or bad
    if dtype_issue:
        return dtype_issue + ("",)
    return "pass", "", "", ""


def _shapes_text(params: dict[str, Any]) -> str:
    if params.get("shps") is None:
        return f"vals={params.get('vals')!r}"[:120]
    return repr(params["shps"])[:120]


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------

def test_methods(world: World) -> list[tuple[str, str]]:
    """(class, method) for every ``test_*`` method of every TestCase class, in file order."""
    found = []
    for class_name, cls in world.globals.items():
        if isinstance(cls, type) and issubclass(cls, unittest.TestCase) and cls.__module__ == "compat_test_ops":
            for name, value in cls.__dict__.items():
                if name.startswith("test") and isinstance(value, types.FunctionType):
                    found.append((class_name, name))
    return found


def _import_ember_submodules() -> None:
    for name in EMBER_SUBMODULES:
        try:
            importlib.import_module(name)
        except Exception:
            pass


def run_suite(path: str | os.PathLike, timeout: float = 10.0, select: str | None = None,
              progress: bool = False) -> dict[str, Any]:
    """Run every case of the test file at ``path``; return the report (see :func:`summarize`)."""
    test_file = TestFile.load(find_test_file(path))
    torch_world = World("torch", test_file, timeout)
    results: list[CaseResult] = []
    methods_without_cases: list[str] = []
    ember_setup_error = None
    try:
        import ember  # noqa: F401  (measures import failures as such)
        _import_ember_submodules()
        ember_world = World("ember", test_file, timeout)
    except Exception as exc:
        ember_setup_error, ember_world = exc, None
    methods = test_methods(torch_world)
    if select:
        methods = [m for m in methods if select in f"{m[0]}.{m[1]}"]
    for number, (class_name, method) in enumerate(methods):
        test = f"{class_name}.{method}"
        if progress:
            print(f"[{number + 1}/{len(methods)}] {test}", file=sys.stderr, flush=True)
        torch_world.run_method(class_name, method)
        torch_records = torch_world.records
        if not torch_records:
            methods_without_cases.append(test)
            continue
        if test in test_file.skipped:
            for index, rec in enumerate(torch_records):
                results.append(CaseResult(test, index, rec.line, rec.kind,
                                          test_file.describe(rec.fxn, rec.line), _shapes_text(rec.params),
                                          "skipped", "tinygrad skips this test", test_file.skipped[test]))
            continue
        if ember_world is None:
            body_error, ember_records = ember_setup_error, []
        else:
            body_error = ember_world.run_method(class_name, method)
            ember_records = ember_world.records
        for index, rec in enumerate(torch_records):
            ember_rec = ember_records[index] if index < len(ember_records) else None
            status, cause, message, where = judge(rec, ember_rec, body_error, test_file.tinygrad_names)
            results.append(CaseResult(test, index, rec.line, rec.kind, test_file.describe(rec.fxn, rec.line),
                                      _shapes_text(rec.params), status, cause, message, where,
                                      round(ember_rec.seconds, 4) if ember_rec else 0.0))
    report = summarize(results)
    report.update(source=str(test_file.path), call_sites=len(test_file.calls),
                  methods=len(methods), methods_without_cases=methods_without_cases,
                  ember_setup_error=_first_line(ember_setup_error) if ember_setup_error else None,
                  cases=[dataclasses.asdict(r) for r in results])
    return report


def summarize(results: list[CaseResult]) -> dict[str, Any]:
    """Counts per status, pass rates and the causes of failure ranked by count."""
    counts = collections.Counter(r.status for r in results)
    total = len(results)
    runnable = total - counts["skipped"]
    causes: dict[str, collections.Counter] = {s: collections.Counter() for s in ("error", "wrong_value", "wrong_dtype")}
    examples: dict[tuple[str, str], str] = {}
    for r in results:
        if r.status in causes:
            causes[r.status][r.cause] += 1
            examples.setdefault((r.status, r.cause), f"{r.test}:{r.line} {r.source}")
    return {
        "total": total,
        "counts": {s: counts[s] for s in STATUSES},
        "pass_percent_of_runnable": round(100.0 * counts["pass"] / runnable, 1) if runnable else 0.0,
        "pass_percent_of_all": round(100.0 * counts["pass"] / total, 1) if total else 0.0,
        "causes": {status: [{"cause": c, "count": n, "example": examples[(status, c)]}
                            for c, n in counter.most_common()] for status, counter in causes.items()},
    }


def print_report(report: dict[str, Any], top: int = 40, out=None) -> None:
    """Print the summary, the ranked causes and every wrong-value case."""
    out = out or sys.stdout
    counts = report["counts"]
    print(f"source: {report['source']}  ({report['call_sites']} helper call sites, "
          f"{report['methods']} test methods, {report['total']} cases)", file=out)
    if report.get("ember_setup_error"):
        print(f"ember could not be set up: {report['ember_setup_error']}", file=out)
    print("  ".join(f"{s}={counts[s]}" for s in STATUSES), file=out)
    print(f"pass: {report['pass_percent_of_runnable']}% of runnable cases "
          f"({report['pass_percent_of_all']}% of all)", file=out)
    for status in ("wrong_value", "wrong_dtype", "error"):
        entries = report["causes"][status]
        if not entries:
            continue
        print(f"\n{status} by cause ({sum(e['count'] for e in entries)} cases):", file=out)
        for entry in entries[:top]:
            print(f"  {entry['count']:5d}  {entry['cause']}", file=out)
            print(f"         e.g. {entry['example'][:150]}", file=out)
        if len(entries) > top:
            print(f"  ... {len(entries) - top} more causes", file=out)
    wrong = [c for c in report["cases"] if c["status"] == "wrong_value"]
    if wrong:
        print(f"\nwrong-value cases ({len(wrong)}):", file=out)
        for c in wrong:
            print(f"  {c['test']}:{c['line']}  {c['source'][:110]}", file=out)
            print(f"      shapes {c['shapes'][:60]}  {c['message'][:160]}", file=out)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.compat.torch_ops_suite PATH [--json OUT] [-k TEXT]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="tinygrad checkout or a test_ops.py-style file")
    parser.add_argument("--json", help="write the full report (every case) here")
    parser.add_argument("-k", dest="select", help="only test methods whose Class.name contains this")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per case (default 10)")
    parser.add_argument("--top", type=int, default=40, help="causes listed per status (default 40)")
    parser.add_argument("--progress", action="store_true", help="print each test method as it runs")
    args = parser.parse_args(argv)
    import warnings
    warnings.filterwarnings("ignore")
    np.seterr(all="ignore")
    report = run_suite(args.path, timeout=args.timeout, select=args.select, progress=args.progress)
    print_report(report, top=args.top)
    if args.json:
        pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.json).write_text(json.dumps(report, indent=1, default=str))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
