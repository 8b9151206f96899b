"""Editor: turns canvas gestures and panel edits into undoable document mutations.

Every model edit of the window goes through :meth:`Editor.push`, which refuses it while editing
is locked (training runs), applies it to learn whether the document accepts it, and pushes a
:class:`~app.ui.commands.MutationCommand` holding the mutation and its inverse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import QObject, QPointF, Signal
from PySide6.QtGui import QUndoStack

from app.graph.document import Edge, GraphDocument, Node
from app.graph.errors import GraphError
from app.graph.mutations import (
    AddNode,
    Batch,
    Connect,
    Disconnect,
    MoveNodes,
    Mutation,
    RemoveNode,
    SetLabel,
    SetParam,
    SetSetting,
)
from app.graph.specs import NodeSpec, PortKind, PortSpec, all_specs, get_spec, kinds_compatible
from app.ui import style
from app.ui.block_scope import BlockScope
from app.ui.canvas.port_item import PortItem
from app.ui.commands import MutationCommand
from app.ui.document_holder import DocumentHolder

# The training settings a running session takes at its next step, so they stay editable while
# training runs (the only copy of this rule: the inspector and the session keeper read it here).
LIVE_SETTINGS = ("learning_rate", "epochs")


def snap(point: QPointF) -> tuple[float, float]:
    """A scene point rounded to the grid, as a document position."""
    g = style.GRID_SIZE
    return (round(point.x() / g) * g, round(point.y() / g) * g)


def first_port(ports: Iterable[PortSpec], kind: PortKind, output: bool) -> PortSpec | None:
    """The first port of ``ports`` that can take (or feed) a wire of ``kind``."""
    for port in ports:
        if kinds_compatible(kind, port.kind) if not output else kinds_compatible(port.kind, kind):
            return port
    return None


class Editor(QObject):
    """The window's single gateway for model edits.

    Parameters
    ----------
    holder : DocumentHolder
        Holds the document being edited (it changes on New/Open) and the undo stack commands
        go to.
    """

    message = Signal(str)

    def __init__(self, holder: DocumentHolder, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.holder = holder
        self.locked_reason: str | None = None
        self.scope = BlockScope.for_holder(holder)

    @property
    def document(self) -> GraphDocument:
        """The document being edited (the top level, whatever block is open)."""
        return self.holder.document

    @property
    def graph(self) -> GraphDocument:
        """The graph the canvas shows: the document's own or the inside of the open block
        (:attr:`scope`); node ids of canvas edits are ids of this graph."""
        return self.scope.graph()

    @property
    def undo_stack(self) -> QUndoStack:
        """Where commands go."""
        return self.holder.undo_stack

    # -- locking and messages -----------------------------------------------------------------
    def set_locked(self, locked: bool, reason: str = "") -> None:
        """Refuse (or accept again) model edits; ``reason`` is shown when one is refused."""
        self.locked_reason = (reason or "The document is locked") if locked else None

    def is_locked(self) -> bool:
        """Whether edits are refused now."""
        return self.locked_reason is not None

    def refuse_if_locked(self) -> bool:
        """Show the lock reason and return True when locked."""
        if self.locked_reason is not None:
            self.show_message(f"Edit refused: {self.locked_reason}")
            return True
        return False

    def show_message(self, text: str) -> None:
        """Show a status-bar message."""
        self.message.emit(text)

    # -- the gateway ------------------------------------------------------------------------
    def push(
        self, mutation: Mutation, text: str | None = None, *, scoped: bool = True
    ) -> str | None:
        """Apply ``mutation`` as one undo step; returns the reason it was refused, or None.

        ``mutation`` edits the graph shown (:attr:`graph`): inside an open block it is wrapped
        into an edit of that block's definition (:meth:`BlockScope.wrap`). ``scoped=False``
        pushes a mutation of the top-level document as it is (block edits made with
        :mod:`app.graph.blocks.grouping`, training settings). While editing is locked only the
        live training settings (:data:`LIVE_SETTINGS`, which a running session takes at its
        next step) may change.
        """
        live = isinstance(mutation, SetSetting) and mutation.name in LIVE_SETTINGS
        if not live and self.refuse_if_locked():
            return self.locked_reason
        if scoped and not isinstance(mutation, SetSetting) and self.scope.path:
            text = text or mutation.describe(self.graph.nodes)
            text = f"{text} in '{self.scope.definition}'"
            mutation = self.scope.wrap(mutation)
        text = text or mutation.describe(self.document.nodes)  # names the nodes before the edit
        try:
            inverse = self.document.apply(mutation)
        except GraphError as error:
            self.show_message(f"Refused: {self._named(error)}")
            return str(error)
        path = None if isinstance(mutation, SetSetting) else self.scope.path
        self.undo_stack.push(MutationCommand(self.document, mutation, inverse, text, path))
        return None

    def _named(self, error: GraphError) -> str:
        """The error with its node named as people read it: ``Linear 'dense1' units: …``
        rather than the id-first ``linear_1.units: …`` of the graph layer."""
        text, node = str(error), self.graph.nodes.get(error.node_id or "")
        prefix = f"{error.node_id}.{error.port}: " if error.port else f"{error.node_id}: "
        if node is None or not text.startswith(prefix):
            return text
        where = f"{node.display_name} {error.port}" if error.port else node.display_name
        return f"{where}: {text[len(prefix) :]}"

    # -- nodes --------------------------------------------------------------------------------
    def new_node(self, type_id: str, position: tuple[float, float]) -> Node:
        """A node of ``type_id`` with default parameters and a fresh id (not yet added)."""
        spec = get_spec(type_id)
        return Node(
            id=self.graph.new_node_id(type_id),
            type_id=spec.type_id,
            params=spec.default_params(),
            position=position,
            label="",
        )

    def add_node(
        self,
        type_id: str,
        point: QPointF,
        connect_to: PortItem | None = None,
        on_wire: Edge | None = None,
    ) -> str | None:
        """Add a node at ``point``; wire it to ``connect_to`` or into ``on_wire`` when it fits.

        Returns the new node's id, or None when the edit was refused.
        """
        node = self.new_node(type_id, snap(point))
        mutations: list[Mutation] = [AddNode(node)]
        text = f"Add {get_spec(type_id).title}"
        if connect_to is not None:
            spec = get_spec(type_id)
            port = first_port(
                spec.outputs if not connect_to.is_output else spec.inputs,
                connect_to.kind,
                output=not connect_to.is_output,
            )
            if port is not None:
                mutations.append(
                    Connect(connect_to.node_id, connect_to.name, node.id, port.name)
                    if connect_to.is_output
                    else Connect(node.id, port.name, connect_to.node_id, connect_to.name)
                )
        elif on_wire is not None:
            wiring = self._wire_through(node.spec, node.id, on_wire)
            if wiring:
                mutations += wiring
                text = f"Insert {get_spec(type_id).title}"
        mutation = mutations[0] if len(mutations) == 1 else Batch(tuple(mutations), text)
        return None if self.push(mutation, text) else node.id

    def _wire_through(self, spec: NodeSpec, node_id: str, edge: Edge) -> list[Mutation]:
        """The mutations that put node ``node_id`` (of ``spec``) on wire ``edge`` (empty when
        kinds clash)."""
        src = self.graph.nodes[edge.src].spec.output(edge.src_port)
        dst = self.graph.nodes[edge.dst].spec.input(edge.dst_port)
        if src is None or dst is None:
            return []
        inp = first_port(spec.inputs, src.kind, output=False)
        out = next((p for p in spec.outputs if kinds_compatible(p.kind, dst.kind)), None)
        if inp is None or out is None:
            return []
        return [
            Disconnect(edge.src, edge.src_port, edge.dst, edge.dst_port),
            Connect(edge.src, edge.src_port, node_id, inp.name),
            Connect(node_id, out.name, edge.dst, edge.dst_port),
        ]

    def insert_on_wire(self, node_id: str, edge: Edge, move: tuple[QPointF, QPointF]) -> bool:
        """Put an existing, unwired node onto ``edge`` after it was dragged there."""
        node = self.graph.nodes[node_id]
        wiring = self._wire_through(node.spec, node_id, edge)
        if not wiring:
            return False
        moved = MoveNodes({node_id: (move[1].x(), move[1].y())})
        title = node.spec.title
        return self.push(Batch((moved, *wiring), f"Insert {title}")) is None

    def has_wires(self, node_id: str) -> bool:
        """Whether any wire touches node ``node_id``."""
        return any(node_id in (e.src, e.dst) for e in self.graph.edges)

    def move_nodes(self, moves: dict[str, tuple[QPointF, QPointF]]) -> None:
        """One command for a finished drag: ``moves`` maps id to (old, new) positions."""
        self.push(MoveNodes({n: (new.x(), new.y()) for n, (_old, new) in moves.items()}))

    def set_positions(self, positions: dict[str, tuple[float, float]], text: str) -> None:
        """Move many nodes at once (auto-layout) as one command."""
        if positions:
            self.push(MoveNodes(positions), text)

    def delete(self, node_ids: list[str], edges: list[Edge], verb: str = "Delete") -> None:
        """Delete nodes (with their wires) and wires as one command, named ``verb`` (Cut)."""
        gone = set(node_ids)
        mutations: list[Mutation] = [
            Disconnect(e.src, e.src_port, e.dst, e.dst_port)
            for e in edges
            if e.src not in gone and e.dst not in gone
        ]
        mutations += [RemoveNode(n) for n in node_ids]
        if not mutations:
            return
        if len(mutations) == 1:
            self.push(mutations[0], None if verb == "Delete" else f"{verb} 1 item")
        else:
            self.push(Batch(tuple(mutations), f"{verb} {len(mutations)} items"))

    # -- wires --------------------------------------------------------------------------------
    def connect_reason(self, src: PortItem, dst: PortItem) -> str | None:
        """Why ``src`` cannot be wired into ``dst`` (None when it can)."""
        return self.graph.check_connect(src.node_id, src.name, dst.node_id, dst.name)

    def refuse_wire(self, reason: str) -> None:
        """Say in the status bar why a wire was refused (``reason`` is a sentence)."""
        self.show_message(f"Connection refused: {reason}")

    def connect_ports(self, src: PortItem, dst: PortItem) -> bool:
        """Wire an output into an input (replacing that input's wire); status message if
        refused."""
        reason = self.connect_reason(src, dst)
        if reason is not None:
            self.refuse_wire(reason)
            return False
        return self.push(Connect(src.node_id, src.name, dst.node_id, dst.name)) is None

    def move_wire(self, edge: Edge, src: PortItem, dst: PortItem) -> bool:
        """Move a picked-up wire to ``src`` -> ``dst`` as one step."""
        reason = self.connect_reason(src, dst)
        if reason is not None:
            self.refuse_wire(reason)
            return False
        connect = Connect(src.node_id, src.name, dst.node_id, dst.name)
        batch = Batch(
            (Disconnect(edge.src, edge.src_port, edge.dst, edge.dst_port), connect),
            f"Reconnect {connect.wire_text(self.graph.nodes)}",
        )
        return self.push(batch) is None

    def remove_wire(self, edge: Edge) -> bool:
        """Remove one wire (a picked-up wire dropped on empty canvas)."""
        return self.push(Disconnect(edge.src, edge.src_port, edge.dst, edge.dst_port)) is None

    def compatible_specs(self, port: PortItem | None) -> list[NodeSpec]:
        """Node types that can take a wire from (or give one to) ``port``; all for None."""
        specs = all_specs()
        if port is None:
            return specs
        if port.is_output:
            return [s for s in specs if first_port(s.inputs, port.kind, output=False)]
        return [s for s in specs if first_port(s.outputs, port.kind, output=True)]

    # -- values -------------------------------------------------------------------------------
    def set_param(self, node_id: str, name: str, value: Any) -> str | None:
        """Set a parameter (merges with the previous edit of the same parameter)."""
        return self.push(SetParam(node_id, name, value))

    def set_label(self, node_id: str, label: str) -> str | None:
        """Rename a node."""
        return self.push(SetLabel(node_id, label))

    def set_setting(self, name: str, value: Any) -> str | None:
        """Set a training setting (merges while typing)."""
        return self.push(SetSetting(name, value), scoped=False)
