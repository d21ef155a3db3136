"""Train the Stack RNN (Joulin & Mikolov 2015) and RNN / LSTM baselines on a^n b^n-style sequences; print accuracies.

Training words have ``n`` uniform in ``1..--n-max`` (20, as in the paper); the test is every
``n`` up to ``--test-n-max`` (60), ``--test-draws`` words per ``n``. A word counts as correct
when every deterministic prediction (see ``ember.models.stack_rnn.deterministic_mask``) is
right. The Stack RNN is tested as trained (continuous actions) and with rounded (discrete)
actions. Prints a final ``RESULT {json}`` line.

    python examples/train_stack_rnn.py --tasks anbn,anbncn --models stack,rnn,lstm --out runs/stack_rnn \
        | tee examples/logs/stack_rnn.log
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from _report import save_and_report

import ember
from ember.models.stack_rnn import TASKS, SequenceBaseline, StackRNN, sequence_accuracy, train_sequence_model


def build(kind: str, vocab: int, args) -> ember.nn.Module:
    if kind == "stack":
        return StackRNN(vocab, args.hidden, args.num_stacks, args.depth, args.stack_size)
    return SequenceBaseline(vocab, args.hidden, kind)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="anbn", help=f"comma-separated, of {','.join(TASKS)}")
    parser.add_argument("--models", default="stack,rnn,lstm", help="comma-separated, of stack,rnn,lstm")
    parser.add_argument("--hidden", type=int, default=40)
    parser.add_argument("--num-stacks", type=int, default=10)
    parser.add_argument("--depth", type=int, default=2, help="top entries of each stack the net reads")
    parser.add_argument("--stack-size", type=int, default=150)
    parser.add_argument("--steps", type=int, default=600, help="training batches")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--max-norm", type=float, default=15.0)
    parser.add_argument("--n-max", type=int, default=20, help="largest n in training")
    parser.add_argument("--test-n-max", type=int, default=60)
    parser.add_argument("--test-draws", type=int, default=1, help="test words per n (m is random for anbmcnm)")
    parser.add_argument("--restarts", type=int, default=1, help="seeds per model; the best on n <= n-max is kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    tasks, kinds = args.tasks.split(","), args.models.split(",")
    for task in tasks:
        if task not in TASKS:
            parser.error(f"--tasks: unknown task {task!r}; choose from {','.join(TASKS)}")
    for kind in kinds:
        if kind not in ("stack", "rnn", "lstm"):
            parser.error(f"--models: unknown model {kind!r}; choose from stack,rnn,lstm")
    started = time.time()
    results, seconds, last = {}, {}, None
    for task in tasks:
        vocab = len(TASKS[task])
        seen = [n for n in range(1, args.n_max + 1) for _ in range(args.test_draws)]
        unseen = [n for n in range(args.n_max + 1, args.test_n_max + 1) for _ in range(args.test_draws)]
        for kind in kinds:
            start = time.time()
            best, best_key = None, None
            for restart in range(args.restarts):
                seed = args.seed + restart
                ember.manual_seed(seed)
                rng = np.random.default_rng(seed)
                model = build(kind, vocab, args)
                optimizer = (ember.optim.Adam(model.parameters(), lr=args.lr) if args.optimizer == "adam"
                             else ember.optim.SGD(model.parameters(), lr=args.lr))
                print(f"{task} {kind} seed {seed}: {sum(p.numel() for p in model.parameters())} parameters", flush=True)
                losses = train_sequence_model(model, task, args.steps, optimizer, args.n_max, args.batch_size,
                                              args.max_norm, rng, log=print, log_every=max(args.steps // 6, 1))
                key = (sequence_accuracy(model, task, seen, np.random.default_rng(1000)), -float(np.mean(losses[-50:])))
                if best_key is None or key > best_key:
                    best, best_key = model, key
            seconds[f"{task}/{kind}"] = round(time.time() - start, 1)
            variants = [(kind, False)] + ([("stack+rounding", True)] if kind == "stack" else [])
            for name, rounding in variants:
                if kind == "stack":
                    best.rounding = rounding
                rng = np.random.default_rng(2000)  # the same test words for every model
                row = {"train_range": round(100 * sequence_accuracy(best, task, seen, rng), 1),
                       "longer": round(100 * sequence_accuracy(best, task, unseen, rng), 1) if unseen else None}
                results[f"{task}/{name}"] = row
                print(f"{task:9s} {name:15s} correct words: n <= {args.n_max}: {row['train_range']:5.1f}%   "
                      f"{args.n_max} < n <= {args.test_n_max}: {row['longer']}%   ({seconds[f'{task}/{kind}']:.0f}s)",
                      flush=True)
            if kind == "stack":
                best.rounding = False
                last = best
            last = last or best
    rounded = [row["longer"] for name, row in results.items()
               if name.endswith("/stack+rounding") and row["longer"] is not None]
    result = {"model": "stack_rnn", "tasks": tasks,
              "stack_rounding_longer_mean": round(float(np.mean(rounded)), 1) if rounded else None,
              "accuracy": results, "seconds": seconds}
    save_and_report(last, result, args.out, started, dataset="algorithmic-sequences", config=vars(args))


if __name__ == "__main__":
    main()
