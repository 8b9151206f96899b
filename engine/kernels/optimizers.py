"""The optimizers' updates on the CPU, each one pass over a parameter and its state.

Scalars come as Python floats (the fastest to hand over) and are cast to the arrays' dtype
first, as NumPy computes ``m *= beta1`` on a float32 array: a float32 update is computed in
float32, eight lanes at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.kernels.compiler import kernel

__all__ = ["adam_step", "sgd_momentum_step", "sgd_step", "warm_up"]


@kernel
def sgd_step(p: Any, g: Any, alpha: Any, weight_decay: Any) -> None:
    """``p -= alpha (g + weight_decay p)`` (the decay term only when it is not 0)."""
    alpha, weight_decay = p.dtype.type(alpha), p.dtype.type(weight_decay)
    if weight_decay == 0:
        for i in range(p.size):
            p[i] = p[i] - alpha * g[i]
    else:
        for i in range(p.size):
            p[i] = p[i] - alpha * (g[i] + weight_decay * p[i])


@kernel
def sgd_momentum_step(p: Any, g: Any, v: Any, alpha: Any, momentum: Any, weight_decay: Any) -> None:
    """``v = momentum v + g + weight_decay p; p -= alpha v``."""
    cast = p.dtype.type
    alpha, momentum, weight_decay = cast(alpha), cast(momentum), cast(weight_decay)
    for i in range(p.size):
        gi = g[i] + weight_decay * p[i] if weight_decay != 0 else g[i]
        vi = momentum * v[i] + gi
        v[i] = vi
        p[i] = p[i] - alpha * vi


@kernel
def adam_step(
    p: Any,
    g: Any,
    m: Any,
    v: Any,
    betas: Any,
    step_size: Any,
    bias2: Any,
    eps: Any,
    l2: Any,
    keep: Any,
) -> None:
    """Adam's update (PyTorch's): ``g += l2 p; p *= keep`` (AdamW's decoupled decay);
    ``m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= step_size m / (sqrt(v / bias2) + eps)``.
    """
    cast = p.dtype.type
    b1, b2, step_size, bias2 = cast(betas[0]), cast(betas[1]), cast(step_size), cast(bias2)
    eps, l2, keep = cast(eps), cast(l2), cast(keep)
    c1, c2 = cast(1.0) - b1, cast(1.0) - b2
    for i in range(p.size):
        gi = g[i] + l2 * p[i] if l2 != 0 else g[i]
        mi = b1 * m[i] + c1 * gi
        vi = b2 * v[i] + c2 * gi * gi
        m[i] = mi
        v[i] = vi
        p[i] = p[i] * keep - step_size * mi / (np.sqrt(vi / bias2) + eps)


def warm_up() -> None:
    """Run each kernel once per float dtype (loads them from the cache or compiles them)."""
    for dtype in (np.float32, np.float64):
        x = np.zeros(4, dtype)
        s = 0.5
        sgd_step(x, x.copy(), s, s)
        sgd_momentum_step(x, x.copy(), x.copy(), s, s, s)
        adam_step(x, x.copy(), x.copy(), x.copy(), (s, s), s, s, s, s, s)
