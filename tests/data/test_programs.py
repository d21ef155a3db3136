"""The program generator of "Learning to Execute": determinism, targets, knobs, curricula, splits."""
from collections import Counter

import numpy as np
import pytest

from ember.data.programs import (OPERATIONS, Assign, BaselineCurriculum, BinaryOp, CombinedCurriculum, IfElse,
                                 Literal, Loop, MixCurriculum, NaiveCurriculum, Program, ProgramSampler, Variable,
                                 evaluate, generate_addition, generate_program, split_of)
from ember.errors import ArgumentError


def _nodes(expression):
    yield expression
    if isinstance(expression, BinaryOp):
        yield from _nodes(expression.left)
        yield from _nodes(expression.right)
    elif isinstance(expression, IfElse):
        for part in (expression.then, expression.left, expression.right, expression.other):
            yield from _nodes(part)


def _all_nodes(program):
    for statement in program.statements:
        yield from _nodes(statement.value)
    yield from _nodes(program.result)


def test_same_seed_same_programs_other_seed_other_programs():
    first = [generate_program(np.random.default_rng(s), 4, 3) for s in range(50)]
    again = [generate_program(np.random.default_rng(s), 4, 3) for s in range(50)]
    other = [generate_program(np.random.default_rng(s + 1000), 4, 3) for s in range(50)]
    assert [(p.source, p.target) for p in first] == [(p.source, p.target) for p in again]
    assert sum(p.source == q.source for p, q in zip(first, other)) < 5
    sampler_a = ProgramSampler("programs", MixCurriculum(4, 3), "train", seed=5).batch(30)
    sampler_b = ProgramSampler("programs", MixCurriculum(4, 3), "train", seed=5).batch(30)
    assert [p.source for p in sampler_a] == [p.source for p in sampler_b]


def test_generator_target_equals_interpreter_over_thousands_of_programs():
    kinds = Counter()
    for seed in range(4000):
        rng = np.random.default_rng(seed)
        length, nesting = int(rng.integers(1, 7)), int(rng.integers(1, 5))
        program = generate_program(rng, length, nesting)
        assert evaluate(program) == program.target, program.source
        assert program.target_text == f"{program.target}."
        kinds.update(program.operations)
    assert set(kinds) == set(OPERATIONS) and min(kinds.values()) > 0.17 * sum(kinds.values())  # each 1/5


def test_interpreter_on_a_hand_written_program():
    # a=7 / for x in range(3):a-=(2*5) / print(((a+1) if a<0 else 4))  ->  7 - 30 = -23, then -22
    program = Program((Assign("a", Literal(7)), Loop(3, "a", "-", BinaryOp("*", Literal(2), Literal(5)))),
                      IfElse(BinaryOp("+", Variable("a"), Literal(1)), Variable("a"), "<", Literal(0), Literal(4)),
                      -22, 1, 2, ("loop", "if"))
    assert program.source == "a=7\nfor x in range(3):a-=(2*5)\nprint(((a+1) if a<0 else 4))"
    assert evaluate(program) == -22
    with pytest.raises(ArgumentError, match="variable 'b' read before assignment"):
        evaluate(Program((), Variable("b"), 0, 1, 1, ("pair",)))


@pytest.mark.parametrize("length", [1, 2, 4, 6])
def test_literals_respect_length_and_small_numbers_stay_small(length):
    biggest = 0
    for seed in range(400):
        program = generate_program(np.random.default_rng(seed), length, 3)
        small = {s.count for s in program.statements if isinstance(s, Loop)}
        for node in _all_nodes(program):
            if isinstance(node, BinaryOp) and node.op == "*":
                small |= {n.value for n in (node.left, node.right) if isinstance(n, Literal) and n.value <= 4 * length}
            if isinstance(node, Literal):
                assert 1 <= node.value < 10 ** length
                biggest = max(biggest, node.value)
        assert all(1 <= k <= 4 * length for k in small)
        loops = [s for s in program.statements if isinstance(s, Loop)]
        assert all(f"range({s.count})" in program.source for s in loops)
    assert len(str(biggest)) == length  # the range is reached, not just bounded


@pytest.mark.parametrize("nesting", [1, 2, 3, 5])
def test_nesting_is_the_number_of_composed_operations(nesting):
    for seed in range(300):
        program = generate_program(np.random.default_rng(seed), 3, nesting)
        assert len(program.operations) == nesting
        # each operation leaves exactly one operator node or loop: (a+b), (a*k), (v+b), a loop, an if
        blocks = sum(isinstance(n, (BinaryOp, IfElse)) for n in _all_nodes(program))
        blocks += sum(isinstance(s, Loop) for s in program.statements)
        assert blocks == nesting, program.source
        assert program.source.count("for x in range(") == program.operations.count("loop")
        assert program.source.count(" if ") == program.operations.count("if")
        assert program.source.splitlines()[-1].startswith("print(")


def test_addition_has_two_numbers_of_exactly_length_digits():
    for seed in range(300):
        program = generate_addition(np.random.default_rng(seed), 5)
        a, b = program.result.left.value, program.result.right.value
        assert len(str(a)) == len(str(b)) == 5 and program.target == a + b == evaluate(program)
        assert program.source == f"print(({a}+{b}))"


def test_baseline_and_naive_curricula():
    rng = np.random.default_rng(0)
    assert {BaselineCurriculum(4, 3).sample(rng) for _ in range(50)} == {(4, 3)}
    naive = NaiveCurriculum(3, 2)
    levels = [naive.current]
    while naive.advance():
        assert {naive.sample(rng) for _ in range(20)} == {naive.current}
        levels.append(naive.current)
    assert levels == [(1, 1), (2, 1), (3, 1), (1, 2), (2, 2), (3, 2)]
    assert naive.current == (3, 2) and not naive.advance()
    assert not BaselineCurriculum(2, 2).advance()


def test_mix_draws_uniform_independent_levels():
    rng, draws = np.random.default_rng(1), 24000
    counts = Counter(MixCurriculum(4, 3).sample(rng) for _ in range(draws))
    assert set(counts) == {(l, n) for l in range(1, 5) for n in range(1, 4)}
    for count in counts.values():  # each of 12 cells 1/12; binomial sd ~ 0.0018
        assert abs(count / draws - 1 / 12) < 0.01


def test_combined_mixes_naive_level_with_a_fifth_of_mix_draws():
    rng, draws = np.random.default_rng(2), 20000
    combined = CombinedCurriculum(4, 2)
    combined.advance()  # current (2, 1)
    counts = Counter(combined.sample(rng) for _ in range(draws))
    # P(current) = 0.8 + 0.2 / 8; every other cell 0.2 / 8
    assert abs(counts[(2, 1)] / draws - (0.8 + 0.2 / 8)) < 0.01
    for cell in [(1, 1), (3, 1), (4, 2)]:
        assert abs(counts[cell] / draws - 0.2 / 8) < 0.006
    with pytest.raises(ArgumentError, match=r"CombinedCurriculum: mix_fraction must be in \[0, 1\], got 2"):
        CombinedCurriculum(4, 2, mix_fraction=2)


def test_splits_are_disjoint_and_respected():
    train = ProgramSampler("addition", (1, 1), "train", seed=0).batch(300)
    test = ProgramSampler("addition", (1, 1), "test", seed=0).batch(300)
    assert all(split_of(p) == "train" for p in train) and all(split_of(p) == "test" for p in test)
    assert not {p.source for p in train} & {p.source for p in test}
    assert len({p.source for p in test}) > 20


def test_errors_name_the_function_and_the_bad_value():
    rng = np.random.default_rng(0)
    with pytest.raises(ArgumentError, match="generate_program: length must be in 1..12, got 0"):
        generate_program(rng, 0, 1)
    with pytest.raises(ArgumentError, match="generate_program: nesting must be in 1..8, got 9"):
        generate_program(rng, 2, 9)
    with pytest.raises(ArgumentError, match="ProgramSampler: task must be 'programs' or 'addition', got 'sort'"):
        ProgramSampler("sort", (1, 1))
    with pytest.raises(ArgumentError, match="ProgramSampler: split must be one of"):
        ProgramSampler("programs", (1, 1), split="dev")
    with pytest.raises(ArgumentError, match="MixCurriculum: length must be in 1..12, got 13"):
        MixCurriculum(13, 1)
