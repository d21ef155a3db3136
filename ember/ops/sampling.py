"""Random sampling ops: multinomial, bernoulli, normal, randperm, and in-place fills.

Every draw comes from one place, :func:`uniform_draw` / :func:`normal_draw`: with
``generator=None`` they call ``ember.rand`` / ``ember.randn`` (the global seeded
generator, ``ember.manual_seed``), which ``ember.compile`` replays with fresh
numbers on every step; with a generator they draw from it. What follows a draw
is composed from Ember ops, so a compiled step samples anew each time.

Samples carry no gradient (PyTorch's are zero with respect to the parameters).
"""
from __future__ import annotations

from typing import Any

from .. import backend
from .checks import to_tensor
from ..errors import ArgumentError

__all__ = ["multinomial", "bernoulli", "normal", "randperm", "uniform_", "normal_", "bernoulli_"]


# ------------------------------------------------------------------ where numbers come from
def generator_rng(op: str, generator, xp):
    """The backend random generator to draw from: ``generator``'s (an ``ember.Generator``), or the global one."""
    from ..generator import resolve

    try:
        return resolve(generator, xp)
    except TypeError as error:
        raise TypeError(f"{op}: {error}") from None


def _draw_dtype(dtype):
    dt = backend.numpy_module().dtype(dtype)
    return dt if dt.itemsize >= 4 else backend.numpy_module().dtype("float32")


def uniform_draw(op: str, shape, dtype, device: str, generator=None):
    """A tensor of uniform samples in ``[0, 1)`` of ``shape`` and floating ``dtype``."""
    if generator is None:
        from ..creation import rand

        return rand(*shape, dtype=dtype, device=device)
    from ..creation import _finish

    xp = backend.module_for_device(device)
    sample = generator_rng(op, generator, xp).random(tuple(shape), dtype=_draw_dtype(dtype))
    return _finish(sample.astype(dtype, copy=False), False)


def normal_draw(op: str, shape, dtype, device: str, generator=None):
    """A tensor of standard normal samples of ``shape`` and floating ``dtype``."""
    if generator is None:
        from ..creation import randn

        return randn(*shape, dtype=dtype, device=device)
    from ..creation import _finish

    xp = backend.module_for_device(device)
    sample = generator_rng(op, generator, xp).standard_normal(tuple(shape), dtype=_draw_dtype(dtype))
    return _finish(sample.astype(dtype, copy=False), False)


# ------------------------------------------------------------------ multinomial
def _check_weights(weights) -> None:
    xp = backend.array_module(weights._data)
    w = weights._data
    if w.size and not bool(xp.all(xp.isfinite(w) & (w >= 0))):
        raise ArgumentError("multinomial: probability tensor contains either `inf`, `nan` or element < 0 "
                            f"(shape {tuple(weights.shape)})")
    if w.size and bool(xp.any(w.sum(axis=-1) <= 0)):
        raise ArgumentError("multinomial: invalid multinomial distribution (a row's sum of probabilities is <= 0)")


def multinomial(input: Any, num_samples: int, replacement: bool = False, *, generator=None):
    """Draw category indices from each row of non-negative ``input`` weights (need not sum to 1).

    ``input`` is 1-D (one distribution) or 2-D (one per row); the result is int64
    of shape ``(num_samples,)`` or ``(rows, num_samples)``. Without replacement no
    row repeats a category; categories of weight 0 then come only after all the
    others are drawn (PyTorch's behaviour). Sampling without replacement uses
    exponential keys (``weight / Exp(1)``, the largest first), as PyTorch does.

    Example:
        >>> import ember
        >>> from ember.ops.sampling import multinomial
        >>> ember.manual_seed(0)
        >>> sorted(multinomial(ember.tensor([1.0, 0.0, 2.0]), 2).tolist())
        [0, 2]
    """
    from .elementwise import minimum
    from .movement import flip
    from .reduce import argmax, cumsum
    from .sorting import argsort, searchsorted

    weights = to_tensor(input)
    if weights.dtype.kind != "f":
        raise TypeError(f"multinomial: only floating-point weights are supported, got {weights.dtype}")
    if weights.ndim not in (1, 2):
        raise ArgumentError(f"multinomial: input must be 1-D or 2-D, got shape {tuple(weights.shape)}")
    num_samples = int(num_samples)
    if num_samples <= 0:
        raise ArgumentError(f"multinomial: cannot sample num_samples={num_samples} <= 0 samples")
    categories = weights.shape[-1]
    if not replacement and num_samples > categories:
        raise ArgumentError(f"multinomial: cannot sample {num_samples} > {categories} categories "
                            "without replacement")
    weights = weights.detach()
    _check_weights(weights)
    rows = weights if weights.ndim == 2 else weights.reshape(1, categories)
    if rows.shape[0] == 0:
        from .movement import reshape

        return reshape(rows[:, :0].astype("int64"), (0, num_samples))
    rows = rows.astype("float64")  # the cumulative sums decide tiny probabilities: keep them exact
    if replacement:
        cdf = cumsum(rows, 1)
        total = cdf[:, -1:]
        targets = uniform_draw("multinomial", (rows.shape[0], num_samples), "float64", weights.device,
                               generator) * total
        # The first category whose cumulative weight exceeds the target: a weight-0 category
        # never does; the clamp only guards the target == total rounding case.
        picks = searchsorted(cdf, targets, right=True)
        last_positive = (categories - 1) - argmax(flip((rows > 0).astype("int64"), 1), 1, True)
        picks = minimum(picks, last_positive)
    else:
        # Exp(1) noise: -log(U) > 0 for U in [0, 1), so a key is never 0/0.
        noise = -uniform_draw("multinomial", tuple(rows.shape), "float64", weights.device, generator).log()
        picks = argsort(rows / noise, 1, descending=True)[:, :num_samples]
    return picks if weights.ndim == 2 else picks.reshape(num_samples)


# ------------------------------------------------------------------ bernoulli, normal, randperm
def bernoulli(input: Any, p: float | None = None, *, generator=None):
    """0/1 samples, 1 with probability ``input`` (elementwise), or ``p`` for every element if given.

    The result has ``input``'s shape and floating dtype.

    Example:
        >>> import ember
        >>> from ember.ops.sampling import bernoulli
        >>> bernoulli(ember.tensor([0.0, 1.0])).tolist()
        [0.0, 1.0]
    """
    x = to_tensor(input).detach()
    if x.dtype.kind != "f":
        raise TypeError(f"bernoulli: expected a floating-point tensor of probabilities, got {x.dtype}")
    if p is None:
        probabilities = x
        data = x._data
        xp = backend.array_module(data)
        if data.size and not bool(xp.all((data >= 0) & (data <= 1))):
            raise ArgumentError(f"bernoulli: probabilities must lie in [0, 1] (input of shape {tuple(x.shape)})")
    else:
        if not 0.0 <= float(p) <= 1.0:
            raise ArgumentError(f"bernoulli: p must lie in [0, 1], got p={p}")
        probabilities = float(p)
    draws = uniform_draw("bernoulli", x.shape, x.dtype, x.device, generator)
    return (draws < probabilities).astype(x.dtype)


def normal(mean: Any = 0.0, std: Any = 1.0, size=None, *, generator=None, dtype=None,
           device: str | None = None):
    """Normal samples with elementwise ``mean`` and ``std`` (tensors broadcast, or numbers with ``size``).

    As in PyTorch: ``normal(mean_tensor, std_tensor)``, ``normal(mean_tensor, 1.0)``,
    ``normal(0.0, std_tensor)`` and ``normal(0.0, 1.0, size=(2, 3))``.

    Example:
        >>> import ember
        >>> from ember.ops.sampling import normal
        >>> normal(ember.zeros(2, 1), ember.ones(3)).shape
        (2, 3)
    """
    from .movement import broadcast_shapes

    tensors = [v for v in (mean, std) if hasattr(v, "shape")]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a number mean and std, give size= (the output shape)")
        shape = (size,) if isinstance(size, int) else tuple(size)
        dtype = dtype or backend.default_dtype()
        device = device or "cpu"
    else:
        if size is not None:
            raise TypeError("normal: size= is only for a number mean and std; tensor arguments set the shape")
        tensors = [to_tensor(v).detach() for v in tensors]
        shape = tuple(broadcast_shapes(*[t.shape for t in tensors]))
        dtype = dtype or next((t.dtype for t in tensors if t.dtype.kind == "f"), backend.default_dtype())
        device = device or tensors[0].device
    std_values = std._data if hasattr(std, "_data") else backend.numpy_module().asarray(std)
    if std_values.size and not bool((std_values >= 0).all()):
        raise ArgumentError("normal: expected all elements of std >= 0")
    mean = mean.detach() if hasattr(mean, "detach") else mean
    std = std.detach() if hasattr(std, "detach") else std
    return normal_draw("normal", shape, dtype, device, generator) * std + mean


def randperm(n: int, *, generator=None, dtype="int64", device: str = "cpu", requires_grad: bool = False):
    """A random permutation of ``0 .. n-1`` (int64 unless ``dtype``).

    Drawn as the order of ``n`` uniform keys, so ``ember.compile`` redraws it on replay.

    Example:
        >>> import ember
        >>> from ember.ops.sampling import randperm
        >>> sorted(randperm(4).tolist())
        [0, 1, 2, 3]
    """
    from .sorting import argsort

    n = int(n)
    if n < 0:
        raise ArgumentError(f"randperm: n must be non-negative, got {n}")
    order = argsort(uniform_draw("randperm", (n,), "float64", device, generator))
    out = order if backend.numpy_module().dtype(dtype) == order.dtype else order.astype(dtype)
    return out.requires_grad_(True) if requires_grad else out


# ------------------------------------------------------------------ in-place fills (Tensor methods)
def _fill(tensor, values):
    from ..autograd.grad_mode import no_grad

    with no_grad():
        tensor.copy_(values)
    return tensor


def uniform_(tensor, a: float = 0.0, b: float = 1.0, *, generator=None):
    """Fill ``tensor`` in place with samples uniform in ``[a, b)``; returns it (``Tensor.uniform_``)."""
    draws = uniform_draw("uniform_", tensor.shape, tensor.dtype, tensor.device, generator)
    return _fill(tensor, draws * (b - a) + a)


def normal_(tensor, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """Fill ``tensor`` in place with normal samples; returns it (``Tensor.normal_``)."""
    if std < 0:
        raise ArgumentError(f"normal_: expected std >= 0, got {std}")
    draws = normal_draw("normal_", tensor.shape, tensor.dtype, tensor.device, generator)
    return _fill(tensor, draws * std + mean)


def bernoulli_(tensor, p: float = 0.5, *, generator=None):
    """Fill ``tensor`` in place with 0/1 samples, 1 with probability ``p``; returns it."""
    if not 0.0 <= float(p) <= 1.0:
        raise ArgumentError(f"bernoulli_: p must lie in [0, 1], got p={p}")
    draws = uniform_draw("bernoulli_", tensor.shape, "float64", tensor.device, generator)
    return _fill(tensor, (draws < float(p)).astype(tensor.dtype))
