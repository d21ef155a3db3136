"""Train Karpathy's char-rnn (2-layer LSTM) on Tiny Shakespeare, then sample from it.

Run (30 minutes on 2 shared CPU cores with --time-budget 1800; see MODELS.md for the recorded result):

    python examples/train_char_rnn.py --steps 7000 --time-budget 1800 | tee examples/logs/char_rnn.log

A quick smoke run: ``python examples/train_char_rnn.py --steps 50 --eval-every 25``.
The last line printed is ``RESULT {...}`` (JSON) that ``examples/render_models_md.py`` reads.
"""
from __future__ import annotations

from _language_model import language_model_parser, run

from ember.models import CharRNN, LMTrainingConfig


def main(argv=None) -> dict:
    parser = language_model_parser(__doc__.splitlines()[0], dropout=0.2, steps=8000, eval_every=500)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--seq-len", type=int, default=64)
    parser.add_argument("--compile", action="store_true", help="compile the training step (no gain for the LSTM)")
    args = parser.parse_args(argv)
    config = LMTrainingConfig(batch_size=args.batch_size, seq_len=args.seq_len, steps=args.steps, lr=args.lr,
                              min_lr=args.min_lr, clip=5.0, eval_every=args.eval_every,
                              time_budget=args.time_budget, compile=args.compile, seed=args.seed)
    return run("char_rnn", args, lambda vocab: CharRNN(vocab, args.hidden, args.layers, args.dropout), config,
               stateful=True)


if __name__ == "__main__":
    main()
