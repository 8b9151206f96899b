"""Layer normalisation over the last axis as one primitive, with its hand-written backward.

Composed of ops (mean, subtraction, square, mean, add, square root, division, scale, shift)
``LayerNorm`` made nine results and as many backward steps; :class:`LayerNormFn` computes the
same ``(x - mean) / sqrt(var + eps) * weight + bias`` (population variance, as PyTorch) in a few
in-place passes.
"""

from __future__ import annotations

from typing import Any

from engine.backend import get_array_module
from engine.ops.function import Function

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
        n = x.shape[-1]
        xhat = x - x.mean(axis=-1, keepdims=True)
        var = xp.einsum("...i,...i->...", xhat, xhat)[..., None]
        var /= n
        var += self.eps
        rstd = 1.0 / xp.sqrt(var)
        xhat *= rstd
        self.xhat, self.rstd, self.weight = xhat, rstd, weight
        out = xhat * weight
        out += bias
        return out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        xhat, n = self.xhat, self.xhat.shape[-1]
        dx = dw = db = None
        if self.needs[1] or self.needs[2]:
            rows_g = grad.reshape(-1, n)
            dw = xp.einsum("ri,ri->i", rows_g, xhat.reshape(-1, n)) if self.needs[1] else None
            db = rows_g.sum(axis=0) if self.needs[2] else None
        if self.needs[0]:
            gw = grad * self.weight
            mean_gw = gw.mean(axis=-1, keepdims=True)
            mean_gwx = xp.einsum("...i,...i->...", gw, xhat)[..., None]
            mean_gwx /= n
            dx = xhat * mean_gwx
            xp.subtract(gw, dx, out=dx)
            dx -= mean_gw
            dx *= self.rstd
        return dx, dw, db
