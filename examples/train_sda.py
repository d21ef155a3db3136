"""Train SdA-3 (Vincent et al. 2010) on MNIST: greedy denoising pretraining, fine-tuning; log and PNGs.

Three 1000-unit sigmoid layers, each pretrained as a tied-weight denoising
autoencoder with masking noise on the codes of the layers below (plain SGD), then the
whole stack with a linear classifier on top fine-tuned by SGD with momentum and a
cosine learning-rate decay (``ember.models.train_classifier``). Pixels are in [0, 1].

    EMBER_DATA=../shared/data python examples/train_sda.py --out runs/sda | tee examples/logs/sda.log
"""
from __future__ import annotations

import argparse
import os
import time

from _report import open_run_log, save_and_report

import ember
from ember import viz
from ember.models import ClassifierConfig, train_classifier
from ember.models.autoencoder import StackedDenoisingAutoencoder, pretrain
from ember.models.generative_recipes import mnist_unit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", default="1000,1000,1000", help="units per layer, bottom up")
    parser.add_argument("--corruption", type=float, default=0.25, help="masking fraction of the pretraining")
    parser.add_argument("--pretrain-epochs", type=int, default=15)
    parser.add_argument("--pretrain-lr", type=float, default=0.01)
    parser.add_argument("--finetune-epochs", type=int, default=50)
    parser.add_argument("--finetune-lr", type=float, default=0.1)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--max-samples", type=int, default=0, help="train and test on at most this many images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/sda")
    args = parser.parse_args()
    log = open_run_log(args.out)

    started = time.time()
    ember.manual_seed(args.seed)
    generator = ember.Generator().manual_seed(args.seed)
    x_train, y_train = mnist_unit(train=True)
    x_test, y_test = mnist_unit(train=False)
    if args.max_samples:
        x_train, y_train = x_train[:args.max_samples], y_train[:args.max_samples]
        x_test, y_test = x_test[:args.max_samples], y_test[:args.max_samples]
    hidden = tuple(int(h) for h in args.hidden.split(","))
    sda = StackedDenoisingAutoencoder(784, hidden, 10, args.corruption, generator)
    log(f"SdA 784-{'-'.join(map(str, hidden))}-10, masking noise {args.corruption}: {len(x_train)} training images, "
        f"{len(x_test)} test images")
    start = time.perf_counter()
    pretrain(sda, ember.tensor(x_train), args.pretrain_epochs, args.pretrain_lr, args.batch_size, generator, log)
    log(f"pretraining: {time.perf_counter() - start:.0f}s")

    first = sda.layers[0]
    with ember.no_grad():  # the first layer's denoising: test digits, masked, and reconstructed from the mask
        clean = ember.tensor(x_test[:16]).reshape(16, 784)
        corrupted = first.corrupt(clean, generator)
        rows = [clean, corrupted, ember.sigmoid(first.decode_logits(first.encode(corrupted)))]
    viz.save_image_grid(ember.cat(rows, dim=0).reshape(48, 28, 28), os.path.join(args.out, "reconstructions.png"),
                        ncols=16, normalize=None)
    viz.plot_filters(first.weight[:100], os.path.join(args.out, "filters.png"), ncols=10, scale=2)

    config = ClassifierConfig(epochs=args.finetune_epochs, batch_size=args.batch_size, optimizer="sgd",
                              lr=args.finetune_lr, momentum=args.momentum, seed=args.seed)
    result = train_classifier(sda, x_train, y_train, x_test, y_test, config, verbose=2, log=log)
    log(f"wrote reconstructions.png (rows: clean, masked, reconstructed), filters.png to {args.out}")
    result.pop("history")
    save_and_report(sda, {"model": "sda", **result}, args.out, started, dataset="mnist", config=vars(args))


if __name__ == "__main__":
    main()
