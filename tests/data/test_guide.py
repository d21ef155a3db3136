"""docs/data.md: the guide's runnable examples (```python blocks) run as written."""

import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def test_guide_examples_run(shared_data, capsys):
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) >= 8
    namespace = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)  # noqa: S102 - our own docs
    out = capsys.readouterr().out
    assert "10000 images in 79 batches" in out
    assert "'First Citizen:'" in out and "Where is Mary? bathroom (0,)" in out
