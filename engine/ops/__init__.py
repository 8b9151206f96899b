"""The differentiable primitives, one :class:`engine.autograd.Function` per op, by family."""

from __future__ import annotations

from engine.ops import (
    activation,
    attention,
    elementwise,
    function,
    indexing,
    layer_norm,
    linalg,
    loss_ops,
    modern,
    reduce,
    shape,
)
from engine.ops.shape import concat, stack
from engine.tensor import _bind_ops

_bind_ops()

__all__ = [
    "activation",
    "attention",
    "concat",
    "elementwise",
    "function",
    "indexing",
    "layer_norm",
    "linalg",
    "loss_ops",
    "modern",
    "reduce",
    "shape",
    "stack",
]
