"""Train "Show, Attend and Tell" (soft attention) on generated shape captions; report held-out BLEU-4 and attention.

The data (``ember.data.shapes_captions``): 48x48 images of two coloured shapes on a 3x3 grid, captions
like "a red circle above a blue square". Ten of the 66 pairs of object kinds never appear together
in training; the test set holds only those pairs. Reported on the test set, decoding greedily:

* BLEU-4 (sacrebleu corpus BLEU, ``tokenize="none"``, on the 0-1 scale) against each image's caption;
* attention in region: for each generated shape word whose object is in the image, the share of that
  step's attention (upsampled to the image) inside the object's mask, averaged over those words
  (also inside its grid cell, and, for the colour word before each such shape word, the attention
  of that step inside the same object's mask, for reference);
* per-word attention overlays of a few test images (``attention_*.png``).

    OMP_NUM_THREADS=1 python examples/train_captioning.py --out runs/captioning | tee examples/logs/captioning.log
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember.data.shapes_captions import (encode_captions, shape_caption_splits, shape_caption_vocab,
                                        shape_word_objects)
from ember.models.captioning import (ShowAttendTell, attention_mass_in_mask, greedy_caption,
                                     train_captioning_epoch)


def bleu4(hypotheses: list[str], references: list[list[str]]) -> float:
    """Corpus BLEU-4 on the 0-1 scale; ``references[k]`` is the k-th reference stream."""
    import sacrebleu  # dev extra

    # force: the captions are tokenised on purpose, which sacrebleu would otherwise warn about.
    return float(sacrebleu.corpus_bleu(hypotheses, references, tokenize="none", force=True).score) / 100.0


def evaluate(model: ShowAttendTell, data, vocab) -> dict:
    """Greedy captions of ``data``: BLEU-4, attention in mask / in cell, exact-match rate."""
    ids, alphas = greedy_caption(model, data.images, bos_id=vocab.id("<bos>"), eos_id=vocab.id("<eos>"))
    words = [vocab.decode(row) for row in ids]
    hypotheses = [" ".join(w) for w in words]
    references = [[" ".join(c) for c in data.captions]]
    in_mask, in_cell, colour_in_mask = [], [], []
    size, cell = data.images.shape[-1], data.images.shape[-1] // 3
    for n, (tokens, alpha) in enumerate(zip(words, alphas)):
        for t, k in shape_word_objects(tokens, data.objects[n]):
            in_mask.append(attention_mass_in_mask(alpha[t], data.masks[n, k]))
            if t and tokens[t - 1] == data.objects[n][k][0]:      # "<colour> <shape>": the colour step too
                colour_in_mask.append(attention_mass_in_mask(alpha[t - 1], data.masks[n, k]))
            region = np.zeros((size, size), dtype=bool)
            row, col = data.cells[n, k]
            region[row * cell:(row + 1) * cell, col * cell:(col + 1) * cell] = True
            in_cell.append(attention_mass_in_mask(alpha[t], region))
    exact = np.mean([h == r for h, r in zip(hypotheses, references[0])])
    return {"bleu4": bleu4(hypotheses, references), "attention_in_mask": float(np.mean(in_mask)) if in_mask else 0.0,
            "attention_in_cell": float(np.mean(in_cell)) if in_cell else 0.0, "exact_match": float(exact),
            "colour_attention_in_mask": float(np.mean(colour_in_mask)) if colour_in_mask else 0.0,
            "shape_words": len(in_mask), "words": words, "alphas": alphas}


def overlay(image: np.ndarray, words: list[str], alphas: np.ndarray, path: str) -> None:
    """The image, then one panel per generated word with its attention (upsampled, smoothed) over it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional dependency, only for the pictures
    from matplotlib.figure import Figure

    size, g = image.shape[-1], int(round(np.sqrt(alphas.shape[1])))
    picture = image.transpose(1, 2, 0)
    figure = Figure(figsize=(1.6 * (len(words) + 1), 1.9), dpi=100)
    FigureCanvasAgg(figure)
    axes = [figure.add_subplot(1, len(words) + 1, k + 1) for k in range(len(words) + 1)]
    axes[0].imshow(picture)
    axes[0].set_title("image", fontsize=9)
    for axis, word, alpha in zip(axes[1:], words, alphas):
        axis.imshow(picture)
        axis.imshow(alpha.reshape(g, g), cmap="gray", alpha=0.6, interpolation="bilinear",
                    extent=(0, size, size, 0), vmin=0.0)
        axis.set_title(word, fontsize=9)
    for axis in axes:
        axis.axis("off")
    figure.tight_layout()
    figure.savefig(path, format="png", bbox_inches="tight")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--train-images", type=int, default=20000)
    parser.add_argument("--test-images", type=int, default=1000)
    parser.add_argument("--held-out", type=int, default=10, help="object-kind pairs held out of training")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--reg-weight", type=float, default=0.05, help="lambda of the doubly stochastic regulariser")
    parser.add_argument("--channels", default="16,32,64", help="encoder conv widths, comma-separated")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--embed", type=int, default=32)
    parser.add_argument("--attention-dim", type=int, default=64)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--max-steps", type=int, default=0, help="stop each epoch after this many steps (0: no limit)")
    parser.add_argument("--overlays", type=int, default=6, help="test images drawn with per-word attention")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/captioning")
    args = parser.parse_args()
    log = open_run_log(args.out)

    started = time.time()
    ember.manual_seed(args.seed)
    splits = shape_caption_splits(args.train_images, args.test_images, seed=args.seed, n_held_out=args.held_out)
    vocab = shape_caption_vocab()
    captions, _ = encode_captions(vocab, splits.train.captions)
    held = ", ".join(" + ".join(f"{c} {s}" for c, s in sorted(p)) for p in splits.held_out)
    log(f"shape captions: {len(splits.train)} training images, {len(splits.test)} test images; "
        f"held-out pairs: {held}")
    channels = [int(c) for c in args.channels.split(",")]
    model = ShowAttendTell(len(vocab), image_size=splits.train.images.shape[-1], channels=channels,
                           embed_dim=args.embed, hidden_size=args.hidden, attention_dim=args.attention_dim,
                           dropout=args.dropout)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    rng = np.random.default_rng(args.seed)
    clock = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        nll = train_captioning_epoch(model, splits.train.images, captions, optimizer, args.batch_size,
                                     args.reg_weight, rng=rng, max_steps=args.max_steps or None, log=log,
                                     started=clock)
        scores = evaluate(model, splits.test, vocab)
        log(f"epoch {epoch}: train nll/token {nll:.4f}  test BLEU-4 {scores['bleu4']:.4f}  exact "
            f"{scores['exact_match']:.3f}  attention in mask {scores['attention_in_mask']:.3f} (in cell "
            f"{scores['attention_in_cell']:.3f}; colour words {scores['colour_attention_in_mask']:.3f}) "
            f"({time.perf_counter() - clock:.0f}s)")

    for n in range(min(args.overlays, len(splits.test))):
        log(f"--- test {n}: {' '.join(scores['words'][n])}  (reference: {' '.join(splits.test.captions[n])})")
        overlay(splits.test.images[n], scores["words"][n], scores["alphas"][n],
                os.path.join(args.out, f"attention_{n}.png"))
    result = {k: round(v, 4) for k, v in scores.items() if k in ("bleu4", "attention_in_mask", "attention_in_cell",
                                                                   "colour_attention_in_mask", "exact_match")}
    result["bars"] = {"bleu4 >= 0.9": result["bleu4"] >= 0.9,
                      "attention_in_mask >= 0.5": result["attention_in_mask"] >= 0.5}
    save_and_report(model, result, args.out, started, model="show_attend_tell", dataset="shape-captions (generated)",
                    config=vars(args))


if __name__ == "__main__":
    main()
