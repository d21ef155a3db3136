"""Train the Ladder network (Rasmus et al. 2015, Gamma/full model) on MNIST with 100 labels; log the test error.

The 100 labelled examples are balanced (10 per class, picked with ``--label-seed``); the
unlabelled set is all 60,000 training images. Each step joins a labelled batch of 100
and an unlabelled batch of 100; an epoch is one pass over the unlabelled set (600 steps).
Adam at ``--lr`` 0.002, decayed linearly to 0 over the last ``--decay-fraction`` of the
steps (the paper: 100 epochs then 50 of decay; the default here is shorter to fit ~45
minutes on 2 cores: 40 epochs = 24,000 steps, see docs/ladder.md). The test error (clean encoder, running batch
statistics) is printed after every epoch.

    EMBER_DATA=../shared/data OMP_NUM_THREADS=2 python examples/train_ladder.py --out runs/ladder \
        | tee examples/logs/ladder.log
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember.models.generative_recipes import mnist_unit
from ember.models.ladder import (
    LadderNetwork,
    balanced_label_indices,
    evaluate_error,
    linear_decay_lr,
    train_ladder_epoch,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=100, help="labelled examples, balanced over the classes")
    parser.add_argument("--epochs", type=int, default=40,
                        help="passes over the unlabelled set, 600 steps each (paper: 150; 40 fits ~45 min on 2 cores)")
    parser.add_argument("--steps-per-epoch", type=int, default=0, help="cap the steps of an epoch (0: a full pass)")
    parser.add_argument("--batch-size", type=int, default=100, help="labelled and unlabelled examples per step")
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument("--decay-fraction", type=float, default=1 / 3,
                        help="last fraction of the steps over which the lr falls linearly to 0")
    parser.add_argument("--noise-std", type=float, default=0.3)
    parser.add_argument("--max-unlabelled", type=int, default=0, help="use at most this many unlabelled images")
    parser.add_argument("--max-test", type=int, default=0, help="test on at most this many images (0: all)")
    parser.add_argument("--seed", type=int, default=0, help="weights, noise and batch order")
    parser.add_argument("--label-seed", type=int, default=1, help="which labelled examples")
    parser.add_argument("--out", default="runs/ladder")
    args = parser.parse_args()
    log = open_run_log(args.out)

    started = time.time()
    ember.manual_seed(args.seed)
    generator = ember.Generator().manual_seed(args.seed)
    x_train, y_train = mnist_unit(train=True)
    x_test, y_test = mnist_unit(train=False)
    x_train, x_test = x_train.reshape(len(x_train), 784), x_test.reshape(len(x_test), 784)
    chosen = balanced_label_indices(y_train, args.labels, seed=args.label_seed)
    unlabelled = x_train[:args.max_unlabelled] if args.max_unlabelled else x_train
    if args.max_test:
        x_test, y_test = x_test[:args.max_test], y_test[:args.max_test]
    labelled, labels = ember.tensor(x_train[chosen]), ember.tensor(y_train[chosen])
    unlabelled, test_x, test_y = ember.tensor(unlabelled), ember.tensor(x_test), ember.tensor(y_test)

    model = LadderNetwork(noise_std=args.noise_std)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    per_epoch = unlabelled.shape[0] // args.batch_size
    if args.steps_per_epoch:
        per_epoch = min(per_epoch, args.steps_per_epoch)
    total_steps = args.epochs * per_epoch
    lr_at = linear_decay_lr(args.lr, total_steps, args.decay_fraction)
    log(f"Ladder {'-'.join(map(str, model.sizes))}: {args.labels} labels (classes "
        f"{np.bincount(y_train[chosen]).tolist()}), {unlabelled.shape[0]} unlabelled, {test_x.shape[0]} test; "
        f"{args.epochs} epochs x {per_epoch} steps = {total_steps} steps, lr {args.lr} decaying over the last "
        f"{args.decay_fraction:.2f}")

    step, test_error, history = 0, 100.0, []
    for epoch in range(1, args.epochs + 1):
        costs, taken = train_ladder_epoch(model, optimizer, labelled, labels, unlabelled, args.batch_size, generator,
                                          lr_at=lr_at, first_step=step, max_steps=per_epoch)
        step += taken
        test_error = evaluate_error(model, test_x, test_y)
        history.append(round(test_error, 2))
        log(f"epoch {epoch} step {step}: cost {costs['total']:.3f} (supervised {costs['supervised']:.4f}, "
            f"denoising {costs['denoising']:.3f})  lr {lr_at(step - 1):.5f}  test error {test_error:.2f}%  "
            f"elapsed {time.time() - started:.0f}s")
    train_error = evaluate_error(model, labelled, labels)
    log(f"final: test error {test_error:.2f}% (paper, 150 epochs: 1.06 +- 0.37%), error on the labelled set "
        f"{train_error:.2f}%")
    result = {"model": "ladder", "test_error": round(test_error, 2), "labels": args.labels, "steps": step,
              "test_error_per_epoch": history}
    save_and_report(model, result, args.out, started, dataset="mnist", config=vars(args))


if __name__ == "__main__":
    main()
