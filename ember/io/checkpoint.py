"""Checkpoints: everything needed to resume training exactly, in one atomic file.

A checkpoint is a safetensors file. The model's parameters and buffers are its
tensors under ``model/`` (so :func:`ember.io.load_weights` reads a checkpoint
like a weights file); optimizer and scheduler states are split by
:mod:`ember.io.tree` into arrays (under ``optimizer/`` and ``scheduler/``) and a
JSON skeleton; step, epoch, metric, RNG state and user ``extra`` go in the same
JSON, stored in the header's metadata. Nothing is pickled.

Resuming is bit-for-bit: weights, optimizer moments and step counts, scheduler
position and Ember's random generators are restored to the values they had when
the checkpoint was written, so the run continues as if it had never stopped (the
data order too, when it is drawn from Ember's generator or replayed with the
loader's ``set_epoch``).

:class:`CheckpointManager` keeps a directory of numbered checkpoints: the newest
``keep`` plus the best by a metric, ``latest()`` and ``best()`` to find them,
and ``restore()`` to load the newest one that reads back intact.

Every file carries checksums (see :mod:`ember.io.safetensors_io`) and its state
JSON is validated on load, so damage raises :class:`~ember.io.SafetensorsError`
(the bytes: truncation, a checksum mismatch, a malformed header) or
:class:`CheckpointError` (the checkpoint state), both naming the file, instead
of resuming from wrong values.
"""
from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import backend
from ..tensor import constant
from . import safetensors_io, tree
from .atomic import remove_stale_temporaries
from .host import to_host_array
from .safetensors_io import SafetensorsError
from .save import KIND_KEY

#: A temporary file untouched this long is a crashed write, not another process's save.
STALE_AFTER_SECONDS = 300.0

MODEL_PREFIX = "model/"
_STATE_KEY = "ember.checkpoint"
_FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint's state is corrupt, or it cannot be restored into the given objects.

    The message names the file and the problem.
    """


@dataclass
class Checkpoint:
    """What :func:`load_checkpoint` read besides the states it restored.

    Attributes:
        path: the file.
        step, epoch, metric: as saved (None when not given).
        extra: the user's ``extra`` dict, rebuilt (arrays as NumPy arrays, tensors as tensors).
        model_state: ``{name: Tensor}`` of the model part (None when absent).
        optimizer_state, scheduler_state, rng_state: the states as saved (None when absent).
    """

    path: Path
    step: int | None = None
    epoch: int | None = None
    metric: float | None = None
    extra: dict = field(default_factory=dict)
    model_state: dict | None = None
    optimizer_state: Any = None
    scheduler_state: Any = None
    rng_state: Any = None


def save_checkpoint(path: str | os.PathLike, model=None, optimizer=None, scheduler=None, *,
                    step: int | None = None, epoch: int | None = None, metric: float | None = None,
                    extra: dict | None = None, rng: bool = True) -> Path:
    """Write model, optimizer, scheduler, counters and RNG state to one file, atomically.

    Args:
        path: the file to write (replaced atomically: a crash leaves the old one).
        model: a :class:`~ember.nn.Module` (its ``state_dict()`` is saved).
        optimizer: anything with ``state_dict()`` returning dicts, lists, numbers
            and arrays (every :mod:`ember.optim` optimizer).
        scheduler: a learning-rate scheduler (``state_dict()`` likewise).
        step, epoch: counters to resume from.
        metric: a number used by :class:`CheckpointManager` to pick the best checkpoint
            (NaN or infinite values are stored as None: they are never the best).
        extra: any other JSON-like state (arrays allowed), returned by :func:`load_checkpoint`.
        rng: also save Ember's random generator state (default True).

    Returns:
        The path written.

    Example:
        >>> import os, tempfile
        >>> from ember import nn
        >>> net = nn.Linear(2, 1)
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        >>> _ = save_checkpoint(path, net, step=10)
        >>> load_checkpoint(path, net).step
        10
    """
    arrays: dict = {}
    state: dict[str, Any] = {"version": _FORMAT_VERSION, "step": _int_or_none(step, "step"),
                             "epoch": _int_or_none(epoch, "epoch"),
                             "metric": _finite_or_none(metric)}
    if model is not None:
        names = []
        for name, value in model.state_dict().items():
            arrays[MODEL_PREFIX + name] = to_host_array(value, f"model parameter {name!r}")
            names.append(name)
        state["model"] = names  # the module's order; the file sorts tensors by dtype
    for part, obj in (("optimizer", optimizer), ("scheduler", scheduler)):
        if obj is not None:
            state[part], part_arrays = tree.flatten(obj.state_dict(), part + "/", root=f"{part}.state_dict()",
                                                    op="save_checkpoint")
            arrays.update(part_arrays)
    if extra is not None:
        if not isinstance(extra, dict):
            raise TypeError(f"save_checkpoint: extra must be a dict, got {type(extra).__name__}")
        state["extra"], part_arrays = tree.flatten(extra, "extra/", root="extra", op="save_checkpoint")
        arrays.update(part_arrays)
    if rng:
        state["rng"], part_arrays = tree.flatten(backend.get_rng_state(), "rng/", root="rng", op="save_checkpoint")
        arrays.update(part_arrays)
    metadata = {KIND_KEY: "checkpoint", _STATE_KEY: json.dumps(state, allow_nan=False)}
    safetensors_io.write_file(path, arrays, metadata, checksums=True)
    return Path(path)


def _finite_or_none(metric):
    # A diverged run's NaN loss must never become the "best" checkpoint.
    if metric is None:
        return None
    metric = float(metric)
    return metric if math.isfinite(metric) else None


def _int_or_none(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"save_checkpoint: {name} must be an int, got {value!r}")
    return int(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON true is a Python bool


def _is_finite_number(value: Any) -> bool:
    """A metric CheckpointManager can compare: an int or float with a finite float value (10**400 has none)."""
    if not (_is_int(value) or isinstance(value, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _parse_state(metadata: dict, source: str) -> dict:
    """The checkpoint state JSON of a file's metadata, with its counters, metric and model names checked."""
    if metadata.get(KIND_KEY) != "checkpoint" or _STATE_KEY not in metadata:
        raise CheckpointError(f"{source}: not an Ember checkpoint (a plain weights file? "
                              "load it with ember.io.load_weights)")
    try:
        state = json.loads(metadata[_STATE_KEY])
    except (ValueError, RecursionError) as err:
        why = "nested too deeply" if isinstance(err, RecursionError) else err
        raise CheckpointError(f"{source}: the checkpoint state in the header is not valid JSON ({why})") from None
    if not isinstance(state, dict) or state.get("version") != _FORMAT_VERSION:
        version = state.get("version") if isinstance(state, dict) else state
        raise CheckpointError(f"{source}: unsupported checkpoint format version {safetensors_io.short_repr(version)}")

    def corrupt(what: str) -> CheckpointError:
        return CheckpointError(f"{source}: the checkpoint state in the header is corrupt ({what})")

    for counter in ("step", "epoch"):
        value = state.get(counter)
        if value is not None and not _is_int(value):
            raise corrupt(f"{counter} is {safetensors_io.short_repr(value)}, expected an integer or null")
    metric = state.get("metric")
    if metric is not None and not _is_finite_number(metric):
        raise corrupt(f"metric is {safetensors_io.short_repr(metric)}, expected a finite number or null")
    names = state.get("model")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)
                                  and len(set(names)) == len(names)):
        raise corrupt(f"the model's tensor names are {safetensors_io.short_repr(names)}, expected a list of "
                      "distinct strings")
    return state


#: The generators of :func:`ember.backend.get_rng_state` (besides "seed"), with a NumPy bit
#: generator that can take their state on trial (None: CuPy's, which need CuPy to check).
_RNG_STREAMS = {"numpy": np.random.PCG64, backend._INTEGER_STREAM: np.random.MT19937, "cupy": None}


def _check_rng_state(rng: Any, source: str) -> None:
    """Refuse an RNG state that ``set_rng_state`` would misread: it would clear the generators, not resume them."""
    def corrupt(what: str) -> CheckpointError:
        return CheckpointError(f"{source}: the checkpoint's RNG state is corrupt ({what}); restoring it would "
                               "not resume the random streams (pass restore_rng=False to load the rest)")

    if not isinstance(rng, dict):
        raise corrupt(f"a {type(rng).__name__}, expected a dict")
    seed = rng.get("seed")
    if seed is not None and not (_is_int(seed) and seed >= 0):
        raise corrupt(f"seed {safetensors_io.short_repr(seed)}")
    for name, value in rng.items():
        if name == "seed":
            continue
        if name not in _RNG_STREAMS:
            raise corrupt(f"unknown generator {safetensors_io.short_repr(name)}, expected {sorted(_RNG_STREAMS)}")
        if not isinstance(value, dict):
            raise corrupt(f"generator {name!r} has state {safetensors_io.short_repr(value)}")
        if _RNG_STREAMS[name] is not None:
            try:  # NumPy validates a state as it takes it: a scratch generator checks it without side effects
                _RNG_STREAMS[name]().state = value
            except Exception as err:  # noqa: BLE001 - whatever NumPy refuses, the state is unusable
                detail = safetensors_io.short_repr(str(err))
                raise corrupt(f"generator {name!r}: {type(err).__name__}: {detail}") from None


def _checkpoint_from(arrays: dict, metadata: dict, source: str, path, wrap=None) -> Checkpoint:
    """A :class:`Checkpoint` from a file's tensors and metadata (``wrap`` makes the tensors)."""
    state = _parse_state(metadata, source)
    try:
        parts = {part: tree.unflatten(state.get(part), arrays, source, wrap)
                 for part in ("extra", "optimizer", "scheduler", "rng")}
    except ValueError as err:  # tree names the file and the problem
        raise CheckpointError(str(err)) from None
    if parts["extra"] is None:
        parts["extra"] = {}
    for part, expected in (("extra", "a dict"), ("optimizer", "a state_dict() dict"),
                           ("scheduler", "a state_dict() dict")):
        if parts[part] is not None and not isinstance(parts[part], dict):
            raise CheckpointError(f"{source}: the checkpoint state in the header is corrupt (its {part} is a "
                                  f"{type(parts[part]).__name__}, expected {expected})")
    if parts["rng"] is not None:
        _check_rng_state(parts["rng"], source)
    checkpoint = Checkpoint(path=path, step=state.get("step"), epoch=state.get("epoch"), metric=state.get("metric"),
                            extra=parts["extra"], optimizer_state=parts["optimizer"],
                            scheduler_state=parts["scheduler"], rng_state=parts["rng"])
    names = state.get("model")
    if names is not None:
        missing = [n for n in names if MODEL_PREFIX + n not in arrays]
        if missing:
            raise CheckpointError(f"{source}: the header lists model tensors the file does not hold: "
                                  f"{safetensors_io.short_repr(missing)}")
        make = wrap or (lambda array, device: constant(array))
        checkpoint.model_state = {n: make(arrays[MODEL_PREFIX + n], "cpu") for n in names}
    return checkpoint


def read_checkpoint(path: str | os.PathLike, *, verify: bool = True) -> Checkpoint:
    """Read and validate a checkpoint file without restoring anything.

    Args:
        path: the file.
        verify: check the checksums of its tensors and header (False skips that pass).

    Raises:
        SafetensorsError: the file is truncated, damaged (a checksum does not
            match) or not safetensors.
        CheckpointError: it is not a checkpoint, or its state is corrupt.
    """
    arrays, metadata = safetensors_io.read_file(path, verify=verify)
    return _checkpoint_from(arrays, metadata, os.fspath(path), Path(path))


def checkpoint_contents(arrays: dict, metadata: dict, source: str, wrap=None) -> dict:
    """What ``ember.load`` returns for a checkpoint file: its parts as one dict.

    Keys: ``"model"`` (an ``OrderedDict`` of tensors, for ``model.load_state_dict``),
    ``"optimizer"``, ``"scheduler"``, ``"rng"`` (None when not saved), ``"step"``,
    ``"epoch"``, ``"metric"`` and ``"extra"``.
    """
    checkpoint = _checkpoint_from(arrays, metadata, source, None, wrap)
    model = None if checkpoint.model_state is None else OrderedDict(checkpoint.model_state)
    return {"model": model, "optimizer": checkpoint.optimizer_state, "scheduler": checkpoint.scheduler_state,
            "rng": checkpoint.rng_state, "step": checkpoint.step, "epoch": checkpoint.epoch,
            "metric": checkpoint.metric, "extra": checkpoint.extra}


def load_checkpoint(path: str | os.PathLike, model=None, optimizer=None, scheduler=None, *,
                    restore_rng: bool = True, strict: bool = True, verify: bool = True) -> Checkpoint:
    """Restore a checkpoint into the given objects: all of them, or none.

    The file is read and validated completely first; then the model, optimizer,
    scheduler and RNG are restored in turn. If any of them rejects its state
    (a shape mismatch, a different optimizer), those already restored are put
    back as they were and :class:`CheckpointError` names the file and the problem.

    Args:
        path: the checkpoint file.
        model, optimizer, scheduler: objects to restore (each is optional, but
            one passed in whose state the file lacks is an error).
        restore_rng: also restore Ember's random generators (default True).
        strict: the model's names must match exactly.
        verify: check the file's checksums (False skips that pass over the data).

    Returns:
        The :class:`Checkpoint` (step, epoch, metric, extra, raw states).

    Raises:
        SafetensorsError: the file is truncated or damaged (see :func:`read_checkpoint`).
        CheckpointError: its state is corrupt, or does not fit the objects given.
    """
    return _restore(read_checkpoint(path, verify=verify), model, optimizer, scheduler, restore_rng, strict)


def _restore(checkpoint: Checkpoint, model, optimizer, scheduler, restore_rng: bool, strict: bool) -> Checkpoint:
    """Put a validated checkpoint into the objects, all of them or none."""
    source = os.fspath(checkpoint.path)
    for part, obj, state in (("model", model, checkpoint.model_state),
                             ("optimizer", optimizer, checkpoint.optimizer_state),
                             ("scheduler", scheduler, checkpoint.scheduler_state)):
        if obj is not None and state is None:
            raise CheckpointError(f"{source}: a {part} was given to restore but the checkpoint holds no {part} state")
    if restore_rng and checkpoint.rng_state is None:
        raise CheckpointError(f"{source}: the checkpoint holds no RNG state; pass restore_rng=False")
    undo = []
    try:
        if model is not None:
            before = {name: t._data.copy() for name, t in model.state_dict().items()}
            model.load_state_dict(checkpoint.model_state, strict=strict)
            undo.append(lambda: model.load_state_dict(before, strict=False))
        for obj, state in ((optimizer, checkpoint.optimizer_state), (scheduler, checkpoint.scheduler_state)):
            if obj is not None:
                previous = obj.state_dict()
                obj.load_state_dict(state)
                undo.append(lambda obj=obj, previous=previous: obj.load_state_dict(previous))
        if restore_rng:
            rng_before = backend.get_rng_state()
            undo.append(lambda: backend.set_rng_state(rng_before))
            backend.set_rng_state(checkpoint.rng_state)
    except Exception as err:
        for restore in reversed(undo):
            restore()
        raise CheckpointError(f"{source}: cannot restore the checkpoint ({type(err).__name__}: {err}); "
                              "nothing was changed") from err
    return checkpoint


# ---------------------------------------------------------------------- directory of checkpoints
@dataclass(frozen=True)
class CheckpointInfo:
    """One checkpoint of a :class:`CheckpointManager`: its step, file and metric."""

    step: int
    path: Path
    metric: float | None


class CheckpointManager:
    """A directory of numbered checkpoints with ``latest`` and ``best`` handling.

    Each :meth:`save` writes ``<prefix>-<step>.safetensors`` atomically, then
    deletes the oldest checkpoints beyond ``keep`` — never the best one, so
    ``best()`` survives pruning. The directory itself is the index (there is no
    separate pointer file that a crash could leave inconsistent).

    Args:
        directory: where the checkpoints go (created if missing).
        keep: how many of the newest checkpoints to keep (None keeps all).
        mode: ``"min"`` when a lower metric is better (a loss), ``"max"`` otherwise.
        prefix: the file name prefix.

    Example:
        >>> import tempfile
        >>> from ember import nn
        >>> net = nn.Linear(2, 1)
        >>> manager = CheckpointManager(tempfile.mkdtemp(), keep=2)
        >>> for step, loss in [(1, 0.9), (2, 0.5), (3, 0.7), (4, 0.6)]:
        ...     _ = manager.save(step, net, metric=loss)
        >>> [c.step for c in manager.checkpoints()], manager.best().name
        ([2, 3, 4], 'ckpt-00000002.safetensors')
        >>> manager.restore(net).step
        4
    """

    def __init__(self, directory: str | os.PathLike, keep: int | None = 3, mode: str = "min",
                 prefix: str = "ckpt"):
        if keep is not None and (not isinstance(keep, int) or keep < 1):
            raise ValueError(f"CheckpointManager: keep must be a positive int or None, got {keep!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"CheckpointManager: mode must be 'min' or 'max', got {mode!r}")
        if not re.fullmatch(r"[\w.-]+", prefix):
            raise ValueError(f"CheckpointManager: prefix must be a plain file name part, got {prefix!r}")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.keep, self.mode, self.prefix = keep, mode, prefix
        self._pattern = re.compile(re.escape(prefix) + r"-(\d+)\.safetensors")
        self._remove_stale_temporaries()

    def _remove_stale_temporaries(self) -> None:
        # Those of a writer on this host that has exited, and any untouched for STALE_AFTER_SECONDS
        # (another host's, or an older Ember's without a pid): younger ones may be writes in progress.
        remove_stale_temporaries(self.directory, self.prefix + "-", min_age=STALE_AFTER_SECONDS)

    def path_for(self, step: int) -> Path:
        """The file of the checkpoint of ``step``."""
        return self.directory / f"{self.prefix}-{step:08d}.safetensors"

    def save(self, step: int, model=None, optimizer=None, scheduler=None, *, epoch: int | None = None,
             metric: float | None = None, extra: dict | None = None, rng: bool = True) -> Path:
        """Write the checkpoint of ``step`` (see :func:`save_checkpoint`), then prune old ones."""
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"CheckpointManager.save: step must be a non-negative int, got {step!r}")
        self._remove_stale_temporaries()  # a save killed earlier left its temporary file of another step
        path = save_checkpoint(self.path_for(step), model, optimizer, scheduler, step=step, epoch=epoch,
                               metric=metric, extra=extra, rng=rng)
        self._prune()
        return path

    def checkpoints(self) -> list[CheckpointInfo]:
        """The checkpoints on disk, oldest first (unreadable files are skipped)."""
        found = []
        for entry in self.directory.iterdir():
            match = self._pattern.fullmatch(entry.name)
            if match is None:
                continue
            try:
                state = _parse_state(safetensors_io.read_metadata(entry), os.fspath(entry))
            except (ValueError, CheckpointError, OSError) as err:
                # A damaged file must not hide the good ones: resuming from the previous
                # checkpoint beats not resuming at all, but the user has to know.
                warnings.warn(f"{err}; checkpoint {entry.name} skipped", stacklevel=2)
                continue
            found.append(CheckpointInfo(int(match.group(1)), entry, state.get("metric")))
        return sorted(found, key=lambda info: info.step)

    def latest(self) -> Path | None:
        """The newest checkpoint, or None when there is none."""
        found = self.checkpoints()
        return found[-1].path if found else None

    def best(self) -> Path | None:
        """The checkpoint with the best metric (latest among ties), or None."""
        scored = [c for c in self.checkpoints() if c.metric is not None]
        if not scored:
            return None
        sign = 1.0 if self.mode == "min" else -1.0
        return min(scored, key=lambda c: (sign * c.metric, -c.step)).path

    def restore(self, model=None, optimizer=None, scheduler=None, *, which: str = "latest",
                restore_rng: bool = True, strict: bool = True, verify: bool = True) -> Checkpoint | None:
        """Load the newest (``which="latest"``) or best (``"best"``) intact checkpoint; None when there is none yet.

        A damaged checkpoint (truncated, a checksum mismatch, a corrupt header or
        state) is skipped with a ``UserWarning`` naming the file and the problem,
        and the one before it (the next best, for ``"best"``) is restored instead:
        resuming a little earlier beats not resuming. A checkpoint that reads back
        but does not fit the objects (another model) raises :class:`CheckpointError`,
        as does a directory whose checkpoints are all damaged.

        Example of a resumable loop::

            manager = CheckpointManager("runs/exp1", keep=3)
            restored = manager.restore(model, optimizer)
            start = restored.step + 1 if restored else 0
            for step in range(start, total_steps):
                ...
                if step % 100 == 0:
                    manager.save(step, model, optimizer, metric=loss.item())
        """
        if which not in ("latest", "best"):
            raise ValueError(f"CheckpointManager.restore: which must be 'latest' or 'best', got {which!r}")
        found = self.checkpoints()  # files whose header cannot be read are skipped there, with a warning
        if which == "latest":
            candidates = found[::-1]
        else:
            sign = 1.0 if self.mode == "min" else -1.0
            candidates = sorted((c for c in found if c.metric is not None), key=lambda c: (sign * c.metric, -c.step))
        damaged = 0
        for info in candidates:
            try:
                checkpoint = read_checkpoint(info.path, verify=verify)
            except (SafetensorsError, CheckpointError, OSError) as err:
                warnings.warn(f"{err}; checkpoint {info.path.name} skipped, restoring the one before it",
                              stacklevel=2)
                damaged += 1
                continue
            return _restore(checkpoint, model, optimizer, scheduler, restore_rng, strict)
        unlisted = sum(1 for entry in self.directory.iterdir() if self._pattern.fullmatch(entry.name)) - len(found)
        if damaged or (which == "latest" and unlisted):
            raise CheckpointError(f"CheckpointManager.restore: no intact {which} checkpoint in {self.directory}; "
                                  "every candidate is damaged (see the warnings)")
        return None

    def _prune(self) -> None:
        if self.keep is None:
            return
        found = self.checkpoints()
        best = self.best()
        for info in found[:-self.keep]:
            if info.path != best:
                info.path.unlink(missing_ok=True)
