"""The book's ``cross_entropy`` as one primitive (stable, with the true mean gradient)."""

from __future__ import annotations

from typing import Any

from engine.backend import get_array_module
from engine.errors import ShapeError
from engine.ops.function import Function
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
        shifted = x2 - x2.max(axis=1, keepdims=True)
        log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
        rows = xp.arange(n)
        self.shape, self.t, self.rows, self.log_p = x.shape, t, rows, log_p
        return xp.asarray(-log_p[rows, t].mean(), dtype=x.dtype)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        g = xp.exp(self.log_p)
        g[self.rows, self.t] -= 1
        g *= grad / max(len(self.t), 1)
        return (g.reshape(self.shape),)
