"""Matrix products: ``matmul`` (batched, broadcasting, as ``@``) and the book's ``mm``."""

from __future__ import annotations

from typing import Any

from engine.backend import get_array_module
from engine.ops.function import Function, unbroadcast
from engine.ops.gemm import matmul

__all__ = ["MM", "MatMul"]


class MatMul(Function):
    """``a @ b`` with NumPy's rules for 1-d operands and batch broadcasting."""

    __slots__ = ("a", "b")
    op_name = "matmul"

    def forward(self, a: Any, b: Any) -> Any:
        self.a, self.b = a, b
        return matmul(a, b)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        a, b = self.a, self.b
        if a.ndim > 2 and b.ndim == 2:
            return self._folded_backward(grad)
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad if grad.flags.c_contiguous else xp.ascontiguousarray(grad)  # BLAS needs strides
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        ga = gb = None
        if self.needs[0]:
            ga = unbroadcast(matmul(g, xp.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if self.needs[1]:
            gb = unbroadcast(matmul(xp.swapaxes(a2, -1, -2), g), b2.shape).reshape(b.shape)
        return ga, gb

    def _folded_backward(self, grad: Any) -> tuple[Any, ...]:
        """(..., K) @ (K, N): fold the leading axes into rows, so each gradient is one 2-d
        product (no batched product followed by a sum over the batch)."""
        a, b = self.a, self.b
        g = grad.reshape(-1, grad.shape[-1])
        ga = matmul(g, b.T).reshape(a.shape) if self.needs[0] else None
        gb = matmul(a.reshape(-1, a.shape[-1]).T, g) if self.needs[1] else None
        return ga, gb


class MM(MatMul):
    """The book's ``mm``: the matrix product of two 2-d tensors."""

    op_name = "mm"
