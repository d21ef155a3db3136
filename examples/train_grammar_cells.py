"""Train a predictive gating pyramid (grammar cells) and an LSTM to continue sines or chirps; compare their errors.

Michalski, Memisevic & Konda (2014), "Modeling deep temporal dependencies with recurrent
grammar cells". Signals (``ember.data.waveforms``) are cut into frames of 10 samples;
each model reads ``--seed-frames`` true frames of a held-out signal and predicts the next
``--horizon`` frames on its own output. Protocol:

1. pretrain the PGP's layer 1 (a factored gated autoencoder) on pairs of consecutive
   frames, then its layer 2 on pairs of consecutive layer-1 mappings (their logits);
2. train the pyramid end to end by backprop through time on multi-step prediction, the
   number of predicted frames growing by ``--curriculum-step`` each epoch up to the
   whole training sequence;
3. train an LSTM of about as many parameters on next-frame prediction (teacher forcing);
4. roll both out on held-out signals and report the mean squared error of every
   predicted sample (``error_vs_horizon.png``, the table in ``train.log``), against
   repeating the last seed frame and predicting zeros (the signal's power, 0.5);
   ``waveforms.png`` draws a few test signals with both predictions.

Training signals come from seed ``--seed``, test signals from seed ``--seed + 1000``.

    python examples/train_grammar_cells.py --signal sine | tee examples/logs/grammar_cells_sine.log
    python examples/train_grammar_cells.py --signal chirp | tee examples/logs/grammar_cells_chirp.log
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember.data.waveforms import chirps, sine_waves, to_frames
from ember.models.grammar_cells import (LSTMPredictor, PredictiveGatingPyramid, prediction_errors,
                                        pretrain_pyramid_layer, repeat_last_frame, train_lstm_epoch,
                                        train_pgp_epoch)

REPORT_FRAMES = (1, 2, 5, 10, 20, 30, 50, 100)  # horizons (in frames) of the table


def make_signals(args, n: int, frames: int, seed: int) -> ember.Tensor:
    length = frames * args.frame_length
    if args.signal == "sine":
        waves = sine_waves(n, length, seed=seed)
    else:
        waves = chirps(n, length, seed=seed)
    return ember.tensor(to_frames(waves.signals, args.frame_length))


def pair(text: str) -> tuple[int, int]:
    """``"64,32"`` as ``(64, 32)`` (a string flag, so that RESULT's config reads back as a command line)."""
    first, second = (int(part) for part in text.split(","))
    return first, second


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def lstm_hidden_like(frame_length: int, params: int) -> int:
    """The smallest LSTM width whose LSTMPredictor has at least ``params`` parameters."""
    hidden = 1
    while count(LSTMPredictor(frame_length, hidden)) < params:
        hidden += 1
    return hidden


def train_pgp(args, train: ember.Tensor, log, generator, started: float) -> PredictiveGatingPyramid:
    factors, mappings = pair(args.factors), pair(args.mappings)
    model = PredictiveGatingPyramid(args.frame_length, factors, mappings, args.layers)
    log(f"PGP {args.layers} layer(s), factors {factors[:args.layers]}, mappings {mappings[:args.layers]}: "
        f"{count(model)} parameters")
    d = args.frame_length
    velocity_opt = ember.optim.Adam(model.velocity.parameters(), lr=args.pretrain_lr)
    pretrain_pyramid_layer(model.velocity, train[:, :-1].reshape(-1, d), train[:, 1:].reshape(-1, d),
                               velocity_opt, args.pretrain_epochs, args.batch_size, args.corruption, generator, log)
    if model.acceleration is not None:
        with ember.no_grad():
            maps = ember.stack([model.velocity.mapping_logits(train[:, t], train[:, t + 1])
                                for t in range(train.shape[1] - 1)], dim=1)
        m = maps.shape[2]
        acceleration_opt = ember.optim.Adam(model.acceleration.parameters(), lr=args.pretrain_lr)
        pretrain_pyramid_layer(model.acceleration, maps[:, :-1].reshape(-1, m), maps[:, 1:].reshape(-1, m),
                                   acceleration_opt, args.pretrain_epochs, args.batch_size, args.corruption,
                                   generator, log)
    log(f"pretraining done ({time.time() - started:.0f}s)")
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    schedule = ember.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    k = model.seed_frames
    for epoch in range(1, args.epochs + 1):
        predicted = min(train.shape[1] - k, 1 + args.curriculum_step * (epoch - 1))
        loss = train_pgp_epoch(model, train[:, :k + predicted], optimizer, args.batch_size, generator, args.clip)
        schedule.step()
        log(f"PGP epoch {epoch}: {predicted}-frame rollout MSE {loss:.5f} ({time.time() - started:.0f}s)")
    return model


def train_lstm(args, train: ember.Tensor, hidden: int, log, generator, started: float) -> LSTMPredictor:
    model = LSTMPredictor(args.frame_length, hidden)
    log(f"LSTM {hidden} units: {count(model)} parameters")
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lstm_lr)
    schedule = ember.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.lstm_epochs)
    for epoch in range(1, args.lstm_epochs + 1):
        loss = train_lstm_epoch(model, train, optimizer, args.batch_size, generator, args.clip)
        schedule.step()
        log(f"LSTM epoch {epoch}: next-frame MSE {loss:.5f} ({time.time() - started:.0f}s)")
    return model


def plot_waveforms(path: str, args, test: ember.Tensor, predictions: dict, count_: int = 4) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional dependency, only for the pictures
    from matplotlib.figure import Figure

    figure = Figure(figsize=(12, 2.2 * count_), dpi=100)
    FigureCanvasAgg(figure)
    d, s = args.frame_length, args.seed_frames
    truth = test.numpy().reshape(test.shape[0], -1)
    steps = np.arange(truth.shape[1])
    for row in range(count_):
        axes = figure.add_subplot(count_, 1, row + 1)
        axes.plot(steps, truth[row], color="black", linewidth=1.5, label="true")
        for (name, predicted), color in zip(predictions.items(), ("tab:red", "tab:blue")):
            axes.plot(steps[s * d:], predicted[row].reshape(-1), color=color, linewidth=1.0, label=name)
        axes.axvline(s * d - 0.5, color="grey", linestyle="--", linewidth=0.8)
        axes.set_ylim(-1.6, 1.6)
        axes.set_ylabel(f"test {row}")
        if row == 0:
            axes.legend(loc="upper right", ncol=3, fontsize=8)
            axes.set_title(f"{args.signal}: {s} seed frames (left of the dashed line), then predictions")
    axes.set_xlabel("sample")
    figure.savefig(path, format="png", bbox_inches="tight")


def plot_errors(path: str, args, curves: dict) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    for name, curve in curves.items():
        axes.plot(np.arange(1, len(curve) + 1), curve, label=name)
    axes.set_yscale("log")
    axes.set_xlabel("samples after the seed")
    axes.set_ylabel("mean squared error")
    axes.set_title(f"{args.signal}: prediction error vs horizon ({args.test_signals} test signals)")
    axes.legend()
    figure.savefig(path, format="png", bbox_inches="tight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signal", choices=("sine", "chirp"), default="sine")
    parser.add_argument("--frame-length", type=int, default=10)
    parser.add_argument("--train-signals", type=int, default=8000)
    parser.add_argument("--train-frames", type=int, default=33, help="frames per training sequence")
    parser.add_argument("--test-signals", type=int, default=500)
    parser.add_argument("--seed-frames", type=int, default=3, help="true frames each model reads before predicting")
    parser.add_argument("--horizon", type=int, default=30, help="frames predicted on held-out signals")
    parser.add_argument("--layers", type=int, default=2, choices=(1, 2))
    parser.add_argument("--factors", default="64,32", help="factors of layer 1,layer 2")
    parser.add_argument("--mappings", default="32,16", help="mapping units of layer 1,layer 2")
    parser.add_argument("--pretrain-epochs", type=int, default=1)
    parser.add_argument("--pretrain-lr", type=float, default=1e-3)
    parser.add_argument("--corruption", type=float, default=0.0, help="zero-mask fraction in pretraining")
    parser.add_argument("--epochs", type=int, default=40, help="end-to-end PGP epochs")
    parser.add_argument("--curriculum-step", type=int, default=2, help="predicted frames added per epoch")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--lstm-hidden", type=int, default=0, help="0: as many parameters as the PGP")
    parser.add_argument("--lstm-epochs", type=int, default=40)
    parser.add_argument("--lstm-lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--clip", type=float, default=1.0, help="gradient norm clip (0: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="output folder (default runs/grammar_cells_SIGNAL)")
    args = parser.parse_args()
    args.out = args.out or f"runs/grammar_cells_{args.signal}"
    for name in ("factors", "mappings"):
        try:
            pair(getattr(args, name))
        except ValueError:
            parser.error(f"--{name} must be two integers separated by a comma, e.g. 64,32; got {getattr(args, name)!r}")
    if args.seed_frames < args.layers + 1:
        parser.error(f"--seed-frames must be at least {args.layers + 1} for a {args.layers}-layer pyramid")
    log = open_run_log(args.out)

    started = time.time()
    ember.manual_seed(args.seed)
    generator = ember.Generator().manual_seed(args.seed)
    train = make_signals(args, args.train_signals, args.train_frames, args.seed)
    test = make_signals(args, args.test_signals, args.seed_frames + args.horizon, args.seed + 1000)
    log(f"{args.signal}: {args.train_signals} training sequences of {args.train_frames} frames, {args.test_signals} "
        f"test signals of {args.seed_frames} seed + {args.horizon} predicted frames, {args.frame_length} samples "
        f"per frame")

    pgp = train_pgp(args, train, log, generator, started)
    hidden = args.lstm_hidden or lstm_hidden_like(args.frame_length, count(pgp))
    lstm = train_lstm(args, train, hidden, log, generator, started)

    seed, future = test[:, :args.seed_frames], test[:, args.seed_frames:]
    pgp.eval(), lstm.eval()
    with ember.no_grad():
        predicted = {"PGP": pgp.rollout(seed, args.horizon), "LSTM": lstm.rollout(seed, args.horizon)}
    curves = {name: prediction_errors(p, future) for name, p in predicted.items()}
    curves["last frame"] = prediction_errors(repeat_last_frame(seed, args.horizon), future)
    curves["zeros"] = prediction_errors(ember.zeros_like(future), future)

    d = args.frame_length
    log(f"mean squared error of the predicted frame, {args.test_signals} test signals ({d} samples per frame):")
    log(f"  {'frame':>5} {'samples':>9} " + " ".join(f"{name:>11}" for name in curves))
    for frame in (f for f in REPORT_FRAMES if f <= args.horizon):
        cells = " ".join(f"{curve[(frame - 1) * d:frame * d].mean():>11.5f}" for curve in curves.values())
        log(f"  {frame:>5} {f'{(frame - 1) * d + 1}-{frame * d}':>9} {cells}")
    means = {name: float(curve.mean()) for name, curve in curves.items()}
    log("  mean over the horizon: " + ", ".join(f"{name} {value:.5f}" for name, value in means.items()))

    plot_waveforms(os.path.join(args.out, "waveforms.png"), args, test,
                   {name: p.numpy() for name, p in predicted.items()})
    plot_errors(os.path.join(args.out, "error_vs_horizon.png"), args, curves)
    log(f"wrote waveforms.png, error_vs_horizon.png to {args.out}")
    horizon_samples = args.horizon * d
    result = {"model": "grammar_cells", "signal": args.signal, "horizon_samples": horizon_samples,
              "pgp_mse": round(means["PGP"], 5), "lstm_mse": round(means["LSTM"], 5),
              "last_frame_mse": round(means["last frame"], 5),
              "pgp_mse_first_100": round(float(curves["PGP"][:100].mean()), 5),
              "lstm_mse_first_100": round(float(curves["LSTM"][:100].mean()), 5),
              "lstm_hidden": hidden, "lstm_params": count(lstm)}
    save_and_report(pgp, result, args.out, started, dataset=f"waveforms-{args.signal}", config=vars(args))


if __name__ == "__main__":
    main()
