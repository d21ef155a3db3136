"""Train a factored gated autoencoder on pairs of shifted or rotated MNIST digits; filter pairs and retrieval.

Data (``ember.data.image_pairs``, seeded): pairs ``(x, y = T(x))`` of training digits
with a fresh random transformation each (integer shifts in ``[-max_shift, max_shift]^2``
with wrap-around, or rotations uniform in ``[-max_angle, max_angle]`` degrees), PCA
whitened keeping 90% of the variance (fitted on both images of the first 10,000 training pairs).
The model (Memisevic 2011/2013) is trained with SGD + momentum on the symmetric
squared reconstruction error with masking noise, normalising the filters after each step.

Transformation retrieval on test digits: for quadruples ``(x, y, x2, y2)`` sharing one
transformation, infer the mappings from ``(x, y)``, apply them to ``x2`` and compare the
prediction with ``y2`` (per-pixel MSE in ``[0, 1]`` pixel units), against copying
``x2``, predicting the mean image, and an MLP ``(x, y, x2) -> y2`` with about as many
parameters as the gated autoencoder, trained (supervised) on as many training quadruples.

    EMBER_DATA=../shared/data python examples/train_gated_autoencoder.py --transform shift --out runs/gae_shift \\
        | tee examples/logs/gated_autoencoder_shift.log
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember import viz
from ember.data.image_pairs import TRANSFORMS, make_pairs, make_triples
from ember.models.gated_autoencoder import (
    GatedAutoencoder,
    PCAWhitening,
    TransferMLP,
    mlp_hidden_for_budget,
    retrieval_mse,
    train_gated_autoencoder_epoch,
    train_transfer_mlp_epoch,
)
from ember.models.generative_recipes import mnist_unit


def load_digits(train: bool, downsample: int) -> np.ndarray:
    """MNIST digits ``(N, S, S)`` in ``[0, 1]``, block-averaged by ``downsample`` (1 keeps 28x28)."""
    images = mnist_unit(train=train)[0][:, 0]
    if downsample > 1:
        side = 28 // downsample
        images = images[:, :side * downsample, :side * downsample]
        images = images.reshape(-1, side, downsample, side, downsample).mean(axis=(2, 4))
    return images


def flat(images: np.ndarray) -> np.ndarray:
    return images.reshape(len(images), -1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transform", choices=TRANSFORMS, default="shift")
    parser.add_argument("--pairs", type=int, default=50000, help="training pairs (and MLP training quadruples)")
    parser.add_argument("--test", type=int, default=5000, help="test quadruples for retrieval")
    parser.add_argument("--downsample", type=int, default=1, help="block-average the 28x28 digits by this factor")
    parser.add_argument("--max-shift", type=int, default=3)
    parser.add_argument("--shift-mode", choices=("wrap", "zero"), default="wrap")
    parser.add_argument("--max-angle", type=float, default=180.0)
    parser.add_argument("--variance", type=float, default=0.9, help="PCA variance kept by the whitening")
    parser.add_argument("--factors", type=int, default=256)
    parser.add_argument("--mappings", type=int, default=100)
    parser.add_argument("--corruption", type=float, default=0.3, help="masking-noise fraction")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--mlp-epochs", type=int, default=30)
    parser.add_argument("--mlp-lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/gated_autoencoder")
    args = parser.parse_args()
    log = open_run_log(args.out)
    started = time.time()
    ember.manual_seed(args.seed)
    generator = ember.Generator().manual_seed(args.seed)

    train_digits, test_digits = load_digits(True, args.downsample), load_digits(False, args.downsample)
    side = train_digits.shape[1]
    options = dict(max_shift=args.max_shift, max_angle=args.max_angle, mode=args.shift_mode)
    x, y, _ = make_pairs(train_digits, args.transform, args.pairs, seed=args.seed, **options)
    mx, my, mx2, my2, _ = make_triples(train_digits, args.transform, args.pairs, seed=args.seed + 1, **options)
    tx, ty, tx2, ty2, _ = make_triples(test_digits, args.transform, args.test, seed=args.seed + 2, **options)
    fit = min(args.pairs, 10000)  # 20,000 images estimate a 784-d covariance well, at a fraction of the cost
    white = PCAWhitening(np.concatenate([flat(x[:fit]), flat(y[:fit])]), variance=args.variance)
    log(f"{args.transform} pairs of {side}x{side} MNIST digits ({options}): {args.pairs} training pairs, "
        f"{args.test} test quadruples; PCA whitening keeps {white.components} of {side * side} components "
        f"({args.variance:.0%} of the variance)  ({time.time() - started:.0f}s)")

    def whitened(*arrays: np.ndarray) -> list[ember.Tensor]:
        return [ember.tensor(white.transform(flat(a))) for a in arrays]

    xw, yw = whitened(x, y)
    txw, tyw, tx2w = whitened(tx, ty, tx2)
    model = GatedAutoencoder(white.components, factors=args.factors, mappings=args.mappings,
                             corruption=args.corruption, generator=generator)
    params = sum(p.numel() for p in model.parameters())
    optimizer = ember.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)

    def gae_prediction() -> np.ndarray:
        model.eval()
        with ember.no_grad():
            return white.inverse_transform(model.transfer(txw, tyw, tx2w).numpy())

    target = flat(ty2)
    log(f"GatedAutoencoder F={args.factors} H={args.mappings} ({params} parameters), SGD lr {args.lr} "
        f"momentum {args.momentum}, corruption {args.corruption}")
    for epoch in range(1, args.epochs + 1):
        cost = train_gated_autoencoder_epoch(model, xw, yw, optimizer, args.batch_size, generator)
        if epoch == 1 or epoch % 5 == 0 or epoch == args.epochs:
            error = retrieval_mse(gae_prediction(), target)
            log(f"gae epoch {epoch}: train cost {cost:.3f}  test retrieval MSE {error:.5f}  ({time.time() - started:.0f}s)")
    gae_pred = gae_prediction()

    hidden = mlp_hidden_for_budget(params, white.components, side * side)
    mlp = TransferMLP(white.components, side * side, hidden)
    mlp_optimizer = ember.optim.Adam(mlp.parameters(), lr=args.mlp_lr)
    inputs = whitened(mx, my, mx2)
    mlp_target = ember.tensor(flat(my2))
    log(f"TransferMLP {3 * white.components}-{hidden}-{side * side} ({sum(p.numel() for p in mlp.parameters())} "
        f"parameters), Adam lr {args.mlp_lr}, trained on {args.pairs} quadruples")
    for epoch in range(1, args.mlp_epochs + 1):
        loss = train_transfer_mlp_epoch(mlp, *inputs, mlp_target, mlp_optimizer, args.batch_size, generator)
        if epoch == 1 or epoch % 5 == 0 or epoch == args.mlp_epochs:
            log(f"mlp epoch {epoch}: train squared error {loss:.3f}  ({time.time() - started:.0f}s)")
    mlp.eval()
    with ember.no_grad():
        mlp_pred = mlp(txw, tyw, tx2w).numpy()

    errors = {"copy_x2": retrieval_mse(flat(tx2), target),
              "mean_image": retrieval_mse(np.broadcast_to(white.mean, target.shape), target),
              "gated_autoencoder": retrieval_mse(gae_pred, target), "mlp": retrieval_mse(mlp_pred, target)}
    log(f"transformation retrieval on {args.test} test quadruples (per-pixel MSE, pixels in [0, 1]):")
    for name, value in errors.items():
        log(f"  {name:<18} {value:.5f}")

    # Filter pairs: the factors' projective fields in pixel space (the dewhitened rows of U and V), side by side.
    u = model.input_factors.detach().numpy() @ white.dewhiten
    v = model.output_factors.detach().numpy() @ white.dewhiten
    shown = min(args.factors, 100)
    pairs = np.stack([u[:shown], v[:shown]], axis=1).reshape(2 * shown, side, side)
    viz.save_image_grid(pairs, os.path.join(args.out, "filter_pairs.png"), ncols=20, scale=3, normalize="each")
    examples = np.stack([tx[:10], ty[:10], tx2[:10], ty2[:10], gae_pred[:10].reshape(-1, side, side),
                         mlp_pred[:10].reshape(-1, side, side)], axis=1).reshape(60, side, side)
    viz.save_image_grid(np.clip(examples, 0, 1), os.path.join(args.out, "retrieval.png"), ncols=6, scale=3,
                        normalize=None)
    log(f"wrote filter_pairs.png (U, V pairs of the first {shown} factors) and retrieval.png (columns: x, y, x2, y2, "
        f"gae, mlp) to {args.out}")
    result = {"model": "gated_autoencoder", "transform": args.transform,
              **{f"retrieval_mse_{k}": round(v, 5) for k, v in errors.items()},
              "mlp_params": sum(p.numel() for p in mlp.parameters())}
    save_and_report(model, result, args.out, started, dataset=f"mnist-{args.transform}-pairs", config=vars(args))


if __name__ == "__main__":
    main()
