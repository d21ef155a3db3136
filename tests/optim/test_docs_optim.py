"""The Python examples of docs/optim.md must run."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_optim_guide_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs/optim.md").read_text(), re.S)
    assert len(blocks) >= 8
    for block in blocks:
        exec(compile(block, "docs/optim.md", "exec"), {})  # noqa: S102 - our own docs
