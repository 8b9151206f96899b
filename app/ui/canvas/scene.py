"""GraphScene: the QGraphicsScene that mirrors the held document through the holder's signals."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QLineF, QObject, QPointF, QRect, QRectF
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene

from app.graph.blocks.definition import instance_count
from app.graph.document import DocumentEvent, Edge, EventKind, GraphDocument
from app.graph.shapes import Diagnostic
from app.graph.validate import Severity, ValidationResult, format_shape
from app.ui import style
from app.ui.block_scope import BlockScope
from app.ui.canvas.edge_item import EdgeItem
from app.ui.canvas.node_item import NodeItem
from app.ui.document_holder import DocumentHolder

EdgeKey = tuple[str, str, str, str]
SCENE_MARGIN = 2000.0


def edge_key(edge: Edge) -> EdgeKey:
    """The hashable identity of a document edge."""
    return (edge.src, edge.src_port, edge.dst, edge.dst_port)


class GraphScene(QGraphicsScene):
    """The scene of node and wire items; it follows the document, never the other way round.

    Parameters
    ----------
    holder : DocumentHolder
        Holds the document: the scene shows each ``validated`` result (badges, counts, shape
        labels) of it.
    scope : BlockScope or None
        Which graph to show (the holder's scope when None): the scene mirrors its
        ``graph_event`` and rebuilds when it ``changed`` (another block opened, another
        document).
    """

    def __init__(
        self,
        holder: DocumentHolder,
        parent: QObject | None = None,
        scope: BlockScope | None = None,
    ) -> None:
        super().__init__(parent)
        self.holder = holder
        self.scope = scope if scope is not None else BlockScope.for_holder(holder)
        self.snap_to_grid = True
        self.show_shape_labels = True
        self._nodes: dict[str, NodeItem] = {}
        self._edges: dict[EdgeKey, EdgeItem] = {}
        self._by_node: dict[str, set[EdgeKey]] = {}
        self._layout_version = 0  # bumped when a node is added, removed or moved
        self._items_version = 0  # bumped when an item is added
        self._shown: tuple[ValidationResult, int] | None = None  # result shown, on which items
        self._boxes: tuple[int, list[NodeItem], np.ndarray] = (-1, [], np.zeros((0, 4)))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.setSceneRect(QRectF(-5000, -5000, 10000, 10000))
        self.scope.graph_event.connect(self._on_document_event)
        self.scope.changed.connect(self.rebuild)
        holder.validated.connect(self.show_validation)
        self.rebuild()

    @property
    def document(self) -> GraphDocument:
        """The graph shown: the held document's own, or the inside of the open block."""
        return self.scope.graph()

    # -- public lookups -------------------------------------------------------------------------
    def node_item(self, node_id: str) -> NodeItem:
        """The item showing node ``node_id`` (KeyError when there is none)."""
        return self._nodes[node_id]

    def node_boxes(self) -> tuple[list[NodeItem], np.ndarray]:
        """Every node item and its body as a row ``left, top, right, bottom`` (for routing
        wires around nodes; cached until a node is added, removed or moved)."""
        if self._boxes[0] != self._layout_version:
            items = list(self._nodes.values())
            rects = [i.body_rect() for i in items]
            boxes = np.array([(r.left(), r.top(), r.right(), r.bottom()) for r in rects])
            self._boxes = (self._layout_version, items, boxes.reshape(-1, 4))
        return self._boxes[1], self._boxes[2]

    def node_items(self) -> list[NodeItem]:
        """Every node item, in document order."""
        return list(self._nodes.values())

    def is_empty(self) -> bool:
        """Whether the document has no node (the canvas then shows how to start)."""
        return not self._nodes

    def edge_item(self, edge: Edge) -> EdgeItem:
        """The item showing a document edge."""
        return self._edges[edge_key(edge)]

    def edge_items(self) -> list[EdgeItem]:
        """Every wire item."""
        return list(self._edges.values())

    def edge_items_from(self, node_id: str) -> list[EdgeItem]:
        """The wires leaving node ``node_id``."""
        return [self._edges[k] for k in self._by_node.get(node_id, ()) if k[0] == node_id]

    def selected_node_ids(self) -> list[str]:
        """The ids of the selected nodes, in document order."""
        return [nid for nid, item in self._nodes.items() if item.isSelected()]

    def selected_edges(self) -> list[Edge]:
        """The document edges whose wires are selected."""
        return [Edge(*key) for key, item in self._edges.items() if item.isSelected()]

    # -- document mirroring ---------------------------------------------------------------------
    def rebuild(self) -> None:
        """Drop every item and build them again from the graph shown (another document,
        another block opened), showing the latest validation."""
        self._nodes.clear()  # first: clear() below emits selectionChanged for selected items
        self._layout_version += 1
        self._edges.clear()
        self._by_node.clear()
        self.clear()
        graph = self.document
        result = self.holder.validation
        for node_id in graph.nodes:
            self._add_node(node_id)
        for edge in graph.edges:  # after every node: each wire is routed once, around them all
            self._add_edge(edge, result)
        self.show_validation(result)

    def _on_document_event(self, event: DocumentEvent) -> None:
        kind = event.kind
        if kind == EventKind.RESET:
            self.rebuild()
            return
        node_id, edge = event.node_id or "", event.edge
        if kind == EventKind.NODE_ADDED:
            self._add_node(node_id)
        elif kind == EventKind.NODE_REMOVED:
            self._remove_node(node_id)
        elif kind == EventKind.NODE_MOVED:
            self._sync_position(node_id)
        elif kind == EventKind.NODE_CHANGED and event.name == "block":
            self._renew_node(node_id)  # its block changed: ports and parameters may differ
        elif kind == EventKind.NODE_CHANGED:
            node = self.document.nodes[node_id]
            self._nodes[node_id].update_from(node.params, node.label or "")
        elif kind == EventKind.EDGE_ADDED and edge is not None:
            self._add_edge(edge)
        elif kind == EventKind.EDGE_REMOVED and edge is not None:
            self._remove_edge(edge)

    def _add_node(self, node_id: str) -> None:
        node = self.document.nodes[node_id]
        item = NodeItem(node_id, node.spec, node.params, node.label or "")
        if node.block is not None:
            uses = instance_count(self.holder.document, node.block.name)
            item.set_uses(uses, len(node.block.inner_nodes()))
        self._nodes[node_id] = item
        self._layout_version += 1
        self._items_version += 1
        item.host = self
        self.addItem(item)
        self._sync_position(node_id)

    def _renew_node(self, node_id: str) -> None:
        """Build node ``node_id``'s item again (with its wires), keeping it selected."""
        old = self._nodes.get(node_id)
        selected = old is not None and old.isSelected()
        self._remove_node(node_id)
        self._add_node(node_id)
        for edge in self.document.edges_of(node_id):
            self._add_edge(edge)
        self._nodes[node_id].setSelected(selected)

    def _remove_node(self, node_id: str) -> None:
        for key in list(self._by_node.get(node_id, ())):
            self._remove_edge_key(key)
        item = self._nodes.pop(node_id, None)
        self._layout_version += 1
        self._by_node.pop(node_id, None)
        if item is not None:
            self.removeItem(item)

    def _sync_position(self, node_id: str) -> None:
        item = self._nodes.get(node_id)
        if item is None:
            return
        x, y = self.document.nodes[node_id].position
        if item.pos() != QPointF(x, y):
            item.syncing = True
            item.setPos(x, y)
            item.syncing = False
        self._grow(item)

    def _add_edge(self, edge: Edge, result: ValidationResult | None = None) -> None:
        """Add a wire; with ``result`` its shape label is set before it is routed (one
        layout of the wire instead of two)."""
        key = edge_key(edge)
        if key in self._edges:
            return
        src = self._nodes[edge.src].port(edge.src_port, True)
        dst = self._nodes[edge.dst].port(edge.dst_port, False)
        if src is None or dst is None:
            return
        item = EdgeItem(src, dst, edge)
        item.set_label_visible(self.show_shape_labels)
        if result is not None:
            item.set_label(self._shape_label(key, result))
        self._items_version += 1
        self._edges[key] = item
        self._by_node.setdefault(edge.src, set()).add(key)
        self._by_node.setdefault(edge.dst, set()).add(key)
        self.addItem(item)
        item.adjust()  # routed once on the canvas, around the nodes there

    def _remove_edge(self, edge: Edge) -> None:
        self._remove_edge_key(edge_key(edge))

    def _remove_edge_key(self, key: EdgeKey) -> None:
        item = self._edges.pop(key, None)
        for node_id in (key[0], key[2]):
            self._by_node.get(node_id, set()).discard(key)
        if item is not None:
            self.removeItem(item)

    def node_item_moved(self, item: NodeItem) -> None:
        """Keep the wires of a moving node attached (called by NodeItem.itemChange), and
        re-route the wires it now stands in the way of or no longer does."""
        self._layout_version += 1
        own = self._by_node.get(item.node_id, set())
        for key in own:
            self._edges[key].adjust()
        body = item.body_rect()
        for key, edge in self._edges.items():
            if key not in own and (edge.avoids(item.node_id) or edge.crosses(body)):
                edge.adjust()
        self._grow(item)

    def _grow(self, item: NodeItem) -> None:
        """Keep room to pan around every node: the scene grows past any node near its edge."""
        rect = item.sceneBoundingRect().adjusted(
            -SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN
        )
        if not self.sceneRect().contains(rect):
            self.setSceneRect(self.sceneRect().united(rect))

    # -- validation display ---------------------------------------------------------------------
    def show_validation(self, result: ValidationResult) -> None:
        """Show badges, parameter counts, block use counts and wire shape labels from a
        validation result (results are keyed by flat ids: :meth:`BlockScope.flat_id`).
        Showing the result already shown on the same items does nothing."""
        shown = self._shown
        if shown is not None and shown[0] is result and shown[1] == self._items_version:
            return
        self._shown = (result, self._items_version)
        marks = self._diagnostics(result)
        uses = self._uses()
        graph = self.document
        for node_id, item in self._nodes.items():
            diagnostics = marks.get(node_id, [])
            if diagnostics:
                errors = [d for d in diagnostics if d.severity is Severity.ERROR]
                text = "\n".join(d.message for d in diagnostics)
                item.set_badge((errors or diagnostics)[0].severity, text)
            else:
                item.set_badge(None)
            item.set_param_count(result.param_counts.get(self.scope.flat_id(node_id)))
            node = graph.nodes.get(node_id)
            if node is not None and node.block is not None:
                item.set_uses(uses.get(node.block.name, 1), len(node.block.inner_nodes()))
        for key, edge_item in self._edges.items():
            edge_item.set_label(self._shape_label(key, result))

    def _shape_label(self, key: EdgeKey, result: ValidationResult) -> str:
        """The shape a wire carries, as its label shows it ("" when unknown)."""
        source = self.scope.source_key(key[0], key[1])
        shape = result.shapes.get(source) if source is not None else None
        return format_shape(shape) if shape is not None else ""

    def _diagnostics(self, result: ValidationResult) -> dict[str, list[Diagnostic]]:
        """The diagnostics each shown node is marked with: at the graph, the node's own (a
        problem inside a block is on its block node); inside a block, those whose inner node
        is that node or sits in it."""
        path = self.scope.path
        if not path:
            return {node_id: result.for_node(node_id) for node_id in self._nodes}
        found: dict[str, list[Diagnostic]] = {}
        for d in result.diagnostics:
            where = self.scope.locate(d.inner) if d.inner else None
            if where is None:
                continue
            steps = (*where[0], where[1])
            if len(steps) > len(path) and steps[: len(path)] == path:
                found.setdefault(steps[len(path)], []).append(d)
        return found

    def _uses(self) -> dict[str, int]:
        """How many block nodes use each block definition (in the graph and in blocks)."""
        doc = self.holder.document
        counts: dict[str, int] = {}
        for graph in (doc, *(b.body for b in doc.blocks.values())):
            for node in graph.nodes.values():
                if node.block is not None:
                    counts[node.block.name] = counts.get(node.block.name, 0) + 1
        return counts

    def set_shape_labels_visible(self, visible: bool) -> None:
        """Toggle the shape labels of every wire."""
        self.show_shape_labels = visible
        for item in self._edges.values():
            item.set_label_visible(visible)

    # -- background -----------------------------------------------------------------------------
    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        """Fill with the canvas colour and draw a minor/major grid (skipped when zoomed out)."""
        rect = QRectF(rect)
        colours = style.theme()
        painter.fillRect(rect, colours["canvas"])
        scale = painter.worldTransform().m11()
        g = style.GRID_SIZE
        if g * scale < 6:
            g *= 5
            if g * scale < 6:
                return
        left = math.floor(rect.left() / g) * g
        top = math.floor(rect.top() / g) * g
        minor: list[QLineF] = []
        major: list[QLineF] = []
        x = left
        while x < rect.right():
            (major if round(x / g) % 5 == 0 else minor).append(
                QLineF(x, rect.top(), x, rect.bottom())
            )
            x += g
        y = top
        while y < rect.bottom():
            (major if round(y / g) % 5 == 0 else minor).append(
                QLineF(rect.left(), y, rect.right(), y)
            )
            y += g
        painter.setPen(QPen(colours["grid_minor"], 0))
        painter.drawLines(minor)
        painter.setPen(QPen(colours["grid_major"], 0))
        painter.drawLines(major)
