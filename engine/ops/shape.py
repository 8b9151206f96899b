"""Shape ops: transpose, reshape, flatten, expand, concat, stack."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from engine.backend import get_array_module
from engine.errors import ShapeError
from engine.ops.function import Function
from engine.tensor import Tensor

__all__ = ["Concat", "Expand", "Reshape", "Stack", "Transpose", "concat", "flatten", "stack"]


class Transpose(Function):
    """Permute axes (``axes=None`` reverses them, as the book's ``transpose()``)."""

    op_name = "transpose"
    axes: tuple[int, ...] | None

    def forward(self, a: Any) -> Any:
        return a.transpose(self.axes)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        if self.axes is None:
            return (grad.transpose(),)
        inverse = [0] * len(self.axes)
        for i, axis in enumerate(self.axes):
            inverse[axis % len(self.axes)] = i
        return (grad.transpose(inverse),)


def transpose(x: Tensor, axes: tuple[Any, ...]) -> Tensor:
    """Permute ``x``'s axes; ``axes`` empty means reverse them."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if axes and len(axes) != x.ndim:
        raise ShapeError(f"transpose: axes {axes} do not fit shape {x.shape}")
    return Transpose.apply(x, axes=tuple(axes) if axes else None)


class Reshape(Function):
    """Give the data a new shape."""

    op_name = "reshape"
    shape: tuple[int, ...]

    def forward(self, a: Any) -> Any:
        self.in_shape = a.shape
        return a.reshape(self.shape)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad.reshape(self.in_shape),)


def reshape(x: Tensor, shape: tuple[Any, ...]) -> Tensor:
    """Reshape ``x`` to ``shape`` (given as ints or as one sequence)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape.apply(x, shape=tuple(int(n) for n in shape))


def flatten(x: Tensor, start_dim: int = 0) -> Tensor:
    """Merge the axes from ``start_dim`` on; by default into one dimension, as NumPy's and
    PyTorch's ``flatten()`` do. ``start_dim=1`` keeps the batch axis: ``(N, C, H, W) ->
    (N, C*H*W)`` (what the :class:`~engine.nn.Flatten` layer does).

    Examples
    --------
    >>> from engine import Tensor
    >>> Tensor([[[1, 2], [3, 4]]]).flatten().shape
    (4,)
    >>> Tensor([[[1, 2], [3, 4]]]).flatten(1).shape
    (1, 4)
    """
    start = start_dim % x.ndim if x.ndim else 0
    return reshape(x, (*x.shape[:start], -1))


class Expand(Function):
    """The book's ``expand(dim, copies)``: a new axis at ``dim`` repeating the data."""

    dim: int
    copies: int

    def __init__(self, dim: int, copies: int) -> None:
        self.dim, self.copies = dim, copies
        self.op_name = f"expand_{dim}"

    def forward(self, a: Any) -> Any:
        xp = get_array_module(a)
        if not -a.ndim - 1 <= self.dim <= a.ndim:
            raise ShapeError(f"{self.op_name}: dim {self.dim} out of range for shape {a.shape}")
        return xp.repeat(xp.expand_dims(a, self.dim), self.copies, axis=self.dim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        return (grad.sum(axis=self.dim),)


class Concat(Function):
    """Join tensors along an existing axis."""

    op_name = "concat"
    dim: int

    def forward(self, *arrays: Any) -> Any:
        xp = get_array_module(arrays[0])
        self.sizes = [a.shape[self.dim] if a.ndim else 0 for a in arrays]
        return xp.concatenate(arrays, axis=self.dim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        xp = get_array_module(grad)
        cuts = [sum(self.sizes[: i + 1]) for i in range(len(self.sizes) - 1)]
        return tuple(xp.split(grad, cuts, axis=self.dim))


class Stack(Function):
    """Join tensors along a new axis."""

    op_name = "stack"
    dim: int

    def forward(self, *arrays: Any) -> Any:
        return get_array_module(arrays[0]).stack(arrays, axis=self.dim)

    def backward(self, grad: Any) -> tuple[Any, ...]:
        moved = get_array_module(grad).moveaxis(grad, self.dim, 0)
        return tuple(moved[i] for i in range(moved.shape[0]))


def _check_list(op: str, tensors: Sequence[Any]) -> None:
    """Refuse an empty list or one without a Tensor."""
    if not tensors:
        raise ShapeError(f"{op}: needs at least one tensor")
    if not any(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{op}: expects a sequence of Tensors")


def concat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenate tensors along axis ``dim``.

    Examples
    --------
    >>> from engine import Tensor, concat
    >>> concat([Tensor([[1, 2]]), Tensor([[3, 4]])], dim=0)
    array([[1, 2],
           [3, 4]])
    """
    _check_list("concat", tensors)
    return Concat.apply(*tensors, dim=dim)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack same-shaped tensors along a new axis ``dim``.

    Examples
    --------
    >>> from engine import Tensor, stack
    >>> stack([Tensor([1, 2]), Tensor([3, 4])], dim=1)
    array([[1, 3],
           [2, 4]])
    """
    _check_list("stack", tensors)
    return Stack.apply(*tensors, dim=dim)
