"""Fixtures of the optimizer tests: ``torch`` (skips the test where PyTorch is missing)."""
import pytest


@pytest.fixture
def torch():
    return pytest.importorskip("torch")
