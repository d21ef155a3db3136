"""Neural Turing Machine: addressing stages against PyTorch, float64 gradchecks of addressing, read, write and the
whole recurrence, input errors, the loss and bit-error count, the LSTM baseline, and a short fit that must learn."""
import numpy as np
import pytest
import torch

import ember
from ember.autograd import gradcheck
from ember.data.algorithmic import copy_batch
from ember.errors import ShapeError
from ember.models.ntm import (
    NTM,
    LSTMBaseline,
    address,
    bit_errors,
    circular_shift,
    content_weighting,
    read_memory,
    sequence_loss,
    sharpen,
    write_memory,
)


def _torch_address(memory, previous, key, beta, gate, shift, gamma):
    """The paper's eqs. (5)-(9) written independently in PyTorch, one head at a time (shift as an explicit loop)."""
    heads = []
    n = memory.shape[1]
    for h in range(previous.shape[1]):
        cos = torch.nn.functional.cosine_similarity(memory, key[:, h].unsqueeze(1), dim=2, eps=1e-30)
        content = torch.softmax(beta[:, h] * cos, dim=1)
        gated = gate[:, h] * content + (1 - gate[:, h]) * previous[:, h]
        shifted = torch.zeros_like(gated)
        for i in range(n):
            for offset, column in zip((-1, 0, 1), range(3)):
                shifted[:, i] = shifted[:, i] + gated[:, (i - offset) % n] * shift[:, h, column]
        powered = shifted ** gamma[:, h]
        heads.append(powered / powered.sum(dim=1, keepdim=True))
    return torch.stack(heads, dim=1)


def _inputs(rng, batch=2, heads=2, rows=5, width=3):
    memory = rng.standard_normal((batch, rows, width))
    previous = rng.dirichlet(np.ones(rows), size=(batch, heads))
    key = rng.standard_normal((batch, heads, width))
    beta = rng.uniform(0.5, 3.0, (batch, heads, 1))
    gate = rng.uniform(0.1, 0.9, (batch, heads, 1))
    shift = rng.dirichlet(np.ones(3), size=(batch, heads))
    gamma = rng.uniform(1.0, 3.0, (batch, heads, 1))
    return [memory, previous, key, beta, gate, shift, gamma]


def test_address_matches_pytorch_reference():
    arrays = _inputs(np.random.default_rng(0))
    ours = address(*[ember.tensor(a) for a in arrays]).numpy()
    theirs = _torch_address(*[torch.tensor(a) for a in arrays]).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)  # eps of the cosine: 1e-8
    np.testing.assert_allclose(ours.sum(axis=2), 1.0, rtol=1e-12)


def test_address_gradients_match_pytorch():
    arrays = _inputs(np.random.default_rng(1))
    ours = [ember.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    weights = np.random.default_rng(2).standard_normal(arrays[1].shape)
    (address(*ours) * ember.tensor(weights)).sum().backward()
    (_torch_address(*theirs) * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-8)


def test_content_weighting_picks_the_most_similar_row():
    memory = ember.tensor([[[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]])
    w = content_weighting(memory, ember.tensor([[[0.0, 2.0], [-3.0, 0.0]]]), ember.tensor([[[50.0], [50.0]]])).numpy()
    assert w[0].argmax(axis=1).tolist() == [1, 2] and (w[0].max(axis=1) > 0.99).all()


def test_circular_shift_wraps_both_ways_and_sharpen_focuses():
    w = ember.tensor([[[0.0, 0.0, 0.0, 1.0]]])
    assert circular_shift(w, ember.tensor([[[0.0, 0.0, 1.0]]])).numpy().tolist() == [[[1.0, 0.0, 0.0, 0.0]]]
    assert circular_shift(w, ember.tensor([[[1.0, 0.0, 0.0]]])).numpy().tolist() == [[[0.0, 0.0, 1.0, 0.0]]]
    blurred = ember.tensor([[0.2, 0.6, 0.2]])
    sharp = sharpen(blurred, ember.tensor([[3.0]])).numpy()
    np.testing.assert_allclose(sharp, np.array([[0.008, 0.216, 0.008]]) / 0.232, rtol=1e-6)
    np.testing.assert_allclose(sharpen(blurred, ember.tensor([[1.0]])).numpy(), blurred.numpy(), rtol=1e-6)


def test_addressing_read_and_write_gradcheck_float64():
    arrays = _inputs(np.random.default_rng(3), batch=2, heads=2, rows=4, width=3)
    tensors = [ember.tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *t: address(*t), tensors)
    rng = np.random.default_rng(4)
    memory = ember.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    w = ember.tensor(rng.dirichlet(np.ones(4), size=2), requires_grad=True)
    erase = ember.tensor(rng.uniform(0, 1, (2, 3)), requires_grad=True)
    add = ember.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(read_memory, (memory, w.unsqueeze(1)))
    assert gradcheck(write_memory, (memory, w, erase, add))


def test_read_and_write_values():
    memory = ember.tensor([[[1.0, 2.0], [3.0, 4.0]]])
    w = ember.tensor([[0.25, 0.75]])
    np.testing.assert_allclose(read_memory(memory, w.unsqueeze(1)).numpy(), [[[2.5, 3.5]]])
    written = write_memory(memory, w, ember.tensor([[1.0, 0.0]]), ember.tensor([[10.0, 20.0]])).numpy()
    np.testing.assert_allclose(written, [[[0.75 + 2.5, 2.0 + 5.0], [0.75 + 7.5, 4.0 + 15.0]]])


def test_whole_machine_gradcheck_float64():
    """Every parameter of the full recurrence (controller, heads, memory) against central differences."""
    ember.manual_seed(0)
    model = NTM(3, 2, memory_size=4, memory_width=3, hidden=3).double()
    for p in model.parameters():
        p.data = ember.tensor(p.detach().numpy() * 3)  # livelier than the small initial weights
    x = ember.tensor(np.random.default_rng(5).uniform(0, 1, (2, 3, 3)))
    probe = ember.tensor(np.random.default_rng(6).standard_normal((2, 3, 2)))

    def cost() -> float:
        return float((model(x) * probe).sum().item())

    (model(x) * probe).sum().backward()
    eps = 1e-6
    for name, p in model.named_parameters():
        base = p.detach().numpy().copy()
        grad = p.grad.numpy().reshape(-1)
        for i in np.linspace(0, base.size - 1, min(base.size, 6)).astype(int):
            shifted = base.reshape(-1).copy()
            shifted[i] += eps
            p.data = ember.tensor(shifted.reshape(base.shape))
            up = cost()
            shifted[i] -= 2 * eps
            p.data = ember.tensor(shifted.reshape(base.shape))
            down = cost()
            p.data = ember.tensor(base)
            assert grad[i] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8), (name, i)
    xi = x.clone().requires_grad_(True)
    assert gradcheck(lambda inp: model(inp), (xi,), check_forward=False)


def test_weightings_are_distributions_and_shapes():
    ember.manual_seed(1)
    model = NTM(9, 8, memory_size=16, memory_width=5, hidden=10)
    batch = copy_batch(np.random.default_rng(0), 3, 4)
    logits, (reads, writes) = model(ember.tensor(batch.inputs), return_weightings=True)
    assert tuple(logits.shape) == (3, 9, 8)
    assert tuple(reads.shape) == tuple(writes.shape) == (3, 9, 16)
    np.testing.assert_allclose(reads.numpy().sum(axis=2), 1.0, rtol=1e-5)
    np.testing.assert_allclose(writes.numpy().sum(axis=2), 1.0, rtol=1e-5)


def test_bad_inputs_name_the_model_and_sizes():
    model = NTM(9, 8, memory_size=8, memory_width=4, hidden=6, max_steps=10)
    with pytest.raises(ShapeError, match=r"NTM: expected inputs of shape \(batch, steps, 9\), got \(2, 5, 10\)"):
        model(ember.zeros(2, 5, 10))
    with pytest.raises(ShapeError, match=r"NTM: .*got \(5, 9\)"):
        model(ember.zeros(5, 9))
    with pytest.raises(ShapeError, match=r"NTM: inputs of 11 steps exceed max_steps=10 \(memory of 8 rows x 4\)"):
        model(ember.zeros(1, 11, 9))
    with pytest.raises(ShapeError, match=r"LSTMBaseline: expected .*\(batch, steps, 9\), got \(1, 3, 8\)"):
        LSTMBaseline(9, 8, hidden=4, layers=1)(ember.zeros(1, 3, 8))


def test_sequence_loss_matches_pytorch_on_the_output_phase():
    rng = np.random.default_rng(6)
    logits = rng.standard_normal((3, 7, 4))
    targets = (rng.uniform(size=(3, 3, 4)) > 0.5).astype(np.float64)
    ours = float(sequence_loss(ember.tensor(logits), ember.tensor(targets)).item())
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(logits[:, -3:]), torch.tensor(targets), reduction="sum").item() / 3
    assert ours == pytest.approx(theirs, rel=1e-12)


def test_bit_errors_count_wrong_bits_per_sequence():
    targets = np.zeros((2, 2, 3))
    targets[0, 0, 0] = 1
    logits = np.full((2, 5, 3), -1.0)   # all predicted 0
    logits[1, -1, :] = 1.0              # sequence 1: three wrong bits in its last step
    logits[0, 0, :] = 5.0               # input phase: ignored
    assert bit_errors(ember.tensor(logits), ember.tensor(targets)).tolist() == [1, 3]


def test_lstm_baseline_shapes_and_gradients():
    ember.manual_seed(2)
    model = LSTMBaseline(9, 8, hidden=6, layers=2)
    out = model(ember.zeros(2, 4, 9))
    assert tuple(out.shape) == (2, 4, 8)
    out.sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad.numpy()).all() for p in model.parameters())


def test_short_fit_reduces_the_copy_cost():
    ember.manual_seed(3)
    rng = np.random.default_rng(3)
    model = NTM(5, 4, memory_size=8, memory_width=6, hidden=24)
    optimizer = ember.optim.Adam(model.parameters(), lr=3e-3)
    batch = copy_batch(rng, 8, 2, bits=4)
    x, y = ember.tensor(batch.inputs), ember.tensor(batch.targets)
    first = float(sequence_loss(model(x), y).item())
    for _ in range(100):
        optimizer.zero_grad()
        loss = sequence_loss(model(x), y)
        loss.backward()
        ember.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        optimizer.step()
    assert float(loss.item()) < 0.5 * first


@pytest.mark.parametrize("task,model", [("copy", "ntm"), pytest.param("repeat-copy", "lstm", marks=pytest.mark.slow)])
def test_training_script_runs_end_to_end(tmp_path, task, model):
    import json
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    out = tmp_path / "run"
    command = [sys.executable, str(root / "examples" / "train_ntm.py"), "--task", task, "--model", model,
               "--steps", "4", "--log-every", "2", "--memory-size", "8", "--memory-width", "4", "--hidden", "8",
               "--lstm-hidden", "8", "--lstm-layers", "1", "--max-length", "3", "--max-repeats", "2",
               "--test-repeats", "2", "--test-lengths", "2,4", "--eval-sequences", "3", "--probe-sequences", "2",
               "--no-compile", "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr
    assert "bit errors at length" in done.stdout and "s  sequences" in done.stdout
    result = json.loads(done.stdout.strip().splitlines()[-1].removeprefix("RESULT "))
    assert result["steps"] == 4 and set(result["generalisation"]) == {"2", "4"}
    assert (out / "generalisation.png").exists() and (out / "generalisation.json").exists()
    assert (out / "weightings.png").exists() == (model == "ntm")
