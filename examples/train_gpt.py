"""Train a tiny GPT (decoder-only transformer) on Tiny Shakespeare characters, then sample from it.

Run (25 minutes on 2 shared CPU cores with --time-budget 1500; see MODELS.md for the recorded result):

    python examples/train_gpt.py --steps 4000 --time-budget 1500 --dropout 0.0 | tee examples/logs/gpt_long.log

A quick smoke run: ``python examples/train_gpt.py --steps 20 --eval-every 10``.
The training step is compiled with ``ember.compile`` (``--no-compile`` runs it eagerly).
The last line printed is ``RESULT {...}`` (JSON) that ``examples/render_models_md.py`` reads.
"""
from __future__ import annotations

from _language_model import language_model_parser, run

from ember.models import LMTrainingConfig, TinyGPT


def main(argv=None) -> dict:
    parser = language_model_parser(__doc__.splitlines()[0], dropout=0.0, steps=4000, eval_every=250)
    parser.add_argument("--d-model", type=int, default=128)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--no-compile", action="store_true", help="run the training step eagerly")
    args = parser.parse_args(argv)
    config = LMTrainingConfig(batch_size=args.batch_size, seq_len=args.context, steps=args.steps, lr=args.lr,
                              min_lr=args.min_lr, warmup=args.warmup, optimizer="adamw",
                              weight_decay=args.weight_decay, clip=1.0, eval_every=args.eval_every,
                              time_budget=args.time_budget, compile=not args.no_compile, seed=args.seed)
    build = lambda vocab: TinyGPT(vocab, args.context, args.d_model, args.heads, args.layers, args.dropout)
    return run("gpt", args, build, config, stateful=False)


if __name__ == "__main__":
    main()
