"""ember.nn.utils.rnn against torch.nn.utils.rnn: packing, unpacking, padding, gradients, errors."""
import numpy as np
import pytest

import ember
from ember.autograd import gradcheck
from ember.nn.utils import rnn

torch = pytest.importorskip("torch")
trnn = torch.nn.utils.rnn


def _padded(T=5, B=4, F=3, seed=0, dtype="float64"):
    return np.random.default_rng(seed).standard_normal((T, B, F)).astype(dtype)


def _same_packed(ours, theirs):
    np.testing.assert_allclose(ours.data.numpy(), theirs.data.detach().numpy(), rtol=0, atol=0)
    assert ours.batch_sizes.numpy().tolist() == theirs.batch_sizes.tolist()
    for mine, ref in ((ours.sorted_indices, theirs.sorted_indices), (ours.unsorted_indices, theirs.unsorted_indices)):
        assert (mine is None) == (ref is None)
        if ref is not None:
            assert mine.numpy().tolist() == ref.tolist()


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [([5, 4, 2, 1], True), ([2, 5, 1, 4], False), ([5, 5, 5, 5], True)])
def test_pack_and_pad_match_torch(batch_first, lengths, enforce_sorted):
    x = _padded()
    if batch_first:
        x = x.transpose(1, 0, 2).copy()
    ours = rnn.pack_padded_sequence(ember.tensor(x), lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    theirs = trnn.pack_padded_sequence(torch.from_numpy(x), torch.tensor(lengths), batch_first=batch_first,
                                       enforce_sorted=enforce_sorted)
    _same_packed(ours, theirs)
    assert isinstance(ours, tuple) and ours._fields == theirs._fields
    for total_length in (None, 7):
        padded, out_lengths = rnn.pad_packed_sequence(ours, batch_first=batch_first, padding_value=-2.0,
                                                      total_length=total_length)
        ref, ref_lengths = trnn.pad_packed_sequence(theirs, batch_first=batch_first, padding_value=-2.0,
                                                    total_length=total_length)
        np.testing.assert_array_equal(padded.numpy(), ref.numpy())
        assert out_lengths.numpy().tolist() == ref_lengths.tolist() and out_lengths.dtype == np.int64


def test_pack_sequence_pad_sequence_and_their_inverses():
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 2)) for n in (3, 5, 1)]
    for side in ("right", "left"):
        ours = rnn.pad_sequence([ember.tensor(s) for s in seqs], batch_first=True, padding_value=9.0,
                                padding_side=side)
        theirs = trnn.pad_sequence([torch.from_numpy(s) for s in seqs], batch_first=True, padding_value=9.0,
                                   padding_side=side)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    np.testing.assert_array_equal(rnn.pad_sequence([ember.tensor(s) for s in seqs]).numpy(),
                                  trnn.pad_sequence([torch.from_numpy(s) for s in seqs]).numpy())
    packed = rnn.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    _same_packed(packed, trnn.pack_sequence([torch.from_numpy(s) for s in seqs], enforce_sorted=False))
    for mine, s in zip(rnn.unpack_sequence(packed), seqs):
        np.testing.assert_array_equal(mine.numpy(), s)


def test_packing_is_differentiable():
    x = ember.tensor(_padded(4, 3, 2), requires_grad=True)

    def roundtrip(x):
        packed = rnn.pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False)
        padded, _ = rnn.pad_packed_sequence(packed, padding_value=1.5)
        return padded * padded

    assert gradcheck(roundtrip, (x,))
    # Padded steps receive no gradient.
    packed = rnn.pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False)
    (packed.data * 2).sum().backward()
    grad = x.grad.numpy()
    assert np.all(grad[2:, 0] == 0) and np.all(grad[3:, 2] == 0) and np.all(grad[:2, 0] == 2)


def test_errors():
    x = ember.zeros(5, 3, 2)
    with pytest.raises(RuntimeError, match=r"pack_padded_sequence: `lengths` must be sorted in decreasing order "
                                           r"when enforce_sorted=True, got \[2, 5, 1\]"):
        rnn.pack_padded_sequence(x, [2, 5, 1])
    with pytest.raises(ValueError, match=r"every length must lie in \[1, 5\] \(the padded length\), got \[6, 5, 1\]"):
        rnn.pack_padded_sequence(x, [6, 5, 1])
    with pytest.raises(ValueError, match=r"expected 3 lengths \(one per sequence of the input of shape \(5, 3, 2\)\)"):
        rnn.pack_padded_sequence(x, [5, 1])
    packed = rnn.pack_padded_sequence(x, [5, 3, 1])
    with pytest.raises(ValueError, match="total_length=4 is less than the longest sequence length 5"):
        rnn.pad_packed_sequence(packed, total_length=4)
    with pytest.raises(TypeError, match="pad_packed_sequence: expected a PackedSequence, got Tensor"):
        rnn.pad_packed_sequence(x)
    with pytest.raises(ValueError, match=r"pad_sequence: sequence 1 has shape \(2, 3\)"):
        rnn.pad_sequence([ember.zeros(3, 2), ember.zeros(2, 3)])
