"""ember/data/errors.py: messages that name the file and the problem."""

import pytest

from ember.data.errors import DataError, DataNotFoundError


def test_data_error_names_the_file_and_is_a_value_error():
    err = DataError("bad magic number 2049, expected 2051 (IDX images)", path="/d/x.gz")
    assert isinstance(err, ValueError)
    assert str(err) == "ember.data: /d/x.gz: bad magic number 2049, expected 2051 (IDX images)"
    assert err.path == "/d/x.gz" and err.problem.startswith("bad magic")


def test_data_error_without_a_path():
    assert str(DataError("no URL")) == "ember.data: no URL"
    assert DataError("no URL").path is None


def test_missing_lists_every_file_with_its_directory():
    err = DataNotFoundError.missing("MNIST", "/data/mnist", ["a.gz", "b.gz"], hint="Try X.")
    assert isinstance(err, FileNotFoundError) and isinstance(err, DataError)
    text = str(err)
    assert "/data/mnist/a.gz" in text and "/data/mnist/b.gz" in text
    assert "Put these 2 file(s) in /data/mnist" in text and text.endswith("Try X.")
    assert err.missing == ("a.gz", "b.gz")


def test_not_found_is_caught_by_either_clause():
    with pytest.raises(FileNotFoundError):
        raise DataNotFoundError.missing("X", "/d", ["f"])
    with pytest.raises(DataError):
        raise DataNotFoundError.missing("X", "/d", ["f"])
