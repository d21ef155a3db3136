"""Train a Neural Stack/Queue/DeQue-LSTM or a Deep LSTM (Grefenstette et al. 2015) on copy, reversal or bigram flip.

Protocol of arXiv:1506.02516 section 4: sources of 128 symbols, training lengths uniform in
8..64, test lengths 65..128, joint sequences ``<s> source ||| target </s>``, RMSProp with
batch 10, gradients clipped at 1 (by norm), greedy decoding; coarse accuracy (whole target
right) and fine accuracy (fraction right before the first error) on ``--eval-count``
sequences of training length and of test length, printed beside the paper's Figure 2a.

Sized for two CPU cores, the defaults shrink the paper's setup: 32 symbols instead of 128,
training sources of 4..16 symbols and test sources of 17..32 instead of 8..64 and 65..128 (the
test is still up to twice the longest training source), hidden 128 and memory width 128
instead of 256/512 and 256 (embedding 64 as in the paper), a fixed number of batches
(:data:`DEFAULT_STEPS`) instead of training to convergence and keeping the best of several
seeds. At the paper's sizes a Queue-LSTM at hidden 128 had not left chance level after 400
batches (sources 8..32 over 128 or 32 symbols), while at the defaults it copies perfectly,
at twice the training length too, after 300. The paper's setup: ``--vocab-size 128
--min-length 8 --max-length 64 --test-min-length 65 --test-max-length 128``. ``--memory none`` is the Deep LSTM benchmark with ``--layers``
layers (default: the paper's best per task, 4 for copy, 8 for reversal, 2 for bigram flip).

    OMP_NUM_THREADS=1 python examples/train_neural_stack.py --task copy --memory queue \
        --out runs/neural_stack_copy_queue | tee examples/logs/neural_stack_copy_queue.log
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember.data.transduction import PAPER_VOCAB_SIZE, TASKS, TEST_LENGTHS, TRAIN_LENGTHS
from ember.models.neural_stack import (
    MEMORIES,
    PAPER_BASELINE_LAYERS,
    PAPER_TABLE,
    DeepLSTM,
    NeuralMemoryLSTM,
    evaluate_transduction,
    train_transduction,
)


#: Training batches per memory when ``--steps`` is not given: about 10 minutes of one idle core each at
#: the default sizes (measured CPU per batch: stack/queue 0.11 s, DeQue 0.16 s, 8-layer LSTM 0.06 s).
#: Shorter sequences cost less than proportionally less: at the paper's lengths a stack batch is 0.41 s.
DEFAULT_STEPS = {"stack": 5000, "queue": 5000, "deque": 3500, "none": 10000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=TASKS, default="copy")
    parser.add_argument("--memory", choices=(*MEMORIES, "none"), default="queue", help="none: the Deep LSTM benchmark")
    parser.add_argument("--layers", type=int, default=None,
                        help="Deep LSTM layers (--memory none); default: the paper's best for the task")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--memory-size", type=int, default=128, help="width of the pushed values")
    parser.add_argument("--embedding", type=int, default=64)
    parser.add_argument("--vocab-size", type=int, default=32, help=f"the paper: {PAPER_VOCAB_SIZE}")
    parser.add_argument("--min-length", type=int, default=4, help=f"the paper: {TRAIN_LENGTHS[0]}")
    parser.add_argument("--max-length", type=int, default=16,
                        help=f"longest training source (the paper: {TRAIN_LENGTHS[1]})")
    parser.add_argument("--test-min-length", type=int, default=17, help=f"the paper: {TEST_LENGTHS[0]}")
    parser.add_argument("--test-max-length", type=int, default=32, help=f"the paper: {TEST_LENGTHS[1]}")
    parser.add_argument("--steps", type=int, default=None, help=f"training batches (default {DEFAULT_STEPS})")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--max-norm", type=float, default=1.0)
    parser.add_argument("--eval-count", type=int, default=1000, help="sequences per accuracy (the paper: 1000)")
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    args.steps = args.steps or DEFAULT_STEPS[args.memory]
    args.layers = args.layers or PAPER_BASELINE_LAYERS[args.task]
    log = open_run_log(args.out) if args.out else (lambda line: print(line, flush=True))

    started = time.time()
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    longest = 2 * max(args.max_length, args.test_max_length) + 2
    if args.memory == "none":
        model = DeepLSTM(args.vocab_size, args.layers, args.embedding, args.hidden, max_length=longest)
    else:
        model = NeuralMemoryLSTM(args.vocab_size, args.memory, args.embedding, args.hidden, args.memory_size,
                                 max_length=longest)
    optimizer = ember.optim.RMSprop(model.parameters(), lr=args.lr)
    log(f"{args.task} with {model.describe()}: {sum(p.numel() for p in model.parameters())} parameters; "
        f"sources of {args.min_length}..{args.max_length} symbols over {args.vocab_size}, batch {args.batch_size}, "
        f"RMSprop lr {args.lr}, {args.steps} steps")

    def progress(step: int, loss: float) -> None:
        log(f"step {step:5d}  loss {loss:.4f} nats/symbol  ({time.time() - started:.0f}s)")

    train_transduction(model, args.task, args.steps, optimizer, rng, args.batch_size,
                       (args.min_length, args.max_length), args.max_norm, log=progress, log_every=args.log_every)
    evaluation = np.random.default_rng(args.seed + 1000)  # the same test sequences for every model
    scores = {}
    for split, lengths in (("train", (args.min_length, args.max_length)),
                           ("test", (args.test_min_length, args.test_max_length))):
        start = time.time()
        scores[split] = evaluate_transduction(model, args.task, args.eval_count, lengths, evaluation)
        log(f"{split} lengths {lengths[0]}..{lengths[1]}: coarse {scores[split][0]:.3f}  fine {scores[split][1]:.3f}  "
            f"({args.eval_count} sequences, {time.time() - start:.0f}s)")
    paper_key = "deep-lstm" if args.memory == "none" else args.memory
    paper = PAPER_TABLE[args.task][paper_key]
    paper_name = f"{PAPER_BASELINE_LAYERS[args.task]}-layer LSTM" if args.memory == "none" else f"{args.memory}-LSTM"
    log(f"paper (Figure 2a, {paper_name}): train coarse {paper[0]:.2f} fine {paper[1]:.2f}; "
        f"test coarse {paper[2]:.2f} fine {paper[3]:.2f}")
    result = {"model": f"neural_stack_{args.task}_{args.memory}", "task": args.task, "memory": args.memory,
              "train_coarse": round(scores["train"][0], 3), "train_fine": round(scores["train"][1], 3),
              "test_coarse": round(scores["test"][0], 3), "test_fine": round(scores["test"][1], 3),
              "paper": dict(zip(("train_coarse", "train_fine", "test_coarse", "test_fine"), paper))}
    save_and_report(model, result, args.out, started, dataset=f"transduction-{args.task}", config=vars(args))


if __name__ == "__main__":
    main()
