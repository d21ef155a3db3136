"""Run real PyTorch programs as written and with only their imports changed to Ember; compare losses.

Programs (read from checkouts given on the command line; nothing of them is stored here), all
listed with their arguments in :func:`programs`: pytorch/examples ``mnist``, ``mnist_rnn``,
``vae``, ``mnist_forward_forward``, ``regression``, ``word_language_model`` (LSTM and
Transformer), ``time_sequence_prediction``, ``mnist_hogwild`` (Ember copy only), and nanoGPT's
``model.py`` driven by a short training loop written here (:data:`NANOGPT_DRIVER`).

For each program the source files are copied to a temporary directory twice; in the Ember copy
every ``import torch...``/``from torch... import``/``torchvision`` import is rewritten by
:func:`rewrite_imports` (``import torch`` -> ``import ember as torch``, ``torch.nn`` ->
``ember.nn``, ``torchvision`` -> ``ember.vision`` ...). The only other change is the documented
edit :data:`WLM_SAVE_EDIT` (both copies of the word language model). Each copy runs in its own
subprocess through :mod:`benchmarks.compat.program_boot`, which shares the PyTorch run's initial
weights with the Ember run, turns dropout off and aligns shuffles where asked; the losses each
prints are parsed and paired. Where randomness or rounding amplification remains, PyTorch runs a
second time and Ember is judged against the band between the two PyTorch runs.

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


#: The one source edit the harness makes, in both copies of the word language model: Ember
#: refuses to pickle a whole module (``torch.save(model, f)``), so the program saves and loads
#: its ``state_dict`` instead. Each pair is (exact original text, replacement).
WLM_SAVE_EDIT = (
    ("torch.save(model, f)", "torch.save(model.state_dict(), f)"),
    ("model = torch.load(f)", "model.load_state_dict(torch.load(f))"),
)


@dataclasses.dataclass
class Program:
    """One program: where its files come from, how to run it, how to read its losses.

    ``init``: ``"boot"`` shares the PyTorch run's initial weights through
    :mod:`benchmarks.compat.program_boot` (optimizer construction / first top-level call),
    ``"driver"`` through the driver's own ``--init-out/--init-in`` (nanoGPT), ``""`` not at all.
    ``no_dropout`` / ``same_shuffle``: the boot controls of the same names. ``noise``: the
    program keeps randomness the frameworks cannot share (``randn_like``, ``randint`` data):
    ``"seed"`` runs PyTorch a second time from the same weights with its seed offset by one;
    ``"rounding"`` runs it from the weights perturbed by one rounding (``COMPAT_INIT_JITTER=1e-7``);
    ``"clip-norm"`` (programs that amplify float32 rounding, e.g. SGD at ``lr=20`` after
    ``clip_grad_norm_``) runs it with the clipping norm summed in float64
    (``COMPAT_EXACT_CLIP_NORM``), one rounding difference of the kind Ember's own norm has. Ember is judged
    against that run-to-run band (``noise_runs`` PyTorch runs for ``"seed"``, seeds + 1, 2, ...;
    one for the others). ``edits``: exact (old, new) source replacements, applied to
    both copies (documented in docs/porting.md). ``generate``: scripts run first, in the same
    copy and framework, to make the program's data. ``torch_reference=False``: only the Ember
    copy runs (the PyTorch run is too long to be a reference here), so there is no comparison.
    """
    name: str
    source_dir: pathlib.Path
    files: tuple[str, ...]
    script: str
    args: list[str]
    loss_pattern: str
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    init: str = "boot"
    no_dropout: bool = False
    same_shuffle: bool = False
    noise: str = ""
    noise_runs: int = 3
    edits: tuple[tuple[str, str], ...] = ()
    generate: tuple[str, ...] = ()
    torch_env: dict[str, str] = dataclasses.field(default_factory=dict)
    dirs: tuple[str, ...] = ()
    torch_reference: bool = True
    setup: Any = None  # callable(workdir, framework) -> extra args

    @property
    def same_init(self) -> bool:
        """Whether both runs start from the same weights."""
        return bool(self.init)


def _truncated_corpus(target: pathlib.Path, lines: dict[str, int]) -> pathlib.Path:
    """WikiText-2's first lines as train.txt/valid.txt/test.txt, the layout the program expects."""
    target.mkdir(parents=True, exist_ok=True)
    names = {"train": "wiki.train.tokens", "valid": "wiki.valid.tokens", "test": "wiki.test.tokens"}
    for split, count in lines.items():
        with open(DATA / "wikitext-2" / names[split], encoding="utf-8") as f:
            head = [next(f) for _ in range(count)]
        (target / f"{split}.txt").write_text("".join(head), encoding="utf-8")
    return target


NUMBER = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?|nan|inf)"
MNIST_LOSS = r"Train Epoch: \d+ \[\d+/\d+ \(\d+%\)\]\s+Loss: ([0-9.naninf]+)|Test set: Average loss: ([0-9.naninf]+)"


def programs(examples: pathlib.Path | None, nanogpt: pathlib.Path | None, mnist_samples: int,
             wlm_lines: int, gpt_steps: int, lbfgs_steps: int = 1) -> list[Program]:
    """The programs that can run with the checkouts given."""
    found = []
    capped = {"COMPAT_MAX_SAMPLES": str(mnist_samples)}
    if examples is not None:
        found.append(Program(
            "mnist", examples / "mnist", ("main.py",), "main.py",
            ["--epochs", "1", "--log-interval", "2", "--no-accel"], MNIST_LOSS, env=capped, no_dropout=True))
        corpus_lines = {"train": wlm_lines, "valid": max(wlm_lines // 4, 20), "test": max(wlm_lines // 4, 20)}
        for model in ("LSTM", "Transformer"):
            found.append(Program(
                f"wlm_{model.lower()}", examples / "word_language_model", ("main.py", "model.py", "data.py"),
                # the Transformer diverges at the default --lr 20 on this short corpus (PyTorch too)
                "main.py", ["--model", model, "--epochs", "1", "--log-interval", "5", "--dropout", "0.0"]
                + (["--lr", "1"] if model == "Transformer" else []),
                # perplexities: printed with two decimals like the losses, but with more digits
                r"\|\s+ppl\s+([0-9.naninf]+)|valid ppl\s+([0-9.naninf]+)|test ppl\s+([0-9.naninf]+)",
                edits=WLM_SAVE_EDIT, no_dropout=True, noise="clip-norm",  # `--dropout` does not reach nn.Transformer's layers
                setup=lambda work, framework, lines=corpus_lines: [
                    "--data", str(_truncated_corpus(work / "data" / "wikitext-2", lines)),
                    "--save", str(work / "model.pt")]))
        found.append(Program(
            "regression", examples / "regression", ("main.py",), "main.py", [],
            r"Loss: ([0-9.naninf]+) after", noise="seed"))
        found.append(Program(
            "mnist_rnn", examples / "mnist_rnn", ("main.py",), "main.py",
            ["--epochs", "1", "--log-interval", "2"], MNIST_LOSS, env=capped, no_dropout=True, same_shuffle=True))
        found.append(Program(
            "vae", examples / "vae", ("main.py",), "main.py",
            ["--epochs", "1", "--log-interval", "2", "--no-accel"],
            r"Train Epoch: \d+ \[\d+/\d+ \(\d+%\)\]\s+Loss: ([0-9.naninf]+)|Test set loss: ([0-9.naninf]+)",
            env=capped, same_shuffle=True, noise="seed", dirs=("results",)))
        found.append(Program(
            "mnist_forward_forward", examples / "mnist_forward_forward", ("main.py",), "main.py",
            ["--epochs", "30", "--train_size", "1000", "--test_size", "1000", "--log-interval", "5",
             "--no_accel"],
            rf"Loss:\s+{NUMBER}",  # train/test error rates are shown in the stdout tail, not judged
            noise="seed"))
        found.append(Program(
            "mnist_hogwild", examples / "mnist_hogwild", ("main.py", "train.py"), "main.py",
            ["--epochs", "1", "--num-processes", "2", "--log-interval", "2"],
            r"Loss: ([0-9.naninf]+)|Test set: Average loss: ([0-9.naninf]+)", env=capped, init="",
            # the training runs in spawned processes, which the loader cap does not reach: the
            # PyTorch run would train full epochs, so only the Ember copy runs
            torch_reference=False))
        found.append(Program(
            "time_sequence_prediction", examples / "time_sequence_prediction",
            ("generate_sine_wave.py", "train.py"), "train.py", ["--steps", str(lbfgs_steps)],
            rf"(?m)^loss: {NUMBER}|^test loss: {NUMBER}",
            generate=("generate_sine_wave.py",),
            # PyTorch >= 2.6 loads with weights_only=True, which refuses the NumPy array the
            # program saved; its documented switch restores the old default on the torch side.
            torch_env={"TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1", "MPLBACKEND": "Agg"}))
    if nanogpt is not None:
        found.append(Program(
            "nanogpt", nanogpt, ("model.py",), "train_tiny.py",
            ["--data", str(DATA / "tinyshakespeare" / "input.txt"), "--steps", str(gpt_steps)],
            r"step \d+ loss ([0-9.naninf]+)|eval loss ([0-9.naninf]+)", init="driver"))
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


def apply_edits(text: str, edits: tuple[tuple[str, str], ...], name: str) -> tuple[str, list[str]]:
    """Apply each exact (old, new) replacement once; an edit whose text is absent is an error."""
    done = []
    for old, new in edits:
        if old not in text:
            raise ValueError(f"{name}: documented edit not applicable, {old!r} not found")
        text = text.replace(old, new, 1)
        done.append(f"{old}  ->  {new}")
    return text, done


def prepare(program: Program, framework: str, work: pathlib.Path) -> tuple[list[tuple[str, str]], list[str]]:
    """Copy the program into ``work`` (rewriting imports for Ember, applying ``program.edits`` to
    both copies); return the import rewrites and the source edits made."""
    work.mkdir(parents=True, exist_ok=True)
    for folder in program.dirs:
        (work / folder).mkdir(parents=True, exist_ok=True)
    rewrites, edits = [], []
    sources = {name: (program.source_dir / name).read_text(encoding="utf-8") for name in program.files}
    if program.init == "driver":
        sources[program.script] = NANOGPT_DRIVER
    for name, text in sources.items():
        if program.edits and name == program.script:
            text, done = apply_edits(text, program.edits, name)
            edits += [f"{name}: {line}" for line in done]
        if framework == "ember":
            text, changes = rewrite_imports(text)
            rewrites += [(name, f"{old}  ->  {new}") for old, new in changes]
        (work / name).write_text(text, encoding="utf-8")
    return rewrites, edits


def _decode(stream: Any) -> str:
    return stream.decode() if isinstance(stream, bytes) else (stream or "")


def run_one(program: Program, framework: str, work: pathlib.Path, timeout: float,
            init_dir: pathlib.Path, init_mode: str = "save", seed_offset: int = 0,
            jitter: float = 0.0, exact_clip_norm: bool = False) -> dict[str, Any]:
    """Run one copy of ``program`` in a subprocess; return its outcome.

    ``init_mode`` ``save`` (the reference PyTorch run) writes the initial weights to
    ``init_dir``, ``load`` copies them in; ``seed_offset`` shifts ``manual_seed``; ``jitter``
    perturbs the loaded weights (``COMPAT_INIT_JITTER``).
    """
    rewrites, edits = prepare(program, framework, work)
    init_dir.mkdir(parents=True, exist_ok=True)
    args = list(program.args)
    if program.setup is not None:
        args += program.setup(work, framework)
    env = dict(os.environ, COMPAT_FRAMEWORK=framework, EMBER_DATA=str(DATA),
               COMPAT_MNIST_DIR=str(DATA / "mnist"), PYTHONHASHSEED="0", **program.env)
    if framework == "torch":
        env.update(program.torch_env)
    if program.init == "driver":
        args += ["--init-out" if init_mode == "save" else "--init-in", str(init_dir / "initial_weights.npz")]
    elif program.init == "boot":
        env.update(COMPAT_INIT_DIR=str(init_dir), COMPAT_INIT_MODE=init_mode)
    if program.no_dropout:
        env["COMPAT_NO_DROPOUT"] = "1"
    if program.same_shuffle:
        env["COMPAT_SAME_SHUFFLE"] = "1"
    if seed_offset:
        env["COMPAT_SEED_OFFSET"] = str(seed_offset)
    if jitter:
        env["COMPAT_INIT_JITTER"] = repr(jitter)
    if exact_clip_norm:
        env["COMPAT_EXACT_CLIP_NORM"] = "1"
    path = [str(SHIM), str(REPO)] if framework == "torch" else [str(REPO)]
    env["PYTHONPATH"] = os.pathsep.join(path + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    command = [sys.executable, str(BOOT), str(work / program.script)] + args
    start = time.perf_counter()
    rc, stdout, stderr = 0, "", ""
    steps = [[sys.executable, str(work / script)] for script in program.generate] + [command]
    try:
        for step in steps:
            done = subprocess.run(step, cwd=work, env=env, capture_output=True, text=True,
                                  timeout=max(timeout - (time.perf_counter() - start), 1))
            rc, stdout, stderr = done.returncode, stdout + done.stdout, stderr + done.stderr
            if rc != 0:
                break
    except subprocess.TimeoutExpired as exc:
        rc = "timeout"
        stdout += _decode(exc.stdout)
        stderr += _decode(exc.stderr) + f"\nTimeout: ran past {timeout:g} s"
    seconds = time.perf_counter() - start
    (work / "stdout.txt").write_text(stdout)
    (work / "stderr.txt").write_text(stderr)
    return {"rc": rc, "seconds": round(seconds, 1), "losses": _losses(program.loss_pattern, stdout),
            "first_error": _first_error(stderr) if rc != 0 else "",
            "traceback_tail": _tail(stderr) if rc != 0 else "", "stdout_tail": _tail(stdout, 6),
            "compat_notes": [l for l in stderr.splitlines() if l.startswith("compat:")][:12],
            "rewrites": rewrites, "edits": edits, "command": " ".join(command), "workdir": str(work)}


def compare_losses(torch_losses: list[float], ember_losses: list[float], rel_tol: float,
                   same_init: bool = True,
                   noise_losses: list[float] | list[list[float]] | None = None) -> dict[str, Any]:
    """Pair the losses in print order and judge them.

    From the same initial weights every pair must agree within ``rel_tol``. From different
    initial weights single steps scatter, so only the first and the last pair are judged (the
    starting loss, and where training got to). With ``noise_losses`` (a second PyTorch run
    from the same weights with another seed, or weights one rounding away; or a list of such
    runs) the band at pair ``i`` is the largest relative difference between PyTorch runs up to
    ``i`` (noise
    grows as training goes on), and Ember agrees when every pair stays within
    ``max(rel_tol, 2 * band_i)``.

    Example:
        >>> compare_losses([2.3, 1.0], [2.3, 1.05], 0.1)["agree"]
        True
    """
    pairs = list(zip(torch_losses, ember_losses))
    result: dict[str, Any] = {"pairs": len(pairs), "max_rel_diff": None, "first_rel_diff": None,
                              "last_rel_diff": None, "agree": False, "complete": False,
                              "torch_first": torch_losses[0] if torch_losses else None,
                              "torch_last": torch_losses[-1] if torch_losses else None,
                              "ember_first": ember_losses[0] if ember_losses else None,
                              "ember_last": ember_losses[-1] if ember_losses else None,
                              "noise_band": None, "tolerance": rel_tol}
    if not pairs:
        return result

    def rel(a: float, b: float) -> float:
        return abs(b - a) / max(abs(a), 1e-12) if math.isfinite(b) else math.inf

    diffs = [rel(t, e) for t, e in pairs]
    result.update(torch_last=pairs[-1][0], ember_last=pairs[-1][1])  # the last pair judged
    bounds = [rel_tol] * len(diffs)
    if noise_losses:
        runs = noise_losses if isinstance(noise_losses[0], (list, tuple)) else [noise_losses]
        noise = [0.0] * len(diffs)
        for run in runs:
            spread = [rel(t, n) for t, n in zip(torch_losses, run)]
            spread += [math.inf] * (len(diffs) - len(spread))  # a noise run stopped early: no band there
            noise = [max(a, b) for a, b in zip(noise, spread)]
        band = [max(noise[:i + 1]) for i in range(len(diffs))]
        bounds = [max(rel_tol, 2 * b) for b in band]
        result["noise_band"] = [round(b, 6) for b in band]
    judged = list(range(len(diffs))) if same_init else [0, len(diffs) - 1]
    result.update(max_rel_diff=round(max(diffs), 6), first_rel_diff=round(diffs[0], 6),
                  last_rel_diff=round(diffs[-1], 6), agree=all(diffs[i] <= bounds[i] for i in judged),
                  tolerance=round(bounds[-1], 6), complete=len(torch_losses) == len(ember_losses))
    return result


def run_programs(selected: list[Program], out: pathlib.Path, timeout: float, rel_tol: float,
                 same_init_tol: float) -> list[dict[str, Any]]:
    """Run every program on both frameworks (PyTorch twice for noisy ones); one report entry each."""
    reports = []
    for program in selected:
        base = out / program.name
        if base.exists():
            shutil.rmtree(base)
        init_dir = base / "initial_weights"
        if not program.torch_reference:
            ember_run = run_one(program, "ember", base / "ember", timeout, init_dir, "load")
            skipped = {"rc": "not run", "seconds": 0, "losses": [], "edits": [], "first_error": "",
                       "traceback_tail": ""}
            reports.append({"program": program.name, "status": "runs" if ember_run["rc"] == 0 else "fails",
                            "torch": skipped, "ember": ember_run, "torch_noise": None,
                            "loss_comparison": compare_losses([], ember_run["losses"], rel_tol),
                            "same_initial_weights": False, "no_dropout": False, "same_shuffle": False})
            print_program(reports[-1])
            continue
        torch_run = run_one(program, "torch", base / "torch", timeout, init_dir, "save")
        noise_runs = []
        if program.noise:
            count = program.noise_runs if program.noise == "seed" else 1
            for k in range(1, count + 1):
                noise_runs.append(run_one(program, "torch", base / f"torch_noise{k}", timeout, init_dir, "load",
                                          seed_offset=k if program.noise == "seed" else 0,
                                          jitter=1e-7 if program.noise == "rounding" else 0.0,
                                          exact_clip_norm=program.noise == "clip-norm"))
        noise_run = noise_runs[0] if noise_runs else None
        ember_run = run_one(program, "ember", base / "ember", timeout, init_dir, "load")
        tol = same_init_tol if program.same_init else rel_tol
        comparison = compare_losses(torch_run["losses"], ember_run["losses"], tol, program.same_init,
                                    [run["losses"] for run in noise_runs] or None)
        status = "runs" if ember_run["rc"] == 0 else "fails"
        reports.append({"program": program.name, "status": status, "torch": torch_run, "ember": ember_run,
                        "torch_noise": noise_run, "torch_noise_runs": noise_runs, "noise": program.noise,
                        "loss_comparison": comparison,
                        "same_initial_weights": program.same_init, "no_dropout": program.no_dropout,
                        "same_shuffle": program.same_shuffle})
        print_program(reports[-1])
    return reports


def print_program(report: dict[str, Any]) -> None:
    """One program's outcome in a few lines."""
    t, e, c = report["torch"], report["ember"], report["loss_comparison"]
    print(f"\n== {report['program']}: ember {report['status']} (rc {e['rc']}, {e['seconds']} s; "
          f"torch rc {t['rc']}, {t['seconds']} s)")
    for line in e["edits"]:
        print(f"   source edit (both copies): {line}")
    print(f"   torch losses: {t['losses'][:12]}")
    for run in report.get("torch_noise_runs") or []:
        print(f"   torch ({report['noise']}) losses: {run['losses'][:12]}")
    if c.get("noise_band"):
        print(f"   noise band (largest torch-vs-torch difference so far): {c['noise_band'][:12]}")
    print(f"   ember losses: {e['losses'][:12]}")
    print(f"   first loss torch {c['torch_first']} ember {c['ember_first']}; "
          f"last loss torch {c['torch_last']} ember {c['ember_last']}")
    judged = "every pair" if report["same_initial_weights"] else "first and last pair"
    bound = "the noise band (x2)" if c.get("noise_band") else c["tolerance"]
    print(f"   compared {c['pairs']} pairs (first {c['first_rel_diff']}, last {c['last_rel_diff']}, "
          f"max {c['max_rel_diff']} relative difference); {judged} within {bound}: {c['agree']}")
    for label, run in [("torch", t)] + [("torch noise run", r) for r in report.get("torch_noise_runs") or []] + [("ember", e)]:
        if run and run["rc"] not in (0, "not run"):
            print(f"   {label} first error: {run['first_error']}")
            print("      " + run["traceback_tail"].replace("\n", "\n      "))


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=pathlib.Path, help="pytorch/examples checkout")
    parser.add_argument("--nanogpt", type=pathlib.Path, help="karpathy/nanoGPT checkout")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path(tempfile.gettempdir()) / "compat_programs")
    parser.add_argument("--json", type=pathlib.Path, help="write the report here")
    parser.add_argument("--only", help="comma-separated program names (see programs())")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run (default 600)")
    parser.add_argument("--rel-tol", type=float, default=0.1,
                        help="loss agreement when initial weights differ (default 0.1 = 10%%)")
    parser.add_argument("--same-init-tol", type=float, default=1e-3,
                        help="loss agreement when both start from the same weights (default 1e-3)")
    parser.add_argument("--mnist-samples", type=int, default=1280, help="samples per MNIST loader pass")
    parser.add_argument("--wlm-lines", type=int, default=400, help="WikiText-2 training lines for the word LM")
    parser.add_argument("--gpt-steps", type=int, default=20, help="nanoGPT training steps")
    parser.add_argument("--lbfgs-steps", type=int, default=1, help="time_sequence_prediction LBFGS steps")
    args = parser.parse_args(argv)
    selected = programs(args.examples, args.nanogpt, args.mnist_samples, args.wlm_lines, args.gpt_steps,
                        args.lbfgs_steps)
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
