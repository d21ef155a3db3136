"""Read strings of 3-8 handwritten digits with a sliding-window convnet, trained end to end with CTC or a CRF.

The tutorial's "sliding window ConvNet + weighted FSM" (LeCun et al. 1998): a convnet scores every
4-pixel column of a string image (:class:`ember.models.digit_strings.DigitStringNet`), and a
sequence layer on top turns the column scores into digits.

* ``--loss ctc``: CTC (``F.ctc_loss``, blank class 0) sums over every alignment of the digits to
  the columns; decoding is greedy (best path) and prefix beam search.
* ``--loss crf``: a linear-chain CRF (``nn.CRF``) over per-column tags -- background, begin-digit
  and inside-digit (21 tags) -- taken from the generator's segmentation of each training string
  (``frame_tags``); decoding is Viterbi, read back into digits with ``tags_to_digits``.

Training strings use MNIST training digits only, test strings MNIST test digits only. Prints the
test sequence accuracy (whole string right) and the character error rate (edit distance over
the number of digits), writes ``columns.png`` (a test string, its column posteriors and the
decoded digits) and a final ``RESULT {json}`` line.

    EMBER_DATA=../shared/data python examples/train_digit_strings.py --loss ctc --out runs/digits_ctc \
        | tee examples/logs/digit_strings_ctc.log
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
import ember.functional as F
from ember import nn
from ember.data import BucketBatchSampler
from ember.models.digit_strings import (BLANK, CRF_TAGS, DigitStringNet, DigitStrings, collate_digit_strings,
                                        edit_distance, frame_tags, tags_to_digits)


class CRFReader(nn.Module):
    """The column convnet with a linear-chain CRF over its per-column tags."""

    def __init__(self, channels: tuple[int, ...], column_width: int) -> None:
        super().__init__()
        self.net = DigitStringNet(channels, classes=CRF_TAGS, column_width=column_width)
        self.crf = nn.CRF(CRF_TAGS)

    def loss(self, images, widths, tags) -> ember.Tensor:
        emissions = self.net(images)
        mask = ember.tensor(np.arange(emissions.shape[0])[:, None] < self.net.frames(widths)[None, :])
        return -self.crf(emissions, ember.tensor(tags), mask=mask, reduction="token_mean")

    def read(self, images, widths) -> list[list[int]]:
        emissions = self.net(images)
        mask = ember.tensor(np.arange(emissions.shape[0])[:, None] < self.net.frames(widths)[None, :])
        return [tags_to_digits(path) for path in self.crf.decode(emissions, mask=mask)]


def batch_tags(strings: DigitStrings, indices: np.ndarray, frames: int) -> np.ndarray:
    """``(frames, B)`` CRF tags of the strings ``indices`` (background past each string's end)."""
    tags = np.zeros((frames, len(indices)), dtype=np.int64)
    for b, index in enumerate(indices):
        labels, starts, ends = strings.spans(int(index))
        own = int(DigitStringNet.frames(np.array([ends.max() + strings.max_gap // 2]))[0])
        tags[:own, b] = frame_tags(labels, starts, ends, own)
    return tags


def evaluate(reader, strings: DigitStrings, loss: str, batch_size: int, beam: int = 0) -> dict:
    """Sequence accuracy and character error rate (%) over ``strings``."""
    errors = digits = right = 0
    with ember.no_grad():
        for start in range(0, len(strings), batch_size):
            batch = [strings[i] for i in range(start, min(start + batch_size, len(strings)))]
            images, _, widths, _ = collate_digit_strings(batch)
            if loss == "crf":
                reads = reader.read(ember.tensor(images), widths)
            elif beam:
                beams = F.ctc_beam_search_decode(reader(ember.tensor(images)), beam_width=beam,
                                                 input_lengths=reader.frames(widths).tolist(), blank=BLANK)
                reads = [[c - 1 for c in best[0][0]] for best in beams]
            else:
                reads = reader.decode(ember.tensor(images), widths)
            for (_, labels), read in zip(batch, reads):
                distance = edit_distance(labels.tolist(), read)
                errors += distance
                digits += len(labels)
                right += distance == 0
    return {"sequence_accuracy": 100.0 * right / len(strings), "character_error": 100.0 * errors / digits}


def plot_columns(reader, strings: DigitStrings, loss: str, path: str, count: int = 3) -> None:
    """A few test strings, each above its per-column posteriors, titled with the true and decoded digits."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 3.2 * count))
    FigureCanvasAgg(figure)
    with ember.no_grad():
        for row in range(count):
            image, labels = strings[row]
            images, _, widths, _ = collate_digit_strings([(image, labels)])
            if loss == "crf":
                emissions = reader.net(ember.tensor(images))
                posteriors = reader.crf.marginals(emissions)[:, 0].numpy().T
                read = reader.read(ember.tensor(images), widths)[0]
                names = ["bg"] + [f"B{d}" for d in range(10)] + [f"I{d}" for d in range(10)]
            else:
                posteriors = np.exp(reader(ember.tensor(images))[:, 0].numpy()).T
                read = reader.decode(ember.tensor(images), widths)[0]
                names = ["blank"] + [str(d) for d in range(10)]
            top = figure.add_subplot(2 * count, 1, 2 * row + 1)
            top.imshow(images[0, 0], cmap="gray", aspect="auto")
            top.set_title(f"true {''.join(map(str, labels))}   read {''.join(map(str, read))}", fontsize=9)
            top.axis("off")
            bottom = figure.add_subplot(2 * count, 1, 2 * row + 2)
            bottom.imshow(posteriors, aspect="auto", cmap="viridis", interpolation="nearest")
            bottom.set_yticks(range(len(names)))
            bottom.set_yticklabels(names, fontsize=5)
            bottom.set_xlabel("column (4 pixels each)", fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", choices=("ctc", "crf"), default="ctc")
    parser.add_argument("--train-strings", type=int, default=30000)
    parser.add_argument("--test-strings", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--channels", default="32,64,64", help="feature maps of the two or three convolutions")
    parser.add_argument("--column-width", type=int, default=5, help="frames seen by the scoring convolution")
    parser.add_argument("--beam", type=int, default=10, help="CTC prefix beam width for the final test (0: greedy only)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/digit_strings")
    args = parser.parse_args()
    log = open_run_log(args.out)
    started = time.time()
    ember.manual_seed(args.seed)
    channels = tuple(int(c) for c in args.channels.split(","))
    train = DigitStrings(train=True, size=args.train_strings, seed=args.seed)
    test = DigitStrings(train=False, size=args.test_strings, seed=args.seed + 1)
    reader = (CRFReader(channels, args.column_width) if args.loss == "crf"
              else DigitStringNet(channels, column_width=args.column_width))
    optimizer = ember.optim.Adam(reader.parameters(), lr=args.lr)
    steps_per_epoch = -(-len(train) // args.batch_size)
    schedule = ember.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs * steps_per_epoch)
    lengths = [len(train.layout(i)[0]) for i in range(len(train))]
    sampler = BucketBatchSampler(lengths, args.batch_size, seed=args.seed)
    log(f"digit strings, {args.loss.upper()}: {len(train)} training strings (MNIST train digits), {len(test)} test "
        f"strings (MNIST test digits), channels {channels}, {sum(p.numel() for p in reader.parameters())} parameters")
    for epoch in range(1, args.epochs + 1):
        reader.train()
        start, losses = time.perf_counter(), []
        for indices in sampler:
            images, targets, widths, target_lengths = collate_digit_strings([train[int(i)] for i in indices])
            optimizer.zero_grad()
            if args.loss == "crf":
                loss = reader.loss(ember.tensor(images), widths, batch_tags(train, indices, images.shape[3] // 4))
            else:
                loss = F.ctc_loss(reader(ember.tensor(images)), ember.tensor(targets), reader.frames(widths).tolist(),
                                  target_lengths.tolist(), blank=BLANK, zero_infinity=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
        reader.eval()
        scores = evaluate(reader, test, args.loss, 100)
        log(f"epoch {epoch}: train loss {np.mean(losses):.4f}  test sequence accuracy {scores['sequence_accuracy']:.2f}%"
            f"  character error {scores['character_error']:.2f}%  ({time.perf_counter() - start:.0f}s, "
            f"{time.time() - started:.0f}s elapsed)")
    result = {"model": f"digit_strings_{args.loss}", "test_sequence_accuracy": round(scores["sequence_accuracy"], 2),
              "test_character_error": round(scores["character_error"], 2), "decoder": "viterbi" if args.loss == "crf"
              else "greedy"}
    if args.loss == "ctc" and args.beam:
        beam = evaluate(reader, test, "ctc", 100, beam=args.beam)
        log(f"CTC prefix beam search (width {args.beam}): sequence accuracy {beam['sequence_accuracy']:.2f}%  "
            f"character error {beam['character_error']:.2f}%")
        result.update(beam_sequence_accuracy=round(beam["sequence_accuracy"], 2),
                      beam_character_error=round(beam["character_error"], 2), beam_width=args.beam)
    plot_columns(reader, test, args.loss, f"{args.out}/columns.png")
    log(f"wrote columns.png to {args.out}")
    save_and_report(reader, result, args.out, started, dataset="mnist-digit-strings", config=vars(args))


if __name__ == "__main__":
    main()
