"""Train Zaremba et al.'s (2014) word-level LSTM language model on Penn Treebank.

The "small" recipe (2 x 200 LSTM, no dropout, 35-step BPTT carrying the state, batch 20,
SGD at lr 1 halved every epoch after the 4th, gradient norm clipped at 5, 13 epochs);
published perplexity valid 120.7 / test 114.5.

Full run (13 x 259-343 s: about 58-77 minutes on one core of the shared 2-core CPU; docs/language.md):

    OMP_NUM_THREADS=1 python examples/train_word_lm.py | tee examples/logs/word_lm.log

Time one epoch: ``python examples/train_word_lm.py --epochs 1``; a smoke run:
``python examples/train_word_lm.py --epochs 1 --max-batches 50``.
The last line printed is ``RESULT {...}`` (JSON) that ``examples/render_models_md.py`` reads.
"""
from __future__ import annotations

import argparse
import dataclasses
import time

from _report import save_and_report

import ember
from ember.data.datasets.corpora import penn_treebank, wikitext2
from ember.models.word_lm import ZAREMBA_CONFIGS, WordLM, evaluate_word_lm, train_word_lm

#: Zaremba et al. (2014), Table 1: (valid, test) perplexity on PTB.
PUBLISHED = {"small": (120.7, 114.5), "medium": (82.2, 79.7), "large": (78.4, 75.2)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(ZAREMBA_CONFIGS), default="small")
    parser.add_argument("--dataset", choices=("ptb", "wikitext-2"), default="ptb")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument("--max-batches", type=int, default=None,
                        help="windows per epoch (default: the whole split), for timing")
    parser.add_argument("--tie", action="store_true", help="tie the decoder to the embedding")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="save the weights here (model.safetensors)")
    args = parser.parse_args(argv)

    config = dataclasses.replace(ZAREMBA_CONFIGS[args.config], tie_weights=args.tie, seed=args.seed,
                                 max_batches=args.max_batches)
    full_epochs = config.epochs
    if args.epochs is not None:
        config = dataclasses.replace(config, epochs=args.epochs)
    ember.manual_seed(config.seed)
    corpus = penn_treebank() if args.dataset == "ptb" else wikitext2()
    model = WordLM(len(corpus.vocab), config.hidden_size, config.num_layers, config.dropout,
                   config.tie_weights, config.init_range)
    print(f"{corpus}\n{model}\n{config}", flush=True)
    started = time.time()
    # A timed part of an epoch is not worth a full validation pass.
    valid = corpus.valid if config.max_batches is None else None
    result = train_word_lm(model, corpus.train, valid, config, log=lambda s: print(s, flush=True))
    result["test_ppl"] = round(evaluate_word_lm(model, corpus.test, config.batch_size, config.bptt), 2)
    windows = -(-((len(corpus.train) - 1) // config.batch_size) // config.bptt)
    seconds_per_window = result["seconds"] / (config.epochs * (config.max_batches or windows))
    result["projected_full_run_seconds"] = round(seconds_per_window * windows * full_epochs)
    result["unigram_test_ppl"] = round(corpus.unigram_perplexity("test"), 1)
    if args.dataset == "ptb":
        result["published_valid_ppl"], result["published_test_ppl"] = PUBLISHED[args.config]
    print(f"test ppl {result['test_ppl']}  projected full run "
          f"{result['projected_full_run_seconds'] / 60:.0f} min of training", flush=True)
    return save_and_report(model, result, args.out, started, model=f"word_lm_{args.config}",
                           dataset=args.dataset, config=dict(vars(args)))


if __name__ == "__main__":
    main()
