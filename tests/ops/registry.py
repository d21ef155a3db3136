"""A table of every primitive-backed op, driving the forward, gradcheck and PyTorch tests.

Each entry says how to call the op in Ember, NumPy and PyTorch and what inputs to
feed it (shapes and a domain that keeps finite differences away from kinks and
singularities). New ops get a line here instead of a hand-copied test.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

import ember
from ember.ops import elementwise as E
from ember.ops import special as SP


@dataclasses.dataclass
class OpSpec:
    name: str
    ember: Callable
    numpy: Callable
    torch: Callable | None
    shapes: tuple
    domain: str = "real"          # real | positive | unit (|x|<0.9) | away0 (|x|>0.2)
    int_inputs: tuple = ()        # extra non-differentiable integer arrays appended to the args
    second_order: bool = True

    def inputs(self, rng, dtype):
        arrays = []
        for shape in self.shapes:
            x = rng.standard_normal(shape)
            if self.domain == "positive":
                x = np.abs(x) + 0.5
            elif self.domain == "unit":
                x = np.tanh(x) * 0.9
            elif self.domain == "away0":
                x = np.sign(x) * (np.abs(x) + 0.2)
            arrays.append(x.astype(dtype))
        return arrays


def _t(f):
    """Wrap a torch lambda so the test module can import this file without torch."""
    return f


AXIS_CASES = [None, 0, 1, (0, 2), -1]

SPECS: list[OpSpec] = [
    # ---------------------------------------------------------------- unary elementwise
    OpSpec("neg", lambda x: -x, lambda x: -x, _t(lambda x: -x), ((3, 4),)),
    OpSpec("exp", ember.exp, np.exp, _t(lambda x: x.exp()), ((3, 4),)),
    OpSpec("log", ember.log, np.log, _t(lambda x: x.log()), ((3, 4),), "positive"),
    OpSpec("log1p", ember.log1p, np.log1p, _t(lambda x: x.log1p()), ((3, 4),), "unit"),
    OpSpec("sqrt", ember.sqrt, np.sqrt, _t(lambda x: x.sqrt()), ((3, 4),), "positive"),
    OpSpec("tanh", ember.tanh, np.tanh, _t(lambda x: x.tanh()), ((3, 4),)),
    OpSpec("sigmoid", ember.sigmoid, lambda x: 1 / (1 + np.exp(-x)), _t(lambda x: x.sigmoid()), ((3, 4),)),
    OpSpec("relu", ember.relu, lambda x: np.maximum(x, 0), _t(lambda x: x.relu()), ((3, 4),), "away0"),
    OpSpec("sin", ember.sin, np.sin, _t(lambda x: x.sin()), ((3, 4),)),
    OpSpec("cos", ember.cos, np.cos, _t(lambda x: x.cos()), ((3, 4),)),
    OpSpec("abs", ember.abs, np.abs, _t(lambda x: x.abs()), ((3, 4),), "away0"),
    OpSpec("clip", lambda x: ember.clip(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
           _t(lambda x: x.clamp(-0.5, 0.7)), ((3, 4),), "away0"),
    OpSpec("pow2", lambda x: x ** 2, lambda x: x ** 2, _t(lambda x: x ** 2), ((3, 4),)),
    OpSpec("pow3", lambda x: x ** 3, lambda x: x ** 3, _t(lambda x: x ** 3), ((3, 4),)),
    OpSpec("pow_half", lambda x: x ** 0.5, lambda x: x ** 0.5, _t(lambda x: x ** 0.5), ((3, 4),), "positive"),
    OpSpec("pow_neg", lambda x: x ** -1.5, lambda x: x ** -1.5, _t(lambda x: x ** -1.5), ((3, 4),), "positive"),
    OpSpec("rpow", lambda x: 2.0 ** x, lambda x: 2.0 ** x, _t(lambda x: 2.0 ** x), ((3, 4),)),
    OpSpec("astype64", lambda x: x.astype("float64") * 2, lambda x: x.astype(np.float64) * 2,
           _t(lambda x: x.double() * 2), ((3,),)),
    OpSpec("tan", E.tan, np.tan, _t(lambda x: x.tan()), ((3, 4),), "unit"),
    OpSpec("asin", E.asin, np.arcsin, _t(lambda x: x.asin()), ((3, 4),), "unit"),
    OpSpec("acos", E.acos, np.arccos, _t(lambda x: x.acos()), ((3, 4),), "unit"),
    OpSpec("atan", E.atan, np.arctan, _t(lambda x: x.atan()), ((3, 4),)),
    OpSpec("sinh", E.sinh, np.sinh, _t(lambda x: x.sinh()), ((3, 4),)),
    OpSpec("cosh", E.cosh, np.cosh, _t(lambda x: x.cosh()), ((3, 4),)),
    OpSpec("asinh", E.asinh, np.arcsinh, _t(lambda x: x.asinh()), ((3, 4),)),
    OpSpec("acosh", lambda x: E.acosh(x + 1.0), lambda x: np.arccosh(x + 1.0), _t(lambda x: (x + 1.0).acosh()),
           ((3, 4),), "positive"),
    OpSpec("atanh", E.atanh, np.arctanh, _t(lambda x: x.atanh()), ((3, 4),), "unit"),
    OpSpec("log2", E.log2, np.log2, _t(lambda x: x.log2()), ((3, 4),), "positive"),
    OpSpec("log10", E.log10, np.log10, _t(lambda x: x.log10()), ((3, 4),), "positive"),
    OpSpec("exp2", E.exp2, np.exp2, _t(lambda x: x.exp2()), ((3, 4),)),
    OpSpec("expm1", E.expm1, np.expm1, _t(lambda x: x.expm1()), ((3, 4),)),
    OpSpec("rsqrt", E.rsqrt, lambda x: 1 / np.sqrt(x), _t(lambda x: x.rsqrt()), ((3, 4),), "positive"),
    OpSpec("reciprocal", E.reciprocal, np.reciprocal, _t(lambda x: x.reciprocal()), ((3, 4),), "away0"),
    OpSpec("square", E.square, np.square, _t(lambda x: x.square()), ((3, 4),)),
    OpSpec("frac", lambda x: E.frac(x * 3.0), lambda x: np.modf(x * 3.0)[0], _t(lambda x: (x * 3.0).frac()),
           ((3, 4),), "away0"),
    OpSpec("erf", SP.erf, np.vectorize(math.erf), _t(lambda x: x.erf()), ((3, 4),)),
    OpSpec("erfc", SP.erfc, np.vectorize(math.erfc), _t(lambda x: x.erfc()), ((3, 4),)),
    OpSpec("erfinv", SP.erfinv, lambda y: np.vectorize(_erfinv_reference)(y), _t(lambda x: x.erfinv()), ((3, 4),),
           "unit"),
    OpSpec("clamp_tensor_bounds", lambda x, lo: E.clamp(x, lo, lo + 1.0),
           lambda x, lo: np.minimum(np.maximum(x, lo), lo + 1.0),
           _t(lambda x, lo: x.clamp(lo, lo + 1.0)), ((3, 4), (4,))),
    # ---------------------------------------------------------------- binary, with broadcasting
    OpSpec("add", lambda a, b: a + b, np.add, _t(lambda a, b: a + b), ((3, 4), (4,))),
    OpSpec("add_bcast2", lambda a, b: a + b, np.add, _t(lambda a, b: a + b), ((2, 1, 3), (4, 1))),
    OpSpec("sub", lambda a, b: a - b, np.subtract, _t(lambda a, b: a - b), ((3, 1), (1, 4))),
    OpSpec("mul", lambda a, b: a * b, np.multiply, _t(lambda a, b: a * b), ((2, 3, 4), (3, 1))),
    OpSpec("div", lambda a, b: a / b, np.divide, _t(lambda a, b: a / b), ((3, 4), (4,)), "away0"),
    OpSpec("pow_tensor", lambda a, b: a ** b, np.power, _t(lambda a, b: a ** b), ((3, 4), (3, 4)), "positive"),
    OpSpec("pow_negative_base", lambda a: (-a) ** 3.0, lambda a: (-a) ** 3.0, _t(lambda a: (-a) ** 3.0), ((3, 4),),
           "positive"),
    OpSpec("atan2", E.atan2, np.arctan2, _t(lambda a, b: a.atan2(b)), ((3, 4), (4,)), "away0"),
    OpSpec("hypot", E.hypot, np.hypot, _t(lambda a, b: a.hypot(b)), ((3, 4), (3, 1)), "away0"),
    OpSpec("logaddexp", E.logaddexp, np.logaddexp, _t(lambda a, b: a.logaddexp(b)), ((3, 4), (4,))),
    OpSpec("xlogy", E.xlogy, lambda a, b: a * np.log(b), _t(lambda a, b: a.xlogy(b)), ((3, 4), (4,)), "positive"),
    OpSpec("fmod", lambda a, b: E.fmod(a * 3.0, b), lambda a, b: np.fmod(a * 3.0, b),
           _t(lambda a, b: (a * 3.0).fmod(b)), ((3, 4), (4,)), "away0"),
    OpSpec("remainder", lambda a, b: E.remainder(a * 3.0, b), lambda a, b: np.remainder(a * 3.0, b),
           _t(lambda a, b: (a * 3.0).remainder(b)), ((3, 4), (4,)), "away0"),
    OpSpec("lerp", lambda a, b, w: E.lerp(a, b, w), lambda a, b, w: a + w * (b - a),
           _t(lambda a, b, w: a.lerp(b, w)), ((3, 4), (4,), (3, 4))),
    OpSpec("maximum", ember.maximum, np.maximum, _t(lambda a, b: a.maximum(b)), ((3, 4), (4,))),
    OpSpec("minimum", ember.minimum, np.minimum, _t(lambda a, b: a.minimum(b)), ((3, 4), (3, 4))),
    OpSpec("where", lambda a, b: ember.where(a > 0, a, b), lambda a, b: np.where(a > 0, a, b),
           _t(lambda a, b: a.where(a > 0, b)), ((3, 4), (4,)), "away0"),
    OpSpec("scalar_mix", lambda a: 3.0 - a * 2 + 1 / (a + 5.0), lambda a: 3.0 - a * 2 + 1 / (a + 5.0),
           _t(lambda a: 3.0 - a * 2 + 1 / (a + 5.0)), ((3,),), "positive"),
    # ---------------------------------------------------------------- reductions
    OpSpec("sum_all", lambda x: x.sum(), np.sum, _t(lambda x: x.sum()), ((2, 3, 4),)),
    OpSpec("sum_axis", lambda x: x.sum(axis=1), lambda x: x.sum(axis=1), _t(lambda x: x.sum(1)), ((2, 3, 4),)),
    OpSpec("sum_axes_keep", lambda x: x.sum(axis=(0, 2), keepdims=True),
           lambda x: x.sum(axis=(0, 2), keepdims=True), _t(lambda x: x.sum((0, 2), keepdim=True)), ((2, 3, 4),)),
    OpSpec("mean", lambda x: x.mean(axis=-1), lambda x: x.mean(axis=-1), _t(lambda x: x.mean(-1)), ((2, 3, 4),)),
    OpSpec("max_all", lambda x: x.max(), np.max, _t(lambda x: x.max()), ((3, 4),)),
    OpSpec("max_axis", lambda x: x.amax(0), lambda x: x.max(axis=0), _t(lambda x: x.amax(0)), ((3, 4),)),
    OpSpec("min_axis_keep", lambda x: x.amin(1, keepdim=True), lambda x: x.min(axis=1, keepdims=True),
           _t(lambda x: x.amin(1, keepdim=True)), ((3, 4),)),
    OpSpec("prod", lambda x: x.prod(axis=1), lambda x: x.prod(axis=1), _t(lambda x: x.prod(1)), ((3, 4),)),
    OpSpec("prod_all", lambda x: x.prod(), np.prod, _t(lambda x: x.prod()), ((2, 3),)),
    OpSpec("var", lambda x: x.var(axis=0), lambda x: x.var(axis=0, ddof=1), _t(lambda x: x.var(0)), ((4, 3),)),
    OpSpec("std", lambda x: x.std(), lambda x: x.std(ddof=1), _t(lambda x: x.std()), ((4, 3),)),
    OpSpec("logsumexp", lambda x: x.logsumexp(axis=1), lambda x: np.log(np.exp(x).sum(axis=1)),
           _t(lambda x: x.logsumexp(1)), ((3, 4),)),
    OpSpec("cumsum", lambda x: x.cumsum(axis=1), lambda x: x.cumsum(axis=1), _t(lambda x: x.cumsum(1)), ((3, 4),)),
    # ---------------------------------------------------------------- movement
    OpSpec("reshape", lambda x: x.reshape(4, -1), lambda x: x.reshape(4, -1), _t(lambda x: x.reshape(4, -1)), ((2, 3, 4),)),
    OpSpec("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1),
           _t(lambda x: x.permute(2, 0, 1)), ((2, 3, 4),)),
    OpSpec("swapaxes", lambda x: x.swapaxes(0, 2), lambda x: x.swapaxes(0, 2), _t(lambda x: x.transpose(0, 2)), ((2, 3, 4),)),
    OpSpec("T", lambda x: x.T, lambda x: x.T, _t(lambda x: x.T), ((3, 4),)),
    OpSpec("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
           _t(lambda x: x.expand(2, 3, 4)), ((3, 1),)),
    OpSpec("squeeze", lambda x: x.squeeze(1), lambda x: x.squeeze(1), _t(lambda x: x.squeeze(1)), ((3, 1, 4),)),
    OpSpec("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x[..., None], _t(lambda x: x.unsqueeze(-1)), ((3, 4),)),
    OpSpec("flatten", lambda x: x.flatten(1), lambda x: x.reshape(2, -1), _t(lambda x: x.flatten(1)), ((2, 3, 4),)),
    OpSpec("concat", lambda a, b: ember.concat([a, b, a], axis=1), lambda a, b: np.concatenate([a, b, a], axis=1),
           _t(lambda a, b: __import__("torch").cat([a, b, a], 1)), ((2, 3), (2, 2))),
    OpSpec("stack", lambda a, b: ember.stack([a, b], axis=1), lambda a, b: np.stack([a, b], axis=1),
           _t(lambda a, b: __import__("torch").stack([a, b], 1)), ((2, 3), (2, 3))),
    OpSpec("split", lambda x: x.split([1, 3], 1)[1], lambda x: x[:, 1:], _t(lambda x: x.split([1, 3], 1)[1]), ((3, 4),)),
    OpSpec("split_all_pieces", lambda x: (lambda a, b, c: a * b + c)(*x.split(2, 1)),
           lambda x: x[:, :2] * x[:, 2:4] + x[:, 4:], _t(lambda x: (lambda a, b, c: a * b + c)(*x.split(2, 1))),
           ((3, 6),)),
    OpSpec("chunk", lambda x: x.chunk(3, 0)[2] * 2, lambda x: x[4:] * 2, _t(lambda x: x.chunk(3, 0)[2] * 2), ((5, 2),)),
    OpSpec("pad", lambda x: ember.pad(x, ((1, 2), (0, 1)), value=0.5),
           lambda x: np.pad(x, ((1, 2), (0, 1)), constant_values=0.5),
           _t(lambda x: __import__("torch").nn.functional.pad(x, (0, 1, 1, 2), value=0.5)), ((3, 4),)),
    OpSpec("flip", lambda x: x.flip(1), lambda x: np.flip(x, 1), _t(lambda x: x.flip(1)), ((3, 4),)),
    OpSpec("repeat_interleave", lambda x: x.repeat_interleave(2, 1), lambda x: np.repeat(x, 2, axis=1),
           _t(lambda x: x.repeat_interleave(2, 1)), ((3, 4),)),
    OpSpec("repeat_interleave_uneven", lambda x: x.repeat_interleave([1, 0, 3], 0), lambda x: np.repeat(x, [1, 0, 3], axis=0),
           _t(lambda x: x.repeat_interleave(__import__("torch").tensor([1, 0, 3]), 0)), ((3, 2),)),
    OpSpec("tile", lambda x: x.tile((2, 1, 3)), lambda x: np.tile(x, (2, 1, 3)), _t(lambda x: x.repeat(2, 1, 3)), ((3, 2),)),
    OpSpec("repeat", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), _t(lambda x: x.repeat(2, 1, 3)), ((3, 2),)),
    OpSpec("getitem_basic", lambda x: x[1:, ::2, None], lambda x: x[1:, ::2, None], _t(lambda x: x[1:, ::2, None]), ((3, 4),)),
    OpSpec("getitem_int", lambda x: x[1, -1], lambda x: x[1, -1], _t(lambda x: x[1, -1]), ((3, 4),)),
    OpSpec("getitem_repeated", lambda x: x[[0, 2, 0, 0], 1:3], lambda x: x[[0, 2, 0, 0], 1:3],
           _t(lambda x: x[[0, 2, 0, 0], 1:3]), ((3, 4),)),
    OpSpec("getitem_two_arrays", lambda x: x[[0, 1, 0], [3, 3, 3]], lambda x: x[[0, 1, 0], [3, 3, 3]],
           _t(lambda x: x[[0, 1, 0], [3, 3, 3]]), ((3, 4),)),
    OpSpec("getitem_mask", lambda x: x[x > 0], lambda x: x[x > 0], _t(lambda x: x[x > 0]), ((3, 4),), "away0"),
    OpSpec("getitem_ellipsis", lambda x: x[..., 1], lambda x: x[..., 1], _t(lambda x: x[..., 1]), ((2, 3, 4),)),
    OpSpec("gather", lambda x: x.gather(1, np.array([[0, 0], [3, 1], [2, 2]])),
           lambda x: np.take_along_axis(x, np.array([[0, 0], [3, 1], [2, 2]]), 1),
           _t(lambda x: x.gather(1, __import__("torch").tensor([[0, 0], [3, 1], [2, 2]]))), ((3, 4),)),
    OpSpec("scatter_add", lambda x, s: x.scatter_add(0, np.array([[0, 1], [0, 0], [2, 0]]), s),
           lambda x, s: _np_scatter_add(x, np.array([[0, 1], [0, 0], [2, 0]]), s),
           _t(lambda x, s: x.scatter_add(0, __import__("torch").tensor([[0, 1], [0, 0], [2, 0]]), s)),
           ((3, 2), (3, 2))),
    OpSpec("index_select", lambda x: x.index_select(1, [3, 0, 3]), lambda x: x[:, [3, 0, 3]],
           _t(lambda x: x.index_select(1, __import__("torch").tensor([3, 0, 3]))), ((3, 4),)),
    OpSpec("masked_fill", lambda x: x.masked_fill(x < 0, -1.0), lambda x: np.where(x < 0, -1.0, x).astype(x.dtype),
           _t(lambda x: x.masked_fill(x < 0, -1.0)), ((3, 4),), "away0"),
    # ---------------------------------------------------------------- contractions
    OpSpec("matmul", lambda a, b: a @ b, np.matmul, _t(lambda a, b: a @ b), ((3, 4), (4, 2))),
    OpSpec("matmul_batched", lambda a, b: a @ b, np.matmul, _t(lambda a, b: a @ b), ((2, 1, 3, 4), (3, 4, 2))),
    OpSpec("matmul_vec_mat", lambda a, b: a @ b, np.matmul, _t(lambda a, b: a @ b), ((4,), (2, 4, 3))),
    OpSpec("matmul_mat_vec", lambda a, b: a @ b, np.matmul, _t(lambda a, b: a @ b), ((3, 4), (4,))),
    OpSpec("matmul_dot", lambda a, b: a @ b, np.matmul, _t(lambda a, b: a @ b), ((4,), (4,))),
    OpSpec("einsum_mm", lambda a, b: ember.einsum("ij,jk->ik", a, b), lambda a, b: np.einsum("ij,jk->ik", a, b),
           _t(lambda a, b: __import__("torch").einsum("ij,jk->ik", a, b)), ((3, 4), (4, 2))),
    OpSpec("einsum_batch", lambda a, b: ember.einsum("bij,bkj->bik", a, b), lambda a, b: np.einsum("bij,bkj->bik", a, b),
           _t(lambda a, b: __import__("torch").einsum("bij,bkj->bik", a, b)), ((2, 3, 4), (2, 2, 4))),
    OpSpec("einsum_diag", lambda a: ember.einsum("ii->i", a), lambda a: np.einsum("ii->i", a),
           _t(lambda a: __import__("torch").einsum("ii->i", a)), ((3, 3),)),
    OpSpec("einsum_sum", lambda a: ember.einsum("ij->", a), lambda a: np.einsum("ij->", a),
           _t(lambda a: __import__("torch").einsum("ij->", a)), ((3, 3),)),
    OpSpec("einsum_outer_implicit", lambda a, b: ember.einsum("i,j", a, b), lambda a, b: np.einsum("i,j", a, b),
           _t(lambda a, b: __import__("torch").einsum("i,j", a, b)), ((3,), (2,))),
    OpSpec("einsum_ellipsis", lambda a, b: ember.einsum("...ij,...jk->...ik", a, b),
           lambda a, b: np.einsum("...ij,...jk->...ik", a, b),
           _t(lambda a, b: __import__("torch").einsum("...ij,...jk->...ik", a, b)), ((2, 3, 4), (2, 4, 2))),
    OpSpec("einsum_three", lambda a, b, c: ember.einsum("ij,jk,k->i", a, b, c),
           lambda a, b, c: np.einsum("ij,jk,k->i", a, b, c),
           _t(lambda a, b, c: __import__("torch").einsum("ij,jk,k->i", a, b, c)), ((2, 3), (3, 4), (4,))),
]


def _erfinv_reference(y: float) -> float:
    """erfinv by Newton's method on ``math.erf`` (erf is concave for x > 0, so it converges)."""
    x = 0.0
    for _ in range(100):
        x -= (math.erf(x) - y) / (2.0 / math.sqrt(math.pi) * math.exp(-x * x))
    return x


def _np_scatter_add(x, index, src):
    out = x.copy()
    cols = np.broadcast_to(np.arange(index.shape[1]), index.shape)
    np.add.at(out, (index, cols), src)
    return out
