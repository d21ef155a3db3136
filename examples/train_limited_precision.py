"""Train the maxout networks of Courbariaux, David & Bengio (2015) in limited precision on MNIST.

Reproduces a cell of the paper's Table (arXiv:1412.7024): ``--net pi`` is permutation-invariant
MNIST (2 x 240 maxout units of 5 pieces), ``--net conv`` the convolutional maxout network; the
``--precision`` is float32, float16 (simulated half floats), fixed (20-bit fixed point) or
dynamic (dynamic fixed point, 10-bit propagations, 12-bit parameter updates). See
``ember/models/maxout.py`` and ``docs/limited_precision.md``.

Protocol (the authors' ``main.py`` / ``trainer.py``): the first 50,000 training images train,
the last 10,000 validate; the learning rate falls linearly to a tenth over the first half of
the run, the momentum rises from 0.5 to 0.7 over the first quarter; the reported error is the
test error at the epoch of best validation error. The paper runs 800 epochs on a GPU; the
defaults here (``--epochs``) are sized to about an hour per cell on two CPU cores.

Usage:
    python examples/train_limited_precision.py --net pi --precision dynamic --out runs/lp-pi-dynamic
    python examples/train_limited_precision.py --net pi --precision float32 --time-steps 50
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember.models.generative_recipes import mnist_unit
from ember.models.maxout import (PAPER_TEST_ERRORS, PRECISIONS, MaxoutConvNet, MaxoutMLP, calibrate_ranges,
                                 error_rate, paper_optimizer, paper_loss, paper_schedule, train_epoch)

# Per net: batch size and starting rate of the authors, and epochs that fit about an hour here.
NET_DEFAULTS = {"pi": {"batch_size": 100, "lr": 0.05, "epochs": 50},
                "conv": {"batch_size": 128, "lr": 0.02, "epochs": 4}}


def time_steps(model, optimizer, images, labels, batch_size: int, steps: int) -> float:
    """Seconds per training step, averaged over ``steps`` steps after one warm-up step."""
    model.train()
    for k in range(steps + 1):
        if k == 1:
            started = time.time()
        index = ember.tensor(np.arange(k * batch_size, (k + 1) * batch_size) % images.shape[0])
        optimizer.zero_grad()
        paper_loss(model(images[index]), labels[index]).backward()
        optimizer.step()
    return (time.time() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--net", choices=("pi", "conv"), default="pi")
    parser.add_argument("--precision", choices=PRECISIONS, default="float32")
    parser.add_argument("--epochs", type=int, default=None, help="default: 50 (pi) / 4 (conv); the paper: 800")
    parser.add_argument("--batch-size", type=int, default=None, help="default: the authors' 100 (pi) / 128 (conv)")
    parser.add_argument("--lr", type=float, default=None, help="default: the authors' 0.05 (pi) / 0.02 (conv)")
    parser.add_argument("--range-init-epochs", type=int, default=None,
                        help="dynamic only: epochs at 31 bits to find the radix points (default 2, the authors')")
    parser.add_argument("--train-size", type=int, default=50000, help="the first images of the 60,000 train")
    parser.add_argument("--valid-size", type=int, default=10000, help="the images after them validate")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--time-steps", type=int, default=0, help="only time this many steps and extrapolate")
    parser.add_argument("--out", default=None, help="folder for train.log and the weights")
    args = parser.parse_args()
    defaults = NET_DEFAULTS[args.net]
    epochs = args.epochs or defaults["epochs"]
    batch_size = args.batch_size or defaults["batch_size"]
    lr_start = args.lr or defaults["lr"]
    range_init = args.range_init_epochs if args.range_init_epochs is not None else \
        (2 if args.precision == "dynamic" else 0)
    out = args.out or os.path.join("runs", f"limited-precision-{args.net}-{args.precision}")
    log = open_run_log(out)
    started = time.time()

    ember.manual_seed(args.seed)
    generator = np.random.default_rng(args.seed)
    images, labels = mnist_unit(train=True)
    test_images, test_labels = mnist_unit(train=False)
    if args.net == "pi":
        images, test_images = images.reshape(len(images), -1), test_images.reshape(len(test_images), -1)
    x_train, y_train = ember.tensor(images[:args.train_size]), ember.tensor(labels[:args.train_size])
    valid = slice(args.train_size, args.train_size + args.valid_size)
    x_valid, y_valid = ember.tensor(images[valid]), ember.tensor(labels[valid])
    x_test, y_test = ember.tensor(test_images), ember.tensor(test_labels)
    model = MaxoutMLP(args.precision) if args.net == "pi" else MaxoutConvNet(args.precision)
    lr, momentum = paper_schedule(0, epochs, lr_start)
    optimizer = paper_optimizer(model, lr, momentum)
    paper = PAPER_TEST_ERRORS[args.net][args.precision]

    if args.time_steps:
        per_step = time_steps(model, optimizer, x_train, y_train, batch_size, args.time_steps)
        per_epoch = per_step * (x_train.shape[0] // batch_size)
        log(f"{args.net} {args.precision}: {per_step:.3f} s/step, about {per_epoch:.0f} s/epoch (training only); "
            f"{epochs} epochs ~ {per_epoch * (epochs + range_init) / 3600:.2f} h, the paper's 800 ~ "
            f"{per_epoch * 800 / 3600:.1f} h")
        return

    if range_init:
        calibrate_ranges(model, optimizer, x_train, y_train, batch_size, epochs=range_init, generator=generator)
        log(f"range initialisation: {range_init} epochs at 31 bits [{time.time() - started:.0f}s]")
    best_valid, best_test, best_epoch = float("inf"), float("nan"), 0
    for epoch in range(epochs):
        lr, momentum = paper_schedule(epoch, epochs, lr_start)
        for group in optimizer.param_groups:
            group["lr"], group["momentum"] = lr, momentum
        loss = train_epoch(model, optimizer, x_train, y_train, batch_size, generator)
        valid = error_rate(model, x_valid, y_valid) if x_valid.shape[0] else float("nan")
        test = error_rate(model, x_test, y_test)
        if valid < best_valid or x_valid.shape[0] == 0:
            best_valid, best_test, best_epoch = valid, test, epoch + 1
        log(f"epoch {epoch + 1}/{epochs} lr {lr:.4f} momentum {momentum:.3f} loss {loss:.4f} "
            f"valid_error {valid:.2f}% test_error {test:.2f}% (best valid epoch {best_epoch}: test "
            f"{best_test:.2f}%) [{time.time() - started:.0f}s]")

    result = {"model": f"maxout-{args.net}", "precision": args.precision, "test_error": round(best_test, 2),
              "final_test_error": round(test, 2), "best_valid_error": round(best_valid, 2),
              "best_epoch": best_epoch, "epochs": epochs, "paper_test_error": paper}
    log(f"test error {best_test:.2f}% at the best validation epoch (the paper: {paper:.2f}% after 800 epochs)")
    save_and_report(model, result, args.out, started, dataset="mnist", config=vars(args))


if __name__ == "__main__":
    main()
