"""The optimizers' update rules as one CuPy kernel per parameter.

On a GPU each array operation is a kernel launch with several microseconds of host time; Adam's
update written with array operations is about a dozen of them per parameter, the momentum
update four. These kernels apply the same formulas as :mod:`engine.optim` in one pass, with the
hyperparameters in the parameter's dtype, as NumPy does with Python floats.
"""

from __future__ import annotations

from typing import Any

from engine.backend import fused_kernel

__all__ = ["adam", "sgd"]

_SOURCES = {
    "sgd": ("T g, T alpha", "T p", "p -= alpha * g"),
    "momentum": ("T g, T mu, T alpha", "T p, T v", "v = mu * v + g; p -= alpha * v"),
    "adam": (
        "T g, T b1, T b2, T step_size, T bias2, T eps",
        "T p, T m, T v",
        """m = b1 * m + ((T)1 - b1) * g;
           v = b2 * v + ((T)1 - b2) * g * g;
           p -= step_size * m / (sqrt(v / bias2) + eps);""",
    ),
}


def _kernel(name: str) -> Any:
    return fused_kernel(f"nodegrad_{name}", *_SOURCES[name])


def sgd(cp: Any, data: Any, grad: Any, alpha: float, momentum: float, v: Any) -> None:
    """``v = momentum v + grad; data -= alpha v`` (``v`` None: ``data -= alpha grad``)."""
    if v is None:
        _kernel("sgd")(grad, alpha, data)
    else:
        _kernel("momentum")(grad, momentum, alpha, data, v)


def adam(
    cp: Any,
    data: Any,
    grad: Any,
    m: Any,
    v: Any,
    betas: tuple[float, float],
    step_size: float,
    bias2: float,
    eps: float,
) -> None:
    """Adam's moment updates and step (``step_size`` already divided by ``1 - beta1^t``,
    ``bias2 = 1 - beta2^t``), in place on ``data``, ``m`` and ``v``."""
    _kernel("adam")(grad, betas[0], betas[1], step_size, bias2, eps, data, m, v)
