"""The editor's model: :class:`GraphDocument` holds nodes, wires and training settings.

Every change goes through :meth:`GraphDocument.apply`, which performs a mutation from
:mod:`app.graph.mutations`, tells the listeners, and returns the inverse mutation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from app.graph import mutations as mu
from app.graph.blocks.definition import BlockTable
from app.graph.blocks.handlers import block_handlers, link_block
from app.graph.errors import GraphError, ParamError
from app.graph.events import DocumentEvent, EventKind, Listener
from app.graph.fileformat import FORMAT, VERSION
from app.graph.mutations import (
    TRAINING_PARAMS,
    Edge,
    Node,
    TrainingSettings,
    finite_position,
    setting_spec,
)
from app.graph.specs import is_text

__all__ = [
    "TRAINING_PARAMS",
    "DocumentEvent",
    "Edge",
    "EventKind",
    "GraphDocument",
    "Node",
    "TrainingSettings",
    "setting_spec",
]


class GraphDocument:
    """Nodes, wires (one per input port) and training settings, changed only by mutations.

    Examples
    --------
    >>> doc = GraphDocument()
    >>> undo = doc.add_node("linear", position=(10, 20))
    >>> list(doc.nodes)
    ['linear_1']
    >>> _ = doc.apply(undo)
    >>> list(doc.nodes)
    []
    """

    def __init__(self, blocks: BlockTable | None = None, owner: str | None = None) -> None:
        self._nodes: dict[str, Node] = {}
        self._blocks = BlockTable() if blocks is None else blocks
        # The block whose inside this document is (None: the graph itself).
        self.owner = owner
        self._inputs: dict[tuple[str, str], Edge] = {}
        self._edge_list: list[Edge] | None = None  # self.edges, kept until a wire or node changes
        self._training = TrainingSettings()
        self._listeners: list[Listener] = []
        # The folder relative file parameters (a Dataset's path) are read from: the folder of
        # the file the document was loaded from; None (the current directory) for a new one.
        self.base_dir: Path | None = None
        self._handlers: dict[type, Callable[[Any], mu.Mutation]] = {
            mu.AddNode: self._add_node,
            mu.RemoveNode: self._remove_node,
            mu.MoveNodes: self._move_nodes,
            mu.Connect: self._connect,
            mu.Disconnect: self._disconnect,
            mu.SetParam: self._set_param,
            mu.SetLabel: self._set_label,
            mu.SetSetting: self._set_setting,
            mu.Batch: self._batch,
            **block_handlers(self),
        }

    # -- reading ---------------------------------------------------------------------------
    @property
    def nodes(self) -> Mapping[str, Node]:
        """Read-only mapping node id -> :class:`Node`, in document order."""
        return MappingProxyType(self._nodes)

    @property
    def edges(self) -> list[Edge]:
        """Every wire, ordered by destination node, then by the destination's input order."""
        rank = {node_id: i for i, node_id in enumerate(self._nodes)}

        def key(e: Edge) -> tuple[int, int]:
            names = [p.name for p in self._nodes[e.dst].spec.inputs]
            return rank[e.dst], names.index(e.dst_port)

        if self._edge_list is None:
            self._edge_list = sorted(self._inputs.values(), key=key)
        return list(self._edge_list)

    @property
    def blocks(self) -> BlockTable:
        """The block definitions by name, shared with every block's inside; change them only
        through the block mutations (:mod:`app.graph.blocks.mutations`)."""
        return self._blocks

    @property
    def training(self) -> TrainingSettings:
        """The training settings."""
        return self._training

    def node(self, node_id: str) -> Node:
        """The node ``node_id``; raises :class:`GraphError` when there is none."""
        try:
            return self._nodes[node_id]
        except KeyError:
            raise GraphError(f"There is no node {node_id!r}", node_id) from None

    def resolved_params(self, node_id: str) -> Mapping[str, Any]:
        """The node's parameters, relative file paths joined to :attr:`base_dir` (for loading)."""
        node = self.node(node_id)
        return node.spec.resolve_files(node.params, self.base_dir)

    def input_edge(self, node_id: str, port: str) -> Edge | None:
        """The wire into ``node_id.port``, or None."""
        return self._inputs.get((node_id, port))

    def edges_of(self, node_id: str) -> list[Edge]:
        """Every wire into or out of ``node_id``."""
        return [e for e in self.edges if node_id in (e.src, e.dst)]

    def new_node_id(self, type_id: str) -> str:
        """A fresh id for a node of ``type_id``: ``linear_1``, ``linear_2``, …"""
        n = 1
        while f"{type_id}_{n}" in self._nodes:
            n += 1
        return f"{type_id}_{n}"

    # -- listeners -------------------------------------------------------------------------
    def add_listener(self, fn: Listener) -> None:
        """Call ``fn(event)`` after every change."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Listener) -> None:
        """Stop calling ``fn``."""
        self._listeners.remove(fn)

    def _emit(self, kind: EventKind, **kw: Any) -> None:
        if self.owner is not None:
            self._blocks.revision += 1
        event = DocumentEvent(kind, **kw)
        for fn in list(self._listeners):
            fn(event)

    # -- for the block handlers -------------------------------------------------------------
    def node_changed(self, node_id: str, name: str) -> None:
        """Tell listeners that ``node_id`` changed (its block's inside, ports or parameters)."""
        self._emit(EventKind.NODE_CHANGED, node_id=node_id, name=name)

    def blocks_changed(self, name: str) -> None:
        """Tell listeners that block ``name`` was added, removed, renamed or edited."""
        self._emit(EventKind.BLOCKS_CHANGED, name=name)

    def remove_wire(self, edge: Edge) -> None:
        """Remove ``edge`` without an inverse (a block handler records it)."""
        self._unwire(edge)

    def replace_node(self, node: Node) -> None:
        """Put ``node`` in place of the node with its id, without events or checks."""
        self._nodes[node.id] = node

    # -- mutating --------------------------------------------------------------------------
    def apply(self, mutation: mu.Mutation) -> mu.Mutation:
        """Perform ``mutation`` and return its inverse.

        Raises
        ------
        GraphError
            (or a subclass) when the mutation is refused; the document is then unchanged.
        """
        handler = self._handlers.get(type(mutation))
        if handler is None:
            raise GraphError(f"Not a document mutation: {mutation!r}")
        return handler(mutation)

    def add_node(
        self,
        type_id: str,
        params: Mapping[str, Any] | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
        label: str = "",
    ) -> mu.Mutation:
        """Add a node of ``type_id`` (defaults for missing params); return the inverse."""
        node = Node(
            node_id or self.new_node_id(type_id),
            type_id,
            dict(params or {}),
            finite_position(position),
            label,
        )
        return self.apply(mu.AddNode(node))

    def remove_node(self, node_id: str) -> mu.Mutation:
        """Remove a node and its wires; return the inverse."""
        return self.apply(mu.RemoveNode(node_id))

    def move_nodes(self, positions: Mapping[str, tuple[float, float]]) -> mu.Mutation:
        """Move nodes to ``positions`` (id -> (x, y)); return the inverse."""
        return self.apply(mu.MoveNodes(dict(positions)))

    def connect(self, src: str, src_port: str, dst: str, dst_port: str) -> mu.Mutation:
        """Wire ``src.src_port`` into ``dst.dst_port``; return the inverse."""
        return self.apply(mu.Connect(src, src_port, dst, dst_port))

    def disconnect(self, src: str, src_port: str, dst: str, dst_port: str) -> mu.Mutation:
        """Remove a wire; return the inverse."""
        return self.apply(mu.Disconnect(src, src_port, dst, dst_port))

    def set_param(self, node_id: str, name: str, value: Any) -> mu.Mutation:
        """Set a node parameter; return the inverse."""
        return self.apply(mu.SetParam(node_id, name, value))

    def set_label(self, node_id: str, label: str) -> mu.Mutation:
        """Set a node's label; return the inverse."""
        return self.apply(mu.SetLabel(node_id, label))

    def set_setting(self, name: str, value: Any) -> mu.Mutation:
        """Set a training setting; return the inverse."""
        return self.apply(mu.SetSetting(name, value))

    # -- wires -----------------------------------------------------------------------------
    def check_connect(self, src: str, src_port: str, dst: str, dst_port: str) -> str | None:
        """The reason the wire ``src.src_port -> dst.dst_port`` is refused, or None."""
        problem = mu.connect_problem(
            self._nodes, self._inputs.values(), Edge(src, src_port, dst, dst_port)
        )
        return problem.message if problem else None

    def _wire(self, edge: Edge) -> None:
        self._inputs[(edge.dst, edge.dst_port)] = edge
        self._edge_list = None
        self._emit(EventKind.EDGE_ADDED, node_id=edge.dst, edge=edge)

    def _unwire(self, edge: Edge) -> None:
        del self._inputs[(edge.dst, edge.dst_port)]
        self._edge_list = None
        self._emit(EventKind.EDGE_REMOVED, node_id=edge.dst, edge=edge)

    # -- handlers --------------------------------------------------------------------------
    def _add_node(self, m: mu.AddNode) -> mu.Mutation:
        node = m.node
        if node.id in self._nodes:
            raise GraphError(f"There is already a node {node.id!r}", node.id)
        if not node.id.isidentifier():
            raise GraphError(f"The node id {node.id!r} must be a Python identifier", node.id)
        if not isinstance(node.label, str) or not is_text(node.label):
            raise ParamError(f"{node.id}.label: expected text", node.id, "label")
        node = link_block(self, node)
        spec = node.spec
        try:
            params = spec.coerce_params(node.params)
        except ParamError as err:
            raise ParamError(f"{node.id}.{err.port}: {err.message}", node.id, err.port) from None
        node = dataclasses.replace(node, params=params, position=finite_position(node.position))
        items = list(self._nodes.items())
        at = len(items) if m.index is None else max(0, min(m.index, len(items)))
        items.insert(at, (node.id, node))
        self._nodes, self._edge_list = dict(items), None
        self._emit(EventKind.NODE_ADDED, node_id=node.id)
        try:
            for edge in m.edges:
                self._connect(mu.Connect(edge.src, edge.src_port, edge.dst, edge.dst_port))
        except GraphError:
            self._remove_node(mu.RemoveNode(node.id))
            raise
        return mu.RemoveNode(node.id)

    def _remove_node(self, m: mu.RemoveNode) -> mu.Mutation:
        node = self.node(m.node_id)
        index = list(self._nodes).index(m.node_id)
        wires = tuple(self.edges_of(m.node_id))
        for edge in wires:
            self._unwire(edge)
        del self._nodes[m.node_id]
        self._edge_list = None
        self._emit(EventKind.NODE_REMOVED, node_id=m.node_id)
        return mu.AddNode(node, wires, index)

    def _move_nodes(self, m: mu.MoveNodes) -> mu.Mutation:
        moves = {node_id: finite_position(xy) for node_id, xy in m.positions.items()}
        old = {node_id: self.node(node_id).position for node_id in moves}
        for node_id, xy in moves.items():
            self._nodes[node_id] = dataclasses.replace(self._nodes[node_id], position=xy)
            self._emit(EventKind.NODE_MOVED, node_id=node_id)
        return mu.MoveNodes(old)

    def _connect(self, m: mu.Connect) -> mu.Mutation:
        edge = m.edge
        old = self._inputs.get((edge.dst, edge.dst_port))
        if old == edge:
            return m
        problem = mu.connect_problem(self._nodes, self._inputs.values(), edge)
        if problem is not None:
            raise problem
        if old is not None:
            self._unwire(old)
        self._wire(edge)
        if old is not None:
            return mu.Connect(old.src, old.src_port, old.dst, old.dst_port)
        return mu.Disconnect(m.src, m.src_port, m.dst, m.dst_port)

    def _disconnect(self, m: mu.Disconnect) -> mu.Mutation:
        edge = m.edge
        if self._inputs.get((edge.dst, edge.dst_port)) != edge:
            raise GraphError(
                f"There is no wire {m.src}.{m.src_port} → {m.dst}.{m.dst_port}", m.dst, m.dst_port
            )
        self._unwire(edge)
        return mu.Connect(m.src, m.src_port, m.dst, m.dst_port)

    def _set_param(self, m: mu.SetParam) -> mu.Mutation:
        node = self.node(m.node_id)
        try:
            value = node.spec.param(m.name).coerce(m.value)
        except ParamError as err:
            raise ParamError(f"{m.node_id}.{m.name}: {err.message}", m.node_id, m.name) from None
        old = node.params[m.name]
        self._nodes[m.node_id] = dataclasses.replace(node, params={**node.params, m.name: value})
        self._emit(EventKind.NODE_CHANGED, node_id=m.node_id, name=m.name)
        return mu.SetParam(m.node_id, m.name, old)

    def _set_label(self, m: mu.SetLabel) -> mu.Mutation:
        node = self.node(m.node_id)
        if not isinstance(m.label, str) or not is_text(m.label):
            raise ParamError(f"{m.node_id}.label: expected text", m.node_id, "label")
        self._nodes[m.node_id] = dataclasses.replace(node, label=m.label)
        self._emit(EventKind.NODE_CHANGED, node_id=m.node_id, name="label")
        return mu.SetLabel(m.node_id, node.label)

    def _set_setting(self, m: mu.SetSetting) -> mu.Mutation:
        value = setting_spec(m.name).coerce(m.value)
        old = getattr(self._training, m.name)
        self._training = dataclasses.replace(self._training, **{m.name: value})
        self._emit(EventKind.SETTINGS_CHANGED, name=m.name)
        return mu.SetSetting(m.name, old)

    def _batch(self, m: mu.Batch) -> mu.Mutation:
        done: list[mu.Mutation] = []
        try:
            for step in m.mutations:
                done.append(self.apply(step))
        except GraphError:
            for inverse in reversed(done):
                self.apply(inverse)
            raise
        return mu.Batch(tuple(reversed(done)), m.text)

    # -- whole documents -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The document as plain JSON-ready data, keys in a stable order (``blocks`` only
        when there are block definitions)."""
        from app.graph.blocks.files import blocks_data, graph_data

        data: dict[str, Any] = {"format": FORMAT, "version": VERSION, **graph_data(self)}
        data["training"] = self._training.to_dict()
        if self._blocks:
            data["blocks"] = blocks_data(self._blocks)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GraphDocument:
        """Build a document from :meth:`to_dict` data, checking every field.

        Raises
        ------
        FileFormatError
            Listing every problem with its location; no document is returned half-built.
        """
        from app.graph.io import document_from_data

        return document_from_data(data)

    @classmethod
    def from_parts(
        cls,
        nodes: Iterable[Node],
        edges: Iterable[Edge],
        training: TrainingSettings,
        blocks: BlockTable | None = None,
        owner: str | None = None,
    ) -> GraphDocument:
        """A document of checked parts, without events, in time linear in their number.

        ``nodes`` must hold coerced parameters and ``edges`` wires that
        :func:`~app.graph.mutations.wire_problem` accepts (:mod:`app.graph.fileformat` gives
        such parts); what is cheap to check is checked: unique ids, wires between known nodes,
        one wire per input. Block nodes must hold definitions of ``blocks``.

        Raises
        ------
        GraphError
            When the parts break one of those rules.
        """
        doc = cls(blocks, owner)
        for node in nodes:
            if node.id in doc._nodes:
                raise GraphError(f"There is already a node {node.id!r}", node.id)
            doc._nodes[node.id] = node
        for e in edges:
            if e.src not in doc._nodes or e.dst not in doc._nodes:
                raise GraphError(f"The wire {e} joins a node the document does not have", e.dst)
            if (e.dst, e.dst_port) in doc._inputs:
                raise GraphError(f"Input {e.dst}.{e.dst_port} has two wires", e.dst, e.dst_port)
            doc._inputs[(e.dst, e.dst_port)] = e
        doc._training = training
        return doc

    def assign(self, other: GraphDocument) -> None:
        """Take over ``other``'s nodes, wires, blocks and settings (not undoable); emits
        ``RESET``."""
        self._nodes, self._inputs = dict(other._nodes), dict(other._inputs)
        self._blocks = other._blocks
        self._edge_list = None
        self._training = other._training
        self.base_dir = other.base_dir
        self._emit(EventKind.RESET)
