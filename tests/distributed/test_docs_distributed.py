"""The examples of docs/distributed.md run (in a single process, where every collective is trivial)."""
import re

import pytest
from distributed.mpirun import ROOT

GUIDE = ROOT / "docs" / "distributed.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_guide_example_runs(index, capsys):
    exec(compile(BLOCKS[index], f"{GUIDE.name} example {index + 1}", "exec"), {})  # noqa: S102 - our docs


def test_guide_has_examples():
    assert len(BLOCKS) >= 5
