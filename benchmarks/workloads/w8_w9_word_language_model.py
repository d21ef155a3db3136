"""W8 and W9, pytorch/examples' word-language-model: one training step of its Transformer and its LSTM.

The models are ``word_language_model/model.py`` as written there
(``TransformerModel`` in the encoder-stack form: embedding scaled by
``sqrt(ninp)``, sinusoidal ``PositionalEncoding``, ``TransformerEncoder`` with a
``log(tril(ones))`` causal mask, linear decoder, ``log_softmax``; ``RNNModel``
with ``rnn_type='LSTM'``: dropout, embedding, 2-layer ``nn.LSTM`` with dropout,
dropout, linear decoder, ``log_softmax``), at ``main.py``'s defaults: width 200
(``--emsize``, ``--nhid``), 2 layers, 2 heads, dropout 0.2, bptt 35, batch 20,
and a 10k-word vocabulary (as Penn Treebank's). The step is ``main.py``'s
``train()`` body: (for the LSTM) detach the carried hidden state, ``zero_grad``,
forward, ``NLLLoss``, backward, ``clip_grad_norm_`` at 0.25 and the hand-written
SGD update ``p.data.add_(p.grad, alpha=-lr)`` with lr 20. Input is a fixed
random ``(35, 20)`` token batch (sequence first, as there).
"""
from __future__ import annotations

import math

import numpy as np

from ..registry import register
from .w4_char_lstm import _libraries

NTOKENS, EMSIZE, NHID, NLAYERS, NHEAD, DROPOUT, BPTT, BATCH = 10000, 200, 200, 2, 2, 0.2, 35, 20
CLIP, LR = 0.25, 20.0


def _models(lib, nn, F):
    """pytorch/examples' ``RNNModel``, ``PositionalEncoding`` and ``TransformerModel`` over ``lib``."""

    class RNNModel(nn.Module):
        """Container module with an encoder, a recurrent module, and a decoder."""

        def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5):
            super().__init__()
            self.ntoken = ntoken
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            self.init_weights()
            self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output)
            decoded = decoded.view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))

    class PositionalEncoding(nn.Module):
        """Inject some information about the relative or absolute position of the tokens in the sequence."""

        def __init__(self, d_model, dropout=0.1, max_len=5000):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            pe = lib.zeros(max_len, d_model)
            position = lib.arange(0, max_len, dtype=lib.float).unsqueeze(1)
            div_term = lib.exp(lib.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = lib.sin(position * div_term)
            pe[:, 1::2] = lib.cos(position * div_term)
            pe = pe.unsqueeze(0).transpose(0, 1)
            self.register_buffer("pe", pe)

        def forward(self, x):
            x = x + self.pe[:x.size(0), :]
            return self.dropout(x)

    class TransformerModel(nn.Module):
        """Container module with an encoder, a transformer encoder stack, and a decoder."""

        def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
            super().__init__()
            self.model_type = "Transformer"
            self.src_mask = None
            self.pos_encoder = PositionalEncoding(ninp, dropout)
            encoder_layers = nn.TransformerEncoderLayer(ninp, nhead, nhid, dropout)
            self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers)
            self.encoder = nn.Embedding(ntoken, ninp)
            self.ninp = ninp
            self.decoder = nn.Linear(ninp, ntoken)
            self.init_weights()

        def _generate_square_subsequent_mask(self, sz):
            return lib.log(lib.tril(lib.ones(sz, sz)))

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, src, has_mask=True):
            if has_mask:
                if self.src_mask is None or self.src_mask.size(0) != len(src):
                    self.src_mask = self._generate_square_subsequent_mask(len(src))
            else:
                self.src_mask = None
            src = self.encoder(src) * math.sqrt(self.ninp)
            src = self.pos_encoder(src)
            output = self.transformer_encoder(src, self.src_mask)
            output = self.decoder(output)
            return F.log_softmax(output, dim=-1)

    return RNNModel, TransformerModel


def _batch(wrap):
    rng = np.random.default_rng(0)
    source = rng.integers(0, NTOKENS, (BPTT + 1, BATCH))
    return wrap(source[:-1].copy()), wrap(source[1:].reshape(-1).copy())


def transformer_step(framework: str):
    """A zero-argument callable running one W8 training step in ``framework``."""
    lib, nn, _, F, clip, wrap = _libraries(framework)
    _, TransformerModel = _models(lib, nn, F)
    data, targets = _batch(wrap)
    model = TransformerModel(NTOKENS, EMSIZE, NHEAD, NHID, NLAYERS, DROPOUT)
    model.train()
    criterion = nn.NLLLoss()

    def step():
        model.zero_grad()
        output = model(data)
        output = output.view(-1, NTOKENS)
        loss = criterion(output, targets)
        loss.backward()
        clip(model.parameters(), CLIP)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-LR)
        return loss

    return step


def lstm_step(framework: str):
    """A zero-argument callable running one W9 training step in ``framework``."""
    lib, nn, _, F, clip, wrap = _libraries(framework)
    RNNModel, _ = _models(lib, nn, F)
    data, targets = _batch(wrap)
    model = RNNModel("LSTM", NTOKENS, EMSIZE, NHID, NLAYERS, DROPOUT)
    model.train()
    criterion = nn.NLLLoss()
    state = {"hidden": model.init_hidden(BATCH)}

    def repackage_hidden(h):
        """Wraps hidden states in new Tensors, to detach them from their history."""
        if isinstance(h, lib.Tensor):
            return h.detach()
        return tuple(repackage_hidden(v) for v in h)

    def step():
        hidden = repackage_hidden(state["hidden"])
        model.zero_grad()
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        clip(model.parameters(), CLIP)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-LR)
        state["hidden"] = hidden
        return loss

    return step


@register("W8", "pytorch/examples word-language-model Transformer training step: 200 wide, 2 layers, 2 heads, "
          "dropout 0.2, bptt 35, batch 20, 10k vocab, clip 0.25, SGD by hand", target=1.0)
def w8(framework):
    return transformer_step(framework)


@register("W9", "pytorch/examples word-language-model LSTM training step: 200 wide, 2 layers, dropout 0.2, "
          "bptt 35, batch 20, 10k vocab, clip 0.25, SGD by hand", target=1.0)
def w9(framework):
    return lstm_step(framework)
