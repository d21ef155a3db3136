"""Train the end-to-end memory network (MemN2N, 3 hops, PE LS RN, adjacent tying) on bAbI 1k; print test errors.

Per task (default) every task gets its own model (d = 20, 100 epochs, lr 0.01 halved every
25); with ``--joint`` one model (d = 50, 60 epochs, lr halved every 15) is trained on all the
tasks' questions together, with one vocabulary. 10% of each training file is the validation
set (the model of the epoch with the lowest validation error is kept, and with ``--restarts``
the restart with the lowest validation error). Writes a PNG of each hop's attention over the
story for a few test questions per task, and prints a final ``RESULT {json}`` line.

    EMBER_DATA=../shared/data python examples/train_memn2n.py --tasks 1,4,12,15,20 --out runs/memn2n \
        | tee examples/logs/memn2n.log
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _report import save_and_report

import ember
from ember.data.datasets.babi import (TASKS, BabiTask, build_vocab, find_babi, load_babi, parse_babi, read_text,
                                      task_file)
from ember.models.memn2n import (MemN2N, MemN2NConfig, babi_arrays, evaluate_memn2n, fit_memn2n,
                                 split_arrays)

#: Test error (%) of MemN2N "PE LS RN" (adjacent tying, 1k, per task), Sukhbaatar et al. 2015, Table 1.
PAPER_PE_LS_RN = {1: 0.0, 2: 8.3, 3: 40.3, 4: 2.8, 5: 13.1, 6: 7.6, 7: 17.3, 8: 10.0, 9: 13.2, 10: 15.1,
                  11: 0.9, 12: 0.2, 13: 0.4, 14: 1.7, 15: 0.0, 16: 1.3, 17: 51.0, 18: 11.1, 19: 82.8, 20: 0.0}
PAPER_MEAN = {"per_task": 13.9, "joint": 12.4}


def load_tasks(tasks: list[int], memory_size: int) -> tuple[dict[int, BabiTask], dict[int, BabiTask], object]:
    """Train and test BabiTask of every task with one vocabulary and one padded shape (what a joint model needs)."""
    directory = find_babi(tasks=tasks)
    vocab = build_vocab([q for t in tasks for q in parse_babi(read_text(directory / task_file(t, "train")))[0]])
    first = {(t, s): BabiTask(t, s, vocab=vocab, memory_size=memory_size) for t in tasks for s in (True, False)}
    sizes = dict(memory_size=memory_size, sentence_len=max(d.stories.shape[2] for d in first.values()),
                 question_len=max(d.queries.shape[1] for d in first.values()))
    train = {t: BabiTask(t, True, vocab=vocab, **sizes) for t in tasks}
    test = {t: BabiTask(t, False, vocab=vocab, **sizes) for t in tasks}
    return train, test, vocab


def concat(parts: list[dict]) -> dict:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def plot_attention(model: MemN2N, dataset: BabiTask, path: str, questions: int = 3) -> None:
    """One panel per question: each hop's attention (columns) over the story's sentences (rows)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    picks = [i for i in range(len(dataset)) if 2 <= dataset.story_lengths[i] <= 12][:questions] or [0]
    batch = dataset.__getitems__(picks)
    model.eval()
    with ember.no_grad():
        logits, attention = model(ember.tensor(batch["story"]), ember.tensor(batch["story_length"]),
                                  ember.tensor(batch["question"]), return_attention=True)
    figure = Figure(figsize=(7.5, 2.2 + 0.35 * sum(int(batch["story_length"][j]) for j in range(len(picks)))), dpi=100)
    FigureCanvasAgg(figure)
    heights = [int(batch["story_length"][j]) + 1 for j in range(len(picks))]
    axes = figure.subplots(len(picks), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    tokens = dataset.vocab.tokens
    for j, (i, ax) in enumerate(zip(picks, axes)):
        record, length = dataset.questions[i], int(batch["story_length"][j])
        weights = np.stack([a.numpy()[j, :length] for a in attention], axis=1)
        ax.imshow(weights, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
        story = record.story[-length:]
        support = {s - (len(record.story) - length) for s in record.supporting}
        ax.set_yticks(range(length), [("* " if k in support else "") + s for k, s in enumerate(story)], fontsize=7)
        ax.set_xticks(range(len(attention)), [f"hop {h + 1}" for h in range(len(attention))], fontsize=7)
        for (r, c), w in np.ndenumerate(weights):
            ax.text(c, r, f"{w:.2f}", ha="center", va="center", fontsize=6, color="black" if w < 0.6 else "white")
        answer = tokens[int(logits[j].argmax().item())]
        ax.set_title(f"Q: {record.question}  answer: {record.answer}  predicted: {answer}   (* supporting fact)",
                     fontsize=8, loc="left")
    figure.tight_layout()
    figure.savefig(path, format="png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20")
    parser.add_argument("--joint", action="store_true", help="one model for all the tasks")
    parser.add_argument("--embedding-dim", type=int, default=None, help="d (default 20 per task, 50 joint)")
    parser.add_argument("--hops", type=int, default=3)
    parser.add_argument("--memory-size", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=None, help="default 100 per task, 60 joint")
    parser.add_argument("--decay-every", type=int, default=None, help="halve the lr every ... epochs (25 / 15)")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--noise", type=float, default=0.1, help="fraction of empty memories (RN); 0: off")
    parser.add_argument("--no-linear-start", action="store_true")
    parser.add_argument("--ls-patience", type=int, default=1, help="epochs without a new validation low that end LS")
    parser.add_argument("--restarts", type=int, default=1, help="trainings per task; the best on validation is kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/memn2n")
    args = parser.parse_args()
    tasks = [int(t) for t in args.tasks.split(",")]
    if any(t not in TASKS for t in tasks):
        parser.error(f"--tasks must be numbers 1..20, got {args.tasks}")
    d = args.embedding_dim or (50 if args.joint else 20)
    config = MemN2NConfig(embedding_dim=d, hops=args.hops, memory_size=args.memory_size,
                          epochs=args.epochs or (60 if args.joint else 100),
                          decay_every=args.decay_every or (15 if args.joint else 25), lr=args.lr,
                          batch_size=args.batch_size, noise=args.noise, linear_start=not args.no_linear_start,
                          ls_patience=args.ls_patience)
    os.makedirs(args.out, exist_ok=True)
    started = time.time()
    rng = np.random.default_rng(args.seed)
    ember.manual_seed(args.seed)
    print(f"MemN2N {args.hops} hops, d={d}, memory {args.memory_size}, PE TE{' LS' if config.linear_start else ''}"
          f"{' RN' if args.noise else ''}, adjacent tying; {'joint' if args.joint else 'per-task'} training on "
          f"bAbI 1k tasks {tasks}", flush=True)
    groups = [tasks] if args.joint else [[t] for t in tasks]
    errors, seconds, model = {}, {}, None
    for group in groups:
        if args.joint:  # one vocabulary and one padded shape for every task
            train_sets, test_sets, vocab = load_tasks(group, args.memory_size)
        else:  # the task's own vocabulary, as in the paper's per-task models
            pair = load_babi(group[0], memory_size=args.memory_size)
            train_sets, test_sets, vocab = {group[0]: pair[0]}, {group[0]: pair[1]}, pair[0].vocab
        splits = {t: split_arrays(babi_arrays(train_sets[t]), 0.1, rng) for t in group}
        print(f"tasks {group}: vocabulary {len(vocab)}, story {train_sets[group[0]].stories.shape[1:]}", flush=True)
        train = concat([splits[t][0] for t in group])
        valid = concat([splits[t][1] for t in group])
        start = time.time()
        best, best_error = None, float("inf")
        for restart in range(args.restarts):
            print(f"tasks {group} restart {restart + 1}/{args.restarts}", flush=True)
            candidate = fit_memn2n(MemN2N(len(vocab), d, args.memory_size, args.hops), train, valid,
                                   MemN2NConfig(**{**config.__dict__, "history": []}), rng, log=print)
            error = evaluate_memn2n(candidate, valid)[1]
            if error < best_error:
                best, best_error = candidate, error
        model = best
        elapsed = time.time() - start
        for t in group:
            errors[t] = evaluate_memn2n(model, babi_arrays(test_sets[t]))[1] * 100
            seconds[t] = round(elapsed / len(group), 1)
            print(f"task {t:2d} ({TASKS[t]}): test error {errors[t]:5.1f}%  (paper PE LS RN {PAPER_PE_LS_RN[t]:.1f}%)"
                  f"  validation error {100 * best_error:.1f}%  {elapsed:.0f}s", flush=True)
            plot_attention(model, test_sets[t], os.path.join(args.out, f"attention_task{t}.png"))
    mean = float(np.mean(list(errors.values())))
    paper_mean = float(np.mean([PAPER_PE_LS_RN[t] for t in tasks]))
    print(f"mean test error over tasks {tasks}: {mean:.1f}%  (paper PE LS RN per task on the same tasks: "
          f"{paper_mean:.1f}%; all 20 tasks: {PAPER_MEAN['joint' if args.joint else 'per_task']}%)")
    print(f"wrote attention_task*.png to {args.out}")
    result = {"model": "memn2n", "joint": args.joint, "tasks": tasks,
              "test_error": {str(t): round(e, 1) for t, e in errors.items()}, "mean_test_error": round(mean, 2),
              "paper_test_error": {str(t): PAPER_PE_LS_RN[t] for t in tasks},
              "paper_mean_same_tasks": round(paper_mean, 2),
              "seconds_per_task": {str(t): s for t, s in seconds.items()}}
    save_and_report(model, result, args.out, started, dataset="babi-1k", config=vars(args))


if __name__ == "__main__":
    main()
