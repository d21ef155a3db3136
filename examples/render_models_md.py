"""Copy the results of the training logs in examples/logs/ into MODELS.md.

Every example prints a final ``RESULT {json}`` line; this script reads those lines
(and the samples the language models printed) and rewrites the part of MODELS.md
between ``<!-- results:begin -->`` and ``<!-- results:end -->``. Nothing is typed
by hand: the numbers, the time and the command are those of the run.

    python examples/render_models_md.py
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "examples" / "logs"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

# log file -> (what it trains, the bar from the issue, metric key, bar value)
RUNS = {
    "mlp.log": ("MLP 784-1000-10, MNIST", "test error <= 1.6%", "test_error", 1.6),
    "mlp_dropout.log": ("MLP 784-1000-10 with dropout 0.2, MNIST", "test error <= 1.6%", "test_error", 1.6),
    "lenet.log": ("LeNet-5 (classic, ReLU, max-pool), MNIST", "test error <= 1.0%", "test_error", 1.0),
    "lenet_torch7.log": ("LeNet-5 (the lectures' Torch7 variant, tanh), MNIST", "test error <= 1.0%", "test_error",
                         1.0),
    "lenet_fashion.log": ("LeNet-5 (classic, ReLU, max-pool), Fashion-MNIST", "recorded (no bar)", "test_error",
                          None),
    "cifar_convnet_synthetic.log": ("Keras CIFAR-10 convnet, *synthetic* CIFAR-format file",
                                    "pipeline check only (CIFAR-10 not on these machines)", "test_error", None),
    "char_rnn.log": ("char-RNN 2x256 LSTM, Tiny Shakespeare", "val loss <= 1.60 nats/char", "val_loss", 1.60),
    "gpt.log": ("Tiny GPT, Tiny Shakespeare", "val loss <= 1.70 nats/char", "val_loss", 1.70),
    "gpt_long.log": ("Tiny GPT, no dropout, cosine ending at the budget, Tiny Shakespeare", "val loss <= 1.70 nats/char", "val_loss",
                     1.70),
}
# Generative models (issue 22): log file -> (what, bar text, metric key, unit, verdict from the value or None).
GENERATIVE_RUNS = {
    "dcgan.log": ("DCGAN (width 64), MNIST: classifier score of 10,000 samples (an Ember LeNet-5)",
                  "classifier score >= 8.0 (real test set about 9.8)", "classifier_score", "", lambda v: v >= 8.0),
    "dcgan_fashion.log": ("DCGAN (width 64), Fashion-MNIST: Frechet distance to the test set (Ember LeNet-5 features)",
                          "recorded (no bar)", "frechet_distance", "", None),
    "vae.log": ("VAE 784-400-20, binarized MNIST (dynamic binarization for training, fixed for test)",
                "test negative ELBO <= 105 nats", "test_negative_elbo", " nats", lambda v: v <= 105.0),
    "rbm_cd1.log": ("RBM 500 hidden, CD-1, binarized MNIST (AIS log-likelihood)",
                    "within 3 nats of -125.5 (Salakhutdinov & Murray 2008)", "test_log_likelihood", " nats",
                    lambda v: abs(v + 125.5) <= 3.0),
    "rbm_pcd1.log": ("RBM 500 hidden, persistent CD-1, binarized MNIST (AIS log-likelihood)", "recorded (no bar)",
                     "test_log_likelihood", " nats", None),
    "rbm_cd25.log": ("RBM 500 hidden, CD-25, binarized MNIST (AIS log-likelihood)",
                     "recorded (Salakhutdinov & Murray 2008: -86.3)", "test_log_likelihood", " nats", None),
    "ladder.log": ("Ladder network 784-1000-500-250-250-250-10, MNIST with 100 labels (30 of the paper's 150 epochs)",
                   "test error <= 1.5% (Rasmus et al. 2015: 1.06 +- 0.37%)", "test_error", "%", lambda v: v <= 1.5),
    "sda.log": ("Stacked denoising autoencoder SdA-3 (1000-1000-1000, masking 0.25), MNIST",
                "test error <= 1.4% (Vincent et al. 2010: 1.28%)", "test_error", "%", lambda v: v <= 1.4),
}
# Structured prediction, gated models, limited precision (issue 26): the same columns as the generative runs.
STRUCTURED_RUNS = {
    "digit_strings_ctc.log": ("Digit strings (3-8 MNIST digits), sliding-window convnet + CTC, greedy decoding",
                              "character error <= 2%", "test_character_error", "%", lambda v: v <= 2.0),
    "digit_strings_crf.log": ("Digit strings (3-8 MNIST digits), sliding-window convnet + linear-chain CRF, Viterbi",
                              "character error <= 2%", "test_character_error", "%", lambda v: v <= 2.0),
    "gated_autoencoder_shift.log": ("Gated autoencoder (factored, 256 factors, 100 mappings), MNIST pairs shifted by "
                                    "up to 3 px: transformation retrieval", "below copying x' (MLP of the same size "
                                    "in the details)", "retrieval_mse_gated_autoencoder", " MSE", None),
    "gated_autoencoder_rotation.log": ("Gated autoencoder (factored, 256 factors, 100 mappings), MNIST pairs rotated "
                                       "by up to 180 degrees: transformation retrieval", "below copying x' (MLP of the "
                                       "same size in the details)", "retrieval_mse_gated_autoencoder", " MSE", None),
    "grammar_cells_sine.log": ("Grammar cells: 2-layer predictive gating pyramid vs an LSTM of the same size, sines, "
                               "MSE over 300 samples ahead", "recorded (no bar); the LSTM's MSE below", "pgp_mse", "",
                               None),
    "grammar_cells_chirp.log": ("Grammar cells: 2-layer predictive gating pyramid vs an LSTM of the same size, chirps, "
                                "MSE over 300 samples ahead", "recorded (no bar); the LSTM's MSE below", "pgp_mse", "",
                                None),
}
# Neural programs and memory (issue 20), and runs summarised by several numbers (captioning, issue 21):
# log file -> (what, bar text, a function of the RESULT giving the shown value).
def _memn2n_value(result: dict) -> str:
    return (f"mean test error {result['mean_test_error']}% over tasks {','.join(map(str, result['tasks']))} "
            f"(paper, same tasks: {result['paper_mean_same_tasks']}%)")


def _stack_value(result: dict) -> str:
    cells = [f"{key.split('/')[0]}: {value['train_range']}/{value['longer']}"
             for key, value in result["accuracy"].items() if key.endswith("/stack+rounding")]
    return "Stack RNN + rounding, % correct (n<=20 / 20<n<=60): " + "; ".join(cells)


def _execute_value(result: dict) -> str:
    length, nesting = result["target"]
    return (f"{result['curriculum']}: teacher-forced per-character test accuracy {result['test_accuracy']}% at "
            f"length {length}, nesting {nesting}; greedy exact match {result['greedy_exact_match']}%")


def _captioning_value(result: dict) -> str:
    return (f"held-out pairs: BLEU-4 {result['bleu4']}, attention in shape mask {result['attention_in_mask']} "
            f"(colour words {result['colour_attention_in_mask']}), exact {result['exact_match']}")


PROGRAM_RUNS = {
    "captioning.log": ("Show, Attend and Tell (soft attention), generated shape captions, 10 held-out object pairs",
                       "BLEU-4 >= 0.9; attention in shape mask >= 0.5", _captioning_value),
    "memn2n_tasks_a.log": ("MemN2N, 3 hops, PE LS RN, bAbI 1k, one training per task",
                           "mean over 20 tasks <= 13.9% (paper)", _memn2n_value),
    "memn2n_tasks_b.log": ("MemN2N, 3 hops, PE LS RN, bAbI 1k, one training per task (the other 12 tasks)",
                           "mean over 20 tasks <= 13.9% (paper)", _memn2n_value),
    "stack_rnn_1.log": ("Stack RNN 40+10, a^n b^n", "paper: 100% with rounding", _stack_value),
    "stack_rnn_2.log": ("Stack RNN 40+10, a^n b^n c^n and a^n b^2n", "paper: 100% with rounding", _stack_value),
    "stack_rnn_3.log": ("Stack RNN 40+10, a^n b^n c^n d^n and a^n b^m c^(n+m)", "paper: 100% with rounding",
                        _stack_value),
    "learning_to_execute_combined.log": ("Learning to execute: LSTM 2x128, programs length 4 nesting 2, combined "
                                         "curriculum", "recorded (paper's cells unverified)", _execute_value),
    "learning_to_execute_baseline.log": ("Learning to execute: LSTM 2x128, programs length 4 nesting 2, no "
                                         "curriculum", "recorded (paper's cells unverified)", _execute_value),
}
SCRIPTS = {"ladder": "train_ladder.py", "show_attend_tell": "train_captioning.py", "dcgan": "train_dcgan.py", "gated_autoencoder": "train_gated_autoencoder.py", "grammar_cells": "train_grammar_cells.py", "digit_strings_ctc": "train_digit_strings.py", "digit_strings_crf": "train_digit_strings.py",
           "sda": "train_sda.py", "memn2n": "train_memn2n.py", "stack_rnn": "train_stack_rnn.py", "program_lstm": "train_learning_to_execute.py", "vae": "train_vae.py", "rbm": "train_rbm.py", "mlp": "train_mlp.py", "lenet": "train_lenet.py", "cifar_convnet": "train_cifar_convnet.py",
           "char_rnn": "train_char_rnn.py", "gpt": "train_gpt.py"}
# Settings that are recorded in RESULT but are not command-line flags of that script.
NOT_FLAGS = {"max_samples", "out"}
STORE_TRUE = {"compile", "no_compile", "no_manifold", "persistent", "joint", "no_linear_start"}


def command(result: dict, log_name: str) -> str:
    """The command line that reproduces the run, every setting spelled out."""
    parts = [f"python examples/{SCRIPTS[result['model']]}"]
    for key, value in result["config"].items():
        if key in NOT_FLAGS or value is None:
            continue
        flag = "--" + key.replace("_", "-")
        if key in STORE_TRUE:
            if value:
                parts.append(flag)
            continue
        parts.append(f"{flag} {str(value).lower() if isinstance(value, bool) else value}")
    return " ".join(parts) + f" > examples/logs/{log_name}"


def samples(text: str) -> list[str]:
    """The generated texts printed after ``--- sample:`` headers."""
    found = re.findall(r"^--- sample: (.*?)\n(.*?)(?=\n--- sample:|\nRESULT )", text, flags=re.DOTALL | re.MULTILINE)
    return [f"{header}\n{body.strip()}" for header, body in found]


def _logged_runs(runs: dict):
    """``(log name, its entry, text, RESULT or None)`` for each log of ``runs`` that exists."""
    for name, entry in runs.items():
        path = LOGS / name
        if not path.exists():
            continue
        text = path.read_text()
        lines = [line for line in text.splitlines() if line.startswith("RESULT ")]
        yield name, entry, text, (json.loads(lines[-1][len("RESULT "):]) if lines else None)


def _row(what: str, bar_text: str, shown: str, result: dict) -> str:
    hardware = f"{result['cores']} CPU cores ({result['cpu']}), shared"
    return f"| {what} | {bar_text} | {shown} | {result['wall_seconds'] / 60:.1f} min | {hardware} |"


def _unfinished(what: str, bar_text: str, name: str) -> str:
    return f"| {what} | {bar_text} | (run did not finish: no RESULT line in `{name}`) | | |"


def _command_block(what: str, name: str, result: dict) -> str:
    return f"### {what}\n\nCommand (log: `examples/logs/{name}`):\n\n```\n{command(result, name)}\n```\n"


def _verdict(passed) -> str:
    return "" if passed is None else (" **met**" if passed else " **not met**")


def render() -> str:
    rows, details = [], []
    for name, (what, bar_text, key, bar), text, result in _logged_runs(RUNS):
        if result is None:
            rows.append(_unfinished(what, bar_text, name))
            continue
        value = result[key]
        unit = "%" if key == "test_error" else " nats/char"
        rows.append(_row(what, bar_text, f"{value}{unit}{_verdict(None if bar is None else value <= bar)}", result))
        details.append(_command_block(what, name, result))
        extra = [f"- parameters: {result['params']:,}",
                 f"- training time {result['seconds']:.0f} s (wall time with evaluation {result['wall_seconds']:.0f} s)"]
        if key == "val_loss":
            extra.append(f"- steps: {result['steps']}; best validation loss {result['best_val_loss']}")
            curve = ", ".join(f"{step}: {val}" for step, _, _, val in result["history"])
            extra.append(f"- validation curve (step: nats/char): {curve}")
        else:
            extra.append(f"- test accuracy {result['test_accuracy']}, test loss {result['test_loss']}, "
                         f"{result['epochs']} epochs")
            extra.append("- training loss per epoch: " + ", ".join(map(str, result["history"]["loss"])))
        details.append("\n".join(extra) + "\n")
        for sample in samples(text):
            header, body = sample.split("\n", 1)
            details.append(f"Sample ({header}):\n\n```\n{body}\n```\n")
    for name, (what, bar_text, key, unit, passes), _, result in _logged_runs({**GENERATIVE_RUNS, **STRUCTURED_RUNS}):
        if result is None:
            rows.append(_unfinished(what, bar_text, name))
            continue
        value = result[key]
        rows.append(_row(what, bar_text, f"{value}{unit}{_verdict(None if passes is None else passes(value))}",
                         result))
        details.append(_command_block(what, name, result))
        extra = [f"- parameters: {result['params']:,}; wall time {result['wall_seconds']:.0f} s"]
        extra += [f"- {k.replace('_', ' ')}: {v}" for k, v in result.items()
                  if k not in {key, "model", "params", "wall_seconds", "cpu", "cores", "config", "dataset"}]
        details.append("\n".join(extra) + "\n")
    for name, (what, bar_text, shown), _, result in _logged_runs(PROGRAM_RUNS):
        if result is None:
            rows.append(_unfinished(what, bar_text, name))
            continue
        rows.append(_row(what, bar_text, shown(result), result))
        details.append(_command_block(what, name, result))
    table = ["| model and data | bar (issue) | result (from the log) | time | hardware |", "|---|---|---|---|---|", *rows]
    return "\n".join([BEGIN, "", *table, "", *details, END])


def main() -> int:
    target = ROOT / "MODELS.md"
    text = target.read_text()
    if BEGIN not in text or END not in text:
        print(f"{target}: no {BEGIN} ... {END} section", file=sys.stderr)
        return 1
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    target.write_text(head + render() + tail)
    print(f"updated {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
