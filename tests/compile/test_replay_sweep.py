"""Every Tensor method replays under ember.compile: none computes outside a primitive.

A method that computed on the array directly (as ``Tensor.any`` once did, issue 18)
would be frozen at trace time: the compiled function would keep returning what the
first call found. The sweep calls each public method through ``ember.compile`` on
one input, then on a different one, and compares with eager Ember.
"""
import inspect
import warnings

import numpy as np
import pytest

import ember
from ember.compile.tracer import CompileError

X0 = [[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]]
X1 = [[-2.0, 0.75, -1.0], [0.125, 4.0, -3.0]]
Y0 = [[1.5, 2.5, -0.5], [0.25, -2.0, 3.5]]
Y1 = [[-0.75, 1.25, 2.0], [-1.5, 0.5, -2.5]]

# Methods that need no array argument but are not expected to return tensors, or that are
# about the graph or the device rather than values.
NOT_VALUES = {"backward", "register_hook", "retain_grad", "zero_grad", "numpy", "tolist", "item", "cuda", "cpu",
              "dim", "ndimension", "numel", "nelement", "element_size", "size", "type", "is_complex",
              "is_contiguous", "is_floating_point", "requires_grad_", "detach", "clone", "contiguous",
              "to", "float", "double", "half", "int", "long", "bool", "short", "char", "byte", "bfloat16"}

# Methods with arguments: (name, extra positional arguments); "y" stands for a second input tensor.
WITH_ARGUMENTS = [
    ("add", ("y",)), ("sub", ("y",)), ("mul", ("y",)), ("div", ("y",)), ("true_divide", ("y",)),
    ("maximum", ("y",)), ("minimum", ("y",)), ("atan2", ("y",)), ("hypot", ("y",)), ("copysign", ("y",)),
    ("fmod", ("y",)), ("remainder", ("y",)), ("floor_divide", ("y",)), ("logaddexp", ("y",)), ("xlogy", ("y",)),
    ("eq", ("y",)), ("ne", ("y",)), ("lt", ("y",)), ("le", ("y",)), ("gt", ("y",)), ("ge", ("y",)),
    ("isclose", ("y",)), ("lerp", ("y", 0.25)), ("pow", (2,)), ("clamp", (-1.0, 1.0)), ("clamp_min", (0.0,)),
    ("clamp_max", (0.0,)), ("clip", (-1.0, 1.0)), ("cumsum", (1,)), ("cumprod", (1,)), ("logcumsumexp", (1,)),
    ("cummax", (1,)), ("cummin", (1,)), ("softmax", (1,)), ("log_softmax", (1,)), ("topk", (2,)),
    ("kthvalue", (2,)), ("roll", (1, 1)), ("repeat", (2, 1)), ("repeat_interleave", (2,)),
    ("reshape", (3, 2)), ("view", (3, 2)), ("transpose", (0, 1)), ("permute", (1, 0)), ("swapaxes", (0, 1)),
    ("movedim", (0, 1)), ("unsqueeze", (1,)), ("narrow", (1, 1, 2)), ("unflatten", (1, (3, 1))),
    ("unfold", (1, 2, 1)), ("chunk", (3, 1)), ("split", (1, 1)), ("expand", (2, 2, 3)),
    ("broadcast_to", ((2, 2, 3),)), ("masked_fill", ("mask", 0.0)), ("where", ("mask", "y")),
    ("matmul", ("yT",)), ("mm", ("yT",)),
]


def _tensors(value):
    if isinstance(value, ember.Tensor):
        return [value]
    if isinstance(value, (tuple, list)) and all(isinstance(t, ember.Tensor) for t in value):
        return list(value)
    return None


def _same(got, want):
    assert type(got) is type(want), f"compiled returned {type(got).__name__}, eager {type(want).__name__}"
    for g, w in zip(_tensors(got), _tensors(want)):
        np.testing.assert_array_equal(g.numpy(), w.numpy())


def _zero_argument_methods():
    x = ember.tensor(X0)
    names = []
    for name in sorted(dir(ember.Tensor)):
        if name.startswith("_") or name.endswith("_") or name in NOT_VALUES:
            continue
        if isinstance(inspect.getattr_static(ember.Tensor, name), property):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = getattr(x, name)()
        except Exception:  # the method needs arguments: WITH_ARGUMENTS covers those that matter
            continue
        if _tensors(result) is not None:
            names.append(name)
    return names


ZERO_ARGUMENT = _zero_argument_methods()


def test_the_sweep_covers_the_tensor_api():
    # A guard on the sweep itself: if method discovery broke, the parametrized tests would pass vacuously.
    assert len(ZERO_ARGUMENT) > 80
    assert {"any", "all", "sort", "max", "argmax", "sum", "exp", "mode"} <= set(ZERO_ARGUMENT)


@pytest.mark.parametrize("name", ZERO_ARGUMENT)
def test_method_replays_with_new_values(name):
    compiled = ember.compile(lambda x: getattr(x, name)())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compiled(ember.tensor(X0))
        except CompileError:
            pytest.skip(f"{name}: data-dependent output shape, refused by ember.compile (documented)")
        fresh = ember.tensor(X1)
        _same(compiled(fresh), getattr(fresh, name)())


def _argument(token, x, y):
    if token == "y":
        return y
    if token == "yT":
        return y.transpose(0, 1)
    if token == "mask":
        return y > 0
    return token


@pytest.mark.parametrize("name,args", WITH_ARGUMENTS,
                         ids=[case[0] for case in WITH_ARGUMENTS])
def test_method_with_arguments_replays_with_new_values(name, args):
    def call(x, y):
        return getattr(x, name)(*(_argument(a, x, y) for a in args))

    compiled = ember.compile(call)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled(ember.tensor(X0), ember.tensor(Y0))
        fresh_x, fresh_y = ember.tensor(X1), ember.tensor(Y1)
        _same(compiled(fresh_x, fresh_y), call(fresh_x, fresh_y))
