"""Automatic differentiation: the backward pass, ``no_grad`` and ``tagging``.

:class:`Function`, the base of every primitive, lives in ``engine/ops/function.py`` and is
exported here too. The backward pass sorts the graph topologically with an iterative depth-first
search, then visits each op once, consumers before producers, so a tensor used on several paths
receives the sum of its gradients before it passes them on, and a graph of 200,000 ops needs no
recursion.
"""

from __future__ import annotations

import sys
import threading
import weakref
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


def _accumulate(t: Tensor, g: Any, private: bool = False) -> None:
    """Add gradient ``g`` into ``t``'s gradient.

    A leaf owns a private gradient tensor (see ``engine/leaf_grad.py``: it keeps ``g`` itself
    when ``private`` proves nothing else references it, copies it otherwise, then sums in
    place). An op result keeps a bare array until someone reads ``.grad``; it may share that
    array with another tensor, so it is replaced, never modified.
    """
    if type(g) is not np.ndarray and isinstance(g, np.generic):
        g = np.asarray(g)  # NumPy returns scalars from 0-d arithmetic
    if t._fn is None:
        accumulate_leaf(t, g, private)
        return
    cur = t._grad
    if cur is None:
        t._grad = g
    elif isinstance(cur, Tensor):
        cur.data = _array(cur.data + g)
    else:
        t._grad = _array(cur + g)


def _array(a: Any) -> Any:
    """``a`` as an array (NumPy gives scalars for 0-d results)."""
    return np.asarray(a) if isinstance(a, np.generic) else a


#: The reference count ``sys.getrefcount`` reports in ``_propagate`` for a gradient array that
#: only the backward's returned sequence references (found by :func:`_calibrate`; 0 = never).
_private_refs = 0
_calibrated = False
_calibration_lock = threading.Lock()


def _propagate(node: Tensor, retain_graph: bool) -> None:
    """Run one op's backward and add the results into its inputs' gradients.

    A gradient bound for a leaf is *private* when its reference count is the one a fresh array
    has here (calibrated once): a gradient also held by another tensor, by the op's saved
    values, by a view or twice by the returned sequence counts more, and is copied.
    """
    fn = node._fn
    grad = node._grad
    if grad is not None:
        if isinstance(grad, Tensor):
            grad = grad.data
        grads = [*fn.backward(grad)]  # a fresh list: a sequence the op keeps counts as a holder
        for parent, g, need in zip(fn.parents, grads, fn.needs, strict=False):
            if need and g is not None:
                if parent._fn is None:
                    _accumulate(parent, g, sys.getrefcount(g) <= _private_refs)
                else:
                    _accumulate(parent, g)
    if not retain_graph:
        node._fn = FREED


def _probe_owns(keep: bool = False, twice: bool = False) -> bool:
    """Run ``_propagate`` on a probe op whose backward returns a fresh array (also kept by the
    op when ``keep``, returned for two leaves when ``twice``); return whether a leaf kept it."""

    class Probe(Function):
        op_name = "probe"
        keep: bool
        twice: bool
        made: Any

        def backward(self, grad: Any) -> tuple[Any, ...]:
            out = np.ones(4)
            self.made = weakref.ref(out)
            if self.keep:
                self.kept = out
            return (out, out) if self.twice else (out,)

    leaves = [_new(np.zeros(4), True, None, None, None) for _ in range(1 + twice)]
    fn = Probe(keep=keep, twice=twice)
    fn.parents, fn.needs = leaves, [True] * len(leaves)
    node = _new(np.zeros(4), True, leaves, "probe", fn)
    node._grad = np.ones(4)
    _propagate(node, True)
    return any(leaf._grad is not None and leaf._grad.data is fn.made() for leaf in leaves)


def _calibrate() -> None:
    """Find the reference count of a private gradient in ``_propagate``, and check that one
    more holder (the op keeping it, or the sequence holding it twice) makes it not private;
    when the check fails (an interpreter counting otherwise), no gradient is ever taken."""
    global _private_refs, _calibrated
    with _calibration_lock:
        if _calibrated:
            return
        # A tracer or profiler that reads frame locals (a debugger, coverage) adds references
        # while it runs: probing under it would count a held array as private ever after.
        tracer, profiler = sys.gettrace(), sys.getprofile()
        sys.settrace(None)
        sys.setprofile(None)
        try:
            _probe_private_refs()
        finally:
            sys.settrace(tracer)
            sys.setprofile(profiler)
        _calibrated = True


def _probe_private_refs() -> None:
    """The body of :func:`_calibrate` (run with no tracer or profiler)."""
    global _private_refs
    found = 0
    if getattr(sys, "_is_gil_enabled", lambda: True)():
        for k in range(1, 16):
            _private_refs = k
            if _probe_owns():
                found = k
                break
        _private_refs = found
        if found and (_probe_owns(keep=True) or _probe_owns(twice=True)):
            found = 0
    _private_refs = found
    base = np.ones(4)
    view = base.reshape(4)
    del base
    BASE_PRIVATE[0] = base_refs(view) if found else 0
    keeper = view.base  # one more holder must count more
    if base_refs(view) <= BASE_PRIVATE[0]:
        BASE_PRIVATE[0] = 0
    del keeper


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
    if not _calibrated:
        _calibrate()
    g = _root_grad(t, grad)
    if t._fn is None:
        _accumulate(t, g, True)  # a fresh copy or fresh ones
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
from engine.leaf_grad import BASE_PRIVATE, accumulate_leaf, base_refs  # noqa: E402
from engine.ops.function import Function, unbroadcast  # noqa: E402
from engine.tensor import Tensor, _new  # noqa: E402
