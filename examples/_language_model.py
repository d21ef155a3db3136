"""The command line shared by the language-model examples (train_char_rnn.py, train_gpt.py).

Each trains on Tiny Shakespeare characters, prints samples at two temperatures,
and finally ``RESULT {...}`` (JSON), which ``examples/render_models_md.py`` reads.
"""
from __future__ import annotations

import argparse
import time

from _report import save_and_report

import ember
from ember.data import tiny_shakespeare
from ember.models import sample, train_language_model


def language_model_parser(description: str, *, dropout: float, steps: int, eval_every: int) -> argparse.ArgumentParser:
    """The flags both scripts take; each adds its model's own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--dropout", type=float, default=dropout)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--min-lr", type=float, default=1e-4)
    parser.add_argument("--eval-every", type=int, default=eval_every)
    parser.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds of training")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="save the weights here (model.safetensors)")
    return parser


def run(name: str, args, build, config, stateful: bool) -> dict:
    """Seed, load the corpus, build the model with ``build(vocab_size)``, train, sample, report."""
    ember.manual_seed(args.seed)
    corpus = tiny_shakespeare()
    model = build(len(corpus.vocab))
    print(f"{corpus}\n{model}\n{config}", flush=True)
    started = time.time()
    result = train_language_model(model, corpus, config, stateful=stateful, log=lambda s: print(s, flush=True))
    for temperature, top_k, prime in ((0.8, None, "ROMEO:\n"), (0.5, 10, "First Citizen:\n")):
        print(f"\n--- sample: temperature {temperature}, top_k {top_k}, prime {prime!r}")
        print(sample(model, corpus, prime=prime, length=400, temperature=temperature, top_k=top_k, seed=1))
    return save_and_report(model, result, args.out, started, model=name, config=dict(vars(args)))
