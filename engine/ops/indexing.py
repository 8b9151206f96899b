"""Indexing: ``x[index]`` (basic and integer-array) and the book's ``index_select``."""

from __future__ import annotations

from typing import Any

from engine.backend import get_array_module, scatter_add, scatter_add_rows
from engine.errors import ShapeError
from engine.ops.function import Function
from engine.tensor import Tensor

__all__ = ["GetItem", "IndexSelect", "getitem"]


def _is_advanced(index: tuple[Any, ...]) -> bool:
    """Whether an index tuple holds arrays or lists (integer-array indexing)."""
    return any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in index)


class GetItem(Function):
    """``a[index]``; repeated integer indices accumulate their gradients."""

    op_name = "getitem"
    index: tuple[Any, ...]

    def forward(self, a: Any) -> Any:
        self.shape = a.shape
        try:
            return a[self.index]
        except IndexError as exc:
            raise ShapeError(
                f"getitem: index {self.index!r:.80} does not fit shape {a.shape}"
            ) from exc

    def backward(self, grad: Any) -> tuple[Any, ...]:
        out = get_array_module(grad).zeros(self.shape, dtype=grad.dtype)
        first = self.index[0]
        if (
            len(self.index) == 1
            and getattr(first, "dtype", None) is not None
            and (first.dtype.kind in "iu")
        ):
            scatter_add_rows(out, first, grad)  # x[int_array]: rows, the fast path
        elif _is_advanced(self.index):
            scatter_add(out, self.index, grad)
        else:
            out[self.index] = grad
        return (out,)


def _index_array(i: Any, xp: Any) -> Any:
    """Turn a Tensor or list inside an index into an array on the right device."""
    if isinstance(i, Tensor):
        i = i.data
    if isinstance(i, (list, tuple)) or (hasattr(i, "dtype") and not isinstance(i, int)):
        return xp.asarray(i)
    return i


def getitem(x: Tensor, index: Any) -> Tensor:
    """Return ``x[index]`` for basic indices (ints, slices, None, ...) and integer/bool arrays.

    Examples
    --------
    >>> from engine import Tensor
    >>> x = Tensor([[1.0, 2.0], [3.0, 4.0]], autograd=True)
    >>> y = x[[0, 0, 1], 1]
    >>> y.sum().backward(); x.grad
    array([[0., 2.],
           [0., 1.]], dtype=float32)
    """
    xp = get_array_module(x.data)
    if not isinstance(index, tuple):
        index = (index,)
    index = tuple(_index_array(i, xp) for i in index)
    return GetItem.apply(x, index=index)


class IndexSelect(Function):
    """The book's ``index_select``: rows ``w[indices]``, shape ``indices.shape + w.shape[1:]``."""

    op_name = "index_select"
    indices: Any

    def forward(self, w: Any) -> Any:
        xp = get_array_module(w)
        idx = self.indices.data if isinstance(self.indices, Tensor) else self.indices
        idx = xp.asarray(idx)
        if idx.dtype.kind not in "iu":
            raise ShapeError(f"index_select: indices must be integers, got dtype {idx.dtype}")
        if idx.size and (int(idx.max()) >= w.shape[0] or int(idx.min()) < -w.shape[0]):
            raise ShapeError(
                f"index_select: an index in [{int(idx.min())}, {int(idx.max())}] is out of range "
                f"for {w.shape[0]} rows (shape {w.shape})"
            )
        self.idx, self.shape = idx, w.shape
        return w[idx]

    def backward(self, grad: Any) -> tuple[Any, ...]:
        out = get_array_module(grad).zeros(self.shape, dtype=grad.dtype)
        scatter_add_rows(out, self.idx, grad)
        return (out,)
