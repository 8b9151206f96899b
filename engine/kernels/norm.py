"""Kernels of layer normalisation over the rows of a 2-d C-contiguous array, one pass per row
each way.

Forward: ``xhat = (x - mean) / sqrt(var + eps)`` (population variance, from the centred row),
``out = xhat * weight + bias``, keeping ``xhat`` and ``rstd = 1 / sqrt(var + eps)`` for the
backward: ``dx = (g w - mean(g w) - xhat mean(g w xhat)) rstd``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.kernels.compiler import kernel
from engine.kernels.lanes import row_dot, row_sum

__all__ = ["layer_norm_backward", "layer_norm_forward", "warm_up"]


@kernel
def layer_norm_forward(
    x: Any, weight: Any, bias: Any, eps: float, xhat: Any, rstd: Any, out: Any
) -> None:
    """Normalise each row of ``x`` into ``xhat``, its ``1 / sqrt(var + eps)`` into ``rstd[r]``
    and the affine ``xhat * weight + bias`` into ``out``."""
    rows, n = x.shape
    one = x.dtype.type(1.0)
    inv_n = one / x.dtype.type(n)
    shift = x.dtype.type(eps)
    for r in range(rows):
        row, h, o = x[r], xhat[r], out[r]
        mean = row_sum(row, n) * inv_n
        for j in range(n):
            h[j] = row[j] - mean
        s = one / np.sqrt(row_dot(h, h, n) * inv_n + shift)
        rstd[r] = s
        for j in range(n):
            v = h[j] * s
            h[j] = v
            o[j] = v * weight[j] + bias[j]


@kernel
def layer_norm_backward(grad: Any, weight: Any, xhat: Any, rstd: Any, dx: Any) -> None:
    """``dx = (g w - mean(g w) - xhat mean(g w xhat)) rstd`` for each row."""
    rows, n = grad.shape
    inv_n = grad.dtype.type(1.0) / grad.dtype.type(n)
    for r in range(rows):
        g, h, d = grad[r], xhat[r], dx[r]
        for j in range(n):
            d[j] = g[j] * weight[j]
        mean_gw = row_sum(d, n) * inv_n
        mean_gwx = row_dot(d, h, n) * inv_n
        s = rstd[r]
        for j in range(n):
            d[j] = (d[j] - mean_gw - h[j] * mean_gwx) * s


def warm_up() -> None:
    """Run each kernel once per float dtype (loads them from the cache or compiles them)."""
    for dtype in (np.float32, np.float64):
        x = np.ones((2, 3), dtype)
        w, rstd = np.ones(3, dtype), np.empty(2, dtype)
        xhat, out = np.empty_like(x), np.empty_like(x)
        layer_norm_forward(x, w, w, 1e-5, xhat, rstd, out)
        layer_norm_backward(x, w, xhat, rstd, out)
