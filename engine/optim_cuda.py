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
    "sgd": ("T g, T wd, T alpha", "T p", "p -= alpha * (g + wd * p)"),
    "momentum": (
        "T g, T wd, T mu, T alpha",
        "T p, T v",
        "v = mu * v + (g + wd * p); p -= alpha * v",
    ),
    "adam": (
        "T g, T wd, T keep, T b1, T b2, T step_size, T bias2, T eps",
        "T p, T m, T v",
        """T gw = g + wd * p;
           m = b1 * m + ((T)1 - b1) * gw;
           v = b2 * v + ((T)1 - b2) * gw * gw;
           p = p * keep - step_size * m / (sqrt(v / bias2) + eps);""",
    ),
}


def _kernel(name: str) -> Any:
    return fused_kernel(f"nodegrad_{name}_wd", *_SOURCES[name])


def sgd(
    cp: Any, data: Any, grad: Any, alpha: float, momentum: float, v: Any, weight_decay: float
) -> None:
    """``g = grad + weight_decay data; v = momentum v + g; data -= alpha v`` (``v`` None:
    ``data -= alpha g``)."""
    if v is None:
        _kernel("sgd")(grad, weight_decay, alpha, data)
    else:
        _kernel("momentum")(grad, weight_decay, momentum, alpha, data, v)


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
    decay: tuple[float, float],
) -> None:
    """Adam's moment updates and step (``step_size`` already divided by ``1 - beta1^t``,
    ``bias2 = 1 - beta2^t``), in place on ``data``, ``m`` and ``v``. ``decay`` is
    ``(l2, keep)``: ``l2 * data`` is added to the gradient (Adam's weight decay) and ``data``
    is multiplied by ``keep`` before the step (AdamW's)."""
    l2, keep = decay
    _kernel("adam")(grad, l2, keep, betas[0], betas[1], step_size, bias2, eps, data, m, v)
