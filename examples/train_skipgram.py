"""Train skip-gram with negative sampling (word2vec) on WikiText-2 and evaluate the vectors.

Evaluations: Spearman on WordSim-353 and SimLex-999, 3CosAdd accuracy on the Google analogy
questions whose four words are in the vocabulary. With ``--gensim`` (needs ``pip install gensim``,
a benchmark-only extra) gensim's Word2Vec is trained on the same sentences with the same
hyper-parameters and scored by the same functions.

Short comparison run (about 3 minutes on one core):

    OMP_NUM_THREADS=1 python examples/train_skipgram.py --tokens 500000 --epochs 1 --gensim

The last line printed is ``RESULT {...}`` (JSON).
"""
from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from _report import save_and_report

from ember.data.datasets.corpora import build_word_vocab, encode_tokens, read_corpus_file
from ember.data.datasets.word_similarity import (evaluate_analogy, evaluate_similarity,
                                                 google_analogy, simlex999, wordsim353)
from ember.data.download import data_dir
from ember.models.skipgram import SkipGramConfig, nearest_neighbours, train_skipgram


def sentences_of(tokens: list[str], limit: int) -> list[list[str]]:
    """The corpus lines (``<eos>``-separated) as word lists, up to ``limit`` words in all."""
    sentences, line, total = [], [], 0
    for t in tokens:
        if total >= limit:
            break
        if t == "<eos>":
            if line:
                sentences.append(line)
            line = []
        else:
            line.append(t)
            total += 1
    if line:
        sentences.append(line)
    return sentences


def scores(vectors: np.ndarray, words: list[str], tests: dict) -> dict:
    out = {}
    for name in ("wordsim353", "simlex999"):
        r = evaluate_similarity(vectors, words, tests[name])
        out[name] = {"spearman": round(r["spearman"], 4), "found": r["found"], "total": r["total"]}
    a = evaluate_analogy(vectors, words, tests["analogy"])
    out["analogy"] = {"accuracy": round(a["accuracy"], 4), "found": a["found"], "total": a["total"]}
    return out


def run_gensim(sentences, config: SkipGramConfig, min_count: int) -> tuple[np.ndarray, list[str], float]:
    from gensim.models import Word2Vec  # benchmark-only extra

    started = time.perf_counter()
    model = Word2Vec(sentences, vector_size=config.dim, window=config.window, negative=config.negative,
                     sample=config.sample, ns_exponent=config.ns_exponent, alpha=config.lr,
                     min_alpha=config.lr * 1e-4, epochs=config.epochs, sg=1, hs=0,
                     min_count=min_count, workers=1, seed=config.seed)
    seconds = time.perf_counter() - started
    return model.wv.vectors, list(model.wv.index_to_key), seconds


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=500_000, help="words of wiki.train.tokens used")
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--lr", type=float, default=0.025)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--gensim", action="store_true", help="also train gensim's Word2Vec")
    parser.add_argument("--out", help="save the weights here (model.safetensors)")
    args = parser.parse_args(argv)
    config = SkipGramConfig(dim=args.dim, window=args.window, negative=args.negative,
                            sample=args.sample, lr=args.lr, epochs=args.epochs,
                            batch_size=args.batch_size, seed=args.seed)
    started = time.time()
    sentences = sentences_of(read_corpus_file(data_dir() / "wikitext-2" / "wiki.train.tokens"),
                             args.tokens)
    flat = [w for s in sentences for w in s]
    vocab = build_word_vocab(flat, unk=None, min_freq=args.min_count)
    index = vocab.index
    kept = [[w for w in s if w in index] for s in sentences]
    ids = encode_tokens(vocab, [w for s in kept for w in s])
    breaks = np.repeat(np.arange(len(kept)), [len(s) for s in kept])
    tests = {"wordsim353": wordsim353(), "simlex999": simlex999(), "analogy": google_analogy()}
    print(f"{len(flat)} words, {len(sentences)} sentences, vocab {len(vocab)} (min count "
          f"{args.min_count}), {len(ids)} tokens kept\n{config}", flush=True)

    model, info = train_skipgram(ids, len(vocab), config, log=lambda s: print(s, flush=True),
                                 breaks=breaks)
    vectors = model.vectors()
    result = {"ember": {**scores(vectors, vocab.tokens, tests), **info}}
    for probe in ("king", "france", "january", "good"):
        if probe in index:
            print(probe, "->", [w for w, _ in nearest_neighbours(vectors, vocab, probe, 5)])
    if args.gensim:
        g_vectors, g_words, g_seconds = run_gensim(kept, config, args.min_count)
        result["gensim"] = {**scores(g_vectors, g_words, tests), "seconds": round(g_seconds, 2),
                            "words_per_second": round(len(ids) * config.epochs / g_seconds)}
    for name, r in result.items():
        print(f"{name}: WS353 {r['wordsim353']['spearman']}  SimLex {r['simlex999']['spearman']}  "
              f"analogy {r['analogy']['accuracy']} ({r['analogy']['found']} asked)  "
              f"{r['words_per_second']} words/s", flush=True)
    result["vocab"], result["tokens"] = len(vocab), len(ids)
    return save_and_report(model, result, args.out, started, model="skipgram",
                           dataset="wikitext-2", config={**vars(args), **dataclasses.asdict(config)})


if __name__ == "__main__":
    main()
