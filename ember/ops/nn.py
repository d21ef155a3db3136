"""The few fused primitives that stability or speed justify for neural networks.

* ``log_softmax`` / ``softmax``: one pass with the max-shift, exact at logits of
  magnitude 1e4, and a defined answer for rows that are entirely ``-inf`` (see
  :func:`log_softmax`). Composing them from ``exp``/``sum``/``log`` would record
  five nodes and overflow without the shift.
* ``nll``: negative log-likelihood of class indices, with class weights and an
  ignored index. The gather it replaces has a scatter-add (``add.at``) backward;
  NLL is linear, so its vjp is one product with a constant mask.
* ``linear``: ``x @ w.T + b`` as one node. The composed form records a transpose,
  a matmul and an add, then sums the bias gradient over the batch and copies the
  transposed weight gradient into a fresh buffer; fused, the weight gradient is
  one GEMM written straight into its own array.
* ``erf`` and ``gelu``: NumPy has no ``erf``; W. J. Cody's rational approximations
  give it to float64 accuracy (~1e-16 relative), which float64 gradchecks need;
  float32 uses Eigen's single-precision rational; the array math, NumPy reference and
  numba loop, is in :mod:`ember.kernels.elementwise` (softmax's in :mod:`ember.kernels.softmax`).
* ``normalize``: ``(x - mean) / sqrt(var + eps) * weight + bias``, the core of
  batch, layer and group norm, whose composed backward would make ten passes.
* ``embedding``: row lookup whose backward sums repeated rows by sorting and
  ``add.reduceat`` (7x faster than ``add.at`` for character vocabularies).

Every vjp and jvp can be written with Ember ops, so gradients of gradients work.
Where the first-order backward is a hot path (GELU, normalisation), the rule
uses plain arrays saved by the forward pass, and falls back to the Ember-op form
whenever the rule itself is being differentiated (:func:`_recording_rule`).
"""
from __future__ import annotations


from ..autograd.function import Function, apply, array_rule, rule_is_differentiated
from ..backend import array_module, numpy_module
from ..kernels import elementwise as elementwise_kernels
from ..kernels import softmax as softmax_kernels
from .checks import float_operand
from .elementwise import exp
from .linalg import matmul
from .movement import reshape, swapaxes, unsqueeze
from .reduce import mean as reduce_mean
from .reduce import sum as reduce_sum
from ..errors import ArgumentError


# Floating-point warnings are a host (NumPy) setting; CuPy never warns.
_quiet = numpy_module().errstate


def _const(array):
    """Wrap a backend array as a constant tensor (no gradient)."""
    from ..tensor import Tensor

    return Tensor._make(array, False, None, 0)


# ------------------------------------------------------------------ softmax family
# The array math (NumPy reference and numba rows) lives in ember/kernels/softmax.py.
class LogSoftmax(Function):
    name = "log_softmax"
    save_output = True

    @staticmethod
    def forward(ctx, x, axis):
        return softmax_kernels.log_softmax(x, axis)

    @staticmethod
    def vjp(ctx, g):
        axis = ctx.params["axis"]
        if not _recording_rule():
            return array_rule(softmax_kernels.log_softmax_backward, g, ctx.out, axis=axis)
        return g - exp(ctx.out) * reduce_sum(g, axis, keepdims=True)

    @staticmethod
    def jvp(ctx, t):
        axis = ctx.params["axis"]
        return t - reduce_sum(exp(ctx.out) * t, axis, keepdims=True)


class Softmax(Function):
    save_output = True

    @staticmethod
    def forward(ctx, x, axis):
        return softmax_kernels.softmax(x, axis)

    @staticmethod
    def vjp(ctx, g):
        axis = ctx.params["axis"]
        if not _recording_rule():
            return array_rule(softmax_kernels.softmax_backward, g, ctx.out, axis=axis)
        y = ctx.out
        return y * (g - reduce_sum(g * y, axis, keepdims=True))

    @staticmethod
    def jvp(ctx, t):
        y = ctx.out
        return y * (t - reduce_sum(t * y, ctx.params["axis"], keepdims=True))


def _softmax_axis(op, x, axis):
    from .movement import _axis

    x = float_operand(op, x)
    return x, _axis(op, axis, x.ndim)


def log_softmax(x, axis: int = -1):
    """``x - logsumexp(x)`` along ``axis``, computed stably in one primitive.

    Logits of any finite magnitude are exact (the row maximum is subtracted
    first). A row that is entirely ``-inf`` gives ``-inf`` everywhere (no NaN),
    and the gradient passes through it unchanged, as for a constant shift.

    Example:
        >>> import ember
        >>> from ember.ops.nn import log_softmax
        >>> log_softmax(ember.tensor([1e4, 0.0])).tolist()
        [0.0, -10000.0]
    """
    x, axis = _softmax_axis("log_softmax", x, axis)
    if x.ndim == 0:  # PyTorch treats a scalar as a row of one
        return apply(LogSoftmax, (x.reshape(1),), {"axis": 0}).reshape(())
    return apply(LogSoftmax, (x,), {"axis": axis})


def softmax(x, axis: int = -1):
    """``exp(x) / sum(exp(x))`` along ``axis``, computed stably in one primitive.

    A row that is entirely ``-inf`` (say, a fully masked attention row) gives
    zeros, not NaN, and a zero gradient.

    Example:
        >>> import ember
        >>> from ember.ops.nn import softmax
        >>> softmax(ember.tensor([0.0, 0.0])).tolist()
        [0.5, 0.5]
    """
    x, axis = _softmax_axis("softmax", x, axis)
    if x.ndim == 0:  # PyTorch treats a scalar as a row of one
        return apply(Softmax, (x.reshape(1),), {"axis": 0}).reshape(())
    return apply(Softmax, (x,), {"axis": axis})


# ------------------------------------------------------------------ negative log-likelihood
class Nll(Function):
    """``-logp[n, target[n]] * weight[target[n]]``, reduced; class axis 1 (or 0 for 1-D input)."""

    name = "nll"

    @staticmethod
    def forward(ctx, logp, target, weight, ignore_index, reduction):
        xp = array_module(logp)
        axis = 1 if logp.ndim > 1 else 0
        valid = target != ignore_index
        safe = xp.expand_dims(xp.where(valid, target, 0), axis)
        item_weight = valid.astype(logp.dtype)
        if weight is not None:
            item_weight = item_weight * weight[safe.squeeze(axis)]
        losses = -xp.take_along_axis(logp, safe, axis=axis).squeeze(axis) * item_weight
        scale = None
        if reduction == "none":
            out = losses
        elif reduction == "sum":
            out = losses.sum()
        else:
            total_weight = item_weight.sum()
            with _quiet(invalid="ignore", divide="ignore"):
                scale = 1.0 / total_weight  # NaN loss when every item is ignored, as in PyTorch
                out = (losses.sum() * scale).astype(logp.dtype)
        if ctx is not None:
            # NLL is linear in logp: its vjp multiplies by this constant one-hot mask.
            coef = xp.zeros(logp.shape, dtype=logp.dtype)
            values = -item_weight if scale is None else -item_weight * scale
            xp.put_along_axis(coef, safe, xp.expand_dims(values.astype(logp.dtype), axis), axis=axis)
            ctx.stash = coef
        return out

    @staticmethod
    def vjp(ctx, g):
        if ctx.params["reduction"] == "none" and g.ndim:
            g = unsqueeze(g, 1)
        return g * _const(ctx.stash)

    @staticmethod
    def jvp(ctx, t):
        return apply(Nll, (t,), ctx.params)


def nll(logp, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of integer class ``target`` under log-probabilities ``logp``.

    ``logp`` is ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; ``target`` holds class
    indices of shape ``(N,)``, ``(N, d1, ...)`` or ``()``. Entries equal to
    ``ignore_index`` contribute nothing; ``'mean'`` divides by the summed weights
    of the other entries (NaN when every entry is ignored, as in PyTorch).
    The shapes are checked by :func:`ember.functional.nll_loss`.

    Example:
        >>> import ember
        >>> from ember.ops.nn import log_softmax, nll
        >>> logp = log_softmax(ember.zeros(2, 4))
        >>> round(nll(logp, ember.tensor([0, 3])).item(), 4)
        1.3863
    """
    from ..tensor import as_tensor

    target = as_tensor(target)._data
    w = None if weight is None else as_tensor(weight)._data
    if w is not None and w.dtype != logp.dtype:
        w = w.astype(logp.dtype)
    return apply(Nll, (logp,), {"target": target, "weight": w, "ignore_index": int(ignore_index),
                                "reduction": reduction})


# ------------------------------------------------------------------ linear
class Linear(Function):
    """``x @ weight.T + bias`` with ``weight`` stored as ``(out, in)`` (PyTorch's layout)."""

    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, x, weight, *bias):
        if x.ndim > 2:
            # One 2-D GEMM over all leading dimensions beats a batched 3-D matmul.
            rows = x.reshape(-1, x.shape[-1]) @ weight.T
            out = rows.reshape(x.shape[:-1] + (weight.shape[0],))
        else:
            out = x @ weight.T  # BLAS reads the transposed view directly: no copy
        if bias:
            out += bias[0]
        return out

    @staticmethod
    def vjp(ctx, g):
        x, weight = ctx.saved
        if not _recording_rule():
            # First order: three BLAS/array kernels, no intermediate tensors.
            edges = ctx.edges
            grads = (array_rule(_matmul_arrays, g, weight) if edges[0] is not None else None,
                     array_rule(_linear_weight_grad, g, x) if edges[1] is not None else None)
            if len(edges) > 2:
                grads += (array_rule(_sum_leading, g) if edges[2] is not None else None,)
            return grads
        gx = matmul(g, weight) if ctx.edges[0] is not None else None
        gw = gb = None
        if ctx.edges[1] is not None:
            g2 = reshape(g, (-1, g.shape[-1]))
            gw = matmul(swapaxes(g2, 0, 1), reshape(x, (-1, x.shape[-1])))
        if len(ctx.edges) > 2 and ctx.edges[2] is not None:
            gb = reduce_sum(g, tuple(range(g.ndim - 1))) if g.ndim > 1 else g
        return (gx, gw) if len(ctx.edges) == 2 else (gx, gw, gb)

    @staticmethod
    def jvp(ctx, tx, tw, *tb):
        x, weight = ctx.inputs[:2]
        out = None if tx is None else matmul(tx, swapaxes(weight, 0, 1))
        if tw is not None:
            term = matmul(x, swapaxes(tw, 0, 1))
            out = term if out is None else out + term
        if tb and tb[0] is not None:
            out = tb[0] if out is None else out + tb[0]
        return out


def _matmul_arrays(a, b):
    if a.ndim > 2:  # one 2-D GEMM over the leading dimensions beats a batched matmul
        return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + (b.shape[-1],))
    return a @ b


def _linear_weight_grad(g, x):
    return g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])


def _sum_leading(g):
    return g.sum(axis=tuple(range(g.ndim - 1))) if g.ndim > 1 else g.copy()


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` as one primitive (``weight`` is ``(out_features, in_features)``).

    Shapes are not checked here (see :func:`ember.functional.linear`).

    Example:
        >>> import ember
        >>> from ember.ops.nn import linear
        >>> linear(ember.ones(2, 3), ember.ones(4, 3), ember.zeros(4)).shape
        (2, 4)
    """
    inputs = (x, weight) if bias is None else (x, weight, bias)
    return apply(Linear, inputs, {})


# ------------------------------------------------------------------ erf and GELU
# The array math (NumPy reference and numba loops) lives in ember/kernels/elementwise.py; the
# names below are the ones ember.ops.special reads for its float64 erf and erfc.
_ERF_A, _ERF_B, _ERF_C, _ERF_D = elementwise_kernels.ERF_A, elementwise_kernels.ERF_B, \
    elementwise_kernels.ERF_C, elementwise_kernels.ERF_D
_ERF_P, _ERF_Q, _RSQRT_PI = elementwise_kernels.ERF_P, elementwise_kernels.ERF_Q, elementwise_kernels.RSQRT_PI
_horner = elementwise_kernels.horner
_exp_neg_square = elementwise_kernels.exp_neg_square
_erf_double = elementwise_kernels.erf_double


def erf_array(x):
    """The error function of a backend array.

    float64 is accurate to float64 rounding (Cody's rational approximations, or libm's
    ``erf`` in the numba kernel), as float64 gradchecks need; float32 and float16 use
    Eigen's single-precision rational (a few ulp, several times faster).
    """
    return elementwise_kernels.erf(x)


# The public ``erf`` (a primitive, accurate to PyTorch's rounding) is ember.ops.special.erf;
# erf_array above is the fast kernel GELU uses inside its own primitives.


_INV_SQRT_2PI = elementwise_kernels.INV_SQRT_2PI
_TANH_C = elementwise_kernels.TANH_C
_TANH_K = elementwise_kernels.TANH_K


def _gelu_curvature(x, approximate):
    """d^2 gelu / dx^2 composed from Ember ops (used only for higher-order derivatives)."""
    if approximate == "tanh":
        th = (_TANH_C * (x + _TANH_K * x * x * x)).tanh()
        du = _TANH_C * (1.0 + 3.0 * _TANH_K * x * x)
        ddu = (6.0 * _TANH_C * _TANH_K) * x
        return (1.0 - th * th) * (du - x * th * du * du + 0.5 * x * ddu)
    return exp(-0.5 * x * x) * _INV_SQRT_2PI * (2.0 - x * x)


class GeluSlope(Function):
    """d gelu / dx as a primitive, so that the derivative itself can be differentiated."""

    name = "gelu_slope"
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x, approximate):
        _, gate = elementwise_kernels.gelu_forward(x, approximate)
        return elementwise_kernels.gelu_slope(x, gate, approximate)

    @staticmethod
    def vjp(ctx, g):
        return g * _gelu_curvature(ctx.saved[0], ctx.params["approximate"])

    @staticmethod
    def jvp(ctx, t):
        return t * _gelu_curvature(ctx.inputs[0], ctx.params["approximate"])


_recording_rule = rule_is_differentiated


class Gelu(Function):
    save_inputs = (0,)

    @staticmethod
    def forward(ctx, x, approximate):
        out, gate = elementwise_kernels.gelu_forward(x, approximate)
        if ctx is not None:
            ctx.stash = gate  # the backward needs it too: erf is the costly part
        return out

    @staticmethod
    def vjp(ctx, g):
        return _times_gelu_slope(ctx, g, ctx.saved[0])

    @staticmethod
    def jvp(ctx, t):
        return _times_gelu_slope(ctx, t, ctx.inputs[0])


def _times_gelu_slope(ctx, v, x):
    """``v * gelu'(x)``: a primitive when the rule is differentiated, else arrays in place."""
    if _recording_rule() or ctx.stash is None:
        return v * apply(GeluSlope, (x,), ctx.params)
    return array_rule(elementwise_kernels.gelu_backward, v, x, _const(ctx.stash),
                      approximate=ctx.params["approximate"])


def gelu(x, approximate: str = "none"):
    """Gaussian error linear unit ``x * Phi(x)``; ``approximate='tanh'`` uses the tanh formula.

    Example:
        >>> import ember
        >>> from ember.ops.nn import gelu
        >>> round(gelu(ember.tensor(1.0)).item(), 4)
        0.8413
    """
    if approximate not in ("none", "tanh"):
        raise ArgumentError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return apply(Gelu, (float_operand("gelu", x),), {"approximate": approximate})


# ------------------------------------------------------------------ normalisation
class Normalize(Function):
    """``(x - mean) * invstd * weight + bias`` with the biased statistics of ``x`` over ``axes``.

    ``weight`` and ``bias`` are optional extra inputs (``affine`` names which are
    present), already shaped to broadcast against ``x``. Folding them in saves two
    nodes and two passes over the activations in each direction.
    """

    save_inputs = "all"

    @staticmethod
    def forward(ctx, x, *params, axes, eps, stats, affine):
        xp = array_module(x)
        mean, var = stats if stats is not None else _moments(x, axes)
        invstd = (1.0 / xp.sqrt(var + eps)).astype(x.dtype, copy=False)
        xhat = x - mean
        xhat *= invstd
        xhat = xhat.astype(x.dtype, copy=False)
        if ctx is not None:
            ctx.stash = (xhat, invstd)
        if not affine:
            return xhat
        weight, bias = _affine_inputs(params, affine)
        out = xhat * weight if weight is not None else xhat.copy()
        if bias is not None:
            out += bias
        return out

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        x, (weight, bias) = ctx.saved[0], _affine_inputs(ctx.saved[1:], p["affine"])
        wants_x = ctx.edges[0] is not None
        gx = None
        if _recording_rule():
            xhat = _plain_normalize(x, p)
            if wants_x:
                gxhat = g * weight if weight is not None else g
                gx = _normalize_map(gxhat, xhat, _invstd_of(x, p), p["axes"])
        else:
            # Plain arrays, in place: the first-order backward is the hot path.
            xhat, invstd = (_const(a) for a in ctx.stash)
            if wants_x:
                gxhat = g * weight if weight is not None else g
                gx = array_rule(_normalize_map_arrays, gxhat, xhat, invstd, axes=p["axes"])
        grads = [gx]
        if weight is not None:
            grads.append(g * xhat if ctx.edges[len(grads)] is not None else None)
        if bias is not None:
            grads.append(g if ctx.edges[len(grads)] is not None else None)
        return tuple(grads) if len(grads) > 1 else grads[0]

    @staticmethod
    def jvp(ctx, tx, *tparams):
        p = ctx.params
        x, (weight, _) = ctx.inputs[0], _affine_inputs(ctx.inputs[1:], p["affine"])
        tweight, tbias = _affine_inputs(tparams, p["affine"])
        xhat = _plain_normalize(x, p)
        out = None
        if tx is not None:
            out = _normalize_map(tx, xhat, _invstd_of(x, p), p["axes"])
            if weight is not None:
                out = out * weight
        for term in (None if tweight is None else xhat * tweight, tbias):
            if term is not None:
                out = term if out is None else out + term
        return out


def _affine_inputs(values, affine):
    """``(weight, bias)`` from the extra inputs, None for the absent ones."""
    values = list(values)
    weight = values.pop(0) if "weight" in affine else None
    bias = values.pop(0) if "bias" in affine else None
    return weight, bias


def _plain_normalize(x, params):
    """``xhat`` as a differentiable function of ``x`` (for rules that are themselves differentiated)."""
    return apply(Normalize, (x,), {"axes": params["axes"], "eps": params["eps"], "stats": None, "affine": ()})


def _invstd_of(x, params):
    axes = params["axes"]
    centered = x - reduce_mean(x, axes, keepdims=True)
    return (reduce_mean(centered * centered, axes, keepdims=True) + params["eps"]) ** -0.5


def _normalize_map(v, xhat, invstd, axes):
    """``invstd * (v - mean(v) - xhat * mean(v * xhat))``: the Jacobian of ``xhat`` is
    symmetric, so this one map serves as both its vjp and its jvp."""
    inner = v - reduce_mean(v, axes, keepdims=True) - xhat * reduce_mean(v * xhat, axes, keepdims=True)
    return inner * invstd


def _normalize_map_arrays(v, xhat, invstd, axes):
    """:func:`_normalize_map` on backend arrays with two temporaries (first-order backward)."""
    out = v - v.mean(axis=axes, keepdims=True)
    product = v * xhat
    out -= array_module(v).multiply(xhat, product.mean(axis=axes, keepdims=True), out=product)
    out *= invstd
    return out


def _moments(x, axes):
    if x.dtype.itemsize < 4:
        x = x.astype("float32")  # half-precision sums of squares overflow
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    centered *= centered
    return mean, centered.mean(axis=axes, keepdims=True)


def normalize(x, axes, eps: float = 1e-5, stats=None, weight=None, bias=None):
    """Standardise ``x`` over ``axes``: ``(x - mean) / sqrt(var + eps)`` (biased variance),
    then optionally scale by ``weight`` and shift by ``bias``.

    Args:
        x: a floating tensor.
        axes: the axes the statistics are taken over (an int or a tuple).
        eps: added to the variance.
        stats: optional ``(mean, var)`` arrays already computed over ``axes`` (with
            kept dimensions), so that a caller who needs them too (batch norm's
            running averages) does not compute them twice.
        weight, bias: optional tensors that broadcast against ``x`` (shaped by the
            caller: ``(C, 1, 1)`` for batch norm, the trailing shape for layer norm).

    Example:
        >>> import ember
        >>> from ember.ops.nn import normalize
        >>> normalize(ember.tensor([[1.0, 3.0]]), axes=1, eps=0.0).tolist()
        [[-1.0, 1.0]]
    """
    from .reduce import _axes

    x = float_operand("normalize", x)
    axes = _axes("normalize", axes, x.ndim)
    affine = tuple(name for name, t in (("weight", weight), ("bias", bias)) if t is not None)
    inputs = (x,) + tuple(t for t in (weight, bias) if t is not None)
    return apply(Normalize, inputs, {"axes": axes, "eps": float(eps), "stats": stats, "affine": affine})


class Moments(Function):
    """Mean and biased variance over ``axes`` (kept dimensions), as statistics: no gradient."""

    n_outputs = 2
    differentiable = False

    @staticmethod
    def forward(ctx, x, axes):
        return _moments(x, axes)


def moments(x, axes):
    """The mean and biased variance of tensor ``x`` over ``axes`` (kept dimensions), not differentiated.

    A primitive rather than array code, so that ``ember.compile`` replays it.
    """
    return apply(Moments, (x,), {"axes": tuple(axes)})


# ------------------------------------------------------------------ embedding
class EmbeddingLookup(Function):
    """``weight[indices]``: rows of a ``(num_embeddings, dim)`` table."""

    name = "embedding"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx):
        return array_module(weight).take(weight, indices, axis=0)

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        return apply(EmbeddingScatter, (g,), {"indices": p["indices"], "padding_idx": p["padding_idx"],
                                              "rows": ctx.in_meta[0][0][0]})

    @staticmethod
    def jvp(ctx, t):
        return apply(EmbeddingLookup, (t,), ctx.params)


class EmbeddingScatter(Function):
    """Sum gradient rows into a zero table by index (the backward of a lookup)."""

    name = "embedding_backward"

    @staticmethod
    def forward(ctx, g, indices, padding_idx, rows):
        xp = array_module(g)
        dim = g.shape[-1]
        flat_idx = indices.reshape(-1)
        flat_g = g.reshape(-1, dim)
        out = xp.zeros((rows, dim), dtype=g.dtype)
        if flat_idx.size:
            if hasattr(xp.add, "reduceat"):
                # Sorting groups equal rows so that one add.reduceat sums each group.
                order = xp.argsort(flat_idx, kind="stable")
                ordered = flat_idx[order]
                starts = xp.flatnonzero(xp.concatenate((xp.ones(1, bool), ordered[1:] != ordered[:-1])))
                out[ordered[starts]] = xp.add.reduceat(flat_g[order], starts, axis=0)
            else:
                xp.add.at(out, flat_idx, flat_g)
        if padding_idx is not None:
            out[padding_idx] = 0
        return out

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        table = g
        if p["padding_idx"] is not None:
            # Rows scattered into the padding entry were dropped: they get no gradient.
            mask = array_module(g._data).ones((g.shape[0], 1), dtype=g.dtype)
            mask[p["padding_idx"]] = 0
            table = g * _const(mask)
        return apply(EmbeddingLookup, (table,), {"indices": p["indices"], "padding_idx": None})

    @staticmethod
    def jvp(ctx, t):
        return apply(EmbeddingScatter, (t,), ctx.params)


def embedding(indices, weight, padding_idx=None):
    """Look up rows of ``weight`` (``(num_embeddings, dim)``) for integer ``indices``.

    The gradient of ``weight`` sums the output gradients of repeated indices;
    the row ``padding_idx`` (if given) gets none. Indices are checked by
    :func:`ember.functional.embedding`.

    Example:
        >>> import ember
        >>> from ember.ops.nn import embedding
        >>> embedding(ember.tensor([[0, 2]]), ember.eye(3)).tolist()
        [[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]]
    """
    from ..tensor import as_tensor

    idx = as_tensor(indices)._data
    return apply(EmbeddingLookup, (weight,), {"indices": idx, "padding_idx": padding_idx})


__all__ = ["log_softmax", "softmax", "nll", "linear", "erf", "erf_array", "gelu", "normalize",
           "moments", "embedding"]
