"""The `ember` command: train, evaluate, info, help, and the exit codes a shell user expects."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ember.cli import main

ROOT = Path(__file__).resolve().parents[1]
needs_mnist = pytest.mark.skipif(not os.path.isdir(os.path.join(os.environ["EMBER_DATA"], "mnist")),
                                 reason="MNIST not found in $EMBER_DATA")


def run(*args):
    return subprocess.run([sys.executable, "-m", "ember.cli", *args], capture_output=True, text=True, timeout=300, check=False,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


@needs_mnist
def test_train_then_evaluate_from_the_shell(tmp_path):
    out = tmp_path / "run"
    trained = run("train", "mlp", "--epochs", "1", "--batch-size", "64", "--lr", "0.002", "--set", "hidden=64",
                  "--out", str(out), "--max-samples", "2000")
    assert trained.returncode == 0, trained.stderr
    lines = trained.stdout.splitlines()
    assert lines[0].startswith("Epoch 1/1 - ")  # not a terminal: one line per epoch, no bar
    test_line = next(line for line in lines if line.startswith("test: "))
    assert float(test_line.rsplit("accuracy: ", 1)[1]) > 0.7
    assert (out / "model.safetensors").is_file()
    evaluated = run("evaluate", str(out / "model.safetensors"), "--max-samples", "2000")
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout.splitlines() == ["mlp on the mnist test set", test_line]


def test_usage_errors_exit_with_2(capsys):
    for argv in (["train", "resnet"], ["train", "mlp", "--epochs", "two"], ["train", "mlp", "--set", "hidden"],
                 ["evaluate"], []):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2, argv
    err = capsys.readouterr().err
    assert "invalid choice: 'resnet'" in err and "--set: expected KEY=VALUE" in err


def test_failures_exit_with_1_and_a_message(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.safetensors")]) == 1
    assert main(["train", "mlp", "--set", "hiden=3"]) == 1
    assert main(["train", "mlp", "--patience", "2"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"ember evaluate: error: no such checkpoint: {tmp_path / 'missing.safetensors'}"
    assert err[1].startswith("ember train: error: model 'mlp' has no setting 'hiden'")
    assert err[2] == "ember train: error: patience needs a validation split (e.g. --validation-split 0.1)"


def test_missing_data_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EMBER_DATA", str(tmp_path))
    assert main(["train", "mlp", "--dataset", "fashion-mnist", "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ember train: error: ") and "files missing" in err
    assert err.rstrip().endswith("(add --download to fetch the dataset)")


def test_help_lists_the_models():
    result = run("train", "--help")
    assert result.returncode == 0
    assert "models:\n  mlp" in result.stdout and "--batch-size B" in result.stdout
    top = run("--help")
    assert top.returncode == 0 and "ember train mlp --epochs 2 --out runs/mlp" in top.stdout


def test_info_reports_versions_blas_and_devices(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for start in ("ember 0.1.0", "python ", "BLAS: ", "BLAS threads: ", "array backends: numpy (CPU)", "GPU: ",
                  "optional packages: "):
        assert any(line.startswith(start) for line in out.splitlines()), start
