"""The document's value types and its reversible edits, as frozen dataclasses.

:class:`Node`, :class:`Edge` and :class:`TrainingSettings` are the values a
:class:`~app.graph.document.GraphDocument` holds (re-exported there).

``doc.apply(mutation)`` performs one and returns its inverse, itself a mutation: applying the
inverse restores the document exactly (``to_dict()`` included). The editor's undo stack holds
these pairs; ``describe()`` is the text of the undo menu entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.graph.errors import CycleError, GraphError, ParamError, PortKindError
from app.graph.specs import NodeSpec, ParamSpec, ParamType, get_spec, kinds_compatible


@dataclass(frozen=True)
class Node:
    """One node: its id, type, checked parameters, canvas position and optional label."""

    id: str
    type_id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    label: str = ""

    @property
    def spec(self) -> NodeSpec:
        """The node's :class:`~app.graph.specs.NodeSpec`."""
        return get_spec(self.type_id)

    @property
    def title(self) -> str:
        """The label when set, else the node type's title."""
        return self.label or self.spec.title


@dataclass(frozen=True, order=True)
class Edge:
    """A wire from output ``src.src_port`` to input ``dst.dst_port``."""

    src: str
    src_port: str
    dst: str
    dst_port: str


TRAINING_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec("optimizer", ParamType.CHOICE, "adam", choices=("sgd", "adam"), help="update rule"),
    ParamSpec("learning_rate", ParamType.FLOAT, 0.01, minimum=1e-7, maximum=10.0, help="step size"),
    ParamSpec("momentum", ParamType.FLOAT, 0.0, minimum=0.0, maximum=0.999, help="SGD momentum"),
    ParamSpec("batch_size", ParamType.INT, 32, minimum=1, maximum=100_000, help="samples per step"),
    ParamSpec("epochs", ParamType.INT, 20, minimum=1, maximum=100_000, help="passes over the data"),
    ParamSpec(
        "seed",
        ParamType.INT,
        0,
        minimum=0,
        maximum=2**31 - 1,
        help="seeds weights, shuffling and the split",
    ),
    ParamSpec(
        "device", ParamType.CHOICE, "cpu", choices=("cpu", "gpu"), help="where training runs"
    ),
    ParamSpec(
        "val_split",
        ParamType.FLOAT,
        0.2,
        minimum=0.0,
        maximum=0.9,
        help="fraction of the data held out for validation",
    ),
)


@dataclass(frozen=True)
class TrainingSettings:
    """How the document trains; ``TRAINING_PARAMS`` gives each field's range and help."""

    optimizer: str = "adam"
    learning_rate: float = 0.01
    momentum: float = 0.0
    batch_size: int = 32
    epochs: int = 20
    seed: int = 0
    device: str = "cpu"
    val_split: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain dict, in field order."""
        return dataclasses.asdict(self)


def setting_spec(name: str) -> ParamSpec:
    """The :class:`ParamSpec` of training setting ``name``; raises :class:`ParamError`."""
    for p in TRAINING_PARAMS:
        if p.name == name:
            return p
    raise ParamError(f"there is no training setting {name!r}", port=name)


def connect_problem(nodes: Mapping[str, Node], edges: Iterable[Edge], e: Edge) -> GraphError | None:
    """Why the wire ``e`` may not join a document of ``nodes`` and ``edges`` (None: it may).

    Refused: unknown nodes or ports, a node feeding itself, incompatible kinds, and a wire that
    would close a loop (the error lists the loop's nodes).
    """
    for node_id in (e.src, e.dst):
        if node_id not in nodes:
            return GraphError(f"there is no node {node_id!r}", node_id)
    if e.src == e.dst:
        return CycleError("a node cannot feed its own input", (e.src,))
    src, dst = nodes[e.src], nodes[e.dst]
    out, into = src.spec.output(e.src_port), dst.spec.input(e.dst_port)
    if out is None:
        return PortKindError(f"{src.title} has no output {e.src_port!r}", e.src, e.src_port)
    if into is None:
        return PortKindError(f"{dst.title} has no input {e.dst_port!r}", e.dst, e.dst_port)
    if not kinds_compatible(out.kind, into.kind):
        return PortKindError(
            f"{src.title}.{e.src_port} carries {out.kind.value} values but "
            f"{dst.title}.{e.dst_port} takes {into.kind.value} values",
            e.dst,
            e.dst_port,
        )
    loop = _path(edges, e.dst, e.src)
    if loop:
        names = " → ".join([*loop, e.dst])
        return CycleError(f"the wire would close a loop: {names}", loop)
    return None


def _path(edges: Iterable[Edge], start: str, goal: str) -> list[str] | None:
    """Node ids of a wire path from ``start`` to ``goal`` (both included), or None."""
    succ: dict[str, list[str]] = {}
    for edge in edges:
        succ.setdefault(edge.src, []).append(edge.dst)
    parent: dict[str, str] = {}
    stack, seen = [start], {start}
    while stack:
        here = stack.pop()
        if here == goal:
            path = [here]
            while path[-1] in parent:
                path.append(parent[path[-1]])
            return path[::-1]
        for nxt in succ.get(here, ()):
            if nxt not in seen:
                seen.add(nxt)
                parent[nxt] = here
                stack.append(nxt)
    return None


@dataclass(frozen=True)
class Mutation:
    """Base of every mutation."""

    def describe(self) -> str:
        """A short text for the undo menu, e.g. ``Add Linear``."""
        return type(self).__name__


def _title(type_id: str) -> str:
    try:
        return get_spec(type_id).title
    except GraphError:
        return type_id


@dataclass(frozen=True)
class AddNode(Mutation):
    """Add ``node`` (at position ``index`` of the node order when given) with wires ``edges``.

    ``edges`` lets the inverse of :class:`RemoveNode` bring back the node's wires; each must end
    on an input that is free.
    """

    node: Node
    edges: tuple[Edge, ...] = ()
    index: int | None = None

    def describe(self) -> str:
        """``Add <title>``."""
        return f"Add {_title(self.node.type_id)}"


@dataclass(frozen=True)
class RemoveNode(Mutation):
    """Remove a node and every wire touching it (the inverse restores both)."""

    node_id: str

    def describe(self) -> str:
        """``Delete <id>``."""
        return f"Delete {self.node_id}"


@dataclass(frozen=True)
class MoveNodes(Mutation):
    """Move nodes to new positions: ``positions`` maps node id to ``(x, y)``."""

    positions: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def describe(self) -> str:
        """``Move node`` or ``Move 3 nodes``."""
        n = len(self.positions)
        return "Move node" if n == 1 else f"Move {n} nodes"


@dataclass(frozen=True)
class _WireMutation(Mutation):
    """A mutation about the wire ``src.src_port -> dst.dst_port``."""

    src: str
    src_port: str
    dst: str
    dst_port: str

    @property
    def edge(self) -> Edge:
        """The wire as an :class:`Edge`."""
        return Edge(self.src, self.src_port, self.dst, self.dst_port)

    def describe(self) -> str:
        """``Connect a.y → b.x`` / ``Disconnect a.y → b.x``."""
        return f"{type(self).__name__} {self.src}.{self.src_port} → {self.dst}.{self.dst_port}"


@dataclass(frozen=True)
class Connect(_WireMutation):
    """Wire ``src.src_port`` into ``dst.dst_port``, replacing the wire already on that input."""


@dataclass(frozen=True)
class Disconnect(_WireMutation):
    """Remove the wire ``src.src_port -> dst.dst_port``."""


@dataclass(frozen=True)
class SetParam(Mutation):
    """Set parameter ``name`` of node ``node_id`` (the value is checked against its spec)."""

    node_id: str
    name: str
    value: Any

    def describe(self) -> str:
        """``Set linear_1.units``."""
        return f"Set {self.node_id}.{self.name}"


@dataclass(frozen=True)
class SetLabel(Mutation):
    """Give node ``node_id`` a label shown instead of its title (empty: the title)."""

    node_id: str
    label: str

    def describe(self) -> str:
        """``Rename <id>``."""
        return f"Rename {self.node_id}"


@dataclass(frozen=True)
class SetSetting(Mutation):
    """Set training setting ``name`` (a field of ``TrainingSettings``)."""

    name: str
    value: Any

    def describe(self) -> str:
        """``Set <setting>``, with underscores as spaces."""
        return f"Set {self.name.replace('_', ' ')}"


@dataclass(frozen=True)
class Batch(Mutation):
    """Several mutations applied as one (all or none); ``text`` is the undo menu entry."""

    mutations: tuple[Mutation, ...]
    text: str = "Edit"

    def describe(self) -> str:
        """The batch's ``text``."""
        return self.text
