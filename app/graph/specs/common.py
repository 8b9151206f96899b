"""Small helpers the node declarations share: shape text, dimension lists, simple hooks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from app.graph.errors import ShapeError
from app.graph.specs.base import CheckFn, ForwardFn, InferFn, Shape, Shapes


def format_shape(shape: Shape) -> str:
    """Write a shape for people: the batch dimension is ``N``, dimensions joined by ``×``.

    Examples
    --------
    >>> format_shape((None, 64))
    'N×64'
    >>> format_shape(())
    'scalar'
    """
    if len(shape) == 0:
        return "scalar"
    return "×".join("N" if d is None else str(d) for d in shape)


def parse_dims(text: str, allow_infer: bool = False) -> tuple[int, ...]:
    """Parse ``"1, 8, 8"`` into ``(1, 8, 8)``; ``-1`` (one of them) only with ``allow_infer``.

    Raises ``ValueError`` saying what is wrong.

    Examples
    --------
    >>> parse_dims("1,8,8")
    (1, 8, 8)
    """
    parts = [p.strip() for p in text.replace("×", ",").replace("x", ",").split(",")]
    if not text.strip() or any(not p for p in parts):
        raise ValueError(f"expected sizes separated by commas, like 1,8,8, got {text!r}")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"expected whole numbers separated by commas, got {text!r}") from None
    if sum(d == -1 for d in dims) > (1 if allow_infer else 0):
        raise ValueError("at most one size may be -1" if allow_infer else "sizes must be >= 1")
    if any(d < 1 and d != -1 for d in dims):
        raise ValueError(f"sizes must be >= 1, got {text!r}")
    return dims


def dims_check(allow_infer: bool = False) -> CheckFn:
    """A ``ParamSpec.check`` rule accepting what :func:`parse_dims` accepts."""

    def check(value: str) -> str | None:
        try:
            parse_dims(value, allow_infer)
        except ValueError as err:
            return str(err)
        return None

    return check


def features(shape: Shape) -> int:
    """The size of the last dimension (0 for a scalar, 1 when unknown)."""
    return int(shape[-1] or 1) if shape else 0


def samples(shape: Shape) -> int:
    """Number of elements per sample (the batch dimension excluded)."""
    return math.prod(d for d in shape if d is not None)


def need(title: str, in_shapes: Shapes, port: str) -> Shape:
    """The shape arriving on ``port``; a :class:`ShapeError` when nothing is wired there."""
    if port not in in_shapes:
        raise ShapeError(f"{title} needs its {port!r} input connected", port=port)
    return tuple(in_shapes[port])


def same(port: str = "x", out: str = "y") -> InferFn:
    """An ``infer`` hook passing the input shape through unchanged."""

    def infer(params: Mapping[str, Any], in_shapes: Shapes) -> dict[str, Shape]:
        return {out: tuple(in_shapes[port])}

    return infer


def call_module(port: str = "x", out: str = "y") -> ForwardFn:
    """A ``forward`` hook calling the built module on one input."""

    def forward(
        module: Any, params: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {out: module(inputs[port])}

    return forward


def in_features(params: Mapping[str, Any], in_shapes: Shapes) -> dict[str, str]:
    """``template_values`` hook giving the last dimension of ``x`` as ``in_features``."""
    return {"in_features": str(features(in_shapes["x"]))}


def engine() -> ModuleType:
    """The engine package, imported on first use so the specs load before the engine exists."""
    import engine as eng

    return eng
