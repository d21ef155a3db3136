"""Train a DCGAN (Radford et al. 2016) on MNIST or Fashion-MNIST; measure its samples with an Ember classifier.

The paper's protocol at 28x28: batch norm in both networks, ReLU/Tanh generator,
LeakyReLU(0.2) discriminator, N(0, 0.02) initialisation, Adam(2e-4, betas (0.5, 0.999)),
batches of 64, images scaled to [-1, 1]. After every epoch a grid of the same 64
latent vectors is saved (``samples_epoch_NN.png``); at the end a latent interpolation
(``interpolation.png``, one straight line in z per row).

Quality, measured: a LeNet-5 trained by Ember on the same dataset (cached in the run
folder) gives the classifier score ``exp(E[KL(p(y|x) || p(y))])`` of 10,000 samples and
of the real test set, and the Frechet distance between Gaussian fits of its 84-d
penultimate features of the samples and of the real test set
(``ember.models.sample_quality``).

    EMBER_DATA=../shared/data python examples/train_dcgan.py --out runs/dcgan_mnist | tee examples/logs/dcgan.log
    EMBER_DATA=../shared/data python examples/train_dcgan.py --dataset fashion-mnist --out runs/dcgan_fashion \\
        | tee examples/logs/dcgan_fashion.log
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember import nn, viz
from ember.models.dcgan import (Discriminator, Generator, gan_optimizers, interpolate_latents, to_tanh_range,
                                train_gan_epoch)
from ember.models.sample_quality import (classifier_score, classify_with_features, frechet_distance_of_features,
                                         quality_classifier, unit_images)


def generate_unit(model: Generator, n: int, generator: ember.Generator, batch_size: int = 500) -> np.ndarray:
    """``n`` samples of ``model`` (eval mode) as float32 ``(n, 1, 28, 28)`` in ``[0, 1]``."""
    model.eval()
    pieces = [model.sample(min(batch_size, n - start), generator).numpy() for start in range(0, n, batch_size)]
    return ((np.concatenate(pieces) + 1.0) / 2.0).astype(np.float32)


def _seeded(seed: int) -> ember.Generator:
    return ember.Generator().manual_seed(seed)


def save_grid(images: ember.Tensor, path: str, ncols: int) -> None:
    """Tanh-range images as a PNG grid (pixels mapped back to [0, 1], no rescaling)."""
    viz.save_image_grid(((images + 1.0) / 2.0).reshape(images.shape[0], 28, 28), path, ncols=ncols, normalize=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--width", type=int, default=64, help="channels of the 14x14 layers (2x at 7x7)")
    parser.add_argument("--latent", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--samples", type=int, default=10000, help="samples scored at the end")
    parser.add_argument("--classifier-epochs", type=int, default=5, help="epochs of the scoring LeNet-5")
    parser.add_argument("--classifier-dir", help="where the scoring classifier is cached (default: --out)")
    parser.add_argument("--max-samples", type=int, default=0, help="train on at most this many images")
    parser.add_argument("--max-steps", type=int, default=0, help="at most this many steps per epoch (0: all)")
    parser.add_argument("--log-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/dcgan")
    args = parser.parse_args()
    log = open_run_log(args.out)
    started = time.time()

    classifier = quality_classifier(args.dataset, args.classifier_dir or args.out, epochs=args.classifier_epochs,
                                    seed=args.seed, log=log)
    x_train, _ = unit_images(args.dataset, train=True)
    x_test, y_test = unit_images(args.dataset, train=False)
    if args.max_samples:
        x_train = x_train[:args.max_samples]
    real_probabilities, real_features = classify_with_features(classifier, x_test)
    real_score = classifier_score(real_probabilities)
    accuracy = float((real_probabilities.argmax(1) == y_test).mean())
    log(f"quality classifier: test accuracy {100 * accuracy:.2f}%, classifier score of the real test set "
        f"{real_score:.3f} ({time.time() - started:.0f}s)")

    ember.manual_seed(args.seed)
    generator = _seeded(args.seed)
    G, D = Generator(args.latent, args.width), Discriminator(args.width)
    optimizer_g, optimizer_d = gan_optimizers(G, D, args.lr, (args.beta1, 0.999))
    fixed_z = ember.randn(64, args.latent, generator=_seeded(args.seed + 1))
    train = to_tanh_range(ember.tensor(x_train))
    log(f"DCGAN on {args.dataset}: {len(x_train)} training images, batch {args.batch_size}; "
        f"G {sum(p.numel() for p in G.parameters())} and D {sum(p.numel() for p in D.parameters())} parameters")
    for epoch in range(1, args.epochs + 1):
        stats = train_gan_epoch(G, D, optimizer_g, optimizer_d, train, args.batch_size, generator,
                                log=lambda line: log(f"epoch {epoch}{line}"), log_every=args.log_every,
                                max_steps=args.max_steps or None)
        G.eval()
        with ember.no_grad():
            save_grid(G(fixed_z), os.path.join(args.out, f"samples_epoch_{epoch:02d}.png"), ncols=8)
        # a quick score of 1,000 samples (the same z every epoch) to follow the trend; the final one uses 10,000
        quick = classifier_score(classify_with_features(classifier, generate_unit(G, 1000, _seeded(args.seed + 4)))[0])
        log(f"epoch {epoch}: loss_D {stats['loss_d']:.3f} loss_G {stats['loss_g']:.3f} D(x) {stats['d_real']:.2f} "
            f"D(G(z)) {stats['d_fake']:.2f} over {stats['steps']} steps; classifier score of 1,000 samples "
            f"{quick:.2f} ({stats['seconds']:.0f}s; {time.time() - started:.0f}s elapsed)")

    sampler = _seeded(args.seed + 2)
    samples = generate_unit(G, args.samples, sampler)
    probabilities, features = classify_with_features(classifier, samples)
    score = classifier_score(probabilities)
    distance = frechet_distance_of_features(features, real_features)
    real_train_distance = frechet_distance_of_features(classify_with_features(classifier, x_train[:10000])[1],
                                                       real_features)
    counts = np.bincount(probabilities.argmax(1), minlength=probabilities.shape[1]).tolist()
    log(f"{len(samples)} samples: classifier score {score:.3f} (real test set {real_score:.3f}); Frechet distance "
        f"to the test set {distance:.3f} (real training images: {real_train_distance:.3f}); predicted classes "
        f"{counts}")

    G.eval()
    with ember.no_grad():
        ends = ember.randn(2, 10, args.latent, generator=_seeded(args.seed + 3))
        save_grid(G(interpolate_latents(ends[0], ends[1], 10)), os.path.join(args.out, "interpolation.png"), ncols=10)
    log(f"wrote {', '.join(sorted(f for f in os.listdir(args.out) if f.endswith('.png')))} to {args.out}")
    result = {"model": "dcgan", "classifier_score": round(score, 3), "classifier_score_real_test": round(real_score, 3),
              "frechet_distance": round(distance, 3), "frechet_distance_real_train": round(real_train_distance, 3),
              "classifier_test_accuracy": round(accuracy, 4), "scored_samples": len(samples),
              "final_loss_d": round(stats["loss_d"], 3), "final_loss_g": round(stats["loss_g"], 3)}
    both = nn.ModuleDict({"generator": G, "discriminator": D})
    save_and_report(both, result, args.out, started, dataset=args.dataset, config=vars(args))


if __name__ == "__main__":
    main()
