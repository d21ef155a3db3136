"""Train a Neural Turing Machine (Graves et al. 2014) or its LSTM baseline on copy / repeat copy; plot generalisation.

Copy (section 4.1): random 8-bit vectors, lengths 1-20 in training, tested at length 20 and
at longer lengths (``--test-lengths``). Repeat copy (section 4.2): lengths 1-10, repeats
1-10. The cost is the bitwise cross-entropy of the output phase; "bit errors per sequence"
counts wrong bits after thresholding the sigmoid outputs at 0.5. The training step runs
under ``ember.compile`` (one trace per sequence length; ``--no-compile`` runs it eagerly).

Writes to ``--out``: ``train.log``, ``generalisation.json`` (errors per length),
``generalisation.png`` (errors vs length; ``--compare other/generalisation.json`` adds
another run's curve, e.g. the LSTM baseline), ``weightings.png`` (NTM: the write and read
weightings over one length-20 copy, as the paper's figure 6) and a final ``RESULT`` line.

    OMP_NUM_THREADS=2 python examples/train_ntm.py --task copy --model lstm --out runs/ntm_copy_lstm \
        | tee examples/logs/ntm_copy_lstm.log
    OMP_NUM_THREADS=2 python examples/train_ntm.py --task copy --model ntm --out runs/ntm_copy \
        --compare runs/ntm_copy_lstm/generalisation.json | tee examples/logs/ntm_copy.log
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember.data.algorithmic import (
    copy_batch,
    random_copy_batch,
    random_repeat_copy_batch,
    repeat_copy_batch,
)
from ember.models.ntm import NTM, LSTMBaseline, bit_errors, sequence_loss


def build(args, input_size: int, output_size: int) -> ember.nn.Module:
    if args.model == "ntm":
        return NTM(input_size, output_size, args.memory_size, args.memory_width, args.hidden)
    return LSTMBaseline(input_size, output_size, args.lstm_hidden, args.lstm_layers)


def train_batch(args, rng):
    if args.task == "copy":
        return random_copy_batch(rng, args.batch_size, 1, args.max_length, args.bits)
    return random_repeat_copy_batch(rng, args.batch_size, args.max_length, args.max_repeats, args.bits)


def test_batch(args, rng, length: int, size: int):
    if args.task == "copy":
        return copy_batch(rng, size, length, args.bits)
    return repeat_copy_batch(rng, size, length, args.test_repeats, args.bits, args.max_repeats)


def errors_at(model, args, length: int, sequences: int, seed: int) -> float:
    """Mean bit errors per sequence over ``sequences`` seeded test sequences of ``length``."""
    rng = np.random.default_rng(seed)
    total, done = 0.0, 0
    with ember.no_grad():
        while done < sequences:
            batch = test_batch(args, rng, length, min(args.eval_batch, sequences - done))
            total += float(bit_errors(model(ember.tensor(batch.inputs)), ember.tensor(batch.targets)).sum())
            done += batch.inputs.shape[0]
    return total / sequences


def plot_generalisation(rows: dict, path: str, title: str) -> None:
    from ember.viz.plots import _figure, _save
    figure = _figure(6.0, 3.6)
    axes = figure.add_subplot(1, 1, 1)
    for name, curve in rows.items():
        lengths = sorted(int(k) for k in curve)
        axes.plot(lengths, [curve[str(n)] for n in lengths], marker="o", label=name)
    axes.set_xlabel("sequence length")
    axes.set_ylabel("bit errors per sequence")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    _save(figure, path)


def plot_weightings(model: NTM, args, path: str) -> None:
    """Inputs, outputs and the write / read weightings over time for one test sequence (the paper's figure 6)."""
    from ember.viz.plots import _figure, _save
    batch = test_batch(args, np.random.default_rng(12345), args.max_length if args.task == "copy" else 5, 1)
    with ember.no_grad():
        logits, (reads, writes) = model(ember.tensor(batch.inputs), return_weightings=True)
    outputs = ember.sigmoid(logits).numpy()[0]
    reads, writes = reads.numpy()[0], writes.numpy()[0]
    # show the rows the heads visit (after the learned first weighting, which is spread over all rows)
    used = np.flatnonzero(np.maximum(reads[1:], writes[1:]).max(axis=0) > 0.1)
    low, high = (max(int(used.min()) - 3, 0), min(int(used.max()) + 4, model.memory_size)) if used.size else \
        (0, model.memory_size)
    figure = _figure(7.0, 9.0)
    figure.set_layout_engine("constrained")
    panels = [(batch.inputs[0].T, "inputs"), (outputs.T, "outputs (sigmoid)"),
              (writes[:, low:high].T, f"write weightings (rows {low}-{high - 1})"),
              (reads[:, low:high].T, f"read weightings (rows {low}-{high - 1})")]
    for i, (image, name) in enumerate(panels):
        axes = figure.add_subplot(4, 1, i + 1)
        axes.imshow(image, aspect="auto", cmap="gray", interpolation="nearest", vmin=0.0, vmax=1.0,
                    origin="upper", extent=(-0.5, image.shape[1] - 0.5, image.shape[0] - 0.5 + (low if i > 1 else 0),
                                            -0.5 + (low if i > 1 else 0)))
        axes.set_title(name, fontsize=9)
        axes.set_ylabel("location" if i > 1 else "channel", fontsize=8)
    axes.set_xlabel("time step")
    _save(figure, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("copy", "repeat-copy"), default="copy")
    parser.add_argument("--model", choices=("ntm", "lstm"), default="ntm")
    parser.add_argument("--bits", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=None, help="longest training sequence (copy 20, repeat 10)")
    parser.add_argument("--max-repeats", type=int, default=10)
    parser.add_argument("--test-repeats", type=int, default=10, help="repeat count of the repeat-copy tests")
    parser.add_argument("--memory-size", type=int, default=128)
    parser.add_argument("--memory-width", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=100, help="NTM controller units")
    parser.add_argument("--lstm-hidden", type=int, default=256)
    parser.add_argument("--lstm-layers", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30000, help="training batches")
    parser.add_argument("--max-minutes", type=float, default=42.0, help="stop training after this long (0: never)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--optimizer", choices=("adam", "rmsprop"), default="adam")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-norm", type=float, default=10.0, help="gradient clipping (global norm)")
    parser.add_argument("--log-every", type=int, default=250)
    parser.add_argument("--eval-sequences", type=int, default=128, help="test sequences per length")
    parser.add_argument("--probe-sequences", type=int, default=32,
                        help="fixed test sequences (longest training length) scored at each progress line")
    parser.add_argument("--eval-batch", type=int, default=64)
    parser.add_argument("--test-lengths", default=None,
                        help="comma-separated (copy: 10,15,...,50,60,80,100,120; repeat copy: 5,10,...,20)")
    parser.add_argument("--compare", default=None, help="generalisation.json of another run to plot beside this one")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/ntm")
    args = parser.parse_args()
    if args.max_length is None:
        args.max_length = 20 if args.task == "copy" else 10
    if args.test_lengths is None:
        args.test_lengths = ("10,15,20,25,30,35,40,45,50,60,80,100,120" if args.task == "copy" else "5,10,15,20")
    lengths = [int(n) for n in args.test_lengths.split(",")]
    log = open_run_log(args.out)
    started = time.time()
    ember.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    sample = train_batch(args, rng)
    model = build(args, sample.inputs.shape[2], sample.targets.shape[2])
    params = model.parameters()
    optimizer = (ember.optim.Adam(params, lr=args.lr) if args.optimizer == "adam"
                 else ember.optim.RMSprop(params, lr=args.lr, alpha=0.95, momentum=0.9))
    name = f"{args.model} {args.task}"
    log(f"{name}: {sum(p.numel() for p in model.parameters())} parameters; "
        + (f"memory {args.memory_size} x {args.memory_width}, controller LSTM {args.hidden}; " if args.model == "ntm"
           else f"LSTM {args.lstm_layers} x {args.lstm_hidden}; ")
        + f"batch {args.batch_size}, {args.optimizer} lr {args.lr}, clip {args.max_norm}, up to {args.steps} steps")

    def step(inputs, targets):
        optimizer.zero_grad()
        loss = sequence_loss(model(inputs), targets)
        loss.backward()
        ember.nn.utils.clip_grad_norm_(model.parameters(), args.max_norm)
        optimizer.step()
        return loss

    run_step = step if args.no_compile else ember.compile(step)
    probe_length = args.max_length if args.task == "copy" else 5
    window_loss, window_sequences, done = 0.0, 0, 0
    for done in range(1, args.steps + 1):
        batch = train_batch(args, rng)
        inputs, targets = ember.tensor(batch.inputs), ember.tensor(batch.targets)
        loss = run_step(inputs, targets)
        window_loss += float(loss.item()) * batch.inputs.shape[0]
        window_sequences += batch.inputs.shape[0]
        if done % args.log_every == 0 or done == args.steps:
            probe = errors_at(model, args, probe_length, args.probe_sequences, seed=999)
            elapsed = time.time() - started
            log(f"step {done:6d}  {elapsed:7.0f}s  sequences {done * args.batch_size:7d}  "
                f"cost {window_loss / window_sequences:8.3f} nats/seq  "
                f"bit errors at length {probe_length}: {probe:6.2f}/seq")
            window_loss, window_sequences = 0.0, 0
            if args.max_minutes and elapsed > 60 * args.max_minutes:
                log(f"stopping after {done} steps: --max-minutes {args.max_minutes} reached")
                break

    start = time.time()
    curve = {str(n): round(errors_at(model, args, n, args.eval_sequences, seed=1000 + n), 3) for n in lengths}
    reference = args.max_length if args.task == "copy" else 10
    at_reference = curve.get(str(reference))
    if at_reference is None:
        at_reference = round(errors_at(model, args, reference, args.eval_sequences, seed=1000 + reference), 3)
    log(f"bit errors per sequence at length {reference}: {at_reference:.3f} ({args.eval_sequences} sequences)")
    log("length  bit errors/seq  (bits per sequence: length x bits" + (" x repeats + end marker)" if args.task != "copy"
                                                                       else ")"))
    for n in lengths:
        log(f"{n:6d}  {curve[str(n)]:14.3f}")
    log(f"evaluation took {time.time() - start:.0f}s")
    with open(os.path.join(args.out, "generalisation.json"), "w") as handle:
        json.dump({"model": args.model, "task": args.task, "errors": curve}, handle, indent=1)
    rows = {args.model.upper(): curve}
    if args.compare:
        with open(args.compare) as handle:
            other = json.load(handle)
        rows[other["model"].upper()] = other["errors"]
    plot_generalisation(rows, os.path.join(args.out, "generalisation.png"),
                        f"{args.task}: trained on lengths 1-{args.max_length}")
    if args.model == "ntm":
        plot_weightings(model, args, os.path.join(args.out, "weightings.png"))
    log(f"wrote {', '.join(sorted(f for f in os.listdir(args.out) if f.endswith('.png')))} to {args.out}")
    result = {"model": f"ntm_{args.model}_{args.task}", "steps": done, "sequences": done * args.batch_size,
              "bit_errors_at_reference": at_reference, "reference_length": reference, "generalisation": curve}
    save_and_report(model, result, args.out, started, dataset=f"algorithmic-{args.task}", config=vars(args))


if __name__ == "__main__":
    main()
