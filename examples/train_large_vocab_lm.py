"""Train Zaremba's small LSTM LM on WikiText-2 (33,278 words) with a full, adaptive or sampled softmax.

The body is :class:`ember.models.word_lm.WordLM` (2 x 200 LSTM, no dropout, 35-step BPTT carrying
the state, batch 20, SGD at lr 1 halved every epoch after the 4th, gradient norm clipped at 5,
13 epochs, uniform init in [-0.1, 0.1]); only the output layer changes:

* ``--output full``: ``Linear(200, 33278)`` and the softmax over the whole vocabulary;
* ``--output adaptive``: ``nn.AdaptiveLogSoftmaxWithLoss(200, 33278, cutoffs=[2000, 10000],
  div_value=4)`` (Grave et al. 2017); its probabilities are exact, training and evaluation alike;
* ``--output sampled``: ``nn.SampledSoftmax(200, 33278, num_sampled=1024)`` with the log-uniform
  proposal (Jean et al. 2015; the vocabulary is numbered by decreasing frequency): sampled
  loss for training, the **full softmax for validation and test**.

Training stops after ``--epochs`` or ``--time-budget`` seconds of training (validation not
counted), whichever comes first. Each validation prints the elapsed training seconds, tokens/s
and validation perplexity; the run ends with the test perplexity and one ``RESULT {json}`` line
(``history`` holds ``(epoch, windows, train_seconds, valid_ppl)`` rows, ``seconds_to_target``
the training seconds until the validation perplexity first reached ``--target-ppl``). Validation
during training reads the first ``--eval-tokens`` (10,000) validation tokens, every ``--eval-every``
(150) seconds of training and at each epoch end, so that every variant is validated on the same
text at comparable times; the test perplexity is computed on the whole test split.

The comparison (15 minutes of training each; with the evaluations about 30 minutes for ``full`` and
``sampled``, whose test pass is a full softmax, and 16 for ``adaptive``; run them one after the other,
the full softmax first, then give the others its last validation perplexity times 1.05 as the target):

    OMP_NUM_THREADS=1 python examples/train_large_vocab_lm.py --output full | tee examples/logs/large_vocab_full.log
    OMP_NUM_THREADS=1 python examples/train_large_vocab_lm.py --output adaptive --target-ppl <1.05 x full> \\
        | tee examples/logs/large_vocab_adaptive.log
    OMP_NUM_THREADS=1 python examples/train_large_vocab_lm.py --output sampled --target-ppl <1.05 x full> \\
        | tee examples/logs/large_vocab_sampled.log

Time 20 windows of one variant: ``python examples/train_large_vocab_lm.py --output adaptive --time-steps 20``.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import time

import numpy as np
from _report import open_run_log, save_and_report

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember import optim
from ember.data.datasets.corpora import bptt_batches, wikitext2
from ember.models.word_lm import ZAREMBA_CONFIGS, WordLM, WordLMConfig, zaremba_lr
from ember.tensor import Tensor, as_tensor

OUTPUTS = ("full", "adaptive", "sampled")


class LargeVocabLM(WordLM):
    """:class:`WordLM` whose output layer is a full, adaptive or sampled softmax.

    ``window_nll(tokens, targets, state)`` returns the summed negative log-likelihood of a
    window and the next state: exact for ``full`` and ``adaptive``; for ``sampled`` the
    sampled estimate in training mode and the exact full softmax in evaluation mode.
    """

    def __init__(self, vocab_size: int, output: str, config: WordLMConfig, cutoffs=(2000, 10000),
                 div_value: float = 4.0, num_sampled: int = 1024) -> None:
        super().__init__(vocab_size, config.hidden_size, config.num_layers, config.dropout, False, config.init_range)
        self.output = output
        hidden = config.hidden_size
        if output == "adaptive":
            del self.decoder
            self.adaptive = nn.AdaptiveLogSoftmaxWithLoss(hidden, vocab_size, list(cutoffs), div_value=div_value)
            head = self.adaptive
        elif output == "sampled":
            del self.decoder
            self.sampled = nn.SampledSoftmax(hidden, vocab_size, num_sampled)
            head = self.sampled
        else:
            head = None
        if head is not None and config.init_range is not None:
            with ember.no_grad():
                for p in head.parameters():
                    if p.numel():
                        p.uniform_(-config.init_range, config.init_range)

    def window_nll(self, tokens: Tensor, targets: Tensor, state) -> tuple[Tensor, tuple]:
        out, state = self.lstm(self.drop(self.embed(tokens)), state)
        features = self.drop(out).reshape(-1, self.hidden_size)
        flat = targets.reshape(-1)
        if self.output == "adaptive":
            return -self.adaptive(features, flat).output.sum(), state
        if self.output == "sampled":
            return self.sampled(features, flat) * flat.shape[0], state   # training: sampled; eval: exact
        return F.cross_entropy(self.decoder(features), flat, reduction="sum"), state


def _detach(state: tuple) -> tuple:
    # BPTT stops at the window edge.
    return tuple(as_tensor(s.numpy()) for s in state)


def evaluate(model: LargeVocabLM, ids: np.ndarray, config: WordLMConfig, max_tokens: int | None = None) -> float:
    """Exact perplexity of ``model`` over ``ids`` (the first ``max_tokens`` of them if given)."""
    ids = ids if max_tokens is None else ids[: max_tokens + 1]
    model.eval()
    total, count = 0.0, 0
    with ember.no_grad():
        state = model.zero_state(config.batch_size)
        for x, y in bptt_batches(ids, config.batch_size, config.bptt):
            nll, state = model.window_nll(as_tensor(x), as_tensor(y), state)
            total, count = total + float(nll.item()), count + y.size
    model.train()
    return math.exp(total / count)


def train(model: LargeVocabLM, corpus, config: WordLMConfig, args, log) -> dict:
    """Zaremba's loop (loss summed over the window's steps, averaged over rows) under a time budget."""
    optimizer = optim.SGD(model.parameters(), lr=config.lr)
    train_seconds, tokens, windows = 0.0, 0, 0
    history, valid_ppl, seconds_to_target = [], None, None
    started = time.perf_counter()
    stop, next_eval = False, args.eval_every

    def validate(epoch: int) -> None:
        nonlocal valid_ppl, seconds_to_target
        valid_ppl = evaluate(model, corpus.valid, config, args.eval_tokens or None)
        history.append((epoch, windows, round(train_seconds, 1), round(valid_ppl, 2)))
        if args.target_ppl and seconds_to_target is None and valid_ppl <= args.target_ppl:
            seconds_to_target = round(train_seconds, 1)
        log(f"epoch {epoch} window {windows}  train {train_seconds:.0f}s  wall {time.perf_counter() - started:.0f}s  "
            f"{tokens / max(train_seconds, 1e-9):.0f} tokens/s  valid ppl {valid_ppl:.2f}")

    for epoch in range(1, config.epochs + 1):
        lr = zaremba_lr(epoch, config)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        state = model.zero_state(config.batch_size)
        loss_sum, epoch_tokens = 0.0, 0
        for x, y in bptt_batches(corpus.train, config.batch_size, config.bptt):
            step_started = time.perf_counter()
            optimizer.zero_grad()
            nll, state = model.window_nll(as_tensor(x), as_tensor(y), state)
            loss = nll / y.shape[0]
            loss.backward()
            optim.clip_grad_norm_(model.parameters(), config.clip)
            optimizer.step()
            state = _detach(state)
            train_seconds += time.perf_counter() - step_started
            loss_sum += float(nll.item())
            epoch_tokens += y.size
            tokens += y.size
            windows += 1
            if args.time_steps and windows == 2:
                timed_from, tokens_from = train_seconds, tokens   # the first 2 windows warm up
            if args.time_steps and windows == args.time_steps + 2:
                rate = (tokens - tokens_from) / (train_seconds - timed_from)
                log(f"timed {args.time_steps} windows of {args.output}: {rate:.0f} tokens/s")
                return {"tokens_per_second": round(rate), "timed_windows": args.time_steps}
            if args.time_budget and train_seconds >= args.time_budget:
                stop = True
                break
            if args.eval_every and train_seconds >= next_eval:
                validate(epoch)
                next_eval += args.eval_every
        kind = "sampled loss" if args.output == "sampled" else "train ppl"
        log(f"epoch {epoch} {'stopped' if stop else 'done'}  lr {lr:.4g}  "
            f"{kind} {math.exp(loss_sum / max(epoch_tokens, 1)):.2f}")
        validate(epoch)
        if stop:
            log(f"time budget of {args.time_budget:.0f}s reached in epoch {epoch}")
            break
    return {"epochs_run": epoch, "windows": windows, "train_seconds": round(train_seconds, 1),
            "tokens_per_second": round(tokens / max(train_seconds, 1e-9)), "valid_ppl": round(valid_ppl, 2),
            "seconds_to_target": seconds_to_target, "history": history}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", choices=OUTPUTS, default="adaptive")
    parser.add_argument("--time-budget", type=float, default=900.0,
                        help="seconds of training (validation excluded); 0: no limit")
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's 13 epochs")
    parser.add_argument("--eval-every", type=float, default=150.0,
                        help="also validate every this many seconds of training (0: at epoch ends only)")
    parser.add_argument("--eval-tokens", type=int, default=10000,
                        help="validate on the first N validation tokens (0: all; the test is always whole)")
    parser.add_argument("--target-ppl", type=float, default=None, help="record the seconds to reach this valid ppl")
    parser.add_argument("--cutoffs", type=int, nargs="+", default=[2000, 10000])
    parser.add_argument("--div-value", type=float, default=4.0)
    parser.add_argument("--num-sampled", type=int, default=1024)
    parser.add_argument("--time-steps", type=int, default=0, help="only time this many windows and exit")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write train.log and model.safetensors here")
    args = parser.parse_args(argv)

    config = dataclasses.replace(ZAREMBA_CONFIGS["small"], seed=args.seed)
    if args.epochs is not None:
        config = dataclasses.replace(config, epochs=args.epochs)
    log = open_run_log(args.out) if args.out else (lambda line: print(line, flush=True))
    ember.manual_seed(config.seed)
    corpus = wikitext2()
    model = LargeVocabLM(len(corpus.vocab), args.output, config, args.cutoffs, args.div_value, args.num_sampled)
    log(f"{corpus}\n{model}\n{config}\n{vars(args)}")
    started = time.time()
    result = train(model, corpus, config, args, log)
    if args.time_steps:
        return result
    result["test_ppl"] = round(evaluate(model, corpus.test, config), 2)
    log(f"test ppl {result['test_ppl']}  ({args.output} softmax, {result['train_seconds']:.0f}s of training, "
        f"{result['tokens_per_second']} tokens/s)")
    return save_and_report(model, result, args.out, started, model=f"word_lm_small_{args.output}_softmax",
                           dataset="wikitext-2", config=dict(vars(args)))


if __name__ == "__main__":
    main()
