"""The book's ``cross_entropy`` as one primitive (stable, with the true mean gradient): on the
CPU one pass per row each way (:mod:`engine.kernels.softmax`), on CuPy array operations."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine import kernels
from engine.backend import get_array_module
from engine.errors import ShapeError
from engine.ops.function import Function
from engine.ops.kernel_call import working_dtype
from engine.ops.parallel import for_rows
from engine.tensor import Tensor

__all__ = ["CrossEntropy"]


def _targets(targets: Any, xp: Any, n: int, n_classes: int, shape: tuple[int, ...]) -> Any:
    """Check and flatten the integer targets for ``n`` rows of ``n_classes`` logits."""
    t = xp.asarray(targets.data if isinstance(targets, Tensor) else targets)
    t_shape = tuple(t.shape)
    if t.dtype.kind == "f":
        if not bool(xp.all(t == xp.round(t))):
            raise ShapeError("cross_entropy: targets must be class indices (integers)")
        t = t.astype(xp.int64)
    elif t.dtype.kind not in "iu":
        raise ShapeError(f"cross_entropy: targets must be integers, got dtype {t.dtype}")
    t = t.reshape(-1)
    if t.size != n:
        raise ShapeError(
            f"cross_entropy: logits of shape {shape} give {n} rows of {n_classes} classes, "
            f"but targets of shape {t_shape} hold {t.size} indices"
        )
    if n and (int(t.min()) < 0 or int(t.max()) >= n_classes):
        raise ShapeError(
            f"cross_entropy: target indices must be in [0, {n_classes}), "
            f"got values in [{int(t.min())}, {int(t.max())}]"
        )
    return t


class CrossEntropy(Function):
    """Mean of ``-log softmax(x)[target]`` over all target positions.

    Logits have shape ``(..., C)`` and targets ``(...)`` (any shape with as many elements). The
    log-sum-exp is max-shifted, and the gradient is ``(softmax - onehot) / count``, the true
    gradient of the reported mean (the book omits the division).

    Examples
    --------
    >>> from engine import Tensor
    >>> x = Tensor([[0.0, 0.0], [0.0, 0.0]], autograd=True)
    >>> loss = x.cross_entropy(Tensor([0, 1]))
    >>> round(loss.item(), 4)
    0.6931
    >>> loss.backward(); x.grad
    array([[-0.25,  0.25],
           [ 0.25, -0.25]], dtype=float32)
    """

    float_only = True
    op_name = "cross_entropy"
    targets: Any

    def forward(self, x: Any) -> Any:
        xp = get_array_module(x)
        if x.ndim == 0:
            raise ShapeError("cross_entropy: logits must have a class axis, got a scalar")
        n_classes = x.shape[-1]
        x2 = x.reshape(-1, n_classes)
        n = x2.shape[0]
        t = _targets(self.targets, xp, n, n_classes, x.shape)
        self.shape, self.dtype, self.t = x.shape, x.dtype, t
        if xp is np:
            return self._forward_kernel(x2, t)
        shifted = x2 - x2.max(axis=1, keepdims=True)
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        self.rows, self.log_p = xp.arange(n), log_p
        return xp.asarray(-log_p[self.rows, t].mean(), dtype=x.dtype)

    def _forward_kernel(self, x2: Any, t: Any) -> Any:
        """The loss by :mod:`engine.kernels.softmax` (rows split over the engine's threads),
        keeping the probabilities (float16 logits are computed in float32)."""
        work = working_dtype(x2.dtype)
        x2 = np.ascontiguousarray(x2, dtype=work)
        t = np.ascontiguousarray(t, dtype=np.int64)
        p, losses = np.empty_like(x2), np.empty(x2.shape[0], work)

        def rows(lo: int, hi: int) -> None:
            kernels.softmax.cross_entropy_forward(x2[lo:hi], t[lo:hi], p[lo:hi], losses[lo:hi])

        for_rows(rows, x2.shape[0], x2.size)
        self.p, self.t = p, t
        return np.asarray(losses.mean(), dtype=self.dtype)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        scale = grad / max(len(self.t), 1)
        if xp is np:
            p = self.p
            g = np.empty_like(p)

            def rows(lo: int, hi: int) -> None:
                kernels.softmax.cross_entropy_backward(
                    p[lo:hi], self.t[lo:hi], float(scale), g[lo:hi]
                )

            for_rows(rows, p.shape[0], p.size)
            return (g.reshape(self.shape).astype(self.dtype, copy=False),)
        g = xp.exp(self.log_p)
        g[self.rows, self.t] -= 1
        g *= scale
        return (g.reshape(self.shape),)
