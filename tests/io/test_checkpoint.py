"""Checkpoints: exact resumption (also after SIGKILL), atomicity, all-or-nothing restore."""
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import ember
from ember import nn, optim
from ember.io import (
    CheckpointError,
    CheckpointManager,
    SafetensorsError,
    load_checkpoint,
    load_weights,
    read_checkpoint,
    save_checkpoint,
)
from ember.io.checkpoint import STALE_AFTER_SECONDS
from ember.io.safetensors_io import read_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
WORKER = pathlib.Path(__file__).with_name("_train_worker.py")


def _setup(seed=0, hidden=16):
    ember.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, hidden), nn.Tanh(), nn.Dropout(0.3), nn.Linear(hidden, 2))
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.schedule.StepLR(opt, step_size=3, gamma=0.5)
    return model, opt, sched


def _train(model, opt, sched, steps):
    data = np.random.default_rng(1)
    x = ember.tensor(data.standard_normal((32, 6)).astype(np.float32))
    for _ in range(steps):
        batch = ember.randint(0, 32, (8,))
        loss = (model(x[batch]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


def _weights(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def _assert_bitwise_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key


def test_resume_in_process_is_bit_for_bit(tmp_path):
    reference = _setup()
    _train(*reference, 10)
    run = _setup()
    _train(*run, 4)
    save_checkpoint(tmp_path / "c.safetensors", *run, step=3, epoch=1, metric=0.5, extra={"note": "hi"})
    _train(*run, 100)  # wander off; the checkpoint must bring everything back
    resumed = _setup(seed=99)
    info = load_checkpoint(tmp_path / "c.safetensors", *resumed)
    assert (info.step, info.epoch, info.metric, info.extra) == (3, 1, 0.5, {"note": "hi"})
    _train(*resumed, 6)
    _assert_bitwise_equal(_weights(resumed[0]), _weights(reference[0]))
    assert resumed[2].state_dict() == reference[2].state_dict()
    assert resumed[1].param_groups[0]["lr"] == reference[1].param_groups[0]["lr"]
    ref_state, res_state = reference[1].state_dict()["state"], resumed[1].state_dict()["state"]
    for index in ref_state:
        assert ref_state[index]["step"] == res_state[index]["step"]
        np.testing.assert_array_equal(ref_state[index]["exp_avg_sq"], res_state[index]["exp_avg_sq"])


def test_checkpoint_layout_is_plain_safetensors(tmp_path):
    model, opt, sched = _setup()
    _train(model, opt, sched, 1)
    save_checkpoint(tmp_path / "c.safetensors", model, opt, sched, step=0)
    arrays, metadata = read_file(tmp_path / "c.safetensors")
    assert "model/0.weight" in arrays and "optimizer/state/0/exp_avg" in arrays
    assert metadata["ember.kind"] == "checkpoint"
    assert '"step": 0' in metadata["ember.checkpoint"]
    fresh = _setup(seed=5)[0]
    load_weights(fresh, tmp_path / "c.safetensors")  # a checkpoint is also a weights file
    _assert_bitwise_equal(_weights(fresh), _weights(model))


def test_mismatched_model_names_the_file_and_changes_nothing(tmp_path):
    save_checkpoint(tmp_path / "c.safetensors", *_setup(hidden=16), step=1)
    model, opt, sched = _setup(hidden=12)
    _train(model, opt, sched, 2)
    before, opt_before, rng_before = _weights(model), opt.state_dict(), ember.get_rng_state()
    with pytest.raises(CheckpointError, match=r"(?s)c\.safetensors: cannot restore.*0\.weight"):
        load_checkpoint(tmp_path / "c.safetensors", model, opt, sched)
    _assert_bitwise_equal(_weights(model), before)
    assert opt.state_dict()["param_groups"] == opt_before["param_groups"]
    assert ember.get_rng_state() == rng_before


def test_optimizer_mismatch_rolls_the_model_back(tmp_path):
    source = _setup()
    _train(*source, 2)
    save_checkpoint(tmp_path / "c.safetensors", *source, step=1)
    model, _, _ = _setup(seed=3)
    other_opt = optim.Adam([{"params": [model[0].weight, model[0].bias]},
                            {"params": [model[3].weight, model[3].bias]}], lr=1e-2)
    before = _weights(model)
    with pytest.raises(CheckpointError, match=r"c\.safetensors: cannot restore .*param groups.*nothing was changed"):
        load_checkpoint(tmp_path / "c.safetensors", model, other_opt)
    _assert_bitwise_equal(_weights(model), before)


@pytest.mark.parametrize("cut", [1, 100, 10_000])
def test_truncated_checkpoint_names_the_file_and_changes_nothing(tmp_path, cut):
    path = tmp_path / "c.safetensors"
    save_checkpoint(path, *_setup(), step=1)
    path.write_bytes(path.read_bytes()[:-cut])
    model, opt, sched = _setup(seed=3)
    before = _weights(model)
    with pytest.raises(SafetensorsError, match="c.safetensors"):
        load_checkpoint(path, model, opt, sched)
    _assert_bitwise_equal(_weights(model), before)


def test_missing_parts_and_wrong_kinds_of_file(tmp_path):
    model, opt, _ = _setup()
    save_checkpoint(tmp_path / "opt_only.safetensors", optimizer=opt, rng=False)
    with pytest.raises(CheckpointError, match="a model was given to restore but the checkpoint holds no model"):
        load_checkpoint(tmp_path / "opt_only.safetensors", model)
    with pytest.raises(CheckpointError, match="no RNG state"):
        load_checkpoint(tmp_path / "opt_only.safetensors", optimizer=opt)
    assert load_checkpoint(tmp_path / "opt_only.safetensors", optimizer=opt, restore_rng=False).model_state is None
    ember.save(model.state_dict(), tmp_path / "weights.safetensors")
    with pytest.raises(CheckpointError, match="not an Ember checkpoint"):
        read_checkpoint(tmp_path / "weights.safetensors")
    with pytest.raises(TypeError, match="step must be an int"):
        save_checkpoint(tmp_path / "x.safetensors", model, step=1.5)
    with pytest.raises(TypeError, match=r'save_checkpoint: cannot save extra\["callback"\], a function'):
        save_checkpoint(tmp_path / "x.safetensors", model, extra={"callback": lambda: 0})
    assert not (tmp_path / "x.safetensors").exists()


def test_extra_state_with_arrays_round_trips(tmp_path):
    extra = {"history": [0.5, 0.25], "perm": np.arange(5), "best": float("inf"), "ids": {3: "a"}}
    save_checkpoint(tmp_path / "c.safetensors", step=2, extra=extra, rng=False)
    back = read_checkpoint(tmp_path / "c.safetensors").extra
    assert back["history"] == [0.5, 0.25] and back["best"] == float("inf") and back["ids"] == {3: "a"}
    np.testing.assert_array_equal(back["perm"], np.arange(5))


# ---------------------------------------------------------------- manager
def test_manager_keeps_the_newest_and_the_best(tmp_path):
    model, opt, sched = _setup()
    manager = CheckpointManager(tmp_path, keep=2, mode="min")
    assert manager.latest() is None and manager.best() is None
    assert manager.restore(model) is None
    for step, loss in [(10, 0.9), (20, 0.3), (30, 0.8), (40, 0.7), (50, 0.75)]:
        manager.save(step, model, opt, sched, metric=loss)
    assert [c.step for c in manager.checkpoints()] == [20, 40, 50]
    assert manager.latest() == manager.path_for(50)
    assert manager.best() == manager.path_for(20)
    assert manager.restore(model, opt, sched, which="best").step == 20
    maximise = CheckpointManager(tmp_path / "acc", keep=1, mode="max")
    for step, acc in [(1, 0.5), (2, 0.9), (3, 0.6)]:
        maximise.save(step, model, metric=acc)
    assert [c.step for c in maximise.checkpoints()] == [2, 3]
    assert maximise.best() == maximise.path_for(2)
    maximise.save(4, model, metric=float("nan"))  # a diverged step is never the best
    assert maximise.best() == maximise.path_for(2)
    assert read_checkpoint(maximise.path_for(4)).metric is None


def test_manager_skips_a_corrupt_latest_with_a_warning_and_cleans_temporaries(tmp_path):
    model = _setup()[0]
    manager = CheckpointManager(tmp_path, keep=None)
    manager.save(1, model)
    manager.save(2, model)
    manager.path_for(2).write_bytes(manager.path_for(2).read_bytes()[:50])
    with pytest.warns(UserWarning, match=r"ckpt-00000002\.safetensors.*skipped"):
        assert manager.latest() == manager.path_for(1)
    stale = tmp_path / ".ckpt-00000003.safetensors.x1y2.tmp"
    stale.write_bytes(b"half-written")
    in_progress = tmp_path / ".ckpt-00000004.safetensors.z9.tmp"  # another process writing now
    in_progress.write_bytes(b"being written")
    old = time.time() - 2 * STALE_AFTER_SECONDS
    os.utime(stale, (old, old))
    CheckpointManager(tmp_path)
    assert not stale.exists() and in_progress.exists()


def _flip_data_byte(path):
    """One bit flipped in the last byte of the tensor data (the header stays readable)."""
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x04
    path.write_bytes(bytes(data))


def _damage_state(path, **changes):
    """The checkpoint's state JSON edited (checksums recomputed): only the state checks can tell."""
    import json

    from ember.io import safetensors_io as st

    arrays, metadata = st.read_file(path)
    del metadata[st.CHECKSUM_KEY]
    metadata["ember.checkpoint"] = json.dumps(json.loads(metadata["ember.checkpoint"]) | changes)
    st.write_file(path, arrays, metadata, checksums=True)


@pytest.mark.parametrize("damage", ["bit flip in the data", "rng state", "truncated"])
def test_restore_skips_a_damaged_newest_checkpoint_and_resumes_from_the_one_before(tmp_path, damage):
    model, opt, sched = _setup()
    manager = CheckpointManager(tmp_path, keep=None)
    _train(model, opt, sched, 2)
    manager.save(2, model, opt, sched)
    expected = _weights(model)
    _train(model, opt, sched, 2)
    manager.save(4, model, opt, sched)
    newest = manager.path_for(4)
    if damage == "bit flip in the data":
        _flip_data_byte(newest)
        reason = "checksum mismatch in tensor"
    elif damage == "rng state":
        _damage_state(newest, rng={"x": 1})
        reason = "unknown generator 'x'"
    else:
        newest.write_bytes(newest.read_bytes()[:-5])
        reason = "truncated"
    resumed = _setup(seed=7)
    skipped = rf"(?s)ckpt-00000004\.safetensors: .*{reason}.*checkpoint ckpt-00000004\.safetensors skipped"
    with pytest.warns(UserWarning, match=skipped):
        restored = manager.restore(*resumed)
    assert restored.step == 2
    _assert_bitwise_equal(_weights(resumed[0]), expected)


def test_restore_best_skips_a_damaged_best(tmp_path):
    model = _setup()[0]
    manager = CheckpointManager(tmp_path, keep=None, mode="min")
    for step, loss in [(1, 0.5), (2, 0.1), (3, 0.9)]:
        manager.save(step, model, metric=loss)
    _flip_data_byte(manager.path_for(2))
    with pytest.warns(UserWarning, match="ckpt-00000002"):
        assert manager.restore(model, which="best").step == 1


def test_restore_raises_when_every_checkpoint_is_damaged_or_does_not_fit(tmp_path):
    manager = CheckpointManager(tmp_path, keep=None)
    manager.save(1, _setup()[0])
    with pytest.raises(CheckpointError, match="cannot restore"):  # intact, but another model: not skipped
        manager.restore(_setup(hidden=5)[0])
    _flip_data_byte(manager.path_for(1))
    with pytest.warns(UserWarning, match="ckpt-00000001"), \
            pytest.raises(CheckpointError, match="no intact latest checkpoint"):
        manager.restore(_setup()[0])
    manager.path_for(1).write_bytes(b"junk")  # not even a readable header: still not a fresh start
    with pytest.warns(UserWarning, match="ckpt-00000001"), \
            pytest.raises(CheckpointError, match="no intact latest checkpoint"):
        manager.restore(_setup()[0])


def test_a_killed_save_leaves_a_temporary_file_that_the_next_save_removes(tmp_path):
    code = (
        "import sys, time\n"
        "from ember.io.atomic import atomic_write\n"
        "with atomic_write(sys.argv[1]) as f:\n"
        "    f.write(b'half a checkpoint'); f.flush(); print('writing', flush=True); time.sleep(60)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    manager = CheckpointManager(tmp_path, keep=None)
    writer = subprocess.Popen([sys.executable, "-c", code, str(manager.path_for(3))], stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        assert writer.stdout.readline() == "writing\n"
        temporaries = list(tmp_path.glob(".ckpt-00000003.safetensors.*.tmp"))
        assert len(temporaries) == 1
        manager.save(2, _setup()[0])  # a live writer's file is left alone
        assert temporaries[0].exists()
        writer.kill()
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert temporaries[0].exists()  # SIGKILL: nothing ran to clean up
    manager.save(4, _setup()[0])  # the next save, of another step, sees the writer is gone
    assert not temporaries[0].exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-00000002.safetensors", "ckpt-00000004.safetensors"]


def test_manager_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="keep must be a positive int"):
        CheckpointManager(tmp_path, keep=0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        CheckpointManager(tmp_path, mode="best")
    with pytest.raises(ValueError, match="step must be a non-negative int"):
        CheckpointManager(tmp_path).save(-1)
    with pytest.raises(ValueError, match="which must be"):
        CheckpointManager(tmp_path).restore(which="first")


# ---------------------------------------------------------------- kill and resume
def _worker(directory, output, sleep, **popen):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, str(WORKER), str(directory), "40", "5", str(sleep), str(output)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT, **popen)


def _finish(process):
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, out + err
    return out


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_run_then_resume_matches_an_uninterrupted_run(tmp_path):
    _finish(_worker(tmp_path / "reference", tmp_path / "reference.safetensors", 0))

    victim = _worker(tmp_path / "run", tmp_path / "run.safetensors", 0.1)
    try:
        for line in victim.stdout:
            if line.startswith("saved 14"):
                break
        else:
            pytest.fail("the worker ended before its third checkpoint: " + victim.stderr.read())
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    finally:
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    assert victim.returncode == -signal.SIGKILL
    assert not (tmp_path / "run.safetensors").exists()
    killed_at = CheckpointManager(tmp_path / "run").checkpoints()[-1].step
    assert 14 <= killed_at < 39

    out = _finish(_worker(tmp_path / "run", tmp_path / "run.safetensors", 0))
    assert out.startswith(f"start {killed_at + 1}\n")
    reference = read_file(tmp_path / "reference.safetensors")[0]
    resumed = read_file(tmp_path / "run.safetensors")[0]
    assert reference.keys() == resumed.keys()
    for key in reference:  # weights, Adam moments and scheduler state alike
        assert np.array_equal(reference[key], resumed[key]), key
