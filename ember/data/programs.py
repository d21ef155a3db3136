"""Random Python-like programs and their outputs (Zaremba & Sutskever 2014, "Learning to Execute", sections 3-4).

A program is drawn with two knobs. **length**: every integer literal is uniform in
``[1, 10**length - 1]`` (at most ``length`` digits; the paper's ``[1, 10**length]`` would let
``10**length`` in, one digit too many), and the "small" numbers, a multiplier and a loop count,
are uniform in ``[1, 4 * length]``. **nesting**: the number of operations composed; each one
takes the previous operation's expression as one of its operands (in a random position), the
other operands are fresh literals. The operations, as in the authors' released generator:

========  ==========================================  ========================
kind      text                                        value
========  ==========================================  ========================
pair      ``(a+b)`` or ``(a-b)``                      ``a + b`` / ``a - b``
smallmul  ``(a*k)`` or ``(k*a)``, k small             ``a * k``
vars      ``v=a`` then ``(v+b)`` or ``(v-b)``         ``a + b`` / ``a - b``
loop      ``v=a`` / ``for x in range(k):v+=b``        ``a + k * b`` (or ``-=``)
if        ``(c if a<b else d)`` (or ``>``)            ``c`` or ``d``
========  ==========================================  ========================

(The released generator has a sixth, the identity; it is left out so that ``nesting`` is
exactly the number of operations in the program.) The program ends in ``print(expr)``; its
output, written ``"<integer>."`` with the paper's ``.`` end token, is the target.

Programs are trees (:class:`Literal`, :class:`Variable`, :class:`BinaryOp`, :class:`IfElse`,
statements :class:`Assign`, :class:`Loop`): the text is rendered from the tree, and
:func:`evaluate` runs the tree with a small interpreter (never Python's ``eval``). The
generator computes each target on its own, step by step, so the two can check each other.

**Addition** (the paper's section 4.1 task): ``print((a+b))`` with two ``length``-digit numbers.

**Curricula** (section 4) sample a ``(length, nesting)`` per example for a target ``(a, b)``:
``baseline`` always ``(a, b)``; ``naive`` the current level, starting at ``(1, 1)`` and moved up by
:meth:`Curriculum.advance` (length first, then nesting with length back to 1); ``mix`` length
uniform in ``1..a`` and nesting uniform in ``1..b``; ``combined`` a mix draw with probability
``mix_fraction`` (0.2, the authors' released code) and the naive level otherwise.

Programs are split three ways by a hash of their text (as in the released code), so a test
program never appears in training. Everything is drawn from ``numpy.random.Generator``s:
the same seed gives the same programs.

Example:
    >>> import numpy as np
    >>> program = generate_program(np.random.default_rng(3), length=2, nesting=2)
    >>> evaluate(program) == program.target
    True
    >>> program.target_text == f"{program.target}."
    True
    >>> print(generate_addition(np.random.default_rng(0), length=3).source)
    print((865+673))
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from ember.errors import ArgumentError

__all__ = ["Literal", "Variable", "BinaryOp", "IfElse", "Assign", "Loop", "Program", "OPERATIONS",
           "generate_program", "generate_addition", "evaluate", "split_of", "SPLITS",
           "Curriculum", "BaselineCurriculum", "NaiveCurriculum", "MixCurriculum", "CombinedCurriculum",
           "CURRICULA", "ProgramSampler", "END", "MAX_LENGTH", "MAX_NESTING"]

#: The paper's end-of-output token.
END = "."
#: Operation kinds of :func:`generate_program`, in the released generator's order.
OPERATIONS = ("pair", "smallmul", "vars", "loop", "if")
#: The held-out splits: a program's split is ``crc32(text) % 3``.
SPLITS = {"train": 0, "validation": 1, "test": 2}
#: Bounds the generator accepts (the paper goes to length 6, nesting 3; addition to 9 digits).
MAX_LENGTH, MAX_NESTING = 12, 8
# Variable names: one letter, never the loop counter ``x``.
_NAMES = tuple(c for c in "abcdefghijklmnopqrstuvwyz")


@dataclass(frozen=True)
class Literal:
    """An integer constant."""

    value: int

    def text(self) -> str:
        return str(self.value)


@dataclass(frozen=True)
class Variable:
    """A read of a variable assigned earlier."""

    name: str

    def text(self) -> str:
        return self.name


@dataclass(frozen=True)
class BinaryOp:
    """``(left op right)``, ``op`` one of ``+ - *``."""

    op: str
    left: "Expression"
    right: "Expression"

    def text(self) -> str:
        return f"({self.left.text()}{self.op}{self.right.text()})"


@dataclass(frozen=True)
class IfElse:
    """``(then if left cmp right else other)``, ``cmp`` one of ``< >``."""

    then: "Expression"
    left: "Expression"
    cmp: str
    right: "Expression"
    other: "Expression"

    def text(self) -> str:
        return f"({self.then.text()} if {self.left.text()}{self.cmp}{self.right.text()} else {self.other.text()})"


Expression = Union[Literal, Variable, BinaryOp, IfElse]


@dataclass(frozen=True)
class Assign:
    """``name=value``."""

    name: str
    value: Expression

    def text(self) -> str:
        return f"{self.name}={self.value.text()}"


@dataclass(frozen=True)
class Loop:
    """``for x in range(count):name+=value`` (``op`` ``+`` or ``-``), on one line as the released generator."""

    count: int
    name: str
    op: str
    value: Expression

    def text(self) -> str:
        return f"for x in range({self.count}):{self.name}{self.op}={self.value.text()}"


Statement = Union[Assign, Loop]


@dataclass(frozen=True)
class Program:
    """A generated program: its statements, the printed expression, and the generator's own target.

    Attributes:
        statements: the lines before ``print``.
        result: the printed expression.
        target: the output, as the generator computed it while composing.
        length, nesting: the knobs it was drawn with.
        operations: the kinds composed, in order (``len == nesting``; ``("add",)`` for addition).
    """

    statements: Tuple[Statement, ...]
    result: Expression
    target: int
    length: int
    nesting: int
    operations: Tuple[str, ...]

    @property
    def source(self) -> str:
        """The program text, lines separated by ``\\n``, ending in ``print(...)``."""
        return "\n".join([s.text() for s in self.statements] + [f"print({self.result.text()})"])

    @property
    def target_text(self) -> str:
        """The output the model must write: the integer then the end token ``.``."""
        return f"{self.target}{END}"


def _value(expression: Expression, env: Dict[str, int]) -> int:
    if isinstance(expression, Literal):
        return expression.value
    if isinstance(expression, Variable):
        if expression.name not in env:
            raise ArgumentError(f"evaluate: variable {expression.name!r} read before assignment")
        return env[expression.name]
    if isinstance(expression, BinaryOp):
        a, b = _value(expression.left, env), _value(expression.right, env)
        if expression.op == "+":
            return a + b
        if expression.op == "-":
            return a - b
        if expression.op == "*":
            return a * b
        raise ArgumentError(f"evaluate: unknown operator {expression.op!r}; expected one of + - *")
    if isinstance(expression, IfElse):
        a, b = _value(expression.left, env), _value(expression.right, env)
        if expression.cmp not in ("<", ">"):
            raise ArgumentError(f"evaluate: unknown comparison {expression.cmp!r}; expected < or >")
        taken = a < b if expression.cmp == "<" else a > b
        return _value(expression.then if taken else expression.other, env)
    raise ArgumentError(f"evaluate: not an expression of the program grammar: {type(expression).__name__}")


def evaluate(program: Program) -> int:
    """Run ``program`` with the grammar's own interpreter and return what its ``print`` prints.

    Statements run in order over an environment of variables; a loop runs its body ``count`` times.
    """
    env: Dict[str, int] = {}
    for statement in program.statements:
        if isinstance(statement, Assign):
            env[statement.name] = _value(statement.value, env)
        elif isinstance(statement, Loop):
            if statement.name not in env:
                raise ArgumentError(f"evaluate: loop updates {statement.name!r} before assignment")
            if statement.op not in ("+", "-"):
                raise ArgumentError(f"evaluate: unknown loop update {statement.op!r}=; expected += or -=")
            for _ in range(statement.count):
                step = _value(statement.value, env)
                env[statement.name] += step if statement.op == "+" else -step
        else:
            raise ArgumentError(f"evaluate: not a statement of the program grammar: {type(statement).__name__}")
    return _value(program.result, env)


def _check_knobs(name: str, length: int, nesting: int, max_length: int = MAX_LENGTH) -> None:
    if not 1 <= length <= max_length:
        raise ArgumentError(f"{name}: length must be in 1..{max_length}, got {length}")
    if not 1 <= nesting <= MAX_NESTING:
        raise ArgumentError(f"{name}: nesting must be in 1..{MAX_NESTING}, got {nesting}")


class _Composer:
    """The state of one program being composed: the statements so far and the unused names."""

    def __init__(self, rng: np.random.Generator, length: int) -> None:
        self.rng, self.length = rng, length
        self.statements: List[Statement] = []
        self.free = list(_NAMES)
        self.previous: Optional[Tuple[Expression, int]] = None

    def literal(self) -> Tuple[Expression, int]:
        value = int(self.rng.integers(1, 10 ** self.length))
        return Literal(value), value

    def small(self) -> int:
        return int(self.rng.integers(1, 4 * self.length + 1))

    def operands(self, count: int) -> List[Tuple[Expression, int]]:
        """``count`` operands: the previous expression (if any) in a random slot, fresh literals elsewhere."""
        out = [self.literal() for _ in range(count)]
        if self.previous is not None:
            out[int(self.rng.integers(count))] = self.previous
        return out

    def name(self) -> str:
        return self.free.pop(int(self.rng.integers(len(self.free))))

    def step(self, kind: str) -> None:
        """Compose one operation of ``kind`` and remember its ``(expression, value)``."""
        rng = self.rng
        if kind == "pair":
            (a, va), (b, vb) = self.operands(2)
            plus = bool(rng.integers(2))
            self.previous = BinaryOp("+" if plus else "-", a, b), (va + vb if plus else va - vb)
        elif kind == "smallmul":
            (a, va), = self.operands(1)
            k = self.small()
            expr = BinaryOp("*", a, Literal(k)) if rng.integers(2) else BinaryOp("*", Literal(k), a)
            self.previous = expr, va * k
        elif kind == "vars":
            (a, va), (b, vb) = self.operands(2)
            name, plus = self.name(), bool(rng.integers(2))
            self.statements.append(Assign(name, a))
            self.previous = BinaryOp("+" if plus else "-", Variable(name), b), (va + vb if plus else va - vb)
        elif kind == "loop":
            (a, va), (b, vb) = self.operands(2)
            name, count, plus = self.name(), self.small(), bool(rng.integers(2))
            self.statements += [Assign(name, a), Loop(count, name, "+" if plus else "-", b)]
            self.previous = Variable(name), (va + count * vb if plus else va - count * vb)
        elif kind == "if":
            (a, va), (b, vb), (c, vc), (d, vd) = self.operands(4)
            less = bool(rng.integers(2))
            taken = va < vb if less else va > vb
            self.previous = IfElse(c, a, "<" if less else ">", b, d), (vc if taken else vd)
        else:
            raise ArgumentError(f"generate_program: unknown operation {kind!r}; expected one of {OPERATIONS}")


def generate_program(rng: np.random.Generator, length: int, nesting: int) -> Program:
    """One random program with literals of at most ``length`` digits and ``nesting`` operations.

    Example:
        >>> p = generate_program(np.random.default_rng(0), length=4, nesting=3)
        >>> len(p.operations), evaluate(p) == p.target
        (3, True)
    """
    _check_knobs("generate_program", length, nesting)
    composer = _Composer(rng, length)
    kinds = tuple(OPERATIONS[int(rng.integers(len(OPERATIONS)))] for _ in range(nesting))
    for kind in kinds:
        composer.step(kind)
    expression, target = composer.previous
    return Program(tuple(composer.statements), expression, target, length, nesting, kinds)


def generate_addition(rng: np.random.Generator, length: int) -> Program:
    """``print((a+b))`` with ``a``, ``b`` uniform ``length``-digit numbers (the paper's addition task)."""
    _check_knobs("generate_addition", length, 1)
    low = 10 ** (length - 1) if length > 1 else 0
    a, b = (int(v) for v in rng.integers(low, 10 ** length, 2))
    return Program((), BinaryOp("+", Literal(a), Literal(b)), a + b, length, 1, ("add",))


def split_of(program: Program) -> str:
    """``"train"``, ``"validation"`` or ``"test"``: ``crc32`` of the program's text and target, mod 3."""
    code = zlib.crc32((program.source + "@" + program.target_text).encode()) % 3
    return ("train", "validation", "test")[code]


class Curriculum:
    """Draws a ``(length, nesting)`` per example for the target ``(length, nesting)``.

    ``current`` is the naive curriculum's level (the target for curricula that do not move);
    :meth:`advance` moves it up one step and says whether it could.
    """

    name = "curriculum"

    def __init__(self, length: int, nesting: int) -> None:
        _check_knobs(type(self).__name__, length, nesting)
        self.length, self.nesting = int(length), int(nesting)
        self.current: Tuple[int, int] = (self.length, self.nesting)

    def sample(self, rng: np.random.Generator) -> Tuple[int, int]:
        """The ``(length, nesting)`` of one example."""
        raise NotImplementedError

    def advance(self) -> bool:
        """Make the current level harder; False when it already is the target (nothing changes)."""
        return False

    def _mix(self, rng: np.random.Generator) -> Tuple[int, int]:
        return int(rng.integers(1, self.length + 1)), int(rng.integers(1, self.nesting + 1))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(length={self.length}, nesting={self.nesting}, current={self.current})"


class BaselineCurriculum(Curriculum):
    """No curriculum: every example at the target ``(length, nesting)``."""

    name = "baseline"

    def sample(self, rng: np.random.Generator) -> Tuple[int, int]:
        return self.length, self.nesting


class NaiveCurriculum(Curriculum):
    """Start at ``(1, 1)``; :meth:`advance` adds 1 to length up to the target, then 1 to nesting (length back to 1)."""

    name = "naive"

    def __init__(self, length: int, nesting: int) -> None:
        super().__init__(length, nesting)
        self.current = (1, 1)

    def sample(self, rng: np.random.Generator) -> Tuple[int, int]:
        return self.current

    def advance(self) -> bool:
        length, nesting = self.current
        if length < self.length:
            self.current = (length + 1, nesting)
        elif nesting < self.nesting:
            self.current = (1, nesting + 1)
        else:
            return False
        return True


class MixCurriculum(Curriculum):
    """Each example: length uniform in ``1..length``, nesting uniform in ``1..nesting``."""

    name = "mix"

    def sample(self, rng: np.random.Generator) -> Tuple[int, int]:
        return self._mix(rng)


class CombinedCurriculum(NaiveCurriculum):
    """Each example: a mix draw with probability ``mix_fraction``, else the naive level (the paper's best)."""

    name = "combined"

    def __init__(self, length: int, nesting: int, mix_fraction: float = 0.2) -> None:
        super().__init__(length, nesting)
        if not 0.0 <= mix_fraction <= 1.0:
            raise ArgumentError(f"CombinedCurriculum: mix_fraction must be in [0, 1], got {mix_fraction}")
        self.mix_fraction = float(mix_fraction)

    def sample(self, rng: np.random.Generator) -> Tuple[int, int]:
        return self._mix(rng) if rng.random() < self.mix_fraction else self.current


#: The curricula by their command-line names.
CURRICULA = {"baseline": BaselineCurriculum, "naive": NaiveCurriculum, "mix": MixCurriculum,
             "combined": CombinedCurriculum}


class ProgramSampler:
    """Batches of programs of one ``split``, each at a ``(length, nesting)`` drawn from a curriculum.

    Args:
        task: ``"programs"`` or ``"addition"`` (nesting is ignored for addition).
        curriculum: draws each example's knobs (a fixed ``(length, nesting)`` tuple means baseline).
        split: ``"train"``, ``"validation"`` or ``"test"``; programs of other splits are redrawn.
        seed: the batches depend only on ``(seed, split)`` and the calls made.

    Example:
        >>> sampler = ProgramSampler("programs", MixCurriculum(3, 2), split="test", seed=0)
        >>> batch = sampler.batch(8)
        >>> len(batch), all(split_of(p) == "test" for p in batch)
        (8, True)
    """

    def __init__(self, task: str, curriculum: Union[Curriculum, Tuple[int, int]], split: str = "train",
                 seed: int = 0) -> None:
        if task not in ("programs", "addition"):
            raise ArgumentError(f"ProgramSampler: task must be 'programs' or 'addition', got {task!r}")
        if split not in SPLITS:
            raise ArgumentError(f"ProgramSampler: split must be one of {tuple(SPLITS)}, got {split!r}")
        if isinstance(curriculum, tuple):
            curriculum = BaselineCurriculum(*curriculum)
        self.task, self.curriculum, self.split = task, curriculum, split
        self.rng = np.random.default_rng([int(seed), SPLITS[split]])

    def draw(self, length: int, nesting: int) -> Program:
        """One program of this split at ``(length, nesting)``."""
        for _ in range(1000):
            if self.task == "addition":
                program = generate_addition(self.rng, length)
            else:
                program = generate_program(self.rng, length, nesting)
            if split_of(program) == self.split:
                return program
        raise ArgumentError(f"ProgramSampler: no {self.split} program in 1000 draws at length {length}, "
                            f"nesting {nesting}")

    def batch(self, size: int) -> List[Program]:
        """``size`` programs, each at knobs drawn from the curriculum."""
        return [self.draw(*self.curriculum.sample(self.rng)) for _ in range(int(size))]
