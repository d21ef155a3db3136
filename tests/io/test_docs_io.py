"""The examples of docs/io.md run (its optional parts check for torch and onnxruntime themselves)."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_io_guide_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "io.md").read_text(), re.DOTALL)
    assert len(blocks) >= 5
    namespace = {}
    for block in blocks:
        exec(compile(block, "docs/io.md", "exec"), namespace)  # noqa: S102 - our own docs
    assert "trained_on" in capsys.readouterr().out
