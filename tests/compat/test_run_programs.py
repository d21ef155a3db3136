"""The program harness itself (benchmarks/compat/run_programs.py, program_boot.py), no checkouts.

A small PyTorch program written here (shuffled DataLoader, dropout, an optimizer-trained model
and a hand-updated one) runs through :func:`run_one` on both frameworks exactly as the real
programs do: the PyTorch run saves its initial weights, the Ember run loads them, dropout is
off and the shuffles agree, so the printed losses must match closely. The source-edit and
loss-judging helpers are checked directly.
"""
from __future__ import annotations

import pathlib

import pytest

pytest.importorskip("torch")

from benchmarks.compat.run_programs import (  # noqa: E402
    WLM_SAVE_EDIT,
    Program,
    apply_edits,
    compare_losses,
    run_one,
)

PROGRAM = '''\
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
rng = np.random.RandomState(0)
x = torch.from_numpy(rng.randn(64, 8).astype(np.float32))
y = torch.from_numpy(rng.randint(0, 3, size=64).astype(np.int64))
loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc2(self.drop(F.relu(self.fc1(x))))


net = Net()
optimizer = optim.Adam(net.parameters(), lr=0.01)
by_hand = nn.Linear(8, 3)
for epoch in range(2):
    for data, target in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(data), target)
        loss.backward()
        optimizer.step()
        print(f"loss {loss.item():.6f}")
        by_hand.zero_grad()
        other = F.cross_entropy(by_hand(data), target)
        other.backward()
        for p in by_hand.parameters():
            p.data.add_(p.grad, alpha=-0.1)
        print(f"loss {other.item():.6f}")
'''


def _program(tmp_path: pathlib.Path, **options) -> Program:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "main.py").write_text(PROGRAM)
    return Program("tiny", source, ("main.py",), "main.py", [], r"loss ([0-9.]+)", **options)


def test_shared_weights_dropout_and_shuffle_make_losses_match(tmp_path):
    program = _program(tmp_path, no_dropout=True, same_shuffle=True)
    init = tmp_path / "init"
    torch_run = run_one(program, "torch", tmp_path / "torch", 120, init, "save")
    ember_run = run_one(program, "ember", tmp_path / "ember", 120, init, "load")
    assert torch_run["rc"] == 0, torch_run["traceback_tail"]
    assert ember_run["rc"] == 0, ember_run["traceback_tail"]
    assert sorted(p.name for p in init.iterdir()) == ["module0.npz", "optimizer0.npz"]
    notes = "\n".join(ember_run["compat_notes"])
    assert "loaded 4 parameters of Adam from optimizer0.npz" in notes
    assert "loaded 2 tensors of Linear from module0.npz" in notes
    assert len(torch_run["losses"]) == len(ember_run["losses"]) == 16
    result = compare_losses(torch_run["losses"], ember_run["losses"], 1e-4)
    assert result["agree"], (torch_run["losses"], ember_run["losses"])
    assert ember_run["rewrites"] and all("ember" in r for _, r in ember_run["rewrites"])


def test_without_controls_the_runs_differ(tmp_path):
    """The controls are what makes the comparison tight: without them the losses differ."""
    program = _program(tmp_path, init="")
    torch_run = run_one(program, "torch", tmp_path / "torch", 120, tmp_path / "init", "save")
    ember_run = run_one(program, "ember", tmp_path / "ember", 120, tmp_path / "init", "load")
    assert torch_run["rc"] == ember_run["rc"] == 0
    assert not compare_losses(torch_run["losses"], ember_run["losses"], 1e-4)["agree"]


def test_wlm_save_edit_is_exact_and_only_that():
    source = ("with open(args.save, 'wb') as f:\n    torch.save(model, f)\n"
              "with open(args.save, 'rb') as f:\n    model = torch.load(f)\n")
    text, done = apply_edits(source, WLM_SAVE_EDIT, "main.py")
    assert text == ("with open(args.save, 'wb') as f:\n    torch.save(model.state_dict(), f)\n"
                    "with open(args.save, 'rb') as f:\n    model.load_state_dict(torch.load(f))\n")
    assert len(done) == 2
    with pytest.raises(ValueError, match="documented edit not applicable"):
        apply_edits("print(1)\n", WLM_SAVE_EDIT, "main.py")


def test_compare_losses_with_noise_band():
    torch_losses, noise = [2.0, 1.0], [2.0, 1.02]
    judged = compare_losses(torch_losses, [2.0, 1.03], 1e-3, noise_losses=noise)
    assert judged["noise_band"] == pytest.approx([0.0, 0.02])
    assert judged["tolerance"] == pytest.approx(0.04) and judged["agree"]
    assert not compare_losses(torch_losses, [2.0, 1.05], 1e-3, noise_losses=noise)["agree"]
    # the band at each pair is the noise so far: an early miss is not excused by later noise
    assert not compare_losses([2.0, 1.0], [2.1, 1.0], 1e-3, noise_losses=[2.0, 1.5])["agree"]
    assert compare_losses(torch_losses, [2.0, 1.0005], 1e-3)["agree"]
    assert not compare_losses([1.0], [float("nan")], 1e-3)["agree"]
