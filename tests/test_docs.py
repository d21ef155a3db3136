"""The Python examples in the guides must run: documentation that lies is a bug."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Guides whose examples are self-contained (no downloads, seconds to run).
GUIDES = ["docs/autograd.md", "docs/compile.md", "docs/nn.md", "docs/structured.md", "docs/large_output.md"]


def _blocks(path):
    return re.findall(r"```python\n(.*?)```", (ROOT / path).read_text(), re.S)


@pytest.mark.parametrize("guide", GUIDES)
def test_guide_examples_run(guide):
    namespace = {}
    blocks = _blocks(guide)
    assert blocks, f"{guide} has no python examples"
    for block in blocks:
        exec(compile(block, guide, "exec"), namespace)  # noqa: S102 - our own docs


def test_cli_demo_succeeds():
    result = subprocess.run([sys.executable, "-m", "ember.cli", "demo", "--steps", "1500"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "predictions [0, 1, 1, 0]" in result.stdout
    assert "passed" in result.stdout


def test_cli_info():
    result = subprocess.run([sys.executable, "-m", "ember.cli", "info"], capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    assert result.returncode == 0 and "ember" in result.stdout
