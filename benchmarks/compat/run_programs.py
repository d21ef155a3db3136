"""Run real PyTorch programs as written and with only their imports changed to Ember; compare losses.

Programs (read from checkouts given on the command line; nothing of them is stored here):

- ``mnist``: pytorch/examples ``mnist/main.py`` (one epoch, loaders capped at
  ``--mnist-samples`` samples each by :mod:`benchmarks.compat.program_boot`);
- ``wlm_lstm`` / ``wlm_transformer``: pytorch/examples ``word_language_model/main.py`` with
  ``--model LSTM`` / ``--model Transformer``, one epoch over the first lines of WikiText-2;
- ``nanogpt``: nanoGPT's ``model.py`` driven by a short training loop written here
  (:data:`NANOGPT_DRIVER`); the PyTorch run saves its initial weights to ``.npz`` and the Ember
  run loads them with ``load_state_dict``, so both start from the same weights.

For each program the source files are copied to a temporary directory twice; in the Ember copy
every ``import torch...``/``from torch... import``/``torchvision`` import is rewritten by
:func:`rewrite_imports` (``import torch`` -> ``import ember as torch``, ``torch.nn`` ->
``ember.nn``, ``torchvision`` -> ``ember.vision`` ...) and nothing else changes. Each copy runs in
its own subprocess; the losses it prints are parsed and paired.

Usage::

    python -m benchmarks.compat.run_programs --examples /tmp/compat_src/examples \\
        --nanogpt /tmp/compat_src/nanoGPT --out /tmp/compat_out/programs --json programs.json
    python -m benchmarks.compat.run_programs ... --only nanogpt,mnist
"""
from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
SHIM = HERE / "torchvision_shim"
BOOT = HERE / "program_boot.py"
DATA = pathlib.Path(os.environ.get("EMBER_DATA", "/work/shared/data"))

#: Module prefixes rewritten in the Ember copy, longest first.
IMPORT_MAP = (("torchvision", "ember.vision"), ("torch", "ember"))


# --------------------------------------------------------------------------------------------
# Import rewriting
# --------------------------------------------------------------------------------------------

def map_module(name: str) -> str | None:
    """The Ember module standing for ``name`` (``torch.nn`` -> ``ember.nn``), or None."""
    for prefix, target in IMPORT_MAP:
        if name == prefix or name.startswith(prefix + "."):
            return target + name[len(prefix):]
    return None


def _import_text(node: ast.Import | ast.ImportFrom) -> str | None:
    if isinstance(node, ast.ImportFrom):
        target = map_module(node.module or "") if node.level == 0 else None
        if target is None:
            return None
        names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
        return f"from {target} import {names}"
    if not any(map_module(a.name) for a in node.names):
        return None
    parts = []
    for alias in node.names:
        target = map_module(alias.name)
        if target is None:
            parts.append(f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else ""))
        elif alias.asname:
            parts.append(f"import {target} as {alias.asname}")
        elif "." not in alias.name:
            parts.append(f"import {target} as {alias.name}")
        else:  # `import torch.onnx` loads the submodule and binds the root name `torch`
            root = alias.name.split(".")[0]
            parts += [f"import {target}", f"import {map_module(root)} as {root}"]
    return "; ".join(parts)


def rewrite_imports(source: str) -> tuple[str, list[tuple[str, str]]]:
    """Rewrite only the torch/torchvision import statements of ``source`` to Ember's modules.

    Returns the new source and the (old, new) statement pairs. Everything else is left byte for
    byte; a multi-line import becomes one line.

    Example:
        >>> rewrite_imports("import torch.nn.functional as F\\nx = 1\\n")[0]
        'import ember.nn.functional as F\\nx = 1\\n'
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode()))
    data = source.encode()
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            text = _import_text(node)
            if text is not None:
                start = offsets[node.lineno - 1] + node.col_offset
                end = offsets[node.end_lineno - 1] + node.end_col_offset
                edits.append((start, end, text))
    changes = []
    for start, end, text in sorted(edits, reverse=True):
        changes.append((data[start:end].decode(), text))
        data = data[:start] + text.encode() + data[end:]
    return data.decode(), changes[::-1]


# --------------------------------------------------------------------------------------------
# Programs
# --------------------------------------------------------------------------------------------

NANOGPT_DRIVER = '''\
"""A short nanoGPT training run on Tiny Shakespeare characters (written for the compat harness)."""
import argparse
import numpy as np
import torch
from model import GPTConfig, GPT

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--steps", type=int, default=20)
parser.add_argument("--batch", type=int, default=8)
parser.add_argument("--init-out", default="")
parser.add_argument("--init-in", default="")
args = parser.parse_args()

torch.manual_seed(1337)
text = open(args.data, encoding="utf-8").read()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = np.array([stoi[c] for c in text], dtype=np.int64)
config = GPTConfig(block_size=64, vocab_size=len(chars), n_layer=2, n_head=4, n_embd=64,
                   dropout=0.0, bias=True)
model = GPT(config)
if args.init_in:
    weights = np.load(args.init_in, allow_pickle=False)
    state = {name: torch.tensor(weights[name]) for name in weights.files}
    result = model.load_state_dict(state, strict=False)
    print("loaded initial weights; missing", list(result.missing_keys),
          "unexpected", list(result.unexpected_keys))
if args.init_out:
    np.savez(args.init_out, **{k: v.detach().cpu().numpy() for k, v in model.state_dict().items()})
optimizer = model.configure_optimizers(weight_decay=0.1, learning_rate=1e-3, betas=(0.9, 0.95),
                                       device_type="cpu")
rng = np.random.RandomState(0)
model.train()
for step in range(args.steps):
    ix = rng.randint(len(data) - config.block_size - 1, size=args.batch)
    x = torch.from_numpy(np.stack([data[i:i + config.block_size] for i in ix]))
    y = torch.from_numpy(np.stack([data[i + 1:i + 1 + config.block_size] for i in ix]))
    logits, loss = model(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    print(f"step {step} loss {loss.item():.6f}")
model.eval()
with torch.no_grad():
    logits, loss = model(x, y)
    print(f"eval loss {loss.item():.6f}")
    sample = model.generate(x[:1, :8], 16, temperature=1.0, top_k=5)
    print("generated shape", tuple(sample.shape))
'''


@dataclasses.dataclass
class Program:
    """One program: where its files come from, how to run it, how to read its losses."""
    name: str
    source_dir: pathlib.Path
    files: tuple[str, ...]
    script: str
    args: list[str]
    loss_pattern: str
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    same_init: bool = False
    setup: Any = None  # callable(workdir, framework) -> extra args


def _truncated_corpus(target: pathlib.Path, lines: dict[str, int]) -> pathlib.Path:
    """WikiText-2's first lines as train.txt/valid.txt/test.txt, the layout the program expects."""
    target.mkdir(parents=True, exist_ok=True)
    names = {"train": "wiki.train.tokens", "valid": "wiki.valid.tokens", "test": "wiki.test.tokens"}
    for split, count in lines.items():
        with open(DATA / "wikitext-2" / names[split], encoding="utf-8") as f:
            head = [next(f) for _ in range(count)]
        (target / f"{split}.txt").write_text("".join(head), encoding="utf-8")
    return target


def programs(examples: pathlib.Path | None, nanogpt: pathlib.Path | None, mnist_samples: int,
             wlm_lines: int, gpt_steps: int) -> list[Program]:
    """The programs that can run with the checkouts given."""
    found = []
    if examples is not None:
        found.append(Program(
            "mnist", examples / "mnist", ("main.py",), "main.py",
            ["--epochs", "1", "--log-interval", "2", "--no-accel"],
            r"Train Epoch: \d+ \[\d+/\d+ \(\d+%\)\]\s+Loss: ([0-9.naninf]+)|Test set: Average loss: ([0-9.naninf]+)",
            env={"COMPAT_MAX_SAMPLES": str(mnist_samples)}))
        corpus_lines = {"train": wlm_lines, "valid": max(wlm_lines // 4, 20), "test": max(wlm_lines // 4, 20)}
        for model in ("LSTM", "Transformer"):
            found.append(Program(
                f"wlm_{model.lower()}", examples / "word_language_model", ("main.py", "model.py", "data.py"),
                "main.py", ["--model", model, "--epochs", "1", "--log-interval", "5", "--dropout", "0.0"],
                r"\|\s+loss\s+([0-9.naninf]+)|valid loss\s+([0-9.naninf]+)|test loss\s+([0-9.naninf]+)",
                setup=lambda work, framework, lines=corpus_lines: [
                    "--data", str(_truncated_corpus(work / "data" / "wikitext-2", lines)),
                    "--save", str(work / "model.pt")]))
    if nanogpt is not None:
        found.append(Program(
            "nanogpt", nanogpt, ("model.py",), "train_tiny.py",
            ["--data", str(DATA / "tinyshakespeare" / "input.txt"), "--steps", str(gpt_steps)],
            r"step \d+ loss ([0-9.naninf]+)|eval loss ([0-9.naninf]+)", same_init=True))
    return found


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------

def _losses(pattern: str, text: str) -> list[float]:
    values = []
    for match in re.finditer(pattern, text):
        value = next(g for g in match.groups() if g is not None)
        try:
            values.append(float(value))
        except ValueError:
            values.append(math.nan)
    return values


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _first_error(stderr: str) -> str:
    """The exception line of the last traceback in ``stderr`` (``Type: message``)."""
    lines = [l for l in stderr.strip().splitlines() if l.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit)\b", line) or re.match(r"^\w+Error:", line):
            return line.strip()
    return lines[-1].strip() if lines else ""


def prepare(program: Program, framework: str, work: pathlib.Path) -> list[tuple[str, str]]:
    """Copy the program into ``work`` (rewriting imports for Ember); return the rewrites made."""
    work.mkdir(parents=True, exist_ok=True)
    rewrites = []
    sources = {name: (program.source_dir / name).read_text(encoding="utf-8") for name in program.files}
    if program.name == "nanogpt":
        sources[program.script] = NANOGPT_DRIVER
    for name, text in sources.items():
        if framework == "ember":
            text, changes = rewrite_imports(text)
            rewrites += [(name, f"{old}  ->  {new}") for old, new in changes]
        (work / name).write_text(text, encoding="utf-8")
    return rewrites


def run_one(program: Program, framework: str, work: pathlib.Path, timeout: float,
            init_file: pathlib.Path) -> dict[str, Any]:
    """Run one copy of ``program`` in a subprocess; return its outcome."""
    rewrites = prepare(program, framework, work)
    args = list(program.args)
    if program.setup is not None:
        args += program.setup(work, framework)
    if program.same_init:
        args += ["--init-out", str(init_file)] if framework == "torch" else ["--init-in", str(init_file)]
    env = dict(os.environ, COMPAT_FRAMEWORK=framework, EMBER_DATA=str(DATA),
               COMPAT_MNIST_DIR=str(DATA / "mnist"), PYTHONHASHSEED="0", **program.env)
    path = [str(SHIM)] if framework == "torch" else [str(REPO)]
    env["PYTHONPATH"] = os.pathsep.join(path + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    command = [sys.executable, str(BOOT), str(work / program.script)] + args
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=timeout)
        rc, stdout, stderr = done.returncode, done.stdout, done.stderr
    except subprocess.TimeoutExpired as exc:
        rc = "timeout"
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stderr = (exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")) + \
            f"\nTimeout: ran past {timeout:g} s"
    seconds = time.perf_counter() - start
    (work / "stdout.txt").write_text(stdout)
    (work / "stderr.txt").write_text(stderr)
    return {"rc": rc, "seconds": round(seconds, 1), "losses": _losses(program.loss_pattern, stdout),
            "first_error": _first_error(stderr) if rc != 0 else "",
            "traceback_tail": _tail(stderr) if rc != 0 else "", "stdout_tail": _tail(stdout, 6),
            "rewrites": rewrites, "command": " ".join(command), "workdir": str(work)}


def compare_losses(torch_losses: list[float], ember_losses: list[float], rel_tol: float,
                   same_init: bool = True) -> dict[str, Any]:
    """Pair the losses in print order and judge them.

    From the same initial weights every pair must agree within ``rel_tol``. From different
    initial weights single steps scatter, so only the first and the last pair are judged (the
    starting loss, and where training got to).

    Example:
        >>> compare_losses([2.3, 1.0], [2.3, 1.05], 0.1)["agree"]
        True
    """
    pairs = list(zip(torch_losses, ember_losses))
    if not pairs:
        return {"pairs": 0, "max_rel_diff": None, "first_rel_diff": None, "last_rel_diff": None,
                "agree": False, "complete": False}
    diffs = [abs(e - t) / max(abs(t), 1e-12) if math.isfinite(e) else math.inf for t, e in pairs]
    judged = diffs if same_init else [diffs[0], diffs[-1]]
    return {"pairs": len(pairs), "max_rel_diff": round(max(diffs), 6), "first_rel_diff": round(diffs[0], 6),
            "last_rel_diff": round(diffs[-1], 6), "agree": max(judged) <= rel_tol,
            "complete": len(torch_losses) == len(ember_losses)}


def run_programs(selected: list[Program], out: pathlib.Path, timeout: float, rel_tol: float,
                 same_init_tol: float) -> list[dict[str, Any]]:
    """Run every program on both frameworks; return one report entry per program."""
    reports = []
    for program in selected:
        base = out / program.name
        if base.exists():
            shutil.rmtree(base)
        init_file = base / "initial_weights.npz"
        torch_run = run_one(program, "torch", base / "torch", timeout, init_file)
        ember_run = run_one(program, "ember", base / "ember", timeout, init_file)
        tol = same_init_tol if program.same_init else rel_tol
        comparison = compare_losses(torch_run["losses"], ember_run["losses"], tol, program.same_init)
        comparison["tolerance"] = tol
        status = "runs" if ember_run["rc"] == 0 else "fails"
        reports.append({"program": program.name, "status": status, "torch": torch_run, "ember": ember_run,
                        "loss_comparison": comparison, "same_initial_weights": program.same_init})
        print_program(reports[-1])
    return reports


def print_program(report: dict[str, Any]) -> None:
    """One program's outcome in a few lines."""
    t, e, c = report["torch"], report["ember"], report["loss_comparison"]
    print(f"\n== {report['program']}: ember {report['status']} (rc {e['rc']}, {e['seconds']} s; "
          f"torch rc {t['rc']}, {t['seconds']} s)")
    print(f"   torch losses: {t['losses'][:12]}")
    print(f"   ember losses: {e['losses'][:12]}")
    judged = "every pair" if report["same_initial_weights"] else "first and last pair"
    print(f"   compared {c['pairs']} pairs (first {c['first_rel_diff']}, last {c['last_rel_diff']}, "
          f"max {c['max_rel_diff']} relative difference); {judged} within {c['tolerance']}: {c['agree']}")
    for label, run in (("torch", t), ("ember", e)):
        if run["rc"] != 0:
            print(f"   {label} first error: {run['first_error']}")
            print("      " + run["traceback_tail"].replace("\n", "\n      "))


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=pathlib.Path, help="pytorch/examples checkout")
    parser.add_argument("--nanogpt", type=pathlib.Path, help="karpathy/nanoGPT checkout")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "compat_programs")
    parser.add_argument("--json", type=pathlib.Path, help="write the report here")
    parser.add_argument("--only", help="comma-separated program names (mnist, wlm_lstm, wlm_transformer, nanogpt)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run (default 600)")
    parser.add_argument("--rel-tol", type=float, default=0.1,
                        help="loss agreement when initial weights differ (default 0.1 = 10%%)")
    parser.add_argument("--same-init-tol", type=float, default=1e-3,
                        help="loss agreement when both start from the same weights (default 1e-3)")
    parser.add_argument("--mnist-samples", type=int, default=1280, help="samples per MNIST loader pass")
    parser.add_argument("--wlm-lines", type=int, default=400, help="WikiText-2 training lines for the word LM")
    parser.add_argument("--gpt-steps", type=int, default=20, help="nanoGPT training steps")
    args = parser.parse_args(argv)
    selected = programs(args.examples, args.nanogpt, args.mnist_samples, args.wlm_lines, args.gpt_steps)
    if args.only:
        wanted = set(args.only.split(","))
        selected = [p for p in selected if p.name in wanted]
    if not selected:
        parser.error("no programs: give --examples and/or --nanogpt")
    reports = run_programs(selected, args.out, args.timeout, args.rel_tol, args.same_init_tol)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, indent=1, default=str))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
