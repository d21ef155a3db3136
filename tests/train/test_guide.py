"""docs/train.md: the guide's runnable examples (```python blocks) run as written and print what it says."""
import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "train.md"


def test_guide_examples_run(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    assert len(blocks) >= 7
    namespace = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)  # noqa: S102 - our own docs
    out = capsys.readouterr().out
    assert re.search(r"test accuracy 0\.9\d\d", out)
    assert "0.5 0.75" in out
    assert "rank  trial  val_accuracy  epoch  lr" in out
