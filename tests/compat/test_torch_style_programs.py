"""PyTorch-style programs (written for these tests) run with ``torch`` bound to PyTorch and to Ember.

Each program is one function of ``fw``, a namespace holding ``torch``, ``nn``, ``F`` and ``optim``
exactly as a script would import them. Both frameworks start from the same initial weights
(numpy arrays loaded through ``load_state_dict``), feed the same batches and use no dropout, so
their losses must agree step by step. The ``framework`` fixture runs every program once per
framework: the PyTorch run checks the program itself (the loss falls), the Ember run also
compares with PyTorch.
"""
from __future__ import annotations

import gzip
import math
import os
import pathlib
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

DATA = pathlib.Path(os.environ.get("EMBER_DATA", pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"))


def _modules(name: str) -> types.SimpleNamespace:
    """``import torch; import torch.nn as nn; import torch.nn.functional as F; import torch.optim``."""
    if name == "torch":
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
        return types.SimpleNamespace(name=name, torch=torch, nn=nn, F=F, optim=optim)
    import importlib
    ember = importlib.import_module("ember")
    return types.SimpleNamespace(name=name, torch=ember, nn=importlib.import_module("ember.nn"),
                                 F=importlib.import_module("ember.nn.functional"),
                                 optim=importlib.import_module("ember.optim"))


@pytest.fixture(params=["torch", "ember"])
def framework(request) -> types.SimpleNamespace:
    """The framework modules bound to the names a PyTorch script uses."""
    try:
        return _modules(request.param)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"{request.param} cannot be imported the way a PyTorch script imports it: {exc!r}")


def _initial_state(model_factory, seed: int = 0) -> dict[str, np.ndarray]:
    """Initial weights drawn once (from a PyTorch model's shapes), shared by both frameworks."""
    shapes = {k: tuple(v.shape) for k, v in model_factory(_modules("torch")).state_dict().items()}
    rng = np.random.RandomState(seed)
    state = {}
    for name, shape in shapes.items():
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        scale = 1.0 / math.sqrt(max(fan_in, 1))
        state[name] = (rng.uniform(-scale, scale, size=shape)).astype(np.float32)
        if name.endswith(("norm.weight", "ln_1.weight", "ln_2.weight", "ln_f.weight")):
            state[name] = np.ones(shape, np.float32)
    return state


def _load(fw, model, state: dict[str, np.ndarray]) -> None:
    model.load_state_dict({k: fw.torch.tensor(v) for k, v in state.items()})


def _read_idx(path: pathlib.Path, count: int) -> np.ndarray:
    raw = gzip.decompress(path.read_bytes())
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)[:count]


# --------------------------------------------------------------------------------------------
# MNIST CNN, in the manner of pytorch/examples' mnist (written here from scratch)
# --------------------------------------------------------------------------------------------

def mnist_net(fw):
    nn, F, torch_ = fw.nn, fw.F, fw.torch

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 8, 3, 1)
            self.conv2 = nn.Conv2d(8, 16, 3, 1)
            self.dropout1 = nn.Dropout(0.0)
            self.fc1 = nn.Linear(16 * 12 * 12, 32)
            self.fc2 = nn.Linear(32, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = torch_.flatten(x, 1)
            x = F.relu(self.fc1(x))
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


def train_mnist(fw, state, steps: int = 6, batch: int = 32) -> tuple[list[float], float]:
    torch_ = fw.torch
    images = _read_idx(DATA / "mnist" / "train-images-idx3-ubyte.gz", steps * batch)
    labels = _read_idx(DATA / "mnist" / "train-labels-idx1-ubyte.gz", steps * batch).astype(np.int64)
    x_all = ((images.astype(np.float32) / 255.0 - 0.1307) / 0.3081)[:, None]
    model = mnist_net(fw)
    _load(fw, model, state)
    optimizer = fw.optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = fw.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)
    losses = []
    model.train()
    for i in range(steps):
        data = torch_.tensor(x_all[i * batch:(i + 1) * batch])
        target = torch_.tensor(labels[i * batch:(i + 1) * batch])
        optimizer.zero_grad()
        output = model(data)
        loss = fw.F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()
    model.eval()
    with torch_.no_grad():
        output = model(torch_.tensor(x_all))
        correct = output.argmax(dim=1, keepdim=True).eq(torch_.tensor(labels).view(-1, 1)).sum().item()
    return losses, correct


def test_mnist_cnn_losses_match(framework):
    state = _initial_state(mnist_net)
    losses, correct = train_mnist(framework, state)
    assert losses[-1] < losses[0]
    reference, reference_correct = train_mnist(_modules("torch"), state)
    np.testing.assert_allclose(losses, reference, rtol=2e-3, atol=1e-4)
    assert abs(correct - reference_correct) <= 2


# --------------------------------------------------------------------------------------------
# A tiny GPT in nanoGPT's style (written here from scratch)
# --------------------------------------------------------------------------------------------

def tiny_gpt(fw, vocab: int = 65, block: int = 16, width: int = 32, heads: int = 4, layers: int = 2):
    nn, F, torch_ = fw.nn, fw.F, fw.torch

    class SelfAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(width, 3 * width)
            self.c_proj = nn.Linear(width, width)
            self.register_buffer("bias", torch_.tril(torch_.ones(block, block)).view(1, 1, block, block),
                                 persistent=False)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = self.c_attn(x).split(width, dim=2)
            q = q.view(B, T, heads, C // heads).transpose(1, 2)
            k = k.view(B, T, heads, C // heads).transpose(1, 2)
            v = v.view(B, T, heads, C // heads).transpose(1, 2)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
            return self.c_proj(y)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(width)
            self.attn = SelfAttention()
            self.ln_2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(vocab, width), wpe=nn.Embedding(block, width),
                h=nn.ModuleList([Block() for _ in range(layers)]), ln_f=nn.LayerNorm(width)))
            self.lm_head = nn.Linear(width, vocab, bias=False)
            self.transformer.wte.weight = self.lm_head.weight

        def forward(self, idx, targets):
            b, t = idx.size()
            pos = torch_.arange(0, t, dtype=torch_.long)
            x = self.transformer.wte(idx) + self.transformer.wpe(pos)
            for blk in self.transformer.h:
                x = blk(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
            return logits, loss

    return GPT()


def train_gpt(fw, state, steps: int = 5, batch: int = 4, block: int = 16) -> list[float]:
    torch_ = fw.torch
    text = (DATA / "tinyshakespeare" / "input.txt").read_text(encoding="utf-8")
    chars = sorted(set(text))
    data = np.array([chars.index(c) for c in text[:4000]], dtype=np.int64)
    model = tiny_gpt(fw)
    _load(fw, model, state)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = fw.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                {"params": no_decay, "weight_decay": 0.0}], lr=3e-3, betas=(0.9, 0.95))
    rng = np.random.RandomState(0)
    losses = []
    for _ in range(steps):
        ix = rng.randint(len(data) - block - 1, size=batch)
        x = torch_.from_numpy(np.stack([data[i:i + block] for i in ix]))
        y = torch_.from_numpy(np.stack([data[i + 1:i + 1 + block] for i in ix]))
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        fw.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_tiny_gpt_losses_match(framework):
    state = _initial_state(tiny_gpt)
    state["transformer.wte.weight"] = state["lm_head.weight"]  # tied: one tensor under two names
    losses = train_gpt(framework, state)
    assert losses[-1] < losses[0]
    np.testing.assert_allclose(losses, train_gpt(_modules("torch"), state), rtol=1e-3, atol=1e-4)


# --------------------------------------------------------------------------------------------
# An LSTM language-model step in the manner of pytorch/examples' word_language_model
# --------------------------------------------------------------------------------------------

def lstm_lm(fw, vocab: int, width: int = 16, layers: int = 2):
    nn, F = fw.nn, fw.F

    class RNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(vocab, width)
            self.rnn = nn.LSTM(width, width, layers, dropout=0.0)
            self.decoder = nn.Linear(width, vocab)

        def forward(self, input, hidden):
            output, hidden = self.rnn(self.encoder(input), hidden)
            decoded = self.decoder(output).view(-1, vocab)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            return (weight.new_zeros(layers, bsz, width), weight.new_zeros(layers, bsz, width))

    return RNNModel()


def _ptb_ids(count: int = 2000) -> tuple[np.ndarray, int]:
    words = (DATA / "ptb" / "ptb.train.txt").read_text(encoding="utf-8").replace("\n", " <eos> ").split()[:count]
    vocab = {w: i for i, w in enumerate(dict.fromkeys(words))}
    return np.array([vocab[w] for w in words], dtype=np.int64), len(vocab)


def train_lstm(fw, state, vocab_ids: np.ndarray, vocab: int, steps: int = 4, bsz: int = 4,
               bptt: int = 10, lr: float = 5.0) -> list[float]:
    torch_ = fw.torch
    nbatch = len(vocab_ids) // bsz
    source = torch_.tensor(vocab_ids[:nbatch * bsz]).view(bsz, -1).t().contiguous()
    model = lstm_lm(fw, vocab)
    _load(fw, model, state)
    criterion = fw.nn.NLLLoss()
    hidden = model.init_hidden(bsz)
    losses = []
    model.train()
    for step in range(steps):
        i = step * bptt
        data, targets = source[i:i + bptt], source[i + 1:i + 1 + bptt].reshape(-1)
        hidden = tuple(h.detach() for h in hidden)
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        fw.torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    return losses


def test_lstm_language_model_losses_match(framework):
    ids, vocab = _ptb_ids()
    state = _initial_state(lambda fw: lstm_lm(fw, vocab))
    losses = train_lstm(framework, state, ids, vocab)
    assert all(math.isfinite(v) for v in losses) and losses[0] > math.log(vocab) * 0.8
    np.testing.assert_allclose(losses, train_lstm(_modules("torch"), state, ids, vocab), rtol=1e-3, atol=1e-4)
