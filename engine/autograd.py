"""Automatic differentiation: the :class:`Function` base of every primitive and the backward pass.

The backward pass sorts the graph topologically with an iterative depth-first search, then visits
each op once, consumers before producers, so a tensor used on several paths receives the sum of
its gradients before it passes them on, and a graph of 200,000 ops needs no recursion.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from engine.backend import (
    as_operand,
    check_same_device,
    get_array_module,
    get_default_dtype,
    promote_floats,
)
from engine.errors import EngineError, ShapeError

__all__ = [
    "BackwardStep",
    "Function",
    "backward_steps",
    "is_grad_enabled",
    "no_grad",
    "tagging",
    "unbroadcast",
]


class _State(threading.local):
    """Per-thread switches: whether ops record a graph, and the tag given to new tensors."""

    grad_enabled = True
    tag: Any = None


_state = _State()


class _Freed:
    """Marks an op whose saved values a backward pass released."""

    def __repr__(self) -> str:
        return "<freed>"


FREED = _Freed()


def is_grad_enabled() -> bool:
    """Return whether ops record a graph in this thread (False inside :func:`no_grad`)."""
    return _state.grad_enabled


@contextmanager
def no_grad() -> Iterator[None]:
    """Context manager in which ops build no graph: every result has ``autograd=False``.

    Examples
    --------
    >>> from engine import Tensor
    >>> w = Tensor([1.0, 2.0], autograd=True)
    >>> with no_grad():
    ...     y = w * 2
    >>> y.autograd, y.creators
    (False, None)
    """
    previous = _state.grad_enabled
    _state.grad_enabled = False
    try:
        yield
    finally:
        _state.grad_enabled = previous


@contextmanager
def tagging(tag: Any) -> Iterator[None]:
    """Context manager giving every tensor created inside it ``.tag = tag``.

    The editor uses it to map each op of a compiled graph back to the node that made it.

    Examples
    --------
    >>> from engine import Tensor
    >>> with tagging("dense1"):
    ...     y = Tensor([1.0], autograd=True) + 1
    >>> y.tag
    'dense1'
    """
    previous = _state.tag
    _state.tag = tag
    try:
        yield
    finally:
        _state.tag = previous


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
    op_name = "function"
    promote = True

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
        arrays: list[Any] = []
        needs: list[bool] = []
        plain = True  # every input a Tensor holding a NumPy array
        for x in inputs:
            if isinstance(x, Tensor):
                data = x.data
                arrays.append(data)
                needs.append(x.autograd)
                if type(data) is not np.ndarray:
                    plain = False
            else:
                arrays.append(None)
                needs.append(False)
                plain = False
        n = len(arrays)
        if not plain or n > 2 or (n == 2 and arrays[0].dtype != arrays[1].dtype):
            arrays = fn._prepare(inputs, arrays)
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
                fn.parents = inputs
                return _new(out, True, list(inputs), fn.op_name, fn)
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


def apply_binary(cls: type[Function], a: Any, b: Any) -> Tensor:
    """``cls.apply(a, b)`` with a fast path for two tensors of one dtype on the CPU.

    Arithmetic operators call this: it skips the general input handling of
    :meth:`Function.apply`, the largest part of an op's overhead on small arrays. ``cls`` must
    take no parameters.
    """
    if type(a) is Tensor and type(b) is Tensor:
        da = a.data
        db = b.data
        if type(da) is _ndarray and type(db) is _ndarray and da.dtype == db.dtype:
            fn = _object_new(cls)
            try:
                out = fn.forward(da, db)
            except ValueError:
                return cls.apply(a, b)  # raises the ShapeError with its message
            if type(out) is not _ndarray:
                out = np.asarray(out)
            if (a.autograd or b.autograd) and _state.grad_enabled:
                fn.needs = (a.autograd, b.autograd)
                fn.parents = (a, b)
                return _new(out, True, [a, b], cls.op_name, fn)
            return _new(out, False, None, None, None)
    return cls.apply(a, b)


class BackwardStep(NamedTuple):
    """One op of a backward pass, after its inputs' gradients were updated."""

    tensor: Tensor
    creation_op: str | None
    creators: list[Tensor] | None


def _topo_order(root: Tensor) -> list[Tensor]:
    """Return the op results reachable from ``root``, consumers before producers (iterative)."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in node._fn.parents:
            if parent is None or not parent.autograd or id(parent) in visited:
                continue
            if parent._fn is FREED:
                raise EngineError(
                    f"backward through a '{parent.creation_op}' op whose graph a previous "
                    "backward already freed; call backward(retain_graph=True) the first time"
                )
            if parent._fn is not None:
                stack.append((parent, False))
    order.reverse()
    return order


_SMALL = 64  # below this many elements NumPy adds out of place faster than in place


def _accumulate(t: Tensor, g: Any) -> None:
    """Add gradient ``g`` into ``t``'s gradient.

    A leaf owns a private gradient tensor (its array copied the first time, then summed in place
    so an optimizer may zero it in place). An op result keeps a bare array until someone reads
    ``.grad``; it may share that array with another tensor, so it is replaced, never modified.
    """
    if type(g) is not np.ndarray and isinstance(g, np.generic):
        g = np.asarray(g)  # NumPy returns scalars from 0-d arithmetic
    cur = t._grad
    if t._fn is not None:
        if cur is None:
            t._grad = g
        elif isinstance(cur, Tensor):
            cur.data = _array(cur.data + g)
        else:
            t._grad = _array(cur + g)
    elif cur is None:
        dt = t.data.dtype if t.data.dtype.kind == "f" else g.dtype
        t._grad = _new(g.astype(dt, copy=True), False, None, None, None)
    else:
        old = cur.data
        if old.size > _SMALL or old.dtype != g.dtype or old.shape != g.shape:
            old += g
        else:
            cur.data = _array(old + g)


def _array(a: Any) -> Any:
    """``a`` as an array (NumPy gives scalars for 0-d results)."""
    return np.asarray(a) if isinstance(a, np.generic) else a


def _propagate(node: Tensor, retain_graph: bool) -> None:
    """Run one op's backward and add the results into its inputs' gradients."""
    fn = node._fn
    grad = node._grad
    if grad is not None:
        if isinstance(grad, Tensor):
            grad = grad.data
        for parent, g, need in zip(fn.parents, fn.backward(grad), fn.needs, strict=False):
            if need and g is not None:
                _accumulate(parent, g)
    if not retain_graph:
        node._fn = FREED


def _root_grad(t: Tensor, grad: Any) -> Any:
    """Return the gradient array that starts the backward pass (ones when None)."""
    if grad is None:
        return _ones_like(t.data)
    xp = get_array_module(t.data)
    g = xp.array(grad.data if isinstance(grad, Tensor) else grad)  # a copy, on t's device
    if t.data.dtype.kind == "f" and g.dtype != t.data.dtype:
        g = g.astype(t.data.dtype)
    if g.shape != t.data.shape:
        raise ShapeError(f"backward: gradient shape {tuple(g.shape)} != tensor shape {t.shape}")
    return g


def _ones_like(a: Any) -> Any:
    """Ones shaped like ``a`` on its device, float for integer data."""
    xp = get_array_module(a)
    dt = a.dtype if a.dtype.kind == "f" else get_default_dtype()
    return xp.ones(a.shape, dtype=dt)


def backward_steps(
    t: Tensor, grad: Any = None, retain_graph: bool = False
) -> Iterator[BackwardStep]:
    """Back-propagate from ``t``, yielding one :class:`BackwardStep` per op.

    Ops are visited in reverse topological order; each step is yielded after the gradients of the
    op's inputs were updated, so a caller can pause between ops. Exhausting the generator is the
    same as ``t.backward(grad)``.

    Parameters
    ----------
    t : Tensor
        The output to differentiate; it must have ``autograd=True``.
    grad : Tensor, array or None
        Gradient of the final objective with respect to ``t``; ones when None.
    retain_graph : bool
        Keep the ops' saved values so the graph can be back-propagated again.

    Raises
    ------
    EngineError
        If ``t`` is not part of a graph, or its graph was freed by an earlier backward.

    Examples
    --------
    >>> from engine import Tensor
    >>> x = Tensor([1.0, 2.0], autograd=True)
    >>> y = (x * x).sum()
    >>> [step.creation_op for step in backward_steps(y)]
    ['sum', 'mul']
    >>> x.grad
    array([2., 4.], dtype=float32)
    """
    return _run(_start(t, grad), retain_graph)


def _start(t: Tensor, grad: Any) -> list[Tensor]:
    """Check ``t``, seed its gradient and return the ops to visit (none for a leaf)."""
    if not isinstance(t, Tensor):
        raise TypeError(f"backward expects a Tensor, got {type(t).__name__}")
    if not t.autograd:
        raise EngineError(
            "backward() on a tensor that is not part of any graph (autograd=False): create the "
            "inputs with autograd=True and compute outside no_grad()"
        )
    if t._fn is FREED:
        raise EngineError(
            f"backward through '{t.creation_op}' again: the first backward freed its graph; "
            "call backward(retain_graph=True) the first time"
        )
    g = _root_grad(t, grad)
    if t._fn is None:
        _accumulate(t, g)
        return []
    order = _topo_order(t)
    for node in order:
        node._grad = None
    t._grad = g
    return order


def _run(order: list[Tensor], retain_graph: bool) -> Iterator[BackwardStep]:
    """Visit each op once, consumers first, yielding after each."""
    for node in order:
        _propagate(node, retain_graph)
        yield BackwardStep(node, node.creation_op, node.creators)


def run_backward(t: Tensor, grad: Any = None, retain_graph: bool = False) -> None:
    """Back-propagate from ``t`` in one go: :func:`backward_steps` without the pauses."""
    order = _start(t, grad)
    for node in order:
        _propagate(node, retain_graph)


# Imported last so that engine.tensor and engine.autograd can be imported in either order.
from engine.tensor import Tensor, _new  # noqa: E402
