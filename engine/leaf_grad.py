"""A leaf's gradient: :class:`LeafGrad`, with ownership of fresh arrays and a deferred zeroing.

Two passes per parameter and step that a hand-written training loop does not make are avoided
here, without changing what a reader of ``p.grad`` sees:

- **Ownership.** The first gradient that reaches a leaf used to be copied into a private
  array. When the backward pass can prove that the array is private (freshly made by the op's
  backward, referenced by nothing else, see ``engine.autograd``), the leaf keeps that array
  instead of a copy.
- **Deferred zeroing.** An optimizer's ``zero()`` marks a :class:`LeafGrad` *stale* instead of
  writing zeros. The next backward overwrites a stale gradient instead of adding to it, and any
  read of the gradient's ``data`` before that (``p.grad``, ``print(p.grad)``, a reference to the
  gradient tensor kept from before) writes the zeros first, so it reads zeros as the book's
  ``p.grad.data *= 0`` leaves them.

The gradient tensor stays the same object across steps; its *array* may be replaced by a
backward pass, so an array taken with ``p.grad.data`` should not be kept across a backward.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from engine import tensor as _tensor
from engine.backend import get_array_module
from engine.tensor import Tensor

__all__ = ["LeafGrad", "accumulate_leaf", "base_refs", "new_leaf_grad"]

_DATA = Tensor.__dict__["data"]  # the slot under Tensor.data, bypassing LeafGrad's property
_SMALL = 64  # below this many elements NumPy adds out of place faster than in place

#: ``base_refs(v)`` of a view ``v`` whose base nothing but ``v`` references (set by calibration
#: in ``engine.autograd``; 0 until then, which accepts no view).
BASE_PRIVATE = [0]


class LeafGrad(Tensor):
    """The gradient tensor of a leaf (a plain tensor, ``autograd=False``) that may be stale.

    A stale gradient holds zeros as far as any reader can tell: reading ``data`` writes them.
    """

    __slots__ = ("stale",)
    stale: bool

    @property
    def data(self) -> Any:
        """The gradient array (zeros when stale; they are written on this read)."""
        arr = _DATA.__get__(self, LeafGrad)
        if self.stale:
            arr.fill(0)
            self.stale = False
        return arr

    @data.setter
    def data(self, value: Any) -> None:
        _DATA.__set__(self, value)
        self.stale = False


def new_leaf_grad(arr: Any) -> LeafGrad:
    """Wrap ``arr`` (which the new gradient owns) as a :class:`LeafGrad`."""
    g = object.__new__(LeafGrad)
    _DATA.__set__(g, arr)
    g.stale = False
    g.autograd = False
    g._grad = g.creators = g.creation_op = g._fn = None
    g.id = next(_tensor._ids)
    g.tag = _tensor._state.tag
    return g


def base_refs(v: Any) -> int:
    """Reference count of ``v.base`` as this function sees it (compared with
    :data:`BASE_PRIVATE`)."""
    return sys.getrefcount(v.base)


def _takeable(g: Any, dtype: Any) -> bool:
    """Whether ``g``, known to be referenced by nothing but the caller, may become a leaf's
    gradient: a writeable NumPy array of ``dtype`` owning its memory, or a C-contiguous view
    covering the whole of a base that only ``g`` references."""
    if type(g) is not np.ndarray or g.dtype != dtype or not g.flags.writeable:
        return False
    base = g.base
    if base is None:
        return bool(g.flags.owndata)
    whole = (
        type(base) is np.ndarray
        and base.base is None
        and bool(base.flags.owndata)
        and g.nbytes == base.nbytes
        and bool(g.flags.c_contiguous)
    )
    del base  # base_refs must see g.base held by g alone, as calibrated
    return whole and base_refs(g) <= BASE_PRIVATE[0]


def accumulate_leaf(t: Tensor, g: Any, private: bool) -> None:
    """Add gradient ``g`` into leaf ``t``'s gradient.

    ``private`` says that nothing but the caller references ``g``, so ``t`` may keep it as its
    gradient array (when :func:`_takeable` agrees) instead of copying it.
    """
    cur = t._grad
    dt = t.data.dtype if t.data.dtype.kind == "f" else g.dtype
    if cur is None:
        own = private and _takeable(g, dt)
        t._grad = new_leaf_grad(g if own else g.astype(dt, copy=True))
        return
    if type(cur) is LeafGrad and cur.stale:
        _overwrite(cur, g, private)
        return
    old = cur.data
    if old.size > _SMALL and old.dtype == g.dtype and old.shape == g.shape:
        old += g
    else:
        new = _array(old + g)
        if old.dtype.kind == "f" and new.dtype != old.dtype:
            new = new.astype(old.dtype)  # a float32 parameter keeps a float32 gradient
        cur.data = new


def _overwrite(cur: LeafGrad, g: Any, private: bool) -> None:
    """Replace a stale gradient's values by ``g`` (what adding ``g`` to zeros gives)."""
    old = _DATA.__get__(cur, LeafGrad)
    widens = old.dtype.kind != "f" and np.result_type(old, g) != old.dtype
    if old.shape == g.shape and type(old) is type(g) and not widens:
        if private and _takeable(g, old.dtype):
            _DATA.__set__(cur, g)
        else:
            old[...] = g  # cast to the gradient's dtype, as adding in place does
    else:
        new = _array(get_array_module(old).zeros_like(old) + g)  # broadcast as adding would
        if old.dtype.kind == "f" and new.dtype != old.dtype:
            new = new.astype(old.dtype)
        _DATA.__set__(cur, new)
    cur.stale = False


def _array(a: Any) -> Any:
    """``a`` as an array (NumPy gives scalars for 0-d results)."""
    return np.asarray(a) if isinstance(a, np.generic) else a
