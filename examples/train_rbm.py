"""Train a 500-hidden-unit RBM on binarized MNIST by CD-k or persistent CD; AIS log-likelihood; PNGs.

The data is the fixed seeded binarization of ``ember.models.generative_recipes.binarized_mnist``.
After training, annealed importance sampling (Salakhutdinov & Murray 2008: 100 runs,
14,500 temperatures, a base-rate starting model) estimates ``log Z``, and the log
prints the average train and test log-likelihood in nats.

    EMBER_DATA=../shared/data python examples/train_rbm.py --k 1 --out runs/rbm_cd1 | tee examples/logs/rbm_cd1.log
    EMBER_DATA=../shared/data python examples/train_rbm.py --k 25 --out runs/rbm_cd25
    EMBER_DATA=../shared/data python examples/train_rbm.py --persistent --out runs/rbm_pcd
"""
from __future__ import annotations

import argparse
import os
import time

from _report import open_run_log, save_and_report

import ember
from ember import viz
from ember.models.generative_recipes import binarized_mnist
from ember.models.rbm import RBM, ContrastiveDivergence, ais_log_partition, average_log_likelihood, base_rate_bias


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--k", type=int, default=1, help="Gibbs steps per update")
    parser.add_argument("--persistent", action="store_true", help="persistent CD (Tieleman 2008)")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--momentum", type=float, default=0.5)
    parser.add_argument("--weight-decay", type=float, default=2e-4)
    parser.add_argument("--ais-runs", type=int, default=100)
    parser.add_argument("--ais-betas", type=int, default=14500)
    parser.add_argument("--gibbs-every", type=int, default=1000, help="Gibbs steps between the frames of the chains")
    parser.add_argument("--max-samples", type=int, default=0, help="train and test on at most this many images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/rbm")
    args = parser.parse_args()
    log = open_run_log(args.out)

    started = time.time()
    generator = ember.Generator().manual_seed(args.seed)
    x_train, _ = binarized_mnist(train=True)
    x_test, _ = binarized_mnist(train=False)
    if args.max_samples:
        x_train, x_test = x_train[:args.max_samples], x_test[:args.max_samples]
    train, test = ember.tensor(x_train.reshape(len(x_train), 784)), ember.tensor(x_test.reshape(len(x_test), 784))
    method = f"PCD-{args.k}" if args.persistent else f"CD-{args.k}"
    log(f"RBM 784-{args.hidden} trained with {method}: {len(x_train)} training images, {len(x_test)} test images")
    rbm = RBM(784, args.hidden, generator=generator)
    with ember.no_grad():
        rbm.visible_bias.copy_(base_rate_bias(train))  # Hinton's guide: start the visible biases at log(p / (1 - p))
    trainer = ContrastiveDivergence(rbm, args.lr, args.k, args.persistent, args.momentum, args.weight_decay)
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        trainer.lr = args.lr * (1.0 - (epoch - 1) / args.epochs) if args.persistent else args.lr  # PCD anneals lr
        order = ember.randperm(train.shape[0], generator=generator)
        errors = [trainer.step(train[order[s:s + args.batch_size]], generator)
                  for s in range(0, train.shape[0], args.batch_size)]
        log(f"epoch {epoch}: reconstruction error {sum(errors) / len(errors):.2f} ({time.perf_counter() - start:.1f}s)")

    start = time.perf_counter()
    estimate = ais_log_partition(rbm, args.ais_runs, args.ais_betas, base_bias=base_rate_bias(train),
                                 generator=generator)
    train_ll = average_log_likelihood(rbm, train, estimate.log_z)
    test_ll = average_log_likelihood(rbm, test, estimate.log_z)
    log(f"AIS ({args.ais_runs} runs, {args.ais_betas} temperatures, {time.perf_counter() - start:.0f}s): "
        f"log Z = {estimate.log_z:.2f} (3 sigma: {estimate.log_z_low:.2f} .. {estimate.log_z_high:.2f})")
    log(f"average log-likelihood: train {train_ll:.2f} nats, test {test_ll:.2f} nats")

    viz.plot_filters(rbm.weight[:100], os.path.join(args.out, "filters.png"), ncols=10, scale=2)
    chains, shown, every = 10, 10, args.gibbs_every  # ten chains from test digits, a frame every `every` steps
    with ember.no_grad():
        v = test[:chains]
        frames = [v]
        for _ in range(shown - 1):
            for _ in range(every - 1):
                v, _ = rbm.gibbs_step(v, generator)
            v, probability = rbm.gibbs_step(v, generator)
            frames.append(probability)
        images = ember.stack(frames, dim=1).reshape(chains * shown, 28, 28)  # a row per chain
    viz.save_image_grid(images, os.path.join(args.out, "gibbs_samples.png"), ncols=shown, normalize=None)
    log(f"wrote filters.png, gibbs_samples.png to {args.out}")
    result = {"model": "rbm", "method": method, "hidden": args.hidden, "ais_log_z": round(estimate.log_z, 2),
              "train_log_likelihood": round(train_ll, 2), "test_log_likelihood": round(test_ll, 2)}
    save_and_report(rbm, result, args.out, started, dataset="binarized-mnist", config=vars(args))


if __name__ == "__main__":
    main()
