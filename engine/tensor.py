"""The :class:`Tensor`: an array with the book's autograd API on top of NumPy or CuPy.

Each op is a :class:`engine.autograd.Function` in ``engine/ops/``; the methods here only call
them. Results of ops are built through ``_new``, a fast path that skips the constructor's
conversions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from engine.backend import as_array, device_of, to_device, to_numpy

if TYPE_CHECKING:
    from engine.ops.function import Function, OpTable

__all__ = ["Tensor"]

_ids = itertools.count(1)


# Bound by _bind_ops() once engine.ops has loaded, and at the end of this module.
_binary: Callable[[type[Function], Any, Any], Tensor]  # engine.ops.function.apply_binary
_bin: Any  # op classes by name, for _binary
_op: OpTable  # each op's apply by class name
_state: Any  # engine.autograd's per-thread switches


class Tensor:
    """An n-dimensional array that records the ops applied to it, for automatic differentiation.

    Parameters
    ----------
    data : array_like, Tensor, or CuPy array
        Copied. Float input becomes the default dtype (float32, see
        :func:`engine.set_default_dtype`); integer input stays integer.
    autograd : bool
        Whether gradients are computed for this tensor and the ops that use it.
    creators, creation_op : list of Tensor, str, optional
        Set by ops on their results (the book's names); leave them None.
    id : int, optional
        An identifier; a counter gives a fresh one when None.
    device : {"cpu", "gpu"}, optional
        Where the data lives; where ``data`` already is when None.
    dtype : numpy dtype, optional
        Convert the data to this dtype.

    Attributes
    ----------
    grad : Tensor or None
        The gradient accumulated by backward passes (a plain tensor, autograd False).
    tag : hashable or None
        Set by :func:`engine.tagging` on tensors created inside it.

    Examples
    --------
    >>> from engine import Tensor
    >>> x = Tensor([1, 2, 3, 4, 5], autograd=True)
    >>> y = Tensor([2, 2, 2, 2, 2], autograd=True)
    >>> z = x + y
    >>> z
    array([3, 4, 5, 6, 7])
    >>> z.creation_op, z.creators
    ('add', [array([1, 2, 3, 4, 5]), array([2, 2, 2, 2, 2])])
    >>> z.backward(); print(x.grad)
    [1. 1. 1. 1. 1.]
    """

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_fn",
        "_grad",
        "autograd",
        "creation_op",
        "creators",
        "data",
        "id",
        "tag",
    )
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ndarray + Tensor -> Tensor
    data: Any  # a NumPy or CuPy array (CuPy is untyped)
    autograd: bool
    creators: list[Tensor] | None
    creation_op: str | None
    id: int
    tag: Any
    _grad: Any  # a bare array during backward, a Tensor once read (see ``grad``)
    _fn: Any

    def __init__(
        self,
        data: Any,
        autograd: bool = False,
        creators: list[Tensor] | None = None,
        creation_op: str | None = None,
        id: int | None = None,
        *,
        device: str | None = None,
        dtype: Any = None,
    ) -> None:
        self.data = as_array(data.data if isinstance(data, Tensor) else data, dtype, device)
        self.autograd = bool(autograd)
        self._grad = None
        self.creators = creators
        self.creation_op = creation_op
        self.id = next(_ids) if id is None else id
        self.tag = _ag._state.tag
        self._fn = None

    # -- attributes ----------------------------------------------------------------------------
    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient, a plain tensor (autograd False), or None."""
        g = self._grad
        if g is None or isinstance(g, Tensor):
            return g
        wrapped = _new(g, False, None, None, None)  # kept as a bare array during backward
        self._grad = wrapped
        return wrapped

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(value, dtype=getattr(value, "dtype", None))
        self._grad = value

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of the data."""
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return int(self.data.ndim)

    @property
    def dtype(self) -> np.dtype:
        """The data's dtype."""
        return cast(np.dtype, self.data.dtype)  # NumPy and CuPy arrays both have one

    @property
    def size(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"gpu"``."""
        return device_of(self.data)

    def __repr__(self) -> str:
        return repr(self.data)

    def __str__(self) -> str:
        return str(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        return (self[i] for i in range(len(self.data)))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        arr = to_numpy(self.data)
        return arr.astype(dtype) if dtype is not None else arr

    def numpy(self) -> np.ndarray:
        """Return a NumPy copy of the data (copied from the GPU when it lives there)."""
        arr = to_numpy(self.data)
        return arr.copy() if arr is self.data else arr

    def item(self) -> Any:
        """Return the single element as a Python number."""
        return self.data.item()

    def detach(self) -> Tensor:
        """Return a tensor sharing this data, outside any graph."""
        return _new(self.data, False, None, None, None)

    def to(self, device: str) -> Tensor:
        """Return this tensor on ``device`` (itself when already there) as a new leaf.

        Raises
        ------
        DeviceError
            If ``device`` is unknown or unusable; the message says why.
        """
        data = to_device(self.data, device)
        if data is self.data:
            return self
        return _new(data, self.autograd, None, None, None)

    def zero_grad(self) -> None:
        """Set the accumulated gradient to zeros, in place."""
        if self.grad is not None:
            self.grad.data *= 0

    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Accumulate the gradient of this tensor into ``.grad`` of every autograd tensor before it.

        Parameters
        ----------
        grad : Tensor or array, optional
            The gradient with respect to this tensor; ones when None (as in the book).
        retain_graph : bool
            Keep saved values so the graph can be back-propagated again.

        Raises
        ------
        EngineError
            If this tensor is not part of a graph, or its graph was already freed.
        """
        _ag.run_backward(self, grad, retain_graph)

    # -- arithmetic ----------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _binary(_bin.Add, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(_bin.Add, other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(_bin.Sub, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(_bin.Sub, other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _binary(_bin.Mul, self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _binary(_bin.Mul, other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _binary(_bin.Div, self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _binary(_bin.Div, other, self)

    def __neg__(self) -> Tensor:
        return _op.Neg(self)

    def __pow__(self, exponent: float) -> Tensor:
        return _ops.elementwise.pow_(self, exponent)

    def __matmul__(self, other: Any) -> Tensor:
        return _binary(_bin.MatMul, self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _binary(_bin.MatMul, other, self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.indexing.getitem(self, index)

    # -- named ops (see engine/ops/ for their docs) --------------------------------------------
    def neg(self) -> Tensor:
        """Return ``-self`` (the book's ``neg``)."""
        return _op.Neg(self)

    def mm(self, other: Any) -> Tensor:
        """Matrix product ``self.data.dot(other)`` (the book's ``mm``)."""
        return _binary(_bin.MM, self, other)

    def matmul(self, other: Any) -> Tensor:
        """Batched matrix product with broadcasting, as ``@``."""
        return _binary(_bin.MatMul, self, other)

    def transpose(self, *axes: int) -> Tensor:
        """Permute the axes; with no argument reverse them (the book's ``transpose()``)."""
        return _ops.shape.transpose(self, axes)

    @property
    def T(self) -> Tensor:
        """The transpose (axes reversed)."""
        return _ops.shape.transpose(self, ())

    def sum(self, dim: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Sum over ``dim`` (all axes when None); the book's ``sum(dim)``."""
        return _op.Sum(self, dim=dim, keepdims=keepdims)

    def mean(self, dim: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Mean over ``dim`` (all axes when None)."""
        return _op.Mean(self, dim=dim, keepdims=keepdims)

    def max(self, dim: int | None = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``dim``; the gradient is shared equally between tied maxima."""
        return _op.Max(self, dim=dim, keepdims=keepdims)

    def expand(self, dim: int, copies: int) -> Tensor:
        """Insert a new axis at ``dim`` holding ``copies`` copies of the data (the book's)."""
        return _op.Expand(self, dim=dim, copies=copies)

    def reshape(self, *shape: Any) -> Tensor:
        """Return the data in a new shape (ints or one tuple; -1 infers a size)."""
        return _ops.shape.reshape(self, shape)

    def flatten(self, start_dim: int = 0) -> Tensor:
        """Merge the axes from ``start_dim`` on into one (default: everything, as NumPy)."""
        return _ops.shape.flatten(self, start_dim)

    def exp(self) -> Tensor:
        """Elementwise ``e**x``."""
        return _op.Exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return _op.Log(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return _op.Sqrt(self)

    def abs(self) -> Tensor:
        """Elementwise absolute value (gradient 0 at 0)."""
        return _op.Abs(self)

    def clip(self, lo: float | None, hi: float | None) -> Tensor:
        """Clamp into ``[lo, hi]``; the gradient passes only inside the interval."""
        return _op.Clip(self, lo=lo, hi=hi)

    def sigmoid(self) -> Tensor:
        """Elementwise logistic function."""
        return _op.Sigmoid(self)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent."""
        return _op.Tanh(self)

    def relu(self) -> Tensor:
        """Elementwise ``max(x, 0)``."""
        return _op.Relu(self)

    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        """Elementwise ``x if x > 0 else slope * x``."""
        return _op.LeakyRelu(self, slope=slope)

    def softmax(self, dim: int = -1, mask: Any = None) -> Tensor:
        """Softmax over ``dim`` (max-subtracted); True places of a boolean ``mask`` get 0."""
        return _ops.modern.softmax(self, dim, mask)

    def log_softmax(self, dim: int = -1) -> Tensor:
        """Logarithm of the softmax over ``dim``, computed stably."""
        return _ops.activation.log_softmax(self, dim)

    def gelu(self, approximate: str = "none") -> Tensor:
        """Elementwise GELU, exact (erf) or ``approximate='tanh'``."""
        return _ops.modern.gelu(self, approximate)

    def silu(self) -> Tensor:
        """Elementwise ``x * sigmoid(x)``."""
        return _op.Silu(self)

    def permute(self, *dims: int) -> Tensor:
        """Reorder the axes: output axis i is input axis ``dims[i]`` (as ``torch.permute``)."""
        return _ops.modern.permute(self, dims)

    def masked_fill(self, mask: Any, value: float) -> Tensor:
        """``value`` where the boolean ``mask`` (broadcast) is True; no gradient flows there."""
        return _op.MaskedFill(self, mask=mask, value=value)

    def var(self, dim: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Population variance (divided by N) over ``dim`` (all axes when None)."""
        return _op.Var(self, dim=dim, keepdims=keepdims)

    def dropout(self, p: float, training: bool = True) -> Tensor:
        """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)``."""
        return _ops.activation.dropout(self, p, training)

    def index_select(self, indices: Any) -> Tensor:
        """Rows ``self[indices]`` along axis 0 (the book's; used by ``Embedding``)."""
        return _op.IndexSelect(self, indices=indices)

    def cross_entropy(self, target_indices: Any) -> Tensor:
        """Mean cross-entropy of logits ``(..., C)`` against integer targets ``(...)``."""
        return _op.CrossEntropy(self, targets=target_indices)


def _new(data: Any, autograd: bool, creators: Any, creation_op: Any, fn: Any) -> Tensor:
    """Build a tensor without the constructor's conversions (the fast path for op results)."""
    t = object.__new__(Tensor)
    t.data = data
    t.autograd = autograd
    t._grad = None
    t.creators = creators
    t.creation_op = creation_op
    t.id = next(_ids)
    t.tag = _state.tag
    t._fn = fn
    return t


def _bind_ops() -> None:
    """Bind the ops once ``engine.ops`` has loaded (so the import cycle resolves in any order).

    A method then costs a global and an attribute lookup, not a walk through the op modules.
    """
    global _binary, _bin, _op
    from engine.ops import (
        activation,
        elementwise,
        indexing,
        linalg,
        loss_ops,
        modern,
        reduce,
        shape,
    )
    from engine.ops.function import Function, apply_binary

    modules = (activation, elementwise, indexing, linalg, loss_ops, modern, reduce, shape)
    found = [getattr(m, name) for m in modules for name in m.__all__]
    classes = [c for c in found if isinstance(c, type) and issubclass(c, Function)]
    _binary = apply_binary
    _bin = SimpleNamespace(**{c.__name__: c for c in classes})
    _op = cast("OpTable", SimpleNamespace(**{c.__name__: c.apply for c in classes}))


# Imported last: both modules need Tensor defined above; engine.ops then calls _bind_ops().
from engine import autograd as _ag  # noqa: E402
from engine import ops as _ops  # noqa: E402

_state = _ag._state
