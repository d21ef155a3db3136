"""``Module`` and ``Parameter``: the building blocks networks are assembled from.

A module owns parameters (tensors that learn), buffers (tensors that do not, such
as batch-norm running statistics) and submodules, all registered by plain
attribute assignment, as in PyTorch and Torch7's ``nn``. ``state_dict`` names
follow PyTorch's dotted convention so weights move between the two.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Iterator

from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a module learns: it requires grad and is listed by ``parameters()``.

    Example:
        >>> import ember
        >>> p = ember.nn.Parameter(ember.zeros(3))
        >>> p.requires_grad
        True
    """

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True):
        super().__init__(data._data if isinstance(data, Tensor) else data)
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class StateDictError(RuntimeError):
    """Raised by ``load_state_dict`` with the full list of what did not match."""


class IncompatibleKeys(tuple):
    """``(missing_keys, unexpected_keys)`` returned by ``load_state_dict(strict=False)``."""

    def __new__(cls, missing: list, unexpected: list):
        obj = super().__new__(cls, (missing, unexpected))
        return obj

    @property
    def missing_keys(self) -> list:
        return self[0]

    @property
    def unexpected_keys(self) -> list:
        return self[1]


class Module:
    """Base class of every layer and network.

    Subclasses set parameters, buffers and submodules as attributes in
    ``__init__`` and define ``forward``; calling the module runs ``forward``.

    Example:
        >>> import ember
        >>> class Affine(ember.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.scale = ember.nn.Parameter(ember.ones(3))
        ...     def forward(self, x):
        ...         return x * self.scale
        >>> Affine()(ember.ones(3)).shape
        (3,)
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------ registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() is called; "
                f"call super().__init__() first in {type(self).__name__}.__init__"
            )
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            self._drop(name, "_parameters")
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(a Parameter or None is expected)")
            params[name] = None
        elif isinstance(value, Module):
            self._drop(name, "_modules")
            modules[name] = value
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as submodule {name!r} "
                                "(a Module or None is expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"buffer {name!r} must be a Tensor or None, got {type(value).__name__}")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _drop(self, name: str, keep: str) -> None:
        """Forget ``name`` everywhere except in the table ``keep`` about to receive it.

        Re-assigning an existing name must not move it to the end of its table:
        that would reorder ``parameters()`` and ``state_dict()`` (and a
        ``ModuleList``'s items), which PyTorch keeps in place.
        """
        self.__dict__.pop(name, None)
        for table in ("_parameters", "_buffers", "_modules"):
            if table != keep:
                self.__dict__[table].pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            registry = d.get(table)
            if registry is not None and name in registry:
                return registry[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        for table in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[table]:
                del self.__dict__[table][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, e.g. a disabled bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._drop(name, "_parameters")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is part of the state but not learned (saved unless not persistent)."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._drop(name, "_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        else:
            self._non_persistent.discard(name)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Add a submodule under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._drop(name, "_modules")
        self._modules[name] = module

    # ------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        for hook in self._forward_pre_hooks.values():
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        for hook in self._forward_hooks.values():
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook: Callable):
        """Call ``hook(module, inputs, output)`` after every forward; returns a removable handle."""
        return _Handle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook: Callable):
        """Call ``hook(module, inputs)`` before every forward; returns a removable handle."""
        return _Handle(self._forward_pre_hooks, hook)

    # ------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = "", memo: set | None = None) -> Iterator[tuple[str, "Module"]]:
        """Yield ``(dotted_name, module)`` for this module and every descendant, once each."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator["Module"]:
        """This module and all its descendants."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """Direct submodules with their names."""
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self) -> Iterator["Module"]:
        """Direct submodules."""
        for _, child in self.named_children():
            yield child

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, parameter)``; a parameter shared by two modules appears once."""
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, p in module._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{module_prefix}.{name}" if module_prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """All learnable parameters."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(dotted_name, buffer)``."""
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{module_prefix}.{name}" if module_prefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """All buffers."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """Call ``fn`` on every submodule (children first) and on this module; returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def num_parameters(self, trainable_only: bool = False) -> int:
        """Total number of parameter elements."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # ------------------------------------------------------------ modes and grads
    def train(self, mode: bool = True) -> "Module":
        """Put this module and its descendants in training mode (or eval with ``False``)."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        """Put this module and its descendants in evaluation mode."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of all parameters."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad._data[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (``False``) or unfreeze all parameters."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def to(self, target) -> "Module":
        """Move parameters and buffers to a device, or cast floating ones to a dtype, in place."""
        for module in self.modules():
            for table in (module._parameters, module._buffers):
                for name, t in table.items():
                    if t is None:
                        continue
                    is_float = t.dtype.kind == "f"
                    is_device = isinstance(target, str) and (target == "cpu" or target.startswith("cuda"))
                    if not is_device and not is_float:
                        continue
                    moved = t.detach().to(target)
                    t._data = moved._data
                    if t.grad is not None:
                        t.grad = t.grad.to(target)
        return self

    def double(self) -> "Module":
        """Cast floating parameters and buffers to float64."""
        return self.to("float64")

    def float(self) -> "Module":
        """Cast floating parameters and buffers to float32."""
        return self.to("float32")

    # ------------------------------------------------------------ state
    def state_dict(self, prefix: str = "") -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name (PyTorch's naming)."""
        state = OrderedDict()
        for module_prefix, module in self.named_modules(prefix.rstrip(".")):
            base = f"{module_prefix}." if module_prefix else ""
            for name, p in module._parameters.items():
                if p is not None:
                    state[base + name] = p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    state[base + name] = b.detach()
        return state

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this module's parameters and buffers.

        All problems are collected and reported together: missing keys, unexpected
        keys and shape mismatches. With ``strict=True`` any of them raises
        :class:`StateDictError` and the module is left unchanged.
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        incoming = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._data if isinstance(value, Tensor) else value
            shape = tuple(getattr(array, "shape", ()))
            if shape != target.shape:
                mismatched.append(f"{key}: checkpoint {shape} vs model {target.shape}")
                continue
            incoming[key] = array
        if mismatched or (strict and (missing or unexpected)):
            lines = []
            if missing:
                lines.append("missing keys: " + ", ".join(missing))
            if unexpected:
                lines.append("unexpected keys: " + ", ".join(unexpected))
            if mismatched:
                lines.append("shape mismatches: " + "; ".join(mismatched))
            raise StateDictError(
                f"load_state_dict: cannot load into {type(self).__name__}:\n  " + "\n  ".join(lines)
            )
        targets = dict(self._named_state_tensors())
        for key, array in incoming.items():
            target = targets[key]
            # Copy into the existing array (as PyTorch's param.copy_()): optimizers,
            # compiled steps and flat parameter views keep pointing at live memory.
            target._data[...] = _convert_like(array, target._data)
            target._version += 1
        return IncompatibleKeys(missing, unexpected)

    def _named_state_tensors(self):
        for module_prefix, module in self.named_modules():
            base = f"{module_prefix}." if module_prefix else ""
            for table in (module._parameters, module._buffers):
                for name, t in table.items():
                    if t is not None:
                        yield base + name, t

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """One line of settings shown in ``repr`` (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        body = "\n  ".join(([extra] if extra else []) + lines)
        return f"{type(self).__name__}(\n  {body}\n)"

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


def _convert_like(array, like):
    """``array`` as a contiguous copy with ``like``'s dtype and device."""
    from .. import backend

    xp = backend.array_module(like)
    if backend.array_module(array) is not xp:
        array = backend.to_device(array, backend.device_of(like))
    return xp.array(array, dtype=like.dtype, copy=True)


class _Handle:
    """A removable registration in one of a module's hook tables."""

    _next_id = 0

    def __init__(self, table: OrderedDict, hook: Callable):
        self._table = table
        self.id = _Handle._next_id
        _Handle._next_id += 1
        table[self.id] = hook

    def remove(self) -> None:
        self._table.pop(self.id, None)
