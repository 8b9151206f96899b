"""Automatic differentiation: the backward pass, ``no_grad`` and ``tagging``.

:class:`Function`, the base of every primitive, lives in ``engine/ops/function.py`` and is
exported here too. The backward pass sorts the graph topologically with an iterative depth-first
search, then visits each op once, consumers before producers, so a tensor used on several paths
receives the sum of its gradients before it passes them on, and a graph of 200,000 ops needs no
recursion.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import numpy as np

from engine.backend import device_of, get_array_module, get_default_dtype, to_device
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


_state: _State = _State()


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
        if old.size > _SMALL and old.dtype == g.dtype and old.shape == g.shape:
            old += g
        else:
            new = _array(old + g)
            if old.dtype.kind == "f" and new.dtype != old.dtype:
                new = new.astype(old.dtype)  # a float32 parameter keeps a float32 gradient
            cur.data = new


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
    src = grad.data if isinstance(grad, Tensor) else grad
    g = xp.array(to_device(src, device_of(t.data)))  # a copy, on t's device
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


# Imported last so that engine.tensor, engine.autograd and engine.ops import in any order.
from engine.ops.function import Function, unbroadcast  # noqa: E402
from engine.tensor import Tensor, _new  # noqa: E402
