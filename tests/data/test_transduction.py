"""Transduction tasks (Grefenstette et al. 2015): targets, joint id layout, seeding, lengths and the accuracies."""
import numpy as np
import pytest

from ember.data.transduction import (
    IGNORE,
    TRAIN_LENGTHS,
    coarse_fine_accuracy,
    input_vocab_size,
    make_transduction_batch,
    sample_lengths,
    target_vocab_size,
    transduce,
)


def test_targets_of_the_three_tasks():
    assert transduce("copy", [4, 5, 6]) == [4, 5, 6]
    assert transduce("reversal", [4, 5, 6]) == [6, 5, 4]
    assert transduce("bigram-flip", [1, 2, 3, 4, 5, 6]) == [2, 1, 4, 3, 6, 5]
    with pytest.raises(ValueError, match="bigram-flip needs an even-length source, got length 3"):
        transduce("bigram-flip", [1, 2, 3])
    with pytest.raises(ValueError, match="task must be one of copy, reversal, bigram-flip, got 'sort'"):
        transduce("sort", [1])


def test_joint_sequence_layout_and_targets():
    vocab = 7
    batch = make_transduction_batch("reversal", [2, 4], np.random.default_rng(3), vocab_size=vocab)
    start, separator, offset, end = vocab, vocab + 1, vocab + 2, vocab
    for row, source in enumerate(batch.sources):
        k = len(source)
        target = source[::-1]
        assert batch.inputs[row, :2 * k + 2].tolist() == [start, *source, separator, *(offset + b for b in target)]
        assert batch.separator[row] == k + 1 and batch.target_lengths[row] == k + 1
        assert batch.targets[row, k + 1:2 * k + 2].tolist() == [*target, end]
        assert (batch.targets[row, :k + 1] == IGNORE).all() and (batch.targets[row, 2 * k + 2:] == IGNORE).all()
    assert batch.inputs.shape == (2, 10)
    assert batch.inputs.max() < input_vocab_size(vocab) and batch.targets.max() < target_vocab_size(vocab)


def test_seeded_and_symbol_distribution():
    a = make_transduction_batch("copy", [64] * 50, np.random.default_rng(0))
    b = make_transduction_batch("copy", [64] * 50, np.random.default_rng(0))
    np.testing.assert_array_equal(a.inputs, b.inputs)
    symbols = np.array(a.sources).ravel()
    assert symbols.min() == 0 and symbols.max() == 127  # uniform over the paper's 128 symbols
    assert abs(symbols.mean() - 63.5) < 3


def test_bigram_flip_rounds_odd_lengths_down_and_lengths_are_uniform():
    batch = make_transduction_batch("bigram-flip", [9, 8], np.random.default_rng(0))
    assert [len(s) for s in batch.sources] == [8, 8]
    lengths = sample_lengths(5000, np.random.default_rng(1), *TRAIN_LENGTHS)
    assert min(lengths) == 8 and max(lengths) == 64
    with pytest.raises(ValueError, match="need 1 <= low <= high, got low=9, high=8"):
        sample_lengths(1, np.random.default_rng(0), 9, 8)
    with pytest.raises(ValueError, match=r"bigram-flip needs at least one source length >= 1 \(2 for bigram-flip\)"):
        make_transduction_batch("bigram-flip", [1], np.random.default_rng(0))


def test_coarse_and_fine_accuracy_follow_the_papers_definition():
    batch = make_transduction_batch("copy", [3, 3, 1], np.random.default_rng(0), vocab_size=5)
    predicted = np.where(batch.targets == IGNORE, 0, batch.targets)
    assert coarse_fine_accuracy(predicted, batch) == (1.0, 1.0)
    predicted[0, batch.separator[0]] = (batch.targets[0, batch.separator[0]] + 1) % 5  # first symbol wrong: 0 of 4
    predicted[1, batch.separator[1] + 3] = 0  # </s> wrong: 3 of 4 (the target length counts </s>)
    coarse, fine = coarse_fine_accuracy(predicted, batch)
    assert coarse == pytest.approx(1 / 3) and fine == pytest.approx((0 + 3 / 4 + 1) / 3)
    # what comes after the first error does not count, and unscored positions are ignored
    predicted[1, :batch.separator[1]] = 99
    predicted[0, batch.separator[0] + 1:] = 99
    assert coarse_fine_accuracy(predicted, batch) == (coarse, fine)
    with pytest.raises(ValueError, match=r"predictions of shape \(3, 2\) do not match the batch's targets \(3, 8\)"):
        coarse_fine_accuracy(predicted[:, :2], batch)
