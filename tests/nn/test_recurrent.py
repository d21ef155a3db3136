"""RNN, LSTM, GRU and their cells: PyTorch parity, variable lengths, gradients and input errors."""
import numpy as np
import pytest

import ember
import ember.functional as F
import ember.nn as nn
from ember.autograd import gradcheck, gradgradcheck
from nn.oracle import call_with_parameters, copy_state_to_torch


def _torch_class(torch, module):
    kind = type(module).__name__
    if kind == "RNN":
        return torch.nn.RNN(module.input_size, module.hidden_size, module.num_layers, nonlinearity=module.nonlinearity,
                            bias=module.bias, batch_first=module.batch_first, bidirectional=module.bidirectional)
    return getattr(torch.nn, kind)(module.input_size, module.hidden_size, module.num_layers, bias=module.bias,
                                   batch_first=module.batch_first, bidirectional=module.bidirectional)


def _as_list(states):
    return list(states) if isinstance(states, tuple) else [states]


def _compare_with_torch(torch, module, x, hx=None, rtol=1e-5, atol=1e-6, **kwargs):
    """Outputs, final states and the gradients of the input, states and every parameter."""
    reference = _torch_class(torch, module).to(torch.float64 if x.dtype == np.float64 else torch.float32)
    copy_state_to_torch(torch, module, reference)
    ours_x = ember.tensor(x, requires_grad=True)
    theirs_x = torch.tensor(x, requires_grad=True)
    ours_h = None if hx is None else [ember.tensor(h, requires_grad=True) for h in hx]
    theirs_h = None if hx is None else [torch.tensor(h, requires_grad=True) for h in hx]
    pack = (lambda s: tuple(s)) if isinstance(module, nn.LSTM) else (lambda s: s[0])
    out, states = module(ours_x, None if hx is None else pack(ours_h), **kwargs)
    expected, expected_states = reference(theirs_x, None if hx is None else pack(theirs_h))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=rtol, atol=atol)
    rng = np.random.default_rng(0)
    total_ours, total_theirs = 0, 0
    for mine, ref in zip([out] + _as_list(states), [expected] + _as_list(expected_states)):
        np.testing.assert_allclose(mine.numpy(), ref.detach().numpy(), rtol=rtol, atol=atol)
        w = rng.standard_normal(mine.shape).astype(x.dtype)
        total_ours = total_ours + (mine * ember.tensor(w)).sum()
        total_theirs = total_theirs + (ref * torch.tensor(w)).sum()
    total_ours.backward()
    total_theirs.backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=rtol, atol=atol)
    for mine, ref in zip(ours_h or [], theirs_h or []):
        np.testing.assert_allclose(mine.grad.numpy(), ref.grad.numpy(), rtol=rtol, atol=atol)
    their_params = dict(reference.named_parameters())
    for name, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=name)


MODULES = {
    "lstm-2layer-bidirectional": lambda bf: nn.LSTM(5, 7, num_layers=2, bidirectional=True, batch_first=bf),
    "lstm-no-bias": lambda bf: nn.LSTM(5, 7, bias=False, batch_first=bf),
    "gru-2layer-bidirectional": lambda bf: nn.GRU(5, 7, num_layers=2, bidirectional=True, batch_first=bf),
    "gru-no-bias": lambda bf: nn.GRU(5, 7, bias=False, batch_first=bf),
    "rnn-tanh-2layer-bidirectional": lambda bf: nn.RNN(5, 7, num_layers=2, bidirectional=True, batch_first=bf),
    "rnn-relu-2layer": lambda bf: nn.RNN(5, 7, num_layers=2, nonlinearity="relu", batch_first=bf),
}


def _input(rng, module, T=6, B=3, dtype="float64"):
    shape = (B, T, module.input_size) if module.batch_first else (T, B, module.input_size)
    return rng.standard_normal(shape).astype(dtype)


def _initial_states(rng, module, B=3, dtype="float64"):
    shape = (module.num_layers * module.num_directions, B, module.hidden_size)
    count = 2 if isinstance(module, nn.LSTM) else 1
    return [rng.standard_normal(shape).astype(dtype) * 0.5 for _ in range(count)]


@pytest.mark.parametrize("batch_first", [False, True], ids=["time-major", "batch-first"])
@pytest.mark.parametrize("name", list(MODULES))
def test_matches_pytorch_with_initial_states(name, batch_first):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    module = MODULES[name](batch_first).double()
    _compare_with_torch(torch, module, _input(rng, module), _initial_states(rng, module), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", ["lstm-2layer-bidirectional", "gru-2layer-bidirectional"])
def test_matches_pytorch_in_float32_with_default_states(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    module = MODULES[name](True)
    _compare_with_torch(torch, module, _input(rng, module, dtype="float32"), rtol=2e-4, atol=2e-5)


def test_state_dict_moves_both_ways_with_torch_names():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.LSTM(4, 3, num_layers=2, bidirectional=True)
    ours = nn.LSTM(4, 3, num_layers=2, bidirectional=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert "bias_hh_l1_reverse" in ours.state_dict()
    ours.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    back = torch.nn.LSTM(4, 3, num_layers=2, bidirectional=True)
    copy_state_to_torch(torch, ours, back)
    for k, v in back.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), theirs.state_dict()[k].numpy())


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_lengths_match_pytorch_packed_sequences(kind):
    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    rng = np.random.default_rng(2)
    module = getattr(nn, kind)(4, 5, num_layers=2, bidirectional=True, batch_first=True).double()
    reference = _torch_class(torch, module).double()
    copy_state_to_torch(torch, module, reference)
    lengths = [6, 2, 4, 1]
    x = rng.standard_normal((4, 6, 4))
    ours_x, theirs_x = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, states = module(ours_x, lengths=lengths)
    packed = pack_padded_sequence(theirs_x, torch.tensor(lengths), batch_first=True, enforce_sorted=False)
    packed_out, expected_states = reference(packed)
    expected, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=6)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-9, atol=1e-10)
    for mine, ref in zip(_as_list(states), _as_list(expected_states)):
        np.testing.assert_allclose(mine.numpy(), ref.detach().numpy(), rtol=1e-9, atol=1e-10)
    w = rng.standard_normal(out.shape)
    ((out * ember.tensor(w)).sum() + _as_list(states)[0].sum()).backward()
    ((expected * torch.tensor(w)).sum() + _as_list(expected_states)[0].sum()).backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-9, atol=1e-10)
    their_params = dict(reference.named_parameters())
    for name, p in module.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_padded_final_states_equal_unpadded_runs(kind):
    rng = np.random.default_rng(3)
    module = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    lengths = [5, 3, 1]
    x = rng.standard_normal((5, 3, 3))
    out, states = module(ember.tensor(x), lengths=lengths)
    for b, length in enumerate(lengths):
        alone_out, alone_states = module(ember.tensor(x[:length, b:b + 1]))
        np.testing.assert_allclose(out.numpy()[:length, b], alone_out.numpy()[:, 0], rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(out.numpy()[length:, b], 0.0)
        for padded, alone in zip(_as_list(states), _as_list(alone_states)):
            np.testing.assert_allclose(padded.numpy()[:, b], alone.numpy()[:, 0], rtol=1e-12, atol=1e-12)


def test_padding_values_change_neither_states_nor_masked_loss_nor_gradients():
    rng = np.random.default_rng(4)
    module = nn.LSTM(3, 4, batch_first=True).double()
    lengths = np.array([5, 2, 3])
    mask = F.sequence_mask(lengths, 5)
    x = rng.standard_normal((3, 5, 3))
    noisy = x.copy()
    noisy[~mask.numpy()] = rng.standard_normal((int((~mask.numpy()).sum()), 3)) * 100

    def run(inputs):
        module.zero_grad()
        out, (h, c) = module(ember.tensor(inputs), mask=mask)
        weights = ember.tensor(mask.numpy()[..., None].astype("float64"))
        loss = ((out * weights) ** 2).sum() / weights.sum() + (h * c).sum()
        loss.backward()
        return loss.item(), h.numpy(), [p.grad.numpy().copy() for p in module.parameters()]

    clean, dirty = run(x), run(noisy)
    assert clean[0] == pytest.approx(dirty[0], rel=1e-12)
    np.testing.assert_allclose(clean[1], dirty[1], rtol=1e-12)
    for a, b in zip(clean[2], dirty[2]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_mask_and_lengths_agree_and_sequence_mask_layouts():
    rng = np.random.default_rng(5)
    module = nn.GRU(3, 4)
    x = ember.tensor(rng.standard_normal((5, 2, 3)).astype("float32"))
    by_lengths = module(x, lengths=[4, 2])
    by_mask = module(x, mask=F.sequence_mask([4, 2], 5, batch_first=False))
    np.testing.assert_array_equal(by_lengths[0].numpy(), by_mask[0].numpy())
    assert F.sequence_mask([1, 3]).shape == (2, 3)
    assert F.sequence_mask([1, 3], 4, batch_first=False).tolist()[1] == [False, True]


CELLS = [
    ("LSTMCell", lambda: nn.LSTMCell(4, 3)),
    ("GRUCell", lambda: nn.GRUCell(4, 3)),
    ("RNNCell-tanh", lambda: nn.RNNCell(4, 3)),
    ("RNNCell-relu", lambda: nn.RNNCell(4, 3, nonlinearity="relu")),
    ("LSTMCell-no-bias", lambda: nn.LSTMCell(4, 3, bias=False)),
]


def _torch_cell(torch, cell):
    kind = type(cell).__name__
    extra = {"nonlinearity": cell.nonlinearity} if kind == "RNNCell" else {}
    return getattr(torch.nn, kind)(cell.input_size, cell.hidden_size, bias=cell.bias, **extra).double()


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("name,make", CELLS, ids=[c[0] for c in CELLS])
def test_cells_match_pytorch_over_a_few_steps(name, make, batched):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    cell = make().double()
    reference = _torch_cell(torch, cell)
    copy_state_to_torch(torch, cell, reference)
    xs = rng.standard_normal((3, 2, 4) if batched else (3, 4))
    ours_x, theirs_x = ember.tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)
    ours_state = theirs_state = None
    total_ours, total_theirs = 0, 0
    for t in range(3):
        ours_state = cell(ours_x[t], ours_state)
        theirs_state = reference(theirs_x[t], theirs_state)
        for mine, ref in zip(_as_list(ours_state), _as_list(theirs_state)):
            np.testing.assert_allclose(mine.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
            total_ours = total_ours + (mine * mine).sum()
            total_theirs = total_theirs + (ref * ref).sum()
    total_ours.backward()
    total_theirs.backward()
    np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-9, atol=1e-11)
    their_params = dict(reference.named_parameters())
    for pname, p in cell.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[pname].grad.numpy(), rtol=1e-9, atol=1e-11)


def _module_gradcheck(module, inputs, second_order=False, **kwargs):
    """gradcheck over inputs and parameters; plain inputs take the fast NumPy backward."""
    names = [n for n, _ in module.named_parameters()]
    params = [p.detach().requires_grad_(second_order) for p in module.parameters()]
    n = len(inputs)

    def run(*args):
        result = call_with_parameters(module, names, args[n:], args[:n])
        return tuple(t for r in (result if isinstance(result, tuple) else (result,)) for t in _as_list(r))

    check = gradgradcheck if second_order else gradcheck
    return check(run, list(inputs) + params, **kwargs)


@pytest.mark.parametrize("name,make", CELLS, ids=[c[0] for c in CELLS])
def test_cells_gradcheck_float64(name, make):
    rng = np.random.default_rng(7)
    cell = make().double()
    x = rng.standard_normal((2, 4))
    hx = rng.standard_normal((2, 3)) * 0.5
    state = (ember.tensor(hx), ember.tensor(hx * 0.3)) if name.startswith("LSTM") else ember.tensor(hx)
    if name == "RNNCell-relu":
        x = np.abs(x) + 0.3
        for p in cell.parameters():
            p.data[...] = np.abs(p.data) + 0.05
    assert _module_gradcheck(_CellWithState(cell, state), [ember.tensor(x)])


class _CellWithState(nn.Module):
    def __init__(self, cell, state):
        super().__init__()
        self.cell, self.state = cell, state

    def forward(self, x):
        return self.cell(x, self.state)


def test_lstm_cell_second_order():
    rng = np.random.default_rng(8)
    cell = nn.LSTMCell(2, 2).double()
    x = ember.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    assert _module_gradcheck(cell, [x], second_order=True)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_layer_gradcheck_float64_bidirectional_masked(kind):
    rng = np.random.default_rng(9)
    module = getattr(nn, kind)(2, 2, num_layers=2, bidirectional=True, batch_first=True).double()
    x = ember.tensor(rng.standard_normal((2, 3, 2)))
    assert _module_gradcheck(_WithLengths(module, [3, 2]), [x])


class _WithLengths(nn.Module):
    def __init__(self, module, lengths):
        super().__init__()
        self.module, self.lengths = module, lengths

    def forward(self, x):
        return self.module(x, lengths=self.lengths)


def test_unbatched_input_matches_a_batch_of_one():
    rng = np.random.default_rng(10)
    module = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = rng.standard_normal((5, 3)).astype("float32")
    h0 = rng.standard_normal((4, 4)).astype("float32")
    out, (h, c) = module(ember.tensor(x), (ember.tensor(h0), ember.tensor(h0)))
    batch_out, (batch_h, _) = module(ember.tensor(x[:, None]), (ember.tensor(h0[:, None]), ember.tensor(h0[:, None])))
    assert out.shape == (5, 8) and h.shape == (4, 4)
    np.testing.assert_allclose(out.numpy(), batch_out.numpy()[:, 0], rtol=1e-6)
    np.testing.assert_allclose(h.numpy(), batch_h.numpy()[:, 0], rtol=1e-6)


def test_dropout_between_layers_only_in_training():
    rng = np.random.default_rng(11)
    module = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = ember.tensor(rng.standard_normal((4, 2, 3)).astype("float32"))
    ember.manual_seed(0)
    a = module(x)[0].numpy()
    ember.manual_seed(1)
    b = module(x)[0].numpy()
    assert not np.allclose(a, b)
    module.eval()
    plain = nn.LSTM(3, 8, num_layers=2)
    plain.load_state_dict(module.state_dict())
    np.testing.assert_array_equal(module(x)[0].numpy(), plain(x)[0].numpy())


def test_defaults_float32_pytorch_initialisation_and_repr():
    module = nn.GRU(10, 20, num_layers=2, bidirectional=True, batch_first=True)
    assert all(p.dtype == np.float32 for p in module.parameters())
    bound = 1 / np.sqrt(20)
    assert all(np.abs(p.numpy()).max() <= bound for p in module.parameters())
    assert module.weight_ih_l1.shape == (60, 40)
    assert repr(module) == "GRU(10, 20, num_layers=2, batch_first=True, bidirectional=True)"
    out, h = module(ember.randn(2, 3, 10))
    assert out.dtype == np.float32 and h.shape == (4, 2, 20)


# ------------------------------------------------------------------ bad input
def test_wrong_input_rank_names_the_layer_and_shape():
    with pytest.raises(ValueError, match=r"LSTM: expected a 3-D input .* got shape \(5,\)"):
        nn.LSTM(3, 4)(ember.zeros(5))


def test_wrong_feature_size():
    with pytest.raises(ValueError, match=r"GRU: expected input with last dimension 3, got shape \(5, 2, 4\)"):
        nn.GRU(3, 4)(ember.zeros(5, 2, 4))


def test_wrong_initial_state_shapes():
    lstm = nn.LSTM(3, 4, num_layers=2)
    good = ember.zeros(2, 2, 4)
    with pytest.raises(ValueError, match=r"LSTM: expected c0 of shape \(2, 2, 4\), got shape \(1, 2, 4\)"):
        lstm(ember.zeros(5, 2, 3), (good, ember.zeros(1, 2, 4)))
    with pytest.raises(TypeError, match="LSTM: expected hx to be a tuple"):
        lstm(ember.zeros(5, 2, 3), good)
    with pytest.raises(ValueError, match=r"RNN: expected h0 of shape \(2, 2, 4\), got shape \(2, 4\)"):
        nn.RNN(3, 4, bidirectional=True)(ember.zeros(5, 2, 3), ember.zeros(2, 4))
    with pytest.raises(ValueError, match=r"LSTMCell: expected c of shape \(2, 4\), got shape \(3, 4\)"):
        nn.LSTMCell(3, 4)(ember.zeros(2, 3), (ember.zeros(2, 4), ember.zeros(3, 4)))


def test_wrong_mask_and_lengths():
    gru = nn.GRU(3, 4, batch_first=True)
    x = ember.zeros(2, 5, 3)
    with pytest.raises(ValueError, match=r"GRU: expected mask of shape \(2, 5\) \(batch, time\), got shape \(5, 2\)"):
        gru(x, mask=ember.ones(5, 2).bool())
    with pytest.raises(ValueError, match=r"GRU: expected lengths of shape \(2,\)"):
        gru(x, lengths=[5, 5, 5])
    with pytest.raises(ValueError, match=r"GRU: lengths must lie in \[0, 5\]"):
        gru(x, lengths=[6, 1])
    with pytest.raises(ValueError, match="either lengths or mask"):
        gru(x, lengths=[1, 1], mask=ember.ones(2, 5).bool())


def test_wrong_cell_input_and_dtype():
    with pytest.raises(ValueError, match=r"GRUCell: expected input of shape \(batch, 3\) or \(3,\), "
                                         r"got shape \(2, 4\)"):
        nn.GRUCell(3, 4)(ember.zeros(2, 4))
    with pytest.raises(TypeError, match="LSTM: input dtype float64 differs"):
        nn.LSTM(3, 4)(ember.zeros(5, 2, 3, dtype="float64"))


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="RNN: nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="LSTM: num_layers"):
        nn.LSTM(3, 4, num_layers=0)
    with pytest.raises(ValueError, match="GRU: dropout"):
        nn.GRU(3, 4, dropout=1.5)


def test_functional_layer_checks_name_the_function():
    with pytest.raises(ValueError, match=r"lstm_layer: expected h0 of shape \(2, 4\), got shape \(3, 4\)"):
        F.lstm_layer(ember.zeros(5, 2, 3), ember.zeros(3, 4), None, ember.zeros(16, 3), ember.zeros(16, 4))
    with pytest.raises(ValueError, match=r"gru_layer: expected weight_ih of shape \(3\*H, I\)"):
        F.gru_layer(ember.zeros(5, 2, 3), None, ember.zeros(16, 3), ember.zeros(16, 4))
    with pytest.raises(ValueError, match="sequence_mask: lengths must lie in"):
        F.sequence_mask([3, 1], 2)


def test_sequence_guide_examples_run():
    """docs/sequence.md: every Python block runs, in order, in one namespace."""
    import pathlib
    import re

    guide = pathlib.Path(__file__).resolve().parents[2] / "docs" / "sequence.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), re.S)
    assert len(blocks) >= 8
    namespace = {}
    for block in blocks:
        exec(compile(block, str(guide), "exec"), namespace)  # noqa: S102 - our own docs
