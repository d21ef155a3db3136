"""Random search: distributions, reproducibility by seed, early stopping per trial, ranking, processes."""
import math

import numpy as np
import pytest
from train.helpers import blobs, build_for_search

from ember.train import Choice, IntUniform, LogUniform, Uniform, random_search
from ember.train.search import SearchResult, Trial, sample_params

SPACE = {"lr": LogUniform(1e-4, 1e-1), "hidden": IntUniform(2, 32), "dropout": Choice([0.0, 0.2])}


def test_distributions_cover_their_ranges():
    rng = np.random.default_rng(0)
    logs = np.log10([LogUniform(1e-5, 1e-1).sample(rng) for _ in range(4000)])
    assert logs.min() >= -5 and logs.max() <= -1
    assert np.histogram(logs, bins=4, range=(-5, -1))[0].min() > 850  # uniform in the exponent
    ints = [IntUniform(2, 4).sample(rng) for _ in range(300)]
    assert set(ints) == {2, 3, 4} and all(isinstance(i, int) for i in ints)
    assert 0.2 <= Uniform(0.2, 0.3).sample(rng) <= 0.3
    assert {Choice(["a", "b"]).sample(rng) for _ in range(50)} == {"a", "b"}


@pytest.mark.parametrize("make, message", [
    (lambda: LogUniform(0, 1), "must be positive"), (lambda: Uniform(2, 1), "low <= high"),
    (lambda: IntUniform(1.5, 3), "must be integers"), (lambda: Choice([]), "at least one option"),
])
def test_distribution_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_same_seed_same_search_and_a_sorted_table():
    x, y = blobs(n=120)
    runs = [random_search(build_for_search, SPACE, trials=4, x=x, y=y, validation_split=0.25, epochs=3,
                          batch_size=16, seed=seed, verbose=0) for seed in (5, 5, 6)]
    first, again, other = runs
    assert [t.params for t in first] == [t.params for t in again]
    assert [t.score for t in first] == [t.score for t in again]
    assert [t.params for t in first] != [t.params for t in other]
    scores = [t.score for t in first]
    assert scores == sorted(scores) and first.best_score == scores[0]
    table = first.table().splitlines()
    assert table[0].split()[:4] == ["rank", "trial", "val_loss", "epoch"] and len(table) == 5
    assert table[1].split()[2] == f"{scores[0]:.4g}"


def test_accuracy_is_maximised_and_early_stopping_cuts_trials(capsys):
    x, y = blobs(n=120)
    result = random_search(build_for_search, {"lr": Choice([1e-6, 0.05]), "hidden": 16}, trials=4, x=x, y=y,
                           validation_data=(x, y), epochs=30, monitor="val_accuracy", patience=1, seed=1)
    assert result.mode == "max"
    assert result.best.params["lr"] == 0.05 and result.best_score > 0.9
    slow = [t for t in result if t.params["lr"] == 1e-6]
    assert slow and all(t.epochs_run < 30 for t in slow)  # a trial that does not improve stops early
    assert capsys.readouterr().out.count("trial ") == 4


def test_failed_trials_rank_last_and_all_failing_is_an_error(tmp_path):
    x, y = blobs(n=60)
    space = {"lr": Choice([0.01]), "hidden": Choice([8, -1])}  # hidden=-1 cannot be built
    result = random_search(build_for_search, space, trials=6, x=x, y=y, validation_split=0.25, epochs=1, seed=1,
                           verbose=0)
    failed = [t for t in result if t.error]
    assert failed and result.trials[-len(failed):] == failed and "failed" in result.table()
    result.to_csv(tmp_path / "trials.csv")
    assert (tmp_path / "trials.csv").read_text().splitlines()[0].startswith("rank,trial,seed,val_loss")
    with pytest.raises(RuntimeError, match="all 2 trials failed"):
        random_search(build_for_search, {"lr": 0.01, "hidden": -1}, trials=2, x=x, y=y, validation_split=0.25,
                      epochs=1, verbose=0)


def test_argument_errors():
    x, y = blobs(n=20)
    with pytest.raises(ValueError, match="needs validation_data or validation_split"):
        random_search(build_for_search, SPACE, x=x, y=y)
    with pytest.raises(ValueError, match="space must be a non-empty dict"):
        random_search(build_for_search, {}, x=x, y=y, validation_split=0.5)
    with pytest.raises(ValueError, match="n_jobs must be a positive int"):
        random_search(build_for_search, SPACE, x=x, y=y, validation_split=0.5, n_jobs=0)
    with pytest.raises(TypeError, match="module-level function"):
        random_search(lambda p: build_for_search(p), SPACE, trials=1, x=x, y=y, validation_split=0.5, n_jobs=2)


def test_sample_params_and_result_ordering():
    assert sample_params({"a": 1, "b": Choice([2])}, np.random.default_rng(0)) == {"a": 1, "b": 2}
    result = SearchResult([Trial(0, {}, 0, score=0.5), Trial(1, {}, 0, score=math.nan, error="x"),
                           Trial(2, {}, 0, score=0.9)], "val_accuracy", "max")
    assert [t.index for t in result] == [2, 0, 1]


def test_parallel_trials_give_the_same_results_as_serial():
    x, y = blobs(n=120)
    options = {"trials": 4, "x": x, "y": y, "validation_split": 0.25, "epochs": 2, "batch_size": 16, "seed": 3,
               "verbose": 0}
    serial = random_search(build_for_search, SPACE, n_jobs=1, **options)
    parallel = random_search(build_for_search, SPACE, n_jobs=2, **options)
    assert [(t.index, t.params) for t in serial] == [(t.index, t.params) for t in parallel]
    np.testing.assert_allclose([t.score for t in serial], [t.score for t in parallel], rtol=1e-6)
