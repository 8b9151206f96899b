"""Reductions: sum, mean, max (over one axis, several, or all)."""

from __future__ import annotations

from typing import Any

from engine.backend import get_array_module, get_default_dtype
from engine.errors import ShapeError
from engine.ops.function import Function

__all__ = ["Max", "Mean", "Sum", "normalize_dims"]


def normalize_dims(op: str, dim: Any, ndim: int) -> tuple[int, ...]:
    """Return ``dim`` (None, an int or a tuple) as a tuple of non-negative axes.

    Raises
    ------
    ShapeError
        If an axis is out of range for ``ndim`` dimensions; the message names the op.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    for d in dims:
        if not -ndim <= d < ndim:
            raise ShapeError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims")
    return tuple(d % ndim for d in dims)


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with the reduced ``axes`` kept as size 1."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _grad_back(grad: Any, shape: tuple[int, ...], axes: tuple[int, ...]) -> Any:
    """Spread a reduced gradient back over ``shape`` (a new contiguous array).

    Materialising is cheaper than ``broadcast_to`` for the sizes of typical layers, and gives the
    consumers contiguous memory (BLAS needs it).
    """
    xp = get_array_module(grad)
    out = xp.empty(shape, dtype=grad.dtype)
    out[...] = grad.reshape(_kept_shape(shape, axes)) if grad.ndim else grad
    return out


class Sum(Function):
    """Sum over ``dim``; the book names it ``sum_<dim>``."""

    dim: Any
    keepdims: bool

    def __init__(self, dim: Any = None, keepdims: bool = False) -> None:
        self.dim, self.keepdims = dim, keepdims
        self.op_name = "sum" if dim is None else f"sum_{dim}"

    def forward(self, a: Any) -> Any:
        self.shape = a.shape
        self.axes = normalize_dims(self.op_name, self.dim, a.ndim)
        return a.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (_grad_back(grad, self.shape, self.axes),)


class Mean(Function):
    """Mean over ``dim``."""

    float_only = True
    op_name = "mean"
    dim: Any
    keepdims: bool

    def forward(self, a: Any) -> Any:
        self.shape = a.shape
        self.axes = normalize_dims(self.op_name, self.dim, a.ndim)
        out = a.mean(axis=self.axes, keepdims=self.keepdims)
        self.count = max(a.size // max(out.size, 1), 1)
        return out

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (_grad_back(grad / self.count, self.shape, self.axes),)


class Max(Function):
    """Maximum over ``dim``; tied maxima share the gradient equally."""

    op_name = "max"
    dim: Any
    keepdims: bool

    def forward(self, a: Any) -> Any:
        self.shape = a.shape
        self.axes = normalize_dims(self.op_name, self.dim, a.ndim)
        out = a.max(axis=self.axes, keepdims=True)
        weights = (a == out).astype(a.dtype if a.dtype.kind == "f" else get_default_dtype())
        weights /= weights.sum(axis=self.axes, keepdims=True)
        self.weights = weights
        return out if self.keepdims else out.squeeze(axis=self.axes)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        g = _grad_back(grad, self.shape, self.axes)
        return (g * self.weights,)
