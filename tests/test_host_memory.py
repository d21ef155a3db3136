"""Keeping freed host memory for reuse (glibc), so that training steps do not page-fault: an opt-in."""
import os
import platform
import subprocess
import sys
import textwrap

import pytest

import ember
from ember import host_memory

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# A LeNet-sized training loop; prints its page faults per step and whether the setting took effect.
_LOOP = textwrap.dedent("""
    import resource
    import numpy as np
    import ember, ember.nn as nn, ember.functional as F
    from ember.optim import SGD
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.Tanh(), nn.MaxPool2d(2), nn.Conv2d(6, 12, 5), nn.Tanh(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(300, 10))
    opt = SGD(model.parameters(), lr=0.01)
    x, y = ember.randn(64, 1, 32, 32), ember.tensor(np.arange(64) % 10)
    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10, ember.host_memory.keeps_freed_memory())
""")


def _faults_per_step(setting: str | None):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.pop("EMBER_KEEP_FREED_MEMORY", None)
    if setting is not None:
        env["EMBER_KEEP_FREED_MEMORY"] = setting
    root = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _LOOP], env=env, capture_output=True, text=True, check=True)
    faults, applied = out.stdout.split()
    return float(faults), applied == "True"


@pytest.mark.skipif(not GLIBC, reason="the setting exists only with glibc's malloc")
def test_training_steps_stop_page_faulting():
    kept_faults, kept = _faults_per_step("1")
    default_faults, default_kept = _faults_per_step(None)
    assert kept and not default_kept  # importing Ember leaves malloc alone unless asked
    # Measured: about 1 fault per step, against about 1,800 with glibc's defaults.
    assert kept_faults < 50
    assert default_faults > 500


def test_the_setting_reports_itself():
    assert host_memory.keep_freed_memory() is GLIBC
    assert host_memory.keeps_freed_memory() is GLIBC


def test_ember_programs_opt_in_unless_declined(monkeypatch):
    monkeypatch.setattr(host_memory, "_applied", False)
    monkeypatch.setattr(host_memory, "keep_freed_memory", lambda: True)
    monkeypatch.setenv("EMBER_KEEP_FREED_MEMORY", "0")
    assert host_memory.keep_freed_memory_unless_declined() is False
    monkeypatch.delenv("EMBER_KEEP_FREED_MEMORY")
    assert host_memory.keep_freed_memory_unless_declined() is True
