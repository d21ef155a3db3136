"""``Optimizer``: parameter groups, per-parameter state, ``state_dict``, ``zero_grad`` and the step loop.

A subclass declares its options (defaults and a validation :class:`~ember.optim.options.Rule`
per option), the names of its per-parameter state, and ``_update``: the in-place update of
one parameter's array from its gradient array. The base class does the rest, the same way
for every optimizer, with PyTorch's conventions (``param_groups``, ``state``, index-based
``state_dict``) so that code and habits carry over.

Updates work on the backend arrays (``p._data``, ``p.grad._data``) through the kernels of
:mod:`ember.kernels.optim` (one numba pass per parameter, or the NumPy ``out=`` ufunc reference):
no autograd recording, no per-element Python, and they run on CuPy arrays unchanged.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from .. import backend
from ..autograd.grad_mode import enable_grad
from ..autograd.tracing import opaque
from ..kernels.optim import decayed_grad  # noqa: F401 - the optimizers' shared L2/maximize rule
from ..tensor import Tensor, constant
from .options import Rule, check_known

__all__ = ["Optimizer"]

ParamsT = Iterable[Tensor] | Iterable[dict] | Iterable[tuple[str, Tensor]]

# Keys that schedulers write into param groups (torch does the same); accepted in a group
# handed to a new optimizer so that `Adam(old_optimizer.param_groups)` keeps working.
_SCHEDULER_KEYS = frozenset({"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"})
# Group keys that are not options: the parameters, a label, and the schedulers' keys.
_EXTRA_GROUP_KEYS = _SCHEDULER_KEYS | {"params", "name", "param_names"}


def _saved(key: str, value: Any) -> Any:
    """A state entry as :meth:`Optimizer.state_dict` gives it: arrays (also inside lists) become
    ember Tensors holding a copy; the ``'step'`` counter a 0-d float32 tensor, as in PyTorch."""
    if hasattr(value, "shape"):
        return constant(value.copy())
    if isinstance(value, list):
        return [_saved("", v) for v in value]
    if key == "step" and isinstance(value, int):
        return constant(backend.numpy_module().asarray(value, dtype="float32"))
    return value


class Optimizer:
    """Base class of every optimizer.

    Args:
        params: an iterable of tensors, of ``(name, tensor)`` pairs (``model.named_parameters()``:
            the names are kept in each group's ``'param_names'``, as PyTorch does), or of dicts
            (parameter groups) each holding ``'params'`` and, optionally, per-group values of any option.
        defaults: the value of every option, used where a group does not set its own.

    Attributes:
        param_groups: list of dicts with ``'params'`` and one entry per option;
            schedulers change ``group['lr']`` here.
        state: per-parameter state, keyed by tensor: the backend arrays the updates work on
            in place, and ``'step'`` as an int (:meth:`state_dict` gives PyTorch's layout).
        defaults: the constructor's option values.

    Example:
        >>> import ember
        >>> from ember.optim import SGD
        >>> w = ember.ones(3, requires_grad=True)
        >>> b = ember.zeros(1, requires_grad=True)
        >>> opt = SGD([{"params": [w]}, {"params": [b], "lr": 0.5}], lr=0.1)
        >>> ((w * 2).sum() + b.sum()).backward()
        >>> opt.step()
        >>> w, b
        (tensor([0.8, 0.8, 0.8], requires_grad=True), tensor([-0.5], requires_grad=True))
    """

    #: Validation rule of every option (the keys are the option names).
    rules: ClassVar[dict[str, Rule]] = {}

    def __init__(self, params: ParamsT, defaults: dict[str, Any]):
        name = type(self).__name__
        check_known(name, defaults, self.rules)
        for option, value in defaults.items():
            self.rules[option].check(name, option, value)
        self._check_group(defaults, "")
        self.defaults = dict(defaults)
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor) or not hasattr(params, "__iter__"):
            hint = "; pass model.parameters()" if hasattr(params, "parameters") else ""
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts (parameter groups), "
                f"got {type(params).__name__}{hint}"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own option values (e.g. a new layer to fine-tune).

        Options the group does not set take the optimizer's defaults. The parameters must be
        floating-point leaf tensors that belong to no other group.

        Example:
            >>> import ember
            >>> from ember.optim import SGD
            >>> opt = SGD([ember.ones(2, requires_grad=True)], lr=0.1)
            >>> opt.add_param_group({"params": [ember.ones(3, requires_grad=True)], "lr": 0.01})
            >>> [g["lr"] for g in opt.param_groups]
            [0.1, 0.01]
        """
        name = type(self).__name__
        index = len(self.param_groups)
        where = f" in param group {index}"
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a param group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: param group {index} has no 'params' entry")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                f"{name}: the params of param group {index} are a set, whose order changes between "
                "runs (and so would the state_dict); use a list"
            )
        params = list(params)
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params):
            param_group = {**param_group, "param_names": [name for name, _ in params]}
            params = [p for _, p in params]
        seen = {id(p): g for g, group in enumerate(self.param_groups) for p in group["params"]}
        for i, p in enumerate(params):
            self._check_param(p, i, index)
            if id(p) in seen:
                other = seen[id(p)]
                where_else = "twice in that group" if other == index else f"also in param group {other}"
                raise ValueError(
                    f"{name}: parameter {i} of param group {index} (shape {p.shape}) appears "
                    f"{where_else}; each parameter may be optimized by one group only"
                )
            seen[id(p)] = index
        options = [k for k in param_group if k != "params"]
        check_known(name, (k for k in options if k not in _EXTRA_GROUP_KEYS), self.rules, where)
        group = {"params": params}
        for option, default in self.defaults.items():
            value = param_group.get(option, default)
            self.rules[option].check(name, option, value, where)
            group[option] = value
        for key in options:
            group.setdefault(key, param_group[key])
        self._check_group(group, where)
        self.param_groups.append(group)

    def _check_param(self, p: Any, i: int, group_index: int) -> None:
        name = type(self).__name__
        what = f"parameter {i} of param group {group_index}"
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: {what} is a {type(p).__name__}; expected an ember.Tensor")
        if p.dtype.kind != "f":
            raise TypeError(
                f"{name}: {what} has dtype {p.dtype} (shape {p.shape}); only real floating-point "
                "tensors can be optimized"
            )
        if not p.is_leaf:
            raise ValueError(
                f"{name}: {what} (shape {p.shape}) is not a leaf tensor (it was computed by an op); "
                "optimize the tensor it was computed from, or .detach() it and set requires_grad"
            )

    def _check_group(self, group: dict, where: str) -> None:
        """Checks that involve several options (e.g. SGD's Nesterov needs momentum)."""

    # ------------------------------------------------------------ the step
    # `opaque`: ember.compile records a step (or zero_grad) as one call and replays it whole,
    # since it works on arrays directly; a subclass that overrides step must mark it too.
    @opaque
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, in place.

        Args:
            closure: optional function that clears the gradients, re-evaluates the model,
                calls ``backward`` and returns the loss; it runs with gradients enabled
                before the update (needed by optimizers that evaluate the loss several times).

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        name = type(self).__name__
        update = self._update
        state_of = self.state
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                data, g = p._data, grad._data
                if g.shape != data.shape:
                    raise ValueError(
                        f"{name}: gradient of shape {g.shape} for a parameter of shape {data.shape}"
                    )
                state = state_of.get(p)
                if state is None:
                    state = state_of[p] = self._init_state(data, group)
                update(data, g, state, group)
                p._version += 1  # saved copies of p in a live graph are now stale
        return loss

    def _update(self, param, grad, state: dict, group: dict) -> None:
        """Update the array ``param`` in place from ``grad`` (subclasses implement this)."""
        raise NotImplementedError

    def _state_keys(self, group: dict) -> tuple[str, ...]:
        """The names of the per-parameter state under ``group``'s options."""
        return ()

    def _init_state(self, param, group: dict) -> dict:
        """Fresh state: a step counter at 0 and zero arrays shaped like ``param``."""
        xp = backend.array_module(param)
        return {key: 0 if key == "step" else xp.zeros_like(param) for key in self._state_keys(group)}

    @opaque
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters.

        Args:
            set_to_none: set ``p.grad = None`` (the default: no memory traffic, and the next
                backward allocates fresh gradients); False zeroes the gradient arrays in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if grad.node is not None:
                    grad.detach_()
                else:
                    grad.requires_grad = False
                try:
                    grad._data.fill(0)
                except ValueError:  # a read-only (e.g. broadcast) array
                    grad._data = backend.array_module(grad._data).zeros_like(grad._data)
                grad._version += 1

    # ------------------------------------------------------------ saving and loading
    def state_dict(self) -> dict:
        """A snapshot of the optimizer in PyTorch's layout: ``{'state': {index: {...}}, 'param_groups': [...]}``.

        Parameters are referred to by their position across the groups (0, 1, 2, ... in group
        order), as in PyTorch, so the dict can be loaded into an optimizer built over other
        tensors of the same shapes (e.g. a fresh model). Every state entry is an ember Tensor
        holding a copy (``'step'`` a 0-d float32 tensor, as in PyTorch), so a PyTorch state
        dict whose tensors are converted to ember tensors loads here, and the reverse.

        Example:
            >>> import ember
            >>> from ember.optim import Adam
            >>> w = ember.ones(2, requires_grad=True)
            >>> opt = Adam([w], lr=0.1)
            >>> (w * w).sum().backward(); opt.step()
            >>> sd = opt.state_dict()
            >>> sorted(sd["state"][0]), sd["param_groups"][0]["params"]
            (['exp_avg', 'exp_avg_sq', 'step'], [0])
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                entry = self.state.get(p)
                if entry:
                    state[index[id(p)]] = {k: _saved(k, v) for k, v in entry.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict`, checking that it fits this optimizer first.

        The groups must match in number and size; each parameter's state must have the
        entries this optimizer keeps under the loaded options, shaped like the parameter.
        Entries may be ember Tensors or arrays (``'step'`` also a number); they are copied onto
        each parameter's device and cast to its dtype. Nothing is changed when a check fails.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} param groups "
                f"but the optimizer has {len(self.param_groups)}"
            )
        params_at: dict[int, tuple[Tensor, dict]] = {}
        new_groups = []
        for g, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            ids = list(saved["params"])
            if len(ids) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: param group {g} holds {len(ids)} parameters in the "
                    f"state dict but {len(group['params'])} in the optimizer"
                )
            where = f" in param group {g} of the state dict"
            check_known(name, (k for k in saved if k not in _EXTRA_GROUP_KEYS), self.rules, where)
            # Options missing from an older state dict keep their current values.
            new_group = {**group, **saved, "params": group["params"]}
            for option, rule in self.rules.items():
                rule.check(name, option, new_group[option], where)
            new_groups.append(new_group)
            for i, p in zip(ids, group["params"]):
                params_at[int(i)] = (p, new_group)
        new_state: defaultdict[Tensor, dict] = defaultdict(dict)
        for key, entry in state_dict["state"].items():
            if int(key) not in params_at:
                raise ValueError(f"{name}.load_state_dict: state for parameter {key}, which no group holds")
            p, group = params_at[int(key)]
            new_state[p] = self._load_entry(entry, p, group, key)
        self.param_groups = new_groups
        self.state = new_state

    def _load_entry(self, entry: dict, p: Tensor, group: dict, key) -> dict:
        name = type(self).__name__
        expected = set(self._state_keys(group))
        entry = {k: v for k, v in entry.items() if v is not None}  # PyTorch may store None buffers
        if set(entry) != expected:
            missing = sorted(expected - set(entry))
            unexpected = sorted(set(entry) - expected)
            raise ValueError(
                f"{name}.load_state_dict: the state of parameter {key} has missing entries {missing} "
                f"and unexpected entries {unexpected} (is it the state of another optimizer, or of "
                "other options?)"
            )
        xp = backend.array_module(p._data)
        loaded = {}
        for k, value in entry.items():
            if k == "step":
                loaded[k] = int(value.item() if hasattr(value, "item") else value)
                continue
            array = value._data if isinstance(value, Tensor) else value
            if tuple(getattr(array, "shape", ())) != p.shape:
                raise ValueError(
                    f"{name}.load_state_dict: state {k!r} of parameter {key} has shape "
                    f"{tuple(getattr(array, 'shape', ()))} but the parameter has shape {p.shape}"
                )
            array = backend.to_device(array, p.device) if hasattr(array, "dtype") else array
            loaded[k] = xp.array(array, dtype=p.dtype, copy=True)
        return loaded

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        lines.append(")")
        return "\n".join(lines)
