"""Learning-rate schedules with PyTorch's names and formulas, driving an optimizer's ``alpha``.

Call ``step()`` once per epoch (or per batch, as the schedule's unit), after the optimizer's
step, as in PyTorch. ``StepLR`` and ``CosineAnnealingLR`` take a ``warmup`` of that many steps:
the rate climbs linearly from ``alpha / (warmup + 1)`` to ``alpha`` and the schedule starts after
it, PyTorch's ``SequentialLR([LinearLR(opt, 1 / (warmup + 1), 1.0, warmup), schedule],
milestones=[warmup])``.
"""

from __future__ import annotations

import math
from typing import Any

from engine.optim import Optimizer

__all__ = ["CosineAnnealingLR", "LRScheduler", "LinearLR", "StepLR"]


class LRScheduler:
    """Base of the schedules: sets ``optimizer.alpha`` from the step count.

    Parameters
    ----------
    optimizer : Optimizer
        Its ``alpha`` at construction is the base rate.
    warmup : int
        Steps of linear warm-up before the schedule itself starts (0: none).
    """

    def __init__(self, optimizer: Optimizer, warmup: int = 0) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an optimizer, got {optimizer!r}")
        if int(warmup) != warmup or warmup < 0:
            raise ValueError(f"warmup must be a whole number >= 0, got {warmup}")
        self.optimizer = optimizer
        self.base_lr = optimizer.alpha
        self.warmup = int(warmup)
        self.last_epoch = 0
        optimizer.alpha = self.lr_at(0)

    def lr_at(self, epoch: int) -> float:
        """The learning rate after ``epoch`` calls of :meth:`step`."""
        if epoch < self.warmup:
            return self.base_lr * (epoch + 1) / (self.warmup + 1)
        return self._schedule(epoch - self.warmup)

    def _schedule(self, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one step and set the optimizer's ``alpha``."""
        self.last_epoch += 1
        self.optimizer.alpha = self.lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The rate set by the last step (a list, as PyTorch's one entry per group)."""
        return [self.optimizer.alpha]

    def state_dict(self) -> dict[str, Any]:
        """The step count and base rate (the settings come from the constructor)."""
        return {"last_epoch": self.last_epoch, "base_lr": self.base_lr}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict` and set the optimizer's rate accordingly."""
        self.last_epoch = int(state["last_epoch"])
        self.base_lr = float(state["base_lr"])
        self.optimizer.alpha = self.lr_at(self.last_epoch)


class LinearLR(LRScheduler):
    """Multiply the rate by a factor going linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps, then keep ``end_factor`` (PyTorch's ``LinearLR``).

    Examples
    --------
    >>> from engine import SGD, Tensor
    >>> opt = SGD([Tensor([1.0], autograd=True)], alpha=0.3)
    >>> s = LinearLR(opt, start_factor=1 / 3, total_iters=2)
    >>> [round(s.lr_at(t), 3) for t in range(4)]
    [0.1, 0.2, 0.3, 0.3]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
    ) -> None:
        if not 0.0 < start_factor <= 1.0 or not 0.0 <= end_factor <= 1.0:
            raise ValueError(
                f"LinearLR: factors must be in (0, 1], got {start_factor} and {end_factor}"
            )
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = _positive_int("total_iters", total_iters)
        super().__init__(optimizer)

    def _schedule(self, epoch: int) -> float:
        frac = min(epoch, self.total_iters) / self.total_iters
        return self.base_lr * (self.start_factor + (self.end_factor - self.start_factor) * frac)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps (PyTorch's ``StepLR``):
    ``alpha * gamma ** (epoch // step_size)``.

    Examples
    --------
    >>> from engine import SGD, Tensor
    >>> opt = SGD([Tensor([1.0], autograd=True)], alpha=1.0)
    >>> [StepLR(opt, step_size=2, gamma=0.5).lr_at(t) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, warmup: int = 0
    ) -> None:
        self.step_size = _positive_int("step_size", step_size)
        self.gamma = float(gamma)
        super().__init__(optimizer, warmup)

    def _schedule(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Cosine from the base rate down to ``eta_min`` over ``T_max`` steps (PyTorch's
    ``CosineAnnealingLR``, its closed form):
    ``eta_min + (alpha - eta_min) * (1 + cos(pi * epoch / T_max)) / 2``.

    Examples
    --------
    >>> from engine import SGD, Tensor
    >>> opt = SGD([Tensor([1.0], autograd=True)], alpha=1.0)
    >>> [round(CosineAnnealingLR(opt, T_max=2).lr_at(t), 3) for t in range(3)]
    [1.0, 0.5, 0.0]
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, warmup: int = 0
    ) -> None:
        self.T_max = _positive_int("T_max", T_max)
        self.eta_min = float(eta_min)
        super().__init__(optimizer, warmup)

    def _schedule(self, epoch: int) -> float:
        cos = 1.0 + math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (self.base_lr - self.eta_min) * cos / 2.0


def _positive_int(name: str, value: int) -> int:
    if int(value) != value or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value}")
    return int(value)
