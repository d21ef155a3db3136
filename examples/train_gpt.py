"""Train a tiny GPT (decoder-only transformer) on Tiny Shakespeare characters, then sample from it.

Run (25 minutes on 2 shared CPU cores with --time-budget 1500; see MODELS.md for the recorded result):

    python examples/train_gpt.py --steps 4000 --time-budget 1500 --dropout 0.0 | tee examples/logs/gpt_long.log

A quick smoke run: ``python examples/train_gpt.py --steps 20 --eval-every 10``.
The training step is compiled with ``ember.compile`` (``--no-compile`` runs it eagerly).
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
from ember.models import LMTrainingConfig, TinyGPT, sample, train_language_model


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--min-lr", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds of training")
    parser.add_argument("--no-compile", action="store_true", help="run the training step eagerly")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="save the weights here (model.safetensors)")
    args = parser.parse_args(argv)

    ember.manual_seed(args.seed)
    corpus = tiny_shakespeare()
    model = TinyGPT(len(corpus.vocab), args.context, args.d_model, args.heads, args.layers, args.dropout)
    config = LMTrainingConfig(batch_size=args.batch_size, seq_len=args.context, steps=args.steps, lr=args.lr,
                              min_lr=args.min_lr, warmup=args.warmup, optimizer="adamw",
                              weight_decay=args.weight_decay, clip=1.0, eval_every=args.eval_every,
                              time_budget=args.time_budget, compile=not args.no_compile, seed=args.seed)
    print(f"{corpus}\n{model}\n{config}", flush=True)
    started = time.time()
    result = train_language_model(model, corpus, config, stateful=False, log=lambda s: print(s, flush=True))
    for temperature, top_k, prime in ((0.8, None, "ROMEO:\n"), (0.5, 10, "First Citizen:\n")):
        print(f"\n--- sample: temperature {temperature}, top_k {top_k}, prime {prime!r}")
        print(sample(model, corpus, prime=prime, length=400, temperature=temperature, top_k=top_k, seed=1))
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        ember.save(model.state_dict(), os.path.join(args.out, "model.safetensors"))
    result.update(model="gpt", params=sum(p.size for p in model.parameters()),
                  wall_seconds=round(time.time() - started, 1), cpu=platform.processor() or platform.machine(),
                  cores=os.cpu_count(), config={k: v for k, v in vars(args).items()})
    print("RESULT " + json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    main()
