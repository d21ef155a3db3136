"""Train the VAE of Kingma & Welling (784-400-20) on MNIST; write a log and PNGs (samples, interpolations, manifold).

Training uses dynamic binarization (each batch's pixels drawn as Bernoulli of their
intensities, seeded); the test set is the fixed seeded binarization of
``ember.models.generative_recipes.binarized_mnist``. Reported: the test negative
ELBO (nats, one z per image) after each epoch and an importance-weighted estimate of
the test log-likelihood with ``--iw-k`` samples. A second model with a 2-d latent
is trained for the manifold picture.

    EMBER_DATA=../shared/data python examples/train_vae.py --out runs/vae | tee examples/logs/vae.log
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember import viz
from ember.models.generative_recipes import binarized_mnist, mnist_unit
from ember.models.vae import VAE, evaluate_negative_elbo, importance_weighted_log_likelihood, train_vae_epoch


def fit(args, latent: int, train: ember.Tensor, test: ember.Tensor, log, generator) -> VAE:
    model = VAE(784, args.hidden, latent)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        train_loss = train_vae_epoch(model, train, optimizer, args.batch_size, generator)
        test_loss = evaluate_negative_elbo(model, test, generator=generator)
        log(f"latent {latent} epoch {epoch}: train -ELBO {train_loss:.2f}  test -ELBO {test_loss:.2f} nats  "
            f"({time.perf_counter() - start:.1f}s)")
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=400)
    parser.add_argument("--latent", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--iw-k", type=int, default=1000, help="importance samples per test image")
    parser.add_argument("--iw-images", type=int, default=1000, help="test images for the IW estimate (0: all)")
    parser.add_argument("--no-manifold", action="store_true", help="skip the 2-d model")
    parser.add_argument("--max-samples", type=int, default=0, help="train and test on at most this many images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/vae")
    args = parser.parse_args()
    log = open_run_log(args.out)

    started = time.time()
    ember.manual_seed(args.seed)
    generator = ember.Generator().manual_seed(args.seed)
    x_train, _ = mnist_unit(train=True)
    x_test, _ = binarized_mnist(train=False)
    if args.max_samples:
        x_train, x_test = x_train[:args.max_samples], x_test[:args.max_samples]
    train, test = ember.tensor(x_train.reshape(len(x_train), 784)), ember.tensor(x_test.reshape(len(x_test), 784))
    log(f"VAE 784-{args.hidden}-{args.latent}: {len(x_train)} training images (dynamic binarization), "
        f"{len(x_test)} test images (fixed binarization)")
    model = fit(args, args.latent, train, test, log, generator)
    test_elbo = evaluate_negative_elbo(model, test, generator=generator)
    iw_images = test[:args.iw_images] if args.iw_images else test
    start = time.perf_counter()
    iw = float(importance_weighted_log_likelihood(model, iw_images, k=args.iw_k, generator=generator).mean().item())
    log(f"test -ELBO {test_elbo:.2f} nats; importance-weighted log p(x) (k={args.iw_k}, first {iw_images.shape[0]} "
        f"test images) {iw:.2f} nats ({time.perf_counter() - start:.0f}s)")

    model.eval()
    with ember.no_grad():
        viz.save_image_grid(model.sample(64, generator).reshape(64, 28, 28), os.path.join(args.out, "samples.png"),
                            ncols=8, normalize=None)
        pairs, steps = 8, 10
        mu, _ = model.encode(test[:2 * pairs])
        weights = ember.linspace(0.0, 1.0, steps).reshape(1, steps, 1)
        path = mu[:pairs].unsqueeze(1) * (1 - weights) + mu[pairs:].unsqueeze(1) * weights  # (pairs, steps, latent)
        images = ember.sigmoid(model.decode(path)).reshape(pairs * steps, 28, 28)
        viz.save_image_grid(images, os.path.join(args.out, "interpolations.png"), ncols=steps, normalize=None)
        logits, _, _ = model(test[:32], generator=generator)
        both = ember.cat([test[:32], ember.sigmoid(logits)], dim=0).reshape(64, 28, 28)
        viz.save_image_grid(both, os.path.join(args.out, "reconstructions.png"), ncols=8, normalize=None)
    result = {"model": "vae", "test_negative_elbo": round(test_elbo, 2), "test_iw_log_likelihood": round(iw, 2),
              "iw_k": args.iw_k, "iw_images": int(iw_images.shape[0])}
    if not args.no_manifold:
        flat = fit(args, 2, train, test, log, generator)
        result["test_negative_elbo_2d"] = round(evaluate_negative_elbo(flat, test, generator=generator), 2)
        side = 20  # the latent grid goes through Gaussian quantiles, as in Kingma & Welling's figure 4
        quantiles = [statistics.NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, side)]
        grid = ember.tensor(np.array([[a, b] for b in quantiles[::-1] for a in quantiles], dtype=np.float32))
        with ember.no_grad():
            images = ember.sigmoid(flat.decode(grid)).reshape(side * side, 28, 28)
        viz.save_image_grid(images, os.path.join(args.out, "manifold_2d.png"), ncols=side, normalize=None)
    log(f"wrote {', '.join(sorted(f for f in os.listdir(args.out) if f.endswith('.png')))} to {args.out}")
    save_and_report(model, result, args.out, started, dataset="binarized-mnist", config=vars(args))


if __name__ == "__main__":
    main()
