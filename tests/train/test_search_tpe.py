"""TPE search through optuna: the shared search space, pruning, resuming from SQLite, processes, plots."""
import math

import pytest
from train.helpers import blobs, build_for_search

from ember.train import Choice, IntUniform, LogUniform, Uniform, random_search

optuna = pytest.importorskip("optuna")
from ember.train.tpe import StudyResult, plot_study, tpe_search  # noqa: E402

SPACE = {"lr": LogUniform(1e-4, 1e-1), "hidden": IntUniform(2, 32)}


def test_the_random_search_space_maps_to_optuna_distributions():
    space = {"lr": LogUniform(1e-4, 1e-1), "p": Uniform(0.1, 0.5), "hidden": IntUniform(2, 32),
             "act": Choice(["relu", "tanh"])}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    values = {name: d.suggest(trial, name) for name, d in space.items()}
    dists = trial.distributions
    assert dists["lr"] == optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)
    assert dists["p"] == optuna.distributions.FloatDistribution(0.1, 0.5)
    assert dists["hidden"] == optuna.distributions.IntDistribution(2, 32)
    assert dists["act"] == optuna.distributions.CategoricalDistribution(["relu", "tanh"])
    assert 1e-4 <= values["lr"] <= 1e-1 and isinstance(values["hidden"], int) and values["act"] in ("relu", "tanh")


def test_same_seed_same_study_and_seeds_shared_with_random_search():
    x, y = blobs(n=120)
    runs = [tpe_search(build_for_search, SPACE, trials=4, x=x, y=y, validation_split=0.25, epochs=2, batch_size=16,
                       pruner=None, seed=3, verbose=0) for _ in range(2)]
    assert [t.params for t in runs[0]] == [t.params for t in runs[1]]
    assert [t.score for t in runs[0]] == [t.score for t in runs[1]]
    baseline = random_search(build_for_search, SPACE, trials=4, x=x, y=y, validation_split=0.25, epochs=2,
                             batch_size=16, seed=3, verbose=0)
    assert sorted(t.seed for t in runs[0]) == sorted(t.seed for t in baseline)  # trial t: the same Ember seed
    assert isinstance(runs[0], StudyResult) and runs[0].pruned == 0


def test_resumes_from_its_sqlite_storage(tmp_path, capsys):
    x, y = blobs(n=120)
    db = tmp_path / "study.db"
    kwargs = dict(x=x, y=y, validation_split=0.25, epochs=2, batch_size=16, storage=db, study_name="resume",
                  pruner=None, seed=1)
    first = tpe_search(build_for_search, SPACE, trials=3, **kwargs)
    assert capsys.readouterr().out.count("trial ") == 3
    second = tpe_search(build_for_search, SPACE, trials=5, **kwargs)  # an interrupted study asked for 5
    assert capsys.readouterr().out.count("trial ") == 2               # only the missing two ran
    assert len(second) == 5 and sorted(t.index for t in second) == [0, 1, 2, 3, 4]
    earlier = {t.index: (t.params, t.score, t.history) for t in first}
    assert {t.index: (t.params, t.score, t.history) for t in second if t.index < 3} == earlier
    again = tpe_search(build_for_search, SPACE, trials=5, **kwargs)  # finished: nothing runs
    assert capsys.readouterr().out == "" and len(again) == 5
    assert db.stat().st_size > 0


@pytest.mark.parametrize("pruner", ["median", "halving"])
def test_pruning_stops_bad_learning_curves(pruner):
    x, y = blobs(n=160)
    space = {"lr": Choice([1e-5, 0.05]), "hidden": 16}
    result = tpe_search(build_for_search, space, trials=10, x=x, y=y, validation_data=(x, y), epochs=8,
                        monitor="val_accuracy", sampler="random", pruner=pruner, seed=0, verbose=0)
    pruned = [t for t in result if t.pruned]
    assert result.pruned == len(pruned) > 0
    assert all(t.epochs_run < 8 for t in pruned)
    # Past the median pruner's 3 start-up trials, no trial of the rate that cannot learn runs to the end.
    hopeless = [t for t in result if t.params["lr"] == 1e-5 and t.index >= 3]
    assert hopeless and all(t.pruned and t.epochs_run <= 2 for t in hopeless)
    assert result.best.params["lr"] == 0.05 and not result.best.pruned and result.best.epochs_run == 8
    assert result.best_score > 0.9


def test_best_so_far_is_monotone_and_failed_trials_rank_last():
    x, y = blobs(n=60)
    result = tpe_search(build_for_search, {"lr": Choice([0.01]), "hidden": Choice([8, -1])}, trials=6, x=x, y=y,
                        validation_split=0.25, epochs=1, sampler="random", pruner=None, seed=1, verbose=0)
    failed = [t for t in result if t.error]
    assert failed and result.trials[-len(failed):] == failed
    curve = result.best_so_far()
    finite = [v for v in curve if not math.isnan(v)]
    assert len(curve) == 6 and finite == sorted(finite, reverse=True)  # val_loss: the best only goes down


def test_parallel_trials_share_the_storage(tmp_path):
    x, y = blobs(n=120)
    result = tpe_search(build_for_search, SPACE, trials=4, x=x, y=y, validation_split=0.25, epochs=2,
                        storage=tmp_path / "p.db", n_jobs=2, pruner=None, verbose=0)
    assert len(result) == 4 and sorted(t.index for t in result) == [0, 1, 2, 3]
    assert all(not t.error and math.isfinite(t.score) for t in result)
    assert len({t.params["lr"] for t in result}) == 4  # the two processes did not propose the same points


def test_plots_are_png_files(tmp_path):
    x, y = blobs(n=120)
    result = tpe_search(build_for_search, SPACE, trials=4, x=x, y=y, validation_split=0.25, epochs=2,
                        pruner=None, verbose=0)
    written = result.plot(tmp_path / "plots")
    assert sorted(p.name for p in written) == ["optimization_history.png", "param_importances.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    assert [p.name for p in plot_study(result.study, tmp_path / "again")] == [p.name for p in written]


def test_argument_errors(tmp_path):
    x, y = blobs(n=20)
    with pytest.raises(ValueError, match="tpe_search: n_jobs > 1 needs a storage"):
        tpe_search(build_for_search, SPACE, x=x, y=y, validation_split=0.5, n_jobs=2)
    with pytest.raises(ValueError, match="sampler must be 'tpe' or 'random', got 'grid'"):
        tpe_search(build_for_search, SPACE, x=x, y=y, validation_split=0.5, sampler="grid")
    with pytest.raises(ValueError, match="pruner must be 'median', 'halving' or None, got 'hyperband'"):
        tpe_search(build_for_search, SPACE, x=x, y=y, validation_split=0.5, pruner="hyperband")
    with pytest.raises(ValueError, match="tpe_search: monitor='val_loss' needs validation_data"):
        tpe_search(build_for_search, SPACE, x=x, y=y)
    db = tmp_path / "d.db"
    tpe_search(build_for_search, SPACE, trials=1, x=x, y=y, validation_split=0.5, epochs=1, storage=db, verbose=0)
    with pytest.raises(ValueError, match="is a minimize study, but monitor='val_accuracy' asks to maximize"):
        tpe_search(build_for_search, SPACE, trials=2, x=x, y=y, validation_split=0.5, storage=db,
                   monitor="val_accuracy", verbose=0)
