"""Train an attention GRU or a small Transformer on Multi30k de->en; BLEU on test2016 (greedy and beam 5).

Data: the official lower-cased, Moses-tokenised Multi30k task-1 files
(``$EMBER_DATA/multi30k/tok``), vocabularies of the training words seen at least twice
(``<pad> <unk> <bos> <eos>`` first), batches of 128 pairs bucketed by length, ``<eos>``
after every source. Models (``ember.models``):

* ``--model gru``: :class:`~ember.models.seq2seq.AttentionSeq2Seq` (bentrevett's tutorial 3:
  embeddings 256, bidirectional GRU 512, decoder 512, dropout 0.5), Adam 1e-3;
* ``--model transformer``: :class:`~ember.models.translation_transformer.TranslationTransformer`
  (d_model 256, 3+3 layers, 8 heads, feed-forward 512, dropout 0.1), Adam 5e-4.

Both: teacher forcing, cross-entropy without padding, gradient norm clipped at 1; the
weights of the epoch with the best validation loss are kept. At the end, BLEU
(sacrebleu, ``tokenize="none"`` on the tokenised lower-cased text, as the tutorials
score tokens) of greedy decoding and of beam search (beam 5, length normalisation),
and attention heat maps (GRU: its attention; Transformer: the last decoder layer's
cross-attention averaged over heads) of a few test sentences.

    EMBER_DATA=../shared/data OMP_NUM_THREADS=2 python examples/train_translation.py --model gru \\
        --out runs/translation_gru | tee examples/logs/translation_gru.log
    EMBER_DATA=../shared/data OMP_NUM_THREADS=2 python examples/train_translation.py --model transformer \\
        --out runs/translation_transformer | tee examples/logs/translation_transformer.log
    # smoke test (a few minutes): --epochs 1 --max-steps 5 --test-sentences 20
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
from ember.data.datasets.translation import BOS, EOS, PAD, bucket_batches, build_translation_vocab, multi30k
from ember.models.seq2seq import AttentionSeq2Seq, evaluate_translation_loss, train_translation_epoch, translate
from ember.models.translation_transformer import TranslationTransformer

#: Per model: default epochs (sized to ~50 minutes on 2 cores) and Adam learning rate.
DEFAULTS = {"gru": {"epochs": 6, "lr": 1e-3}, "transformer": {"epochs": 7, "lr": 5e-4}}


def bleu(hypotheses: list[str], references: list[str]) -> float:
    """Corpus BLEU of tokenised lines (sacrebleu, no further tokenisation)."""
    import sacrebleu  # dev extra

    # force: the text is tokenised on purpose (both sides), which sacrebleu would otherwise warn about.
    return float(sacrebleu.corpus_bleu(hypotheses, [references], tokenize="none", force=True).score)


def heat_map(weights: np.ndarray, source: list[str], output: list[str], path: str) -> None:
    """One attention matrix (output rows x source columns) as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1.0 + 0.4 * len(source), 1.0 + 0.4 * len(output)), dpi=100)
    FigureCanvasAgg(figure)
    axis = figure.add_subplot(1, 1, 1)
    image = axis.imshow(weights, cmap="bone", vmin=0.0)   # upper end: the largest weight, so early maps show too
    figure.colorbar(image, ax=axis, fraction=0.046, pad=0.04)
    axis.set_xticks(range(len(source)), source, rotation=60, ha="right")
    axis.set_yticks(range(len(output)), output)
    axis.set_xlabel("source (de)")
    axis.set_ylabel("output (en)")
    figure.tight_layout()
    figure.savefig(path, format="png", bbox_inches="tight")


def attention_of(model, src_ids: np.ndarray, out_ids: list[int], bos: int, eos: int) -> np.ndarray:
    """The attention ``(len(out) + 1, len(src) + 1)`` while the model reads its own output (teacher forced).

    The source gets its ``<eos>`` as in decoding; with dropout off the weights are the decoding's.
    """
    src = np.append(src_ids, eos)[None, :]
    tgt_in = np.array([[bos, *out_ids]])
    if isinstance(model, AttentionSeq2Seq):
        model.eval()
        with ember.no_grad():
            _, weights = model(src, np.array([src.shape[1]]), tgt_in, return_attention=True)
        return weights.numpy()[0]
    return model.cross_attention(src, np.array([src.shape[1]]), tgt_in)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(DEFAULTS), default="gru")
    parser.add_argument("--epochs", type=int, default=None, help="default: gru 6, transformer 7")
    parser.add_argument("--lr", type=float, default=None, help="default: gru 1e-3, transformer 5e-4")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--min-freq", type=int, default=2)
    parser.add_argument("--emb", type=int, default=256, help="gru: embedding width")
    parser.add_argument("--hidden", type=int, default=512, help="gru: encoder (each direction) and decoder width")
    parser.add_argument("--d-model", type=int, default=256, help="transformer width")
    parser.add_argument("--layers", type=int, default=3, help="transformer: encoder and decoder layers")
    parser.add_argument("--ffn", type=int, default=512, help="transformer feed-forward width")
    parser.add_argument("--dropout", type=float, default=None, help="default: gru 0.5, transformer 0.1")
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--length-penalty", type=float, default=1.0)
    parser.add_argument("--max-steps", type=int, default=None, help="stop each epoch after this many steps")
    parser.add_argument("--test-sentences", type=int, default=0, help="score only the first N (0: all 1,000)")
    parser.add_argument("--heat-maps", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    for key, value in DEFAULTS[args.model].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.dropout is None:
        args.dropout = 0.5 if args.model == "gru" else 0.1
    args.out = args.out or f"runs/translation_{args.model}"
    log = open_run_log(args.out)
    started = time.time()
    ember.manual_seed(args.seed)

    train, val, test = (multi30k(split, "de", "en") for split in ("train", "val", "test_2016_flickr"))
    src_vocab = build_translation_vocab(train.src, min_freq=args.min_freq)
    tgt_vocab = build_translation_vocab(train.tgt, min_freq=args.min_freq)
    pad, bos, eos = tgt_vocab[PAD], tgt_vocab[BOS], tgt_vocab[EOS]
    train_ids, val_ids = train.encode(src_vocab, tgt_vocab), val.encode(src_vocab, tgt_vocab)
    log(f"Multi30k de->en: {len(train)} train, {len(val)} val, {len(test)} test pairs; vocab de "
        f"{len(src_vocab)}, en {len(tgt_vocab)}")

    if args.model == "gru":
        model = AttentionSeq2Seq(len(src_vocab), len(tgt_vocab), args.emb, args.hidden, args.hidden, args.dropout, pad)
    else:
        model = TranslationTransformer(len(src_vocab), len(tgt_vocab), args.d_model, 8, args.layers, args.layers,
                                       args.ffn, args.dropout, pad_id=pad)
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    log(f"{args.model}: {sum(p.numel() for p in model.parameters()):,} parameters")

    best_val, best_state, history = float("inf"), None, []
    for epoch in range(1, args.epochs + 1):
        batches = bucket_batches(*train_ids, args.batch_size, pad_id=pad, bos_id=bos, eos_id=eos,
                                 seed=args.seed + epoch, src_eos=True)
        train_loss = train_translation_epoch(model, batches, optimizer, args.clip, pad, log=log,
                                             max_steps=args.max_steps)
        val_batches = bucket_batches(*val_ids, args.batch_size, pad_id=pad, bos_id=bos, eos_id=eos, shuffle=False,
                                     src_eos=True)
        val_loss = evaluate_translation_loss(model, val_batches, pad)
        history.append({"epoch": epoch, "train_loss": round(train_loss, 4), "val_loss": round(val_loss, 4)})
        if val_loss < best_val:
            best_val = val_loss
            best_state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        log(f"epoch {epoch}: train loss {train_loss:.3f}  val loss {val_loss:.3f} (ppl {np.exp(val_loss):.1f})  "
            f"elapsed {time.time() - started:.0f}s")
    if best_state is not None:
        model.load_state_dict({k: ember.tensor(v) for k, v in best_state.items()})

    n_test = args.test_sentences or len(test)
    sources = test.encode(src_vocab, tgt_vocab)[0][:n_test]
    references = [" ".join(t) for t in test.tgt[:n_test]]
    result = {"model": args.model, "best_val_loss": round(best_val, 4), "epochs": history}
    outputs = {}
    for name, beam in (("greedy", 1), (f"beam{args.beam}", args.beam)):
        start = time.time()
        decoded = translate(model, sources, bos, eos, pad, beam_size=beam, length_penalty=args.length_penalty)
        outputs[name] = decoded
        hypotheses = [" ".join(tgt_vocab.tokens[i] for i in ids) for ids in decoded]
        score = bleu(hypotheses, references)
        result[f"bleu_{name}"] = round(score, 2)
        log(f"test2016 BLEU {name}: {score:.2f} ({n_test} sentences, {time.time() - start:.0f}s); "
            f"e.g. {hypotheses[0]!r} for {references[0]!r}")
        with open(os.path.join(args.out, f"test2016_{name}.txt"), "w") as handle:
            handle.write("\n".join(hypotheses) + "\n")

    for i in range(min(args.heat_maps, n_test)):
        out_ids = outputs["greedy"][i]
        weights = attention_of(model, sources[i], out_ids, bos, eos)
        source_words = [src_vocab.tokens[j] for j in sources[i]] + ["<eos>"]
        output_words = [tgt_vocab.tokens[j] for j in out_ids] + ["<eos>"]
        path = os.path.join(args.out, f"attention_{i}.png")
        heat_map(weights, source_words, output_words, path)
        log(f"wrote {path}")
    save_and_report(model, result, args.out, started, dataset="multi30k-de-en", config=vars(args))


if __name__ == "__main__":
    main()
