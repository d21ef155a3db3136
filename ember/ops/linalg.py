"""Contractions: ``matmul`` (batched, broadcasting) and ``einsum``, both on BLAS."""
from __future__ import annotations

import string

from ..autograd.function import Function, apply
from ..backend import array_module
from ..errors import ArgumentError, ShapeError
from .checks import to_tensor
from .movement import broadcast_shapes, reshape


class Matmul(Function):
    """Batched matrix product of operands with at least two dimensions."""

    save_inputs = (0, 1)

    @staticmethod
    def forward(ctx, a, b):
        return a @ b

    @staticmethod
    def vjp(ctx, g):
        a, b = ctx.saved
        ga = g @ b.swapaxes(-1, -2) if ctx.edges[0] is not None else None
        gb = a.swapaxes(-1, -2) @ g if ctx.edges[1] is not None else None
        return ga, gb

    @staticmethod
    def jvp(ctx, ta, tb):
        a, b = ctx.inputs
        out = None if ta is None else ta @ b
        if tb is not None:
            out = a @ tb if out is None else out + a @ tb
        return out


def matmul(a, b):
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading dims broadcast.

    Example:
        >>> import ember
        >>> ember.ones(2, 3) @ ember.ones(3)
        tensor([3., 3.])
    """
    a, b = to_tensor(a), to_tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least one dimension, got shapes {a.shape} and {b.shape}")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        raise ShapeError(
            f"matmul: shapes {a.shape} and {b.shape} are not aligned ({inner_a} != {inner_b})"
        )
    if a.dtype != b.dtype:
        from ..amp.autocast_mode import will_cast  # lazy: amp sits above ops

        if not will_cast(a, b):  # under autocast the mismatch is cast away before the op runs
            raise TypeError(f"matmul: dtypes {a.dtype} and {b.dtype} differ; cast one with .astype()")
    if a.ndim > 2 and b.ndim > 2:
        broadcast_shapes(a.shape[:-2], b.shape[:-2])
    vector_a, vector_b = a.ndim == 1, b.ndim == 1
    if vector_a:
        a = reshape(a, (1, a.shape[0]))
    if vector_b:
        b = reshape(b, (b.shape[0], 1))
    out = apply(Matmul, (a, b), {})
    if vector_a or vector_b:
        shape = out.shape[:-2] + ((() if vector_a else (out.shape[-2],)) + (() if vector_b else (out.shape[-1],)))
        out = reshape(out, shape)
    return out


# ------------------------------------------------------------------ PyTorch's fixed-rank products
def _require_ndim(op: str, name: str, x, ndim: int) -> None:
    if x.ndim != ndim:
        raise ShapeError(f"{op}: {name} must be {ndim}-D, got shape {x.shape}")


def mm(input, mat2):
    """Product of two matrices (``torch.mm``: 2-D only, no broadcasting)."""
    input, mat2 = to_tensor(input), to_tensor(mat2)
    _require_ndim("mm", "input", input, 2)
    _require_ndim("mm", "mat2", mat2, 2)
    return matmul(input, mat2)


def bmm(input, mat2):
    """Batched product of (B, n, m) and (B, m, p) tensors (``torch.bmm``: no broadcasting)."""
    input, mat2 = to_tensor(input), to_tensor(mat2)
    _require_ndim("bmm", "input", input, 3)
    _require_ndim("bmm", "mat2", mat2, 3)
    if input.shape[0] != mat2.shape[0]:
        raise ShapeError(f"bmm: batch sizes differ, shapes {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def mv(input, vec):
    """Matrix-vector product (``torch.mv``)."""
    input, vec = to_tensor(input), to_tensor(vec)
    _require_ndim("mv", "input", input, 2)
    _require_ndim("mv", "vec", vec, 1)
    return matmul(input, vec)


def dot(input, other):
    """Inner product of two 1-D tensors of equal length (``torch.dot``)."""
    input, other = to_tensor(input), to_tensor(other)
    _require_ndim("dot", "input", input, 1)
    _require_ndim("dot", "other", other, 1)
    return matmul(input, other)


def outer(input, vec2):
    """Outer product of two 1-D tensors (``torch.outer``)."""
    input, vec2 = to_tensor(input), to_tensor(vec2)
    _require_ndim("outer", "input", input, 1)
    _require_ndim("outer", "vec2", vec2, 1)
    return reshape(input, (-1, 1)) * reshape(vec2, (1, -1))


def _scaled_sum(input, product, beta, alpha):
    """``beta * input + alpha * product``, skipping the multiplications PyTorch skips (beta 0 ignores input)."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        return product
    if hasattr(input, "_data") and input.dtype != product.dtype:  # a tensor (numbers keep weak typing)
        from ..amp.autocast_mode import will_cast  # lazy: amp sits above ops

        if will_cast(input):  # under autocast torch's addmm/baddbmm run whole in the lower precision
            input = input.astype(product.dtype)
    return product + (input if beta == 1 else to_tensor(input) * beta)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` (``torch.addmm``)."""
    return _scaled_sum(input, mm(mat1, mat2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * (batch1 @ batch2)`` batched (``torch.baddbmm``)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


# ------------------------------------------------------------------ einsum
def _parse(subscripts: str, shapes):
    """Explicit-form subscripts with ellipses replaced by fresh letters."""
    subscripts = subscripts.replace(" ", "")
    if "->" in subscripts:
        lhs, rhs = subscripts.split("->")
    else:
        lhs, rhs = subscripts, None
    inputs = lhs.split(",")
    if len(inputs) != len(shapes):
        raise ShapeError(f"einsum: subscripts name {len(inputs)} operands but {len(shapes)} were given")
    used = set(subscripts) - set(".,->")
    spare = [c for c in string.ascii_letters if c not in used]
    ellipsis_dims = 0
    for term, shape in zip(inputs, shapes):
        if "..." in term:
            ellipsis_dims = max(ellipsis_dims, len(shape) - (len(term) - 3))
    fill = "".join(spare[:ellipsis_dims])
    expanded = []
    for term, shape in zip(inputs, shapes):
        if "..." in term:
            n = len(shape) - (len(term) - 3)
            term = term.replace("...", fill[ellipsis_dims - n:] if n else "")
        if len(term) != len(shape):
            raise ShapeError(f"einsum: term '{term}' has {len(term)} indices for an operand of shape {shape}")
        expanded.append(term)
    if rhs is None:
        counts = {}
        for c in "".join(expanded):
            counts[c] = counts.get(c, 0) + 1
        rhs = fill + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in fill))
    else:
        rhs = rhs.replace("...", fill)
    return expanded, rhs, spare[ellipsis_dims:]


class Einsum(Function):
    # The gradient of one operand contracts all the others: keep every input.
    save_inputs = "all"

    @staticmethod
    def forward(ctx, *arrays, terms, output, spare):
        spec = ",".join(terms) + "->" + output
        return array_module(arrays[0]).einsum(spec, *arrays, optimize=True)

    @staticmethod
    def vjp(ctx, g):
        p = ctx.params
        return tuple(
            _einsum_operand_grad(g, ctx.saved, i, p["terms"], p["output"], p["spare"])
            if edge is not None else None
            for i, edge in enumerate(ctx.edges)
        )

    @staticmethod
    def jvp(ctx, *tangents):
        out = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            operands = list(ctx.inputs)
            operands[i] = t
            term = apply(Einsum, tuple(operands), ctx.params)
            out = term if out is None else out + term
        return out


def _einsum_operand_grad(g, operands, i, terms, output, spare):
    """Gradient of one operand: contract ``g`` with the other operands into its term.

    Two details beyond the textbook rule: an index that appears only in this operand
    (summed away) comes back by contracting with a vector of ones, and a repeated
    index within the term (a diagonal) comes back through identity matrices.
    """
    from ..tensor import constant

    term = terms[i]
    xp = array_module(g._data)
    spare = list(spare)
    others_terms = [t for j, t in enumerate(terms) if j != i]
    others = [operands[j] for j in range(len(terms)) if j != i]
    available = set(output) | set("".join(others_terms))
    sizes = dict(zip(term, operands[i].shape))
    # Build the target term with distinct letters: first occurrences keep their
    # letter, repeats get fresh ones tied by identity matrices.
    target, seen, extra_terms, extra_ops = [], set(), [], []
    for c in term:
        if c in seen:
            fresh = spare.pop(0)
            target.append(fresh)
            extra_terms.append(c + fresh)
            extra_ops.append(constant(xp.eye(sizes[c], dtype=g._data.dtype)))
        else:
            seen.add(c)
            target.append(c)
    for c in seen:
        if c not in available:
            extra_terms.append(c)
            extra_ops.append(constant(xp.ones(sizes[c], dtype=g._data.dtype)))
    all_terms = [output] + others_terms + extra_terms
    all_ops = (g,) + tuple(others) + tuple(extra_ops)
    return apply(Einsum, all_ops, {"terms": tuple(all_terms), "output": "".join(target),
                                        "spare": tuple(spare)})


def einsum(subscripts: str, *operands):
    """Einstein summation over tensors (NumPy's syntax, with ``...``), contracted by BLAS.

    Example:
        >>> import ember
        >>> a, b = ember.ones(2, 3), ember.ones(3, 4)
        >>> ember.einsum("ij,jk->ik", a, b).shape
        (2, 4)
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = tuple(to_tensor(x) for x in operands)
    terms, output, spare = _parse(subscripts, [x.shape for x in operands])
    sizes = {}
    for term, x in zip(terms, operands):
        for c, s in zip(term, x.shape):
            if sizes.setdefault(c, s) != s and s != 1 and sizes[c] != 1:
                raise ArgumentError(
                    f"einsum: index '{c}' has size {sizes[c]} in one operand and {s} in another "
                    f"(shapes {[x.shape for x in operands]})"
                )
    for c in output:
        if c not in sizes:
            raise ArgumentError(f"einsum: output index '{c}' does not appear in any operand")
    dtypes = {x.dtype for x in operands}
    if len(dtypes) > 1:
        from ..amp.autocast_mode import will_cast  # lazy: amp sits above ops

        if not will_cast(*operands):  # under autocast the mismatch is cast away before the op runs
            raise TypeError(f"einsum: operand dtypes {sorted(str(d) for d in dtypes)} differ")
    return apply(Einsum, operands, {"terms": tuple(terms), "output": output, "spare": tuple(spare)})
