"""Layer normalisation over the last axis as one primitive, with its hand-written backward.

Composed of ops (mean, subtraction, square, mean, add, square root, division, scale, shift)
``LayerNorm`` made nine results and as many backward steps; :class:`LayerNormFn` computes the
same ``(x - mean) / sqrt(var + eps) * weight + bias`` (population variance, as PyTorch): on the
CPU one pass per row each way (:mod:`engine.kernels.norm`, rows split over the engine's
threads), on CuPy a few in-place array operations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import kernels
from engine.backend import get_array_module
from engine.ops.function import Function
from engine.ops.kernel_call import working_dtype
from engine.ops.parallel import for_rows

__all__ = ["LayerNormFn"]


class LayerNormFn(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the last axis of x.

    Inputs x (..., n), weight (n,) and bias (n,). The backward gives
    ``dx = (g w - mean(g w) - xhat mean(g w xhat)) / sqrt(var + eps)`` with ``xhat`` the
    normalised input, ``dweight = sum(g xhat)`` and ``dbias = sum(g)`` over the leading axes.
    On the CPU float16 is computed in float32.
    """

    float_only = True
    op_name = "layer_norm"
    eps: float

    def forward(self, x: Any, weight: Any, bias: Any) -> Any:
        self.shape, self.dtype = x.shape, x.dtype
        if type(x) is not np.ndarray:
            xp = get_array_module(x)
            self.xhat, self.rstd, out = _normalise(xp, x, weight, bias, self.eps)
            self.weight = weight
            return out

        work = working_dtype(x.dtype)
        x2 = np.ascontiguousarray(x.reshape(-1, x.shape[-1]), dtype=work)
        w, b = (np.ascontiguousarray(a, dtype=work) for a in (weight, bias))
        xhat, rstd, out = np.empty_like(x2), np.empty(x2.shape[0], work), np.empty_like(x2)

        def rows(lo: int, hi: int) -> None:
            part = (xhat[lo:hi], rstd[lo:hi], out[lo:hi])
            kernels.norm.layer_norm_forward(x2[lo:hi], w, b, self.eps, *part)

        for_rows(rows, x2.shape[0], x.size)
        self.xhat, self.rstd, self.weight = xhat, rstd, w
        return out.reshape(x.shape).astype(x.dtype, copy=False)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        n = self.shape[-1]
        xhat = self.xhat.reshape(-1, n)
        rows_g = grad.reshape(-1, n)
        if xp is np:
            rows_g = np.ascontiguousarray(rows_g, dtype=xhat.dtype)
        dx = dw = db = None
        if self.needs[1]:
            dw = xp.einsum("ri,ri->i", rows_g, xhat).astype(self.dtype, copy=False)
        if self.needs[2]:
            db = rows_g.sum(axis=0).astype(self.dtype, copy=False)
        if not self.needs[0]:
            return dx, dw, db
        if xp is not np:
            return _dx(xp, grad, self.weight, self.xhat, self.rstd), dw, db

        dx2 = np.empty_like(xhat)

        def rows(lo: int, hi: int) -> None:
            part = (xhat[lo:hi], self.rstd[lo:hi], dx2[lo:hi])
            kernels.norm.layer_norm_backward(rows_g[lo:hi], self.weight, *part)

        for_rows(rows, xhat.shape[0], xhat.size)
        return dx2.reshape(self.shape).astype(self.dtype, copy=False), dw, db


def _dx(xp: Any, grad: Any, weight: Any, xhat: Any, rstd: Any) -> Any:
    """``(g w - mean(g w) - xhat mean(g w xhat)) * rstd`` over the last axis (CuPy arrays)."""
    n = xhat.shape[-1]
    gw = grad * weight
    mean_gw = gw.mean(axis=-1, keepdims=True)
    mean_gwx = xp.einsum("...i,...i->...", gw, xhat)[..., None]
    mean_gwx /= n
    dx = xp.multiply(xhat, mean_gwx)
    xp.subtract(gw, dx, out=dx)
    dx -= mean_gw
    dx *= rstd
    return dx


def _normalise(xp: Any, x: Any, weight: Any, bias: Any, eps: float) -> tuple[Any, Any, Any]:
    """``xhat``, ``rstd`` (one per row, a trailing axis of 1) and ``xhat * weight + bias``
    over the last axis of ``x`` (CuPy arrays)."""
    n = x.shape[-1]
    xhat = x - x.mean(axis=-1, keepdims=True)
    var = xp.einsum("...i,...i->...", xhat, xhat)[..., None]
    var /= n
    var += eps
    rstd = 1.0 / xp.sqrt(var)
    xhat *= rstd
    out = xhat * weight
    out += bias
    return xhat, rstd, out
