"""The :class:`Function` base of every differentiable primitive, and ``unbroadcast``.

Both are exported by :mod:`engine.autograd` too, where the contracts name them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from engine.backend import (
    as_operand,
    check_same_device,
    get_array_module,
    get_default_dtype,
    promote_floats,
)
from engine.errors import ShapeError

__all__ = ["Function", "OpTable", "apply_binary", "unbroadcast"]


def unbroadcast(grad: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``grad`` over the axes that broadcasting added or stretched, giving ``shape``.

    Examples
    --------
    >>> unbroadcast(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    >>> unbroadcast(np.ones((2, 3)), (2, 1)).shape
    (2, 1)
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def _gather(inputs: tuple[Any, ...]) -> tuple[list[Any], list[bool], bool]:
    """Split op inputs into arrays (None for constants), needs-grad flags, and whether every
    input is a Tensor holding a NumPy array."""
    arrays: list[Any] = []
    needs: list[bool] = []
    plain = True
    for x in inputs:
        if isinstance(x, Tensor):
            arrays.append(x.data)
            needs.append(x.autograd)
            plain = plain and type(x.data) is np.ndarray
        else:
            arrays.append(None)
            needs.append(False)
            plain = False
    return arrays, needs, plain


class OpTable(Protocol):
    """Every op's ``apply`` by class name (``engine.tensor`` binds one: ``_op.Sum(x, dim=0)``)."""

    def __getattr__(self, name: str) -> Callable[..., Tensor]: ...


class Function:
    """Base class of a differentiable primitive.

    A subclass sets ``op_name`` (the result's ``creation_op``), implements
    ``forward(*arrays) -> array`` and ``backward(grad) -> tuple`` with one array (or None) per
    input, keeps what backward needs as attributes of ``self``, and is called through
    :meth:`apply`. ``backward`` must not modify ``grad`` in place. ``self.needs`` tells which
    inputs want a gradient, so backward may skip the others.

    Examples
    --------
    >>> from engine import Tensor
    >>> class Square(Function):
    ...     op_name = "square"
    ...     def forward(self, x):
    ...         self.x = x
    ...         return x * x
    ...     def backward(self, grad):
    ...         return (2 * self.x * grad,)
    >>> x = Tensor([3.0], autograd=True)
    >>> y = Square.apply(x)
    >>> y.backward(); x.grad
    array([6.], dtype=float32)
    """

    __slots__ = ("__dict__", "needs", "parents")
    needs: Sequence[bool]  # which inputs want a gradient (set when the op is recorded)
    parents: Sequence[Tensor | None]  # the inputs, None for constants
    op_name = "function"
    promote = True  # cast integer inputs to the float dtype of the others
    float_only = False  # compute in the default float dtype when the inputs are integers

    def __init__(self, **params: Any) -> None:
        for name, value in params.items():
            setattr(self, name, value)

    def forward(self, *arrays: Any) -> Any:
        """Compute the output array from the input arrays."""
        raise NotImplementedError

    def backward(self, grad: Any) -> tuple[Any, ...]:
        """Return the gradient for each input (an array shaped like it, or None)."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Tensor:
        """Run the op on tensors (and scalars or arrays); record it when any input needs grad."""
        fn = cls(**params) if params or cls.__init__ is not _base_init else _object_new(cls)
        first = inputs[0] if len(inputs) == 1 else None
        if type(first) is Tensor and type(first.data) is np.ndarray:  # the common unary case
            arrays, needs, plain = [first.data], [first.autograd], True
        else:
            arrays, needs, plain = _gather(inputs)
            n = len(arrays)
            if not plain or n > 2 or (n == 2 and arrays[0].dtype != arrays[1].dtype):
                arrays = fn._prepare(inputs, arrays)
        if fn.float_only and arrays[0].dtype.kind != "f":
            dt = get_default_dtype()
            arrays = [a if a.dtype.kind == "f" else a.astype(dt) for a in arrays]
        try:
            out = fn.forward(*arrays)
        except ShapeError:
            raise
        except ValueError as exc:
            shapes = " and ".join(str(tuple(a.shape)) for a in arrays)
            raise ShapeError(f"{fn.op_name}: shapes {shapes} do not fit ({exc})") from exc
        if type(out) is not np.ndarray and isinstance(out, np.generic):
            out = np.asarray(out)
        if True in needs and _state.grad_enabled:
            fn.needs = needs
            if plain:
                fn.parents = creators = list(inputs)  # one list serves both
                return _new(out, True, creators, fn.op_name, fn)
            fn.parents = tuple(x if isinstance(x, Tensor) else None for x in inputs)
            creators = [x for x in inputs if isinstance(x, Tensor)]
            return _new(out, True, creators, fn.op_name, fn)
        return _new(out, False, None, None, None)

    def _prepare(self, inputs: tuple[Any, ...], arrays: list[Any]) -> list[Any]:
        """Convert constant operands, check devices agree and promote mixed int/float dtypes."""
        like = next((a for a in arrays if a is not None), None)
        if like is None:
            raise TypeError(f"{self.op_name}: needs at least one Tensor operand")
        xp = get_array_module(like)
        arrays = [
            as_operand(x, like, xp) if a is None else a for x, a in zip(inputs, arrays, strict=True)
        ]
        if any(type(a) is not np.ndarray for a in arrays):
            check_same_device(self.op_name, arrays)
        if self.promote:
            dt = arrays[0].dtype
            if any(a.dtype != dt for a in arrays):
                arrays = promote_floats(arrays)
        return arrays


_base_init = Function.__init__
_object_new = object.__new__
_ndarray = np.ndarray


def _scalar_array(x: Any, like: Any) -> Any:
    """A Python number as a 0-d array of ``like``'s dtype, or None when that would change it."""
    kind = like.dtype.kind
    if (type(x) is float and kind == "f") or (type(x) is int and kind in "fiu"):
        try:
            return np.asarray(x, dtype=like.dtype)
        except OverflowError:  # an int too large for the dtype: the general path decides
            return None
    return None


def apply_binary(cls: type[Function], a: Any, b: Any) -> Tensor:
    """``cls.apply(a, b)`` with a fast path for NumPy tensors of one dtype, or one and a number.

    Arithmetic operators call this: it skips the general input handling of
    :meth:`Function.apply`, the largest part of an op's overhead on small arrays. ``cls`` must
    take no parameters.
    """
    ta, tb = type(a) is Tensor, type(b) is Tensor
    da = a.data if ta else None
    db = b.data if tb else None
    if ta and not tb and type(da) is _ndarray:
        db = _scalar_array(b, da)
    elif tb and not ta and type(db) is _ndarray:
        da = _scalar_array(a, db)
    if type(da) is not _ndarray or type(db) is not _ndarray or da.dtype != db.dtype:
        return cls.apply(a, b)
    if cls.float_only and da.dtype.kind != "f":
        return cls.apply(a, b)
    fn = _object_new(cls)
    try:
        out = fn.forward(da, db)
    except ValueError:
        return cls.apply(a, b)  # raises the ShapeError with its message
    if type(out) is not _ndarray:
        out = np.asarray(out)
    needs = (ta and a.autograd, tb and b.autograd)
    if (needs[0] or needs[1]) and _state.grad_enabled:
        fn.needs = needs
        if ta and tb:
            fn.parents = creators = [a, b]  # one list serves both
        else:
            fn.parents, creators = (a if ta else None, b if tb else None), [a if ta else b]
        return _new(out, True, creators, cls.op_name, fn)
    return _new(out, False, None, None, None)


# Imported last so that engine.tensor, engine.autograd and engine.ops import in any order.
from engine.autograd import _state  # noqa: E402
from engine.tensor import Tensor, _new  # noqa: E402
