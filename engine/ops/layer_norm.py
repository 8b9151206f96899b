"""Layer normalisation over the last axis as one primitive, with its hand-written backward.

Composed of ops (mean, subtraction, square, mean, add, square root, division, scale, shift)
``LayerNorm`` made nine results and as many backward steps; :class:`LayerNormFn` computes the
same ``(x - mean) / sqrt(var + eps) * weight + bias`` (population variance, as PyTorch) in a few
in-place passes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.backend import get_array_module
from engine.ops.function import Function
from engine.ops.parallel import for_rows, row_safe, row_view, splits

__all__ = ["LayerNormFn"]


class LayerNormFn(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` over the last axis of x.

    Inputs x (..., n), weight (n,) and bias (n,). The backward gives
    ``dx = (g w - mean(g w) - xhat mean(g w xhat)) / sqrt(var + eps)`` with ``xhat`` the
    normalised input, ``dweight = sum(g xhat)`` and ``dbias = sum(g)`` over the leading axes.
    """

    float_only = True
    op_name = "layer_norm"
    eps: float

    def forward(self, x: Any, weight: Any, bias: Any) -> Any:
        xp = get_array_module(x)
        if not (splits(x.size) and row_safe(x)):
            self.xhat, self.rstd, out = _normalise(xp, x, weight, bias, self.eps)
            self.weight = weight
            return out
        x2 = row_view(x)  # row blocks on two threads: each row's maths as in one call
        xhat, rstd, out = np.empty_like(x2), np.empty((x2.shape[0], 1), x.dtype), np.empty_like(x2)

        def rows(lo: int, hi: int) -> None:
            part = (xhat[lo:hi], rstd[lo:hi], out[lo:hi])
            _normalise(np, x2[lo:hi], weight, bias, self.eps, part)

        for_rows(rows, x2.shape[0], x.size)
        self.xhat, self.rstd = xhat.reshape(x.shape), rstd.reshape(*x.shape[:-1], 1)
        self.weight = weight
        return out.reshape(x.shape)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        xhat, n = self.xhat, self.xhat.shape[-1]
        dx = dw = db = None
        if self.needs[1] or self.needs[2]:
            rows_g = grad.reshape(-1, n)
            dw = xp.einsum("ri,ri->i", rows_g, xhat.reshape(-1, n)) if self.needs[1] else None
            db = rows_g.sum(axis=0) if self.needs[2] else None
        if not self.needs[0]:
            return dx, dw, db
        if not (splits(grad.size) and row_safe(grad) and type(xhat) is np.ndarray):
            return _dx(xp, grad, self.weight, xhat, self.rstd), dw, db
        g2, xhat2, rstd2 = row_view(grad), row_view(xhat), self.rstd.reshape(-1, 1)
        dx2 = np.empty_like(xhat2)

        def rows(lo: int, hi: int) -> None:
            _dx(np, g2[lo:hi], self.weight, xhat2[lo:hi], rstd2[lo:hi], dx2[lo:hi])

        for_rows(rows, g2.shape[0], grad.size)
        return dx2.reshape(xhat.shape), dw, db


def _dx(xp: Any, grad: Any, weight: Any, xhat: Any, rstd: Any, into: Any = None) -> Any:
    """``(g w - mean(g w) - xhat mean(g w xhat)) * rstd`` over the last axis (into ``into``)."""
    n = xhat.shape[-1]
    gw = grad * weight
    mean_gw = gw.mean(axis=-1, keepdims=True)
    mean_gwx = xp.einsum("...i,...i->...", gw, xhat)[..., None]
    mean_gwx /= n
    dx = xp.multiply(xhat, mean_gwx, out=into)
    xp.subtract(gw, dx, out=dx)
    dx -= mean_gw
    dx *= rstd
    return dx


def _normalise(
    xp: Any, x: Any, weight: Any, bias: Any, eps: float, into: tuple[Any, Any, Any] | None = None
) -> tuple[Any, Any, Any]:
    """``xhat``, ``rstd`` (one per row, a trailing axis of 1) and ``xhat * weight + bias``
    over the last axis of ``x``; written into the three arrays of ``into`` when given."""
    xhat_out, rstd_out, out = into if into is not None else (None, None, None)
    n = x.shape[-1]
    xhat = xp.subtract(x, x.mean(axis=-1, keepdims=True), out=xhat_out)
    var = xp.einsum("...i,...i->...", xhat, xhat)[..., None]
    var /= n
    var += eps
    rstd = xp.divide(1.0, xp.sqrt(var), out=rstd_out)
    xhat *= rstd
    out = xp.multiply(xhat, weight, out=out)
    out += bias
    return xhat, rstd, out
