"""``GradScaler``: dynamic loss scaling for float16 training, PyTorch's ``torch.amp.GradScaler``.

float16 cannot hold gradients much below 6e-8; multiplying the loss by a large factor ``S`` before
``backward`` lifts them into range, and dividing the gradients by ``S`` before the update restores
their true values. ``S`` adapts: a step whose gradients hold an inf or a nan is skipped and ``S`` is
multiplied by ``backoff_factor``; after ``growth_interval`` clean steps in a row it is multiplied by
``growth_factor``. (bfloat16 has float32's range and rarely needs a scaler, but the scaler works with it.)

Example:
    >>> import ember, ember.amp
    >>> w = ember.ones(2, requires_grad=True)
    >>> opt = ember.optim.SGD([w], lr=0.1)
    >>> scaler = ember.amp.GradScaler("cpu", init_scale=1024.0)
    >>> scaler.scale((w * 3).sum()).backward()
    >>> float(w.grad[0])                       # scaled gradient
    3072.0
    >>> scaler.step(opt); scaler.update()      # unscales to 3, steps, keeps the scale
    >>> round(float(w[0]), 4), scaler.get_scale()
    (0.7, 1024.0)
"""
from __future__ import annotations

import warnings
from typing import Any

from .. import backend
from ..autograd import no_grad
from ..errors import ArgumentError

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Scale the loss, unscale and check the gradients, skip bad steps, adapt the scale.

    Args:
        device: ``"cpu"`` or ``"cuda"`` (PyTorch's default ``"cuda"``; without a GPU such a scaler
            disables itself with a warning, as PyTorch's does).
        init_scale: the first scale factor.
        growth_factor: multiplies the scale after ``growth_interval`` steps without inf/nan gradients.
        backoff_factor: multiplies the scale after a step with inf/nan gradients (that step is skipped).
        growth_interval: the number of clean steps in a row before the scale grows.
        enabled: ``False`` makes every method a pass-through (``scale`` returns the loss unchanged,
            ``step`` just calls ``optimizer.step()``).

    The loop, as in PyTorch::

        with ember.autocast("cpu", dtype=ember.float16):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)                 # optional: only to clip or inspect true gradients
        scaler.step(opt)                     # skipped when a gradient is inf/nan
        scaler.update()
        opt.zero_grad()
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        device = str(device).split(":")[0]
        if device not in ("cpu", "cuda"):
            raise ArgumentError(f"GradScaler: device must be 'cpu' or 'cuda', got {device!r}")
        if enabled and device == "cuda" and backend.cupy_module() is None:
            warnings.warn("GradScaler: device 'cuda' was asked for but CUDA is not available; disabling "
                          "the scaler (pass device='cpu' to scale on the CPU)", stacklevel=2)
            enabled = False
        if enabled:
            if init_scale <= 0:
                raise ArgumentError(f"GradScaler: init_scale must be positive, got {init_scale}")
            if growth_factor <= 1.0:
                raise ArgumentError(f"GradScaler: growth_factor must be > 1, got {growth_factor}")
            if not 0.0 < backoff_factor < 1.0:
                raise ArgumentError(f"GradScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
            if int(growth_interval) != growth_interval or growth_interval <= 0:
                raise ArgumentError(f"GradScaler: growth_interval must be a positive integer, got {growth_interval}")
        self._device = device
        self._enabled = bool(enabled)
        self._scale = float(init_scale)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        # Per optimizer (by id): its stage since the last update, and whether its grads had inf/nan.
        self._stage: dict = {}
        self._found_inf: dict = {}

    # ------------------------------------------------------------ the loop
    def scale(self, outputs: Any) -> Any:
        """``outputs`` (a tensor, or a list/tuple/dict of them) multiplied by the current scale."""
        if not self._enabled:
            return outputs
        from ..tensor import Tensor

        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, dict):
            return {key: self.scale(value) for key, value in outputs.items()}
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(value) for value in outputs)
        raise TypeError(f"GradScaler.scale: expected a tensor or a list/tuple/dict of tensors, "
                        f"got {type(outputs).__name__}")

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale in place and note whether any is inf/nan.

        Call it at most once per optimizer between updates (``step`` calls it when you have not).
        """
        if not self._enabled:
            return
        stage = self._stage.get(id(optimizer), _READY)
        if stage == _UNSCALED:
            raise RuntimeError("GradScaler.unscale_: already called on this optimizer since the last update()")
        if stage == _STEPPED:
            raise RuntimeError("GradScaler.unscale_: called after step(); call update() first")
        inv_scale = 1.0 / self._scale
        found_inf = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    grad = p.grad
                    if grad is None:
                        continue
                    grad.mul_(inv_scale)
                    if not found_inf:
                        xp = backend.array_module(grad._data)
                        found_inf = not bool(xp.isfinite(grad._data).all())
        self._found_inf[id(optimizer)] = found_inf
        self._stage[id(optimizer)] = _UNSCALED

    def step(self, optimizer, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless done), then ``optimizer.step(*args, **kwargs)`` unless a gradient is inf/nan.

        Returns:
            What ``optimizer.step`` returned, or None when the step was skipped.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("GradScaler.step: closures are not supported (as in PyTorch)")
        if self._stage.get(id(optimizer), _READY) == _STEPPED:
            raise RuntimeError("GradScaler.step: already called on this optimizer since the last update()")
        if self._stage.get(id(optimizer), _READY) == _READY:
            self.unscale_(optimizer)
        result = None
        if not self._found_inf[id(optimizer)]:
            result = optimizer.step(*args, **kwargs)
        self._stage[id(optimizer)] = _STEPPED
        return result

    def update(self, new_scale: float | None = None) -> None:
        """Adapt the scale after this iteration's steps (or set it to ``new_scale``), and reset for the next.

        Backs off when any optimizer stepped this iteration found inf/nan gradients; grows after
        ``growth_interval`` clean iterations in a row.
        """
        if not self._enabled:
            return
        if new_scale is not None:
            from ..tensor import Tensor

            value = float(new_scale.item() if isinstance(new_scale, Tensor) else new_scale)
            if value <= 0:
                raise ArgumentError(f"GradScaler.update: new_scale must be positive, got {value}")
            self._scale = value
        else:
            if not self._found_inf:
                raise RuntimeError("GradScaler.update: no inf/nan checks were recorded since the last "
                                   "update(); call scaler.step(optimizer) (or unscale_) first")
            if any(self._found_inf.values()):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._stage.clear()
        self._found_inf.clear()

    # ------------------------------------------------------------ queries and settings
    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def is_enabled(self) -> bool:
        """Whether this scaler scales (False when built with ``enabled=False`` or a missing device)."""
        return self._enabled

    def get_growth_factor(self) -> float:
        """The factor the scale grows by."""
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        """Set the factor the scale grows by."""
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        """The factor the scale shrinks by after an inf/nan step."""
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        """Set the factor the scale shrinks by."""
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        """The number of clean steps before the scale grows."""
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        """Set the number of clean steps before the scale grows."""
        self._growth_interval = int(new_interval)

    def state_dict(self) -> dict:
        """``{"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"}``
        (PyTorch's keys), or ``{}`` when disabled."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned (PyTorch's keys; scale may be a number or a tensor)."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("GradScaler.load_state_dict: the state dict is empty, probably saved from a "
                               "disabled GradScaler")
        missing = {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"} - set(state_dict)
        if missing:
            raise KeyError(f"GradScaler.load_state_dict: missing keys {sorted(missing)}")
        scale = state_dict["scale"]
        self._scale = float(scale.item() if hasattr(scale, "item") else scale)
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        tracker = state_dict["_growth_tracker"]
        self._growth_tracker = int(tracker.item() if hasattr(tracker, "item") else tracker)


__all__ = ["GradScaler"]
