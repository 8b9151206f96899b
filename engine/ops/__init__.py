"""The differentiable primitives, one :class:`engine.autograd.Function` per op, by family."""

from __future__ import annotations

from engine.ops import activation, elementwise, indexing, linalg, loss_ops, reduce, shape
from engine.ops.shape import concat, stack

__all__ = [
    "activation",
    "concat",
    "elementwise",
    "indexing",
    "linalg",
    "loss_ops",
    "reduce",
    "shape",
    "stack",
]
