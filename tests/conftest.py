"""Shared test setup: a fixed seed per test and the data directory."""
import os
import pathlib

import pytest

import ember

# Tests read the real datasets from ../shared/data unless EMBER_DATA says otherwise
# (CI sets it); resolving here means every test sees one absolute path.
_default_data = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
os.environ.setdefault("EMBER_DATA", str(_default_data))
if not os.path.isabs(os.environ["EMBER_DATA"]):
    os.environ["EMBER_DATA"] = str(pathlib.Path(os.environ["EMBER_DATA"]).resolve())


@pytest.fixture(autouse=True)
def _seed():
    ember.manual_seed(1234)
    ember.set_default_dtype("float32")
    yield
