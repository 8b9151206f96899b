"""Element-wise ONNX ops kept symbolic (:class:`~app.graph.onnx.values.Expr`) until a node reads
them: then the whole expression becomes one activation node when it computes one (GELU written
with Erf, SiLU as ``x·sigmoid(x)``, a lone Tanh or Sigmoid), else the nodes it is made of.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from app.graph.onnx.import_base import ImportConverter, OnnxNode, describe
from app.graph.onnx.values import (
    MAX_EXPR_DEPTH,
    Const,
    Expr,
    Layout,
    Plan,
    Tensor,
    Unsupported,
    Value,
)

PROBE = np.linspace(-5.0, 5.0, 101)
_erf = np.vectorize(math.erf)


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * a))


FUNCTIONS: dict[str, Callable[..., np.ndarray]] = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "erf": _erf,
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
    "pow": np.power,
}
# The activations an expression may turn out to be: node type, parameters, function.
KNOWN: tuple[tuple[str, dict[str, Any], Callable[[np.ndarray], np.ndarray]], ...] = (
    ("tanh", {}, np.tanh),
    ("sigmoid", {}, _sigmoid),
    ("silu", {}, lambda x: x * _sigmoid(x)),
    ("gelu", {"approximate": "none"}, lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))),
    (
        "gelu",
        {"approximate": "tanh"},
        lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3))),
    ),
)


def evaluate(expr: Expr | float, x: np.ndarray) -> np.ndarray:
    """The expression's values where its tensor holds ``x``."""
    if not isinstance(expr, Expr):
        return np.full_like(x, expr)
    if expr.op == "x":
        return x
    return FUNCTIONS[expr.op](*(evaluate(a, x) for a in expr.args))


def operand(value: Value | None) -> Expr | float | None:
    """``value`` as an expression operand: a plain tensor, an expression, or a scalar constant."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, Tensor) and value.layout is Layout.PLAIN:
        return Expr(value)
    if isinstance(value, Const) and value.array.size == 1 and value.array.dtype.kind == "f":
        return float(value.array.reshape(-1)[0])
    return None


def combine(op: str, *args: Expr | float, name: str = "") -> Expr | None:
    """``op`` over ``args`` when they are expressions of one tensor (and at least one is);
    ``name`` is the ONNX node's."""
    sources = {a.source for a in args if isinstance(a, Expr)}
    if len(sources) != 1:
        return None
    depth = 1 + max(a.depth for a in args if isinstance(a, Expr))
    if depth > MAX_EXPR_DEPTH:
        raise Unsupported(f"an element-wise expression deeper than {MAX_EXPR_DEPTH} ops")
    return Expr(sources.pop(), op, tuple(args), depth, name)


def unary(op: str) -> ImportConverter:
    """Tanh, Sigmoid or Erf of a tensor or an expression: a bigger expression."""

    def convert(plan: Plan, node: OnnxNode) -> list[Value]:
        arg = operand(node.input(0))
        if not isinstance(arg, Expr):
            raise Unsupported(f"input 0 {describe(node.input(0))}")
        expr = combine(op, arg, name=node.name)
        assert expr is not None
        return [expr]

    return convert


def materialize(plan: Plan, value: Value | None) -> Value | None:
    """An expression as planned nodes (cached); any other value as it is."""
    if not isinstance(value, Expr):
        return value
    if value not in plan.materialized:
        with np.errstate(all="ignore"):
            got = evaluate(value, PROBE)
            for type_id, params, function in KNOWN:
                if np.allclose(got, function(PROBE), rtol=1e-5, atol=1e-5):
                    fed = {"x": value.source}
                    node = plan.add(type_id, dict(params), fed, name=value.name)
                    plan.materialized[value] = node
                    break
            else:
                plan.materialized[value] = _emit(plan, value)
    return plan.materialized[value]


def _emit(plan: Plan, expr: Expr) -> Tensor:
    """The nodes an expression is made of (Tanh, Sigmoid, and Add/Multiply with numbers)."""
    if expr.op == "x":
        return expr.source
    if expr.op in ("tanh", "sigmoid"):
        inner = expr.args[0]
        assert isinstance(inner, Expr)
        return plan.add(expr.op, {}, {"x": _emit(plan, inner)}, name=expr.name)
    a, b = (*expr.args, 0.0)[:2]
    if expr.op == "sub" and not isinstance(b, Expr):
        return _emit(plan, Expr(expr.source, "add", (a, -b), expr.depth, expr.name))
    if expr.op == "div" and not isinstance(b, Expr) and b != 0:
        return _emit(plan, Expr(expr.source, "mul", (a, 1.0 / b), expr.depth, expr.name))
    if expr.op in ("add", "mul"):
        type_id = "add" if expr.op == "add" else "multiply"
        fed = {"a": _operand_node(plan, a), "b": _operand_node(plan, b)}
        return plan.add(type_id, {}, fed, name=expr.name)
    raise Unsupported(
        f"element-wise {expr.op.capitalize()} has no node type (only within GELU or SiLU)"
    )


def _operand_node(plan: Plan, value: Expr | float) -> Tensor:
    if isinstance(value, Expr):
        return _emit(plan, value)
    return plan.add("constant", {"value": float(value), "shape": "1"}, {})
