"""Train Karpathy's char-rnn (2-layer LSTM) on Tiny Shakespeare, then sample from it.

Run (30 minutes on 2 shared CPU cores with --time-budget 1800; see MODELS.md for the recorded result):

    python examples/train_char_rnn.py --steps 7000 --time-budget 1800 | tee examples/logs/char_rnn.log

A quick smoke run: ``python examples/train_char_rnn.py --steps 50 --eval-every 25``.
The last line printed is ``RESULT {...}`` (JSON) that ``examples/render_models_md.py`` reads.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time

import ember
from ember.data import tiny_shakespeare
from ember.models import CharRNN, LMTrainingConfig, sample, train_language_model


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--min-lr", type=float, default=1e-4)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds of training")
    parser.add_argument("--compile", action="store_true", help="compile the training step (no gain for the LSTM)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="save the weights here (model.safetensors)")
    args = parser.parse_args(argv)

    ember.manual_seed(args.seed)
    corpus = tiny_shakespeare()
    model = CharRNN(len(corpus.vocab), args.hidden, args.layers, args.dropout)
    config = LMTrainingConfig(batch_size=args.batch_size, seq_len=args.seq_len, steps=args.steps, lr=args.lr,
                              min_lr=args.min_lr, clip=5.0, eval_every=args.eval_every,
                              time_budget=args.time_budget, compile=args.compile, seed=args.seed)
    print(f"{corpus}\n{model}\n{config}", flush=True)
    started = time.time()
    result = train_language_model(model, corpus, config, stateful=True, log=lambda s: print(s, flush=True))
    for temperature, top_k, prime in ((0.8, None, "ROMEO:\n"), (0.5, 10, "First Citizen:\n")):
        print(f"\n--- sample: temperature {temperature}, top_k {top_k}, prime {prime!r}")
        print(sample(model, corpus, prime=prime, length=400, temperature=temperature, top_k=top_k, seed=1))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        ember.save(model.state_dict(), os.path.join(args.out, "model.safetensors"))
    result.update(model="char_rnn", params=sum(p.size for p in model.parameters()),
                  wall_seconds=round(time.time() - started, 1), cpu=platform.processor() or platform.machine(),
                  cores=os.cpu_count(), config={k: v for k, v in vars(args).items()})
    print("RESULT " + json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
