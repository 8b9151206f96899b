"""The document's value types and its reversible edits, as frozen dataclasses.

:class:`Node`, :class:`Edge` and :class:`TrainingSettings` are the values a
:class:`~app.graph.document.GraphDocument` holds (re-exported there).

``doc.apply(mutation)`` performs one and returns its inverse, itself a mutation: applying the
inverse restores the document exactly (``to_dict()`` included). The editor's undo stack holds
these pairs; ``describe()`` is the text of the undo menu entry.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.graph.errors import CycleError, GraphError, ParamError, PortKindError
from app.graph.specs import NodeSpec, ParamSpec, ParamType, Role, get_spec, kinds_compatible
from app.graph.training_options import OPTIMIZER_OPTIONS, STOPPING_OPTIONS

if TYPE_CHECKING:
    from app.graph.blocks.definition import BlockDefinition


@dataclass(frozen=True)
class Node:
    """One node: its id, type, checked parameters, canvas position and optional label.

    A block node (type ``block``) also holds its definition, ``block``: its spec (ports and
    parameters) comes from there.
    """

    id: str
    type_id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    position: tuple[float, float] = (0.0, 0.0)
    label: str = ""
    block: BlockDefinition | None = field(default=None, compare=False, repr=False)

    @property
    def spec(self) -> NodeSpec:
        """The node's :class:`~app.graph.specs.NodeSpec` (a block's from its definition)."""
        if self.block is not None:
            return self.block.spec
        return get_spec(self.type_id)

    @property
    def title(self) -> str:
        """The label when set, else the node type's title (a block's name)."""
        return self.label or self.spec.title

    @property
    def ref(self) -> str:
        """The node as people name it in short texts: its label or id, quoted (``'dense1'``)."""
        return f"'{self.label or self.id}'"

    @property
    def display_name(self) -> str:
        """The node type's title and :attr:`ref`, e.g. ``Linear 'dense1'``."""
        return f"{self.spec.title} {self.ref}"


@dataclass(frozen=True, order=True)
class Edge:
    """A wire from output ``src.src_port`` to input ``dst.dst_port``."""

    src: str
    src_port: str
    dst: str
    dst_port: str


TRAINING_PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "optimizer",
        ParamType.CHOICE,
        "adam",
        choices=("sgd", "adam", "adamw"),
        help="update rule (AdamW: Adam with decoupled weight decay)",
    ),
    ParamSpec("learning_rate", ParamType.FLOAT, 0.01, minimum=1e-7, maximum=10.0, help="step size"),
    ParamSpec(
        "momentum",
        ParamType.FLOAT,
        0.0,
        minimum=0.0,
        maximum=0.999,
        help="SGD momentum",
        when=("optimizer", ("sgd",)),
    ),
    *OPTIMIZER_OPTIONS,
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
        label="Validation split",
    ),
    *STOPPING_OPTIONS,
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
    weight_decay: float = 0.0
    grad_clip: float = 0.0
    lr_schedule: str = "constant"
    lr_step_size: int = 10
    lr_gamma: float = 0.1
    lr_min: float = 0.0
    warmup_epochs: int = 0
    early_stopping: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain dict, in field order."""
        return dataclasses.asdict(self)


def setting_spec(name: str) -> ParamSpec:
    """The :class:`ParamSpec` of training setting ``name``; raises :class:`ParamError`."""
    for p in TRAINING_PARAMS:
        if p.name == name:
            return p
    raise ParamError(f"There is no training setting {name!r}", port=name)


def finite_position(xy: Iterable[float]) -> tuple[float, float]:
    """``(x, y)`` as finite floats; raises :class:`ParamError` for anything else (NaN, inf)."""
    try:
        x, y = (float(v) for v in xy)
    except (TypeError, ValueError, OverflowError):
        raise ParamError("A position is two numbers (x, y)", port="position") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ParamError(f"A position must be finite, got ({x}, {y})", port="position")
    return (x, y)


WireEnd = str
"""Which field of an :class:`Edge` a wire problem is about: ``src``, ``src_port``, ``dst``,
``dst_port``, or ``""`` for the wire as a whole."""


def wire_problem(nodes: Mapping[str, Node], e: Edge) -> tuple[WireEnd, GraphError] | None:
    """Why the wire ``e`` cannot exist between ``nodes`` whatever else is wired (None: it can).

    The one rule for wires, used by editing (:func:`connect_problem`) and by loading files:
    both ends exist and have those ports, a node does not feed itself, the kinds fit, and a
    dataset's targets (a port marked ``target``) never feed a layer. The first item says which
    field of ``e`` is at fault, for messages that locate the problem in a file.
    """
    for end, node_id in (("src", e.src), ("dst", e.dst)):
        if node_id not in nodes:
            return end, GraphError(f"There is no node {node_id!r}", node_id)
    if e.src == e.dst:
        return "", CycleError("Cannot connect a node to itself", (e.src,))
    src, dst = nodes[e.src], nodes[e.dst]
    out, into = src.spec.output(e.src_port), dst.spec.input(e.dst_port)
    if out is None:
        text = f"{src.display_name} has no output {e.src_port!r}"
        return "src_port", PortKindError(text, e.src, e.src_port)
    if into is None:
        text = f"{dst.display_name} has no input {e.dst_port!r}"
        return "dst_port", PortKindError(text, e.dst, e.dst_port)
    if not kinds_compatible(out.kind, into.kind):
        text = (
            f"{src.display_name}.{e.src_port} carries {out.kind.value} values but "
            f"{dst.display_name}.{e.dst_port} takes {into.kind.value} values"
        )
        return "", PortKindError(text, e.dst, e.dst_port)
    if out.target and dst.spec.role is Role.LAYER:
        text = (
            f"{src.display_name}.{e.src_port} carries the targets (labels), not inputs: wire it "
            f"into a loss's target; {dst.display_name}.{e.dst_port} takes the model's input"
        )
        return "", PortKindError(text, e.dst, e.dst_port)
    return None


def connect_problem(nodes: Mapping[str, Node], edges: Iterable[Edge], e: Edge) -> GraphError | None:
    """Why the wire ``e`` may not join a document of ``nodes`` and ``edges`` (None: it may).

    Refused: what :func:`wire_problem` refuses, and a wire that would close a loop (the error
    lists the loop's nodes). The message is a sentence for people, naming nodes as
    :attr:`Node.display_name` does.
    """
    problem = wire_problem(nodes, e)
    if problem is not None:
        return problem[1]
    loop = _path(edges, e.dst, e.src)
    if loop:
        names = " → ".join([*loop, e.dst])
        return CycleError(f"The wire would close a loop: {names}", loop)
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


Nodes = Mapping[str, Node] | None
"""What ``describe`` may be given to name nodes: the document's nodes before the edit."""


@dataclass(frozen=True)
class Mutation:
    """Base of every mutation."""

    def describe(self, nodes: Nodes = None) -> str:
        """A short text for the undo menu, e.g. ``Set Units of 'dense1' to 32``.

        ``nodes`` (the document's nodes before the edit) lets the text use labels and titles;
        without it nodes are named by id.
        """
        return type(self).__name__


def _title(type_id: str) -> str:
    try:
        return get_spec(type_id).title
    except GraphError:
        return type_id


def _ref(nodes: Nodes, node_id: str) -> str:
    """``'dense1'``: the node's label, else its id, quoted."""
    node = (nodes or {}).get(node_id)
    return node.ref if node is not None else f"'{node_id}'"


def _named(nodes: Nodes, node_id: str) -> str:
    """``Linear 'dense1'`` when the node is known, else its quoted id."""
    node = (nodes or {}).get(node_id)
    return node.display_name if node is not None else f"'{node_id}'"


def _caption(name: str, find: Callable[[str], ParamSpec] | None) -> str:
    """The caption of the parameter ``find(name)`` gives, or ``name`` in sentence case."""
    try:
        if find is not None:
            return find(name).caption
    except GraphError:
        pass
    return name.replace("_", " ").capitalize()


def value_text(value: Any, limit: int = 24) -> str:
    """A value as short undo text: ``32``, ``0.001``, ``on``, ``'adam'``, ``'…/digits.csv'``."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= limit else f"'…{value[1 - limit :]}'"
    return str(value)


@dataclass(frozen=True)
class AddNode(Mutation):
    """Add ``node`` (at position ``index`` of the node order when given) with wires ``edges``.

    ``edges`` lets the inverse of :class:`RemoveNode` bring back the node's wires; each must end
    on an input that is free.
    """

    node: Node
    edges: tuple[Edge, ...] = ()
    index: int | None = None

    def describe(self, nodes: Nodes = None) -> str:
        """``Add Linear``."""
        return f"Add {_title(self.node.type_id)}"


@dataclass(frozen=True)
class RemoveNode(Mutation):
    """Remove a node and every wire touching it (the inverse restores both)."""

    node_id: str

    def describe(self, nodes: Nodes = None) -> str:
        """``Delete Linear 'dense1'``."""
        return f"Delete {_named(nodes, self.node_id)}"


@dataclass(frozen=True)
class MoveNodes(Mutation):
    """Move nodes to new positions: ``positions`` maps node id to ``(x, y)``."""

    positions: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def describe(self, nodes: Nodes = None) -> str:
        """``Move 'dense1'`` or ``Move 3 nodes``."""
        if len(self.positions) == 1:
            return f"Move {_ref(nodes, next(iter(self.positions)))}"
        return f"Move {len(self.positions)} nodes"


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

    def wire_text(self, nodes: Nodes = None) -> str:
        """``Dataset 'data'.x → Linear 'dense1'.x``."""
        src, dst = _named(nodes, self.src), _named(nodes, self.dst)
        return f"{src}.{self.src_port} → {dst}.{self.dst_port}"

    def describe(self, nodes: Nodes = None) -> str:
        """``Connect Dataset 'data'.x → Linear 'dense1'.x`` (``Disconnect …``)."""
        return f"{type(self).__name__} {self.wire_text(nodes)}"


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

    def describe(self, nodes: Nodes = None) -> str:
        """``Set Units of 'dense1' to 32``."""
        node = (nodes or {}).get(self.node_id)
        caption = _caption(self.name, node.spec.param if node is not None else None)
        return f"Set {caption} of {_ref(nodes, self.node_id)} to {value_text(self.value)}"


@dataclass(frozen=True)
class SetLabel(Mutation):
    """Give node ``node_id`` a label shown instead of its title (empty: the title)."""

    node_id: str
    label: str

    def describe(self, nodes: Nodes = None) -> str:
        """``Rename 'linear_1' to 'encoder'`` / ``Clear the label of 'encoder'``."""
        ref = _ref(nodes, self.node_id)
        return f"Rename {ref} to '{self.label}'" if self.label else f"Clear the label of {ref}"


@dataclass(frozen=True)
class SetSetting(Mutation):
    """Set training setting ``name`` (a field of ``TrainingSettings``)."""

    name: str
    value: Any

    def describe(self, nodes: Nodes = None) -> str:
        """``Set Batch size to 64``."""
        return f"Set {_caption(self.name, setting_spec)} to {value_text(self.value)}"


@dataclass(frozen=True)
class Batch(Mutation):
    """Several mutations applied as one (all or none); ``text`` is the undo menu entry."""

    mutations: tuple[Mutation, ...]
    text: str = "Edit"

    def describe(self, nodes: Nodes = None) -> str:
        """The batch's ``text``."""
        return self.text
