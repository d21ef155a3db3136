"""docs/amp.md's examples run (documentation that lies is a bug)."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_amp_guide_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs/amp.md").read_text(), re.S)
    assert blocks
    namespace = {}
    for block in blocks:
        exec(compile(block, "docs/amp.md", "exec"), namespace)  # noqa: S102 - our own docs
