"""What an ONNX value becomes while a model is imported, and the graph being planned.

An ONNX value is one of: a :class:`Const` (an initializer or folded constant), a :class:`Sym`
(a small integer vector computed from shapes, where ``None`` stands for the batch size), a
:class:`Zeros` (a tensor of zeros whose shape depends on the batch: an RNN's initial state),
a :class:`Tensor` (a nodegrad node's output, possibly seen through a :class:`Layout`), or a
:class:`Poison` (a value that cannot be used, with the reason when it is ours to tell).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.graph.errors import GraphError, ParamError
from app.graph.specs import Shape, get_spec


class Unsupported(GraphError):  # noqa: N818 (a reason, not a crash: it is collected and listed)
    """One ONNX node that cannot be imported as it is configured; the message says why."""


class Layout(enum.Enum):
    """How an ONNX value relates to the nodegrad output it stands for.

    ``PLAIN`` the same tensor; ``TIME_MAJOR`` its (T, N, F) transpose (what ONNX's recurrent
    ops read); ``RECURRENT_Y`` a recurrent op's (T, 1, N, H) output; ``POOLED`` a global
    pooling's N×C output seen as ONNX's N×C×1×1 (a Flatten makes it plain again).
    """

    PLAIN = "plain"
    TIME_MAJOR = "time-major"
    RECURRENT_Y = "recurrent Y"
    POOLED = "pooled N×C×1×1"


@dataclass(frozen=True)
class Const:
    """A constant array (an initializer, a Constant node, or folded from them)."""

    array: np.ndarray


@dataclass(frozen=True)
class Sym:
    """An int64 vector (or scalar) computed from shapes; ``None`` entries are the batch size."""

    values: tuple[int | None, ...]
    scalar: bool = False


@dataclass(frozen=True)
class Zeros:
    """Zeros of a shape that depends on the batch size (e.g. ConstantOfShape of a :class:`Sym`)."""

    shape: tuple[int | None, ...]


@dataclass(frozen=True)
class Tensor:
    """Output ``port`` of planned node ``node``, seen through ``layout``; ``shape`` is ONNX's."""

    node: str
    port: str
    shape: Shape
    layout: Layout = Layout.PLAIN


@dataclass(frozen=True)
class Poison:
    """A value nothing may read; ``reason`` is reported when something does (None: said before)."""

    reason: str | None = None


MAX_EXPR_DEPTH = 64


@dataclass(frozen=True)
class Expr:
    """An element-wise function of one computed tensor, kept symbolic until a node reads it, so
    that ``x·sigmoid(x)`` becomes one SiLU and ``0.5·x·(1 + erf(x/√2))`` one GELU.

    ``op`` is ``"x"`` for the tensor itself, else the function applied to ``args`` (expressions
    of the same tensor, or numbers).
    """

    source: Tensor
    op: str = "x"
    args: tuple[Expr | float, ...] = ()
    depth: int = 0
    name: str = ""  # the ONNX node that made it (the id of the node it becomes, when free)

    @property
    def shape(self) -> Shape:
        """The shape of the source (element-wise functions keep it)."""
        return self.source.shape


Value = Const | Sym | Zeros | Tensor | Poison | Expr


@dataclass
class PlannedNode:
    """A nodegrad node to create: type, checked parameters, wiring, weights and output shapes."""

    id: str
    type_id: str
    params: dict[str, Any]
    inputs: dict[str, tuple[str, str]]
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    shapes: dict[str, Shape] = field(default_factory=dict)
    onnx_name: str = ""


class Plan:
    """The nodegrad graph an import builds, node by node, with shapes inferred as it grows."""

    def __init__(self) -> None:
        self.nodes: dict[str, PlannedNode] = {}
        self.consumed: set[str] = set()
        self.materialized: dict[Expr | Tensor, Tensor] = {}

    def new_id(self, name: str, type_id: str) -> str:
        """``name`` when it is a free identifier (a nodegrad export's node ids come back), else
        ``type_id_1``, ``type_id_2``, …"""
        if name.isidentifier() and name not in self.nodes and len(name) <= 64:
            return name
        n = 1
        while f"{type_id}_{n}" in self.nodes:
            n += 1
        return f"{type_id}_{n}"

    def add(
        self,
        type_id: str,
        params: dict[str, Any],
        inputs: dict[str, Tensor],
        weights: dict[str, np.ndarray] | None = None,
        name: str = "",
    ) -> Tensor:
        """Plan a node fed by plain ``inputs``; returns its (first) output as a plain value.

        Raises :class:`Unsupported` when the parameters or shapes are refused by the node type.
        """
        inputs = {port: self._unpooled(value) for port, value in inputs.items()}
        for port, value in inputs.items():
            if value.layout is not Layout.PLAIN:
                raise Unsupported(f"its input {port} is a {value.layout.value} view")
        spec = get_spec(type_id)
        try:
            checked = spec.coerce_params(params)
            in_shapes = {port: self.nodes[v.node].shapes[v.port] for port, v in inputs.items()}
            shapes = spec.infer(checked, in_shapes)
        except GraphError as error:
            where = f"{spec.title} {error.port}" if isinstance(error, ParamError) else spec.title
            raise Unsupported(f"{where}: {error.message}") from None
        node_id = self.new_id(name, type_id)
        wiring = {port: (v.node, v.port) for port, v in inputs.items()}
        node = PlannedNode(node_id, type_id, checked, wiring, dict(weights or {}), shapes, name)
        self.nodes[node_id] = node
        self.consumed.update(v.node for v in inputs.values())
        port = spec.outputs[0].name if spec.outputs else ""
        return Tensor(node_id, port, shapes.get(port, ()))

    def _unpooled(self, value: Tensor) -> Tensor:
        """A pooled N×C value read as N×C×1×1: a Reshape to ``C,1,1`` (planned once)."""
        if value.layout is not Layout.POOLED:
            return value
        if value not in self.materialized:
            plain = Tensor(value.node, value.port, value.shape[:2])
            shape = f"{value.shape[1]},1,1"
            self.materialized[value] = self.add("reshape", {"shape": shape}, {"x": plain})
        return self.materialized[value]
