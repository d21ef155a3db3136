"""Run a program as ``__main__`` the same way on both frameworks, with the harness's controls.

Usage (by :mod:`benchmarks.compat.run_programs`)::

    COMPAT_FRAMEWORK=torch COMPAT_MAX_SAMPLES=1280 python program_boot.py main.py --epochs 1

Every control is off unless its environment variable is set; none edits the program's source.
They patch the framework named by ``COMPAT_FRAMEWORK`` (``torch`` or ``ember``) before the program
starts:

``COMPAT_MAX_SAMPLES=n``
    every ``DataLoader`` stops once it has yielded ``n`` samples (``len(loader)`` is left alone,
    so the program's own progress arithmetic is unchanged).
``COMPAT_INIT_DIR=dir`` with ``COMPAT_INIT_MODE=save|load``
    shared initial weights. ``save`` (the reference PyTorch run) writes the initial values,
    ``load`` (the Ember run, and the PyTorch noise run) copies them in, at two moments:

    - when an optimizer is built: its parameters in ``param_groups`` order go to
      ``dir/optimizer<k>.npz`` (``k`` counts optimizers in construction order);
    - when a module with parameters that no optimizer has covered yet is called for the first
      time at top level (not from inside another module's forward): its ``state_dict()`` goes
      to ``dir/module<k>.npz``. This covers programs that update weights by hand
      (``p.data.add_(p.grad, alpha=-lr)``).

    Both moments come before any update, so the two runs start from identical weights.
``COMPAT_NO_DROPOUT=1``
    dropout layers and ``F.dropout*`` return their input, and ``MultiheadAttention`` drops no
    attention weights (the frameworks draw different masks).
``COMPAT_SAME_SHUFFLE=1``
    ``RandomSampler`` (``shuffle=True``) draws its permutation for epoch ``e`` from
    ``numpy.random.RandomState(e)``, the same in both frameworks.
``COMPAT_SEED_OFFSET=k``
    ``manual_seed(s)`` seeds with ``s + k`` (a second PyTorch run measures run-to-run noise).
``COMPAT_INIT_JITTER=eps``
    with ``COMPAT_INIT_MODE=load``, each loaded value ``w`` becomes ``w * (1 + eps * z)``,
    ``z`` standard normal from ``RandomState(0)``: a second PyTorch run from weights one
    float32 rounding away measures how much the program amplifies rounding differences.
``COMPAT_EXACT_CLIP_NORM=1``
    ``nn.utils.clip_grad_norm_`` takes the total norm in float64 (then scales as usual). PyTorch's
    float32 reduction is off the exact norm by ~1e-5 relative on large embeddings; a PyTorch run
    with the exact norm measures how much a program amplifies that one rounding difference.

Each control reports what it did on stderr, prefixed ``compat:``.
"""
from __future__ import annotations

import importlib
import os
import pathlib
import runpy
import sys
from typing import Any

import numpy as np


def _note(message: str) -> None:
    print(f"compat: {message}", file=sys.stderr, flush=True)


def cap_loaders(module_name: str, max_samples: int) -> bool:
    """Wrap ``module_name.DataLoader.__iter__`` to stop after ``max_samples`` samples."""
    try:
        module = importlib.import_module(module_name)
        loader_class = module.DataLoader
    except (ImportError, AttributeError):
        return False
    original = loader_class.__iter__

    def capped_iter(self):
        seen = 0
        for batch in original(self):
            yield batch
            first = batch[0] if isinstance(batch, (tuple, list)) else batch
            seen += len(first)
            if seen >= max_samples:
                return

    loader_class.__iter__ = capped_iter
    return True


def _to_numpy(tensor: Any) -> np.ndarray:
    return np.array(tensor.detach().cpu().numpy(), copy=True)


class InitialWeights:
    """Save (reference run) or load (other runs) the initial weights; see the module docstring."""

    def __init__(self, framework: Any, directory: pathlib.Path, mode: str) -> None:
        if mode not in ("save", "load"):
            raise ValueError(f"COMPAT_INIT_MODE must be 'save' or 'load', got {mode!r}")
        self.framework, self.directory, self.mode = framework, directory, mode
        self.jitter = float(os.environ.get("COMPAT_INIT_JITTER", "0") or 0)
        self.jitter_rng = np.random.RandomState(0)
        self.covered: set[int] = set()
        self.called: set[int] = set()
        self.optimizers = 0
        self.modules = 0
        self.depth = 0
        directory.mkdir(parents=True, exist_ok=True)

    def _copy_in(self, tensor: Any, array: np.ndarray, label: str) -> None:
        if tuple(tensor.shape) != array.shape:
            raise RuntimeError(f"compat: {label}: saved shape {array.shape} vs this run's {tuple(tensor.shape)}")
        if self.jitter and np.issubdtype(array.dtype, np.floating):
            array = (array * (1 + self.jitter * self.jitter_rng.standard_normal(array.shape))).astype(array.dtype)
        with self.framework.no_grad():
            tensor.copy_(self.framework.from_numpy(np.ascontiguousarray(array)).to(tensor.dtype))

    def optimizer_built(self, optimizer: Any) -> None:
        """Sync every parameter of a new optimizer, in ``param_groups`` order."""
        params = [p for group in optimizer.param_groups for p in group["params"]]
        path = self.directory / f"optimizer{self.optimizers}.npz"
        self.optimizers += 1
        if self.mode == "save":
            np.savez(path, **{f"p{i}": _to_numpy(p) for i, p in enumerate(params)})
        elif not path.exists():
            _note(f"{path.name} missing: {type(optimizer).__name__} keeps its own initial weights")
        else:
            saved = np.load(path, allow_pickle=False)
            if len(saved.files) != len(params):
                raise RuntimeError(f"compat: {path.name}: {len(saved.files)} saved parameters vs "
                                   f"{len(params)} in this run's {type(optimizer).__name__}")
            for i, p in enumerate(params):
                self._copy_in(p, saved[f"p{i}"], f"{path.name} p{i}")
            _note(f"loaded {len(params)} parameters of {type(optimizer).__name__} from {path.name}")
        self.covered.update(id(p) for p in params)

    def module_called(self, module: Any) -> None:
        """Sync ``module.state_dict()`` at its first top-level call, unless an optimizer covers it."""
        if id(module) in self.called:
            return
        self.called.add(id(module))
        params = list(module.parameters())
        if not params or any(id(p) in self.covered for p in params):
            return
        self.covered.update(id(p) for p in params)
        path = self.directory / f"module{self.modules}.npz"
        self.modules += 1
        state = module.state_dict()
        if self.mode == "save":
            np.savez(path, **{k: _to_numpy(v) for k, v in state.items()})
        elif not path.exists():
            _note(f"{path.name} missing: {type(module).__name__} keeps its own initial weights")
        else:
            saved = np.load(path, allow_pickle=False)
            missing = sorted(set(state) - set(saved.files))
            unexpected = sorted(set(saved.files) - set(state))
            for key in state:
                if key in saved.files:
                    self._copy_in(state[key], saved[key], f"{path.name} {key}")
            _note(f"loaded {len(state) - len(missing)} tensors of {type(module).__name__} from "
                  f"{path.name}; missing {missing}, unexpected {unexpected}")

    def install(self) -> None:
        """Wrap ``Optimizer.__init__`` and ``nn.Module.__call__`` of the framework."""
        optimizer_class = self.framework.optim.Optimizer
        module_class = self.framework.nn.Module
        original_init, original_call = optimizer_class.__init__, module_class.__call__
        weights = self

        def init(optimizer, *args, **kwargs):
            original_init(optimizer, *args, **kwargs)
            weights.optimizer_built(optimizer)

        def call(module, *args, **kwargs):
            if weights.depth == 0:
                weights.module_called(module)
            weights.depth += 1
            try:
                return original_call(module, *args, **kwargs)
            finally:
                weights.depth -= 1

        optimizer_class.__init__ = init
        module_class.__call__ = call


def _identity_dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Any:
    return input


def disable_dropout(framework: Any) -> list[str]:
    """Make ``F.dropout*`` and the dropout layers of ``framework`` return their input."""
    functional = importlib.import_module(f"{framework.__name__}.nn.functional")
    patched = []
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"):
        if hasattr(functional, name):
            setattr(functional, name, _identity_dropout)
            patched.append(f"F.{name}")
    for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"):
        layer = getattr(framework.nn, name, None)
        if layer is not None:
            layer.forward = lambda self, input: input
            patched.append(f"nn.{name}")
    # The attention-weight dropout is a float attribute read at forward time in both frameworks
    # (PyTorch hands it to a fused kernel the functional patch above does not reach).
    attention = framework.nn.MultiheadAttention
    attention_forward = attention.forward

    def forward_without_dropout(self, *args, **kwargs):
        self.dropout = 0.0
        return attention_forward(self, *args, **kwargs)

    attention.forward = forward_without_dropout
    patched.append("nn.MultiheadAttention.dropout")
    return patched


def same_shuffle(framework: Any) -> None:
    """``RandomSampler`` permutations from ``numpy.random.RandomState(epoch)`` in both frameworks.

    Ember's samplers hand the DataLoader an index array (``indices()``), PyTorch's are iterated;
    whichever the framework uses is replaced.
    """
    sampler_class = importlib.import_module(f"{framework.__name__}.utils.data").RandomSampler

    def permutation(sampler: Any) -> np.ndarray:
        epoch = getattr(sampler, "_compat_epoch", 0)
        sampler._compat_epoch = epoch + 1
        return np.random.RandomState(epoch).permutation(len(sampler.data_source)).astype(np.int64)

    def plain(sampler: Any) -> bool:
        return not getattr(sampler, "replacement", False) and getattr(sampler, "_num_samples", None) is None

    if hasattr(sampler_class, "indices"):
        original_indices = sampler_class.indices

        def indices(self):
            return permutation(self) if plain(self) else original_indices(self)

        sampler_class.indices = indices
        return
    original_iter = sampler_class.__iter__

    def permuted(self):
        if not plain(self):
            yield from original_iter(self)
            return
        yield from permutation(self).tolist()

    sampler_class.__iter__ = permuted


def exact_clip_norm(framework: Any) -> None:
    """``framework.nn.utils.clip_grad_norm_`` with the total norm summed in float64."""
    utils = importlib.import_module(f"{framework.__name__}.nn.utils")

    def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
        params = [parameters] if isinstance(parameters, framework.Tensor) else list(parameters)
        grads = [p.grad for p in params if p.grad is not None]
        if float(norm_type) != 2.0 or not grads:
            return original(params, max_norm, norm_type, error_if_nonfinite, foreach)
        total = float(np.sqrt(sum(np.square(_to_numpy(g).astype(np.float64)).sum() for g in grads)))
        scale = min(float(max_norm) / (total + 1e-6), 1.0)
        with framework.no_grad():
            for g in grads:
                g.mul_(scale)
        return framework.tensor(total)

    original = utils.clip_grad_norm_
    utils.clip_grad_norm_ = clip_grad_norm_


def offset_seed(framework: Any, offset: int) -> None:
    """``framework.manual_seed(s)`` seeds with ``s + offset``."""
    original = framework.manual_seed

    def manual_seed(seed: int):
        return original(int(seed) + offset)

    framework.manual_seed = manual_seed
    original(offset)


def main() -> None:
    """Install the controls, then run ``sys.argv[1]`` with the remaining arguments as its own."""
    script = os.path.abspath(sys.argv[1])
    sys.argv = [script] + sys.argv[2:]
    sys.path[0] = os.path.dirname(script)
    name = os.environ.get("COMPAT_FRAMEWORK", "torch")
    limit = int(os.environ.get("COMPAT_MAX_SAMPLES", "0"))
    if limit > 0:
        cap_loaders(f"{name}.utils.data", limit)
    if any(os.environ.get(k) for k in ("COMPAT_INIT_DIR", "COMPAT_NO_DROPOUT", "COMPAT_SAME_SHUFFLE",
                                       "COMPAT_SEED_OFFSET", "COMPAT_EXACT_CLIP_NORM")):
        framework = importlib.import_module(name)
        importlib.import_module(f"{name}.optim")
        if os.environ.get("COMPAT_INIT_DIR"):
            InitialWeights(framework, pathlib.Path(os.environ["COMPAT_INIT_DIR"]),
                           os.environ.get("COMPAT_INIT_MODE", "save")).install()
        if os.environ.get("COMPAT_NO_DROPOUT"):
            _note("dropout disabled: " + ", ".join(disable_dropout(framework)))
        if os.environ.get("COMPAT_SAME_SHUFFLE"):
            same_shuffle(framework)
        if os.environ.get("COMPAT_EXACT_CLIP_NORM"):
            exact_clip_norm(framework)
            _note("clip_grad_norm_ takes the norm in float64")
        if os.environ.get("COMPAT_SEED_OFFSET"):
            offset_seed(framework, int(os.environ["COMPAT_SEED_OFFSET"]))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
