"""The end every example shares: save the weights if asked, then print ``RESULT {...}`` (JSON).

``examples/render_models_md.py`` copies the last ``RESULT`` line of each log into MODELS.md.
"""
from __future__ import annotations

import json
import os
import platform
import time

import ember


def open_run_log(out: str):
    """A ``log(line)`` function that prints ``line`` and appends it to ``out/train.log`` (made if missing)."""
    os.makedirs(out, exist_ok=True)
    handle = open(os.path.join(out, "train.log"), "w")

    def log(line: str) -> None:
        print(line, flush=True)
        handle.write(line + "\n")
        handle.flush()

    return log


def save_and_report(trained, result: dict, out: str | None, started: float, **fields) -> dict:
    """Save the ``trained`` model's weights to ``out/model.safetensors`` (if ``out``), add the run's facts, print RESULT.

    ``fields`` (model name, dataset, config ...) go into the result before the machine facts.
    """
    if out:
        os.makedirs(out, exist_ok=True)
        ember.save(trained.state_dict(), os.path.join(out, "model.safetensors"))
    config = fields.pop("config")
    result.update(**fields, params=sum(p.numel() for p in trained.parameters()),
                  wall_seconds=round(time.time() - started, 1), cpu=platform.processor() or platform.machine(),
                  cores=os.cpu_count(), config=config)
    print("RESULT " + json.dumps(result), flush=True)
    return result
