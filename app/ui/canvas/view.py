"""GraphView: the canvas widget. Zoom, pan, rubber band, wire drags, node moves and drops."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QResizeEvent,
    QShowEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsView, QMenu

from app.graph.document import DocumentEvent, EventKind
from app.ui.canvas.context_menu import build_menu
from app.ui.canvas.edge_item import EdgeItem
from app.ui.canvas.hint import EMPTY_HINT, paint_empty_hint
from app.ui.canvas.node_item import HEADER_HEIGHT, NODE_WIDTH, TEXT_MIN_ZOOM, NodeItem
from app.ui.canvas.port_item import PortItem
from app.ui.canvas.quick_add import QuickAdd
from app.ui.canvas.scene import GraphScene
from app.ui.canvas.wire_drag import WireDrag

if TYPE_CHECKING:
    from app.ui.editor import Editor

NODE_MIME = "application/x-nodegrad-node-type"
MIN_ZOOM, MAX_ZOOM = 0.1, 3.0
FIT_MAX_ZOOM = 1.2  # Fit View never enlarges a small graph past this
FIT_MARGIN = 24.0  # pixels kept free around a fitted graph
REVEAL_MARGIN = 40  # pixels kept between a revealed node and the canvas edge
READ_ZOOM = 0.8  # revealing a node zoomed out below TEXT_MIN_ZOOM comes this close


class GraphView(QGraphicsView):
    """The QGraphicsView named ``canvas``; it turns gestures into editor calls."""

    node_double_clicked = Signal(str)

    def __init__(self, scene: GraphScene, editor: Editor, parent: Any = None) -> None:
        super().__init__(scene, parent)
        self.setObjectName("canvas")
        self.editor = editor
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.quick_add = QuickAdd(self.viewport())
        self.quick_add.chosen.connect(self._on_quick_add_chosen)
        self.files_dropped: Callable[[list[str]], None] | None = None
        self._wire: WireDrag | None = None
        self._wire_cancelled = False  # Esc ended a wire drag: ignore the mouse until release
        self._pan_from: QPoint | None = None
        self._space_held = False
        self._press_positions: dict[str, QPointF] = {}
        self._quick_add_port: PortItem | None = None
        self.actions_by_name: dict[str, QAction] = {}
        self.auto_fit = True  # refit on show and resize until the user zooms, pans or edits
        self._was_empty = True
        editor.holder.changed.connect(self._on_document_changed)
        editor.holder.replaced.connect(self._on_document_changed)

    def scene(self) -> GraphScene:
        """The canvas scene this view shows."""
        return cast(GraphScene, super().scene())

    # -- zoom and view ------------------------------------------------------------------------
    def zoom(self) -> float:
        """The current scale factor."""
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        """Zoom by ``factor`` around the mouse, clamped to a sensible range (the user chose a
        zoom: the view stops fitting itself)."""
        self.auto_fit = False
        target = max(MIN_ZOOM, min(MAX_ZOOM, self.zoom() * factor))
        self.scale(target / self.zoom(), target / self.zoom())

    def fit_all(self) -> None:
        """Fit every node into the view (Fit View, F; also after opening a file and on
        entering or leaving a block), never enlarging past ``FIT_MAX_ZOOM`` (a small graph is
        not blown up); the view then keeps fitting on resizes until the user zooms, pans or
        edits. Zoomed out below ``LABEL_MIN_ZOOM`` to fit, wire shapes are not drawn."""
        self.auto_fit = True
        self._fit()

    def _fit(self) -> None:
        rect = QRectF()
        for item in self.scene().node_items():
            rect = rect.united(item.sceneBoundingRect())
        if rect.isNull():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        room = QRectF(self.viewport().rect()).adjusted(
            FIT_MARGIN, FIT_MARGIN, -FIT_MARGIN, -FIT_MARGIN
        )
        fits = min(room.width() / rect.width(), room.height() / rect.height())
        target = min(max(fits, MIN_ZOOM), FIT_MAX_ZOOM)
        self.setTransform(QTransform.fromScale(target, target))
        if rect.width() * target <= room.width():
            self.centerOn(rect.center())
            return
        # Too wide even at the smallest zoom: show where the data enter (the left).
        half_width = self.viewport().width() / (2 * target)
        self.centerOn(QPointF(rect.left() - FIT_MARGIN / target + half_width, rect.center().y()))

    def reveal_item(self, item: NodeItem) -> None:
        """Scroll just enough that ``item`` with its ports and badge is inside the canvas,
        ``REVEAL_MARGIN`` from the edges (a node already in view stays where it is); zoomed
        out too far to read it, come to ``READ_ZOOM`` first."""
        self.auto_fit = False
        if self.zoom() < TEXT_MIN_ZOOM:
            anchor = self.transformationAnchor()
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
            self.scale(READ_ZOOM / self.zoom(), READ_ZOOM / self.zoom())
            self.setTransformationAnchor(anchor)
        rect = item.sceneBoundingRect().united(item.mapRectToScene(item.childrenBoundingRect()))
        self.ensureVisible(rect, REVEAL_MARGIN, REVEAL_MARGIN)

    def stop_auto_fit(self) -> None:
        """Keep the current zoom and position on resizes (the user placed the view)."""
        self.auto_fit = False

    def showEvent(self, event: QShowEvent) -> None:
        """Fit the graph the first time the view has its real size."""
        super().showEvent(event)
        if self.auto_fit:
            self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Keep the graph fitted while the window settles its size (until the user zooms, pans
        or edits), so a window built small and enlarged later does not show a tiny graph."""
        super().resizeEvent(event)
        if self.auto_fit:
            self._fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        """Wheel zooms around the cursor."""
        steps = event.angleDelta().y() / 120.0
        self.auto_fit = False
        if steps:
            self.zoom_by(1.15**steps)
        event.accept()

    def centre_scene_pos(self) -> QPointF:
        """The scene point at the middle of the view."""
        return self.mapToScene(self.viewport().rect().center())

    # -- mouse ----------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        """Start a pan, a wire drag, or a node move (remembering where nodes started)."""
        self.quick_add.close_popup()
        self.auto_fit = False  # the user works on the canvas: never move it under the mouse
        pan = event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and self._space_held
        )
        if pan:
            self._pan_from = event.position().toPoint()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        item = self.itemAt(event.position().toPoint())
        if event.button() == Qt.MouseButton.LeftButton and isinstance(item, PortItem):
            if self.editor.refuse_if_locked():
                return
            self._wire = self._start_wire(item)
            event.accept()
            return
        super().mousePressEvent(event)
        self._press_positions = {
            i.node_id: i.pos() for i in self.scene().node_items() if i.isSelected()
        }

    def _start_wire(self, port: PortItem) -> WireDrag:
        """A new wire from ``port``; pressing a wired input picks up its wire instead."""
        edge = None if port.is_output else self.editor.graph.input_edge(port.node_id, port.name)
        if edge is None:
            return WireDrag(self.scene(), self.editor, port)
        source = self.scene().node_item(edge.src).port(edge.src_port, True)
        if source is None:  # the wire's output port is gone: start a new wire instead
            return WireDrag(self.scene(), self.editor, port)
        return WireDrag(self.scene(), self.editor, source, detached=edge)

    def cancel_wire(self) -> bool:
        """End a wire drag in progress without changing anything (Esc); False when none."""
        if self._wire is None:
            return False
        wire, self._wire = self._wire, None
        wire.cancel()
        self._wire_cancelled = True
        self.editor.show_message("Wire cancelled")
        return True

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        """Pan, move the loose wire, or let Qt move the selected nodes."""
        if self._wire_cancelled:
            event.accept()
            return
        if self._pan_from is not None:
            delta = event.position().toPoint() - self._pan_from
            self._pan_from = event.position().toPoint()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            return
        if self._wire is not None:
            self._wire.move_to(self.mapToScene(event.position().toPoint()))
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        """Finish a pan, a wire drag (connect, refuse or quick-add) or a move (one command)."""
        if self._pan_from is not None:
            self._pan_from = None
            self.viewport().unsetCursor()
            return
        if self._wire_cancelled:
            self._wire_cancelled = False
            event.accept()
            return
        if self._wire is not None:
            wire, self._wire = self._wire, None
            point = self.mapToScene(event.position().toPoint())
            wire.move_to(point)
            outcome, anchor = wire.finish(point)
            if outcome == "empty":
                self.open_quick_add(event.position().toPoint(), anchor)
            return
        super().mouseReleaseEvent(event)
        self._finish_move()

    def _finish_move(self) -> None:
        started, self._press_positions = self._press_positions, {}
        moves = {}
        items = {item.node_id: item for item in self.scene().node_items()}
        for node_id, old in started.items():
            item = items.get(node_id)
            if item is not None and item.pos() != old:
                moves[node_id] = (old, item.pos())
        if not moves:
            return
        if self.editor.is_locked():
            for node_id, (old, _new) in moves.items():
                self.scene().node_item(node_id).setPos(old)
            self.editor.refuse_if_locked()
            return
        if len(moves) == 1:
            node_id = next(iter(moves))
            edge = self._wire_under(self.scene().node_item(node_id))
            if edge is not None and self.editor.insert_on_wire(node_id, edge, moves[node_id]):
                return
        self.editor.move_nodes(moves)

    def _wire_under(self, node: NodeItem) -> Any:
        """A wire the node was dropped onto (only for a node with no wires of its own)."""
        if self.editor.has_wires(node.node_id):
            return None
        for item in self.scene().collidingItems(node):
            if isinstance(item, EdgeItem) and item.edge is not None:
                return item.edge
        return None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """Double-click on empty canvas opens quick-add there; on a node, its first field."""
        item = self.itemAt(event.position().toPoint())
        if item is None:
            self.open_quick_add(event.position().toPoint())
            return
        if isinstance(item, NodeItem):
            self.node_double_clicked.emit(item.node_id)
            return
        super().mouseDoubleClickEvent(event)

    def context_menu(self, pos: QPoint) -> QMenu:
        """The right-click menu for viewport point ``pos``: node edits over a selection, adding
        and arranging over empty canvas (built from the window's actions)."""
        item = self.itemAt(pos)
        while item is not None and not isinstance(item, (NodeItem, EdgeItem)):
            item = item.parentItem()
        if item is not None and not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        menu = build_menu(self, self.actions_by_name, over_item=item is not None)
        if item is None:
            add = QAction("Add Node…", menu)
            add.setObjectName("contextAddNode")
            add.triggered.connect(lambda _checked=False: self.open_quick_add(pos))
            first = menu.actions()
            if first:
                menu.insertAction(first[0], add)
            else:
                menu.addAction(add)
        return menu

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Show the right-click menu (non-blocking)."""
        self.context_menu(event.pos()).popup(event.globalPos())

    # -- the hint on an empty canvas -------------------------------------------------------------
    def empty_hint(self) -> str:
        """The hint the canvas shows while the document has no node ("" once it has one)."""
        scene = self.scene()
        return EMPTY_HINT if scene is not None and scene.is_empty() else ""

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        """On an empty canvas, say how to start (in the middle of the view, whatever the zoom)."""
        if self.empty_hint():
            paint_empty_hint(painter, QRectF(self.viewport().rect()))

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        """Scroll; on an empty canvas repaint whole so the hint stays put."""
        super().scrollContentsBy(dx, dy)
        if self.empty_hint():
            self.viewport().update()

    def _on_document_changed(self, event: object = None) -> None:
        """An edit: stop fitting (opening a file fits again; a training setting is no edit of
        the canvas); show or hide the hint."""
        if not (isinstance(event, DocumentEvent) and event.kind is EventKind.SETTINGS_CHANGED):
            self.auto_fit = False
        empty = bool(self.empty_hint())
        if empty != self._was_empty:  # the hint appears or goes
            self._was_empty = empty
            self.viewport().update()

    # -- keys -----------------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        """Keep Esc for cancelling a wire drag even where a window shortcut uses it."""
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and self._wire is not None
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Space (held) pans; Tab opens quick-add at the cursor; Esc cancels a wire drag, or
        else leaves the open block; Delete while editing is locked (training runs) says why
        nothing is deleted."""
        if event.key() == Qt.Key.Key_Escape and (self.cancel_wire() or self._leave_block()):
            event.accept()
            return
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.editor.is_locked():
            self.editor.refuse_if_locked()  # Delete is disabled: say why, like other edits
            event.accept()
            return
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Tab:
            pos = self.viewport().mapFromGlobal(self.cursor().pos())
            if not self.viewport().rect().contains(pos):
                pos = self.viewport().rect().center()
            self.open_quick_add(pos)
            return
        super().keyPressEvent(event)

    def _leave_block(self) -> bool:
        """Show the graph around the open block; False at the graph."""
        scope = self.editor.scope
        if not scope.path:
            return False
        scope.up()
        return True

    def keyReleaseEvent(self, event: QKeyEvent) -> None:
        """Releasing space ends space-panning."""
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def focusNextPrevChild(self, next_child: bool) -> bool:
        """Keep Tab for quick-add instead of moving the focus."""
        return False

    # -- quick-add ----------------------------------------------------------------------------
    def open_quick_add(self, pos: QPoint, port: PortItem | None = None) -> None:
        """Open the quick-add popup at viewport point ``pos`` (filtered for ``port``'s kind)."""
        if self.editor.refuse_if_locked():
            return
        self._quick_add_port = port
        self.quick_add.open_at(pos, self.editor.compatible_specs(port))

    def open_quick_add_at_centre(self) -> None:
        """Open quick-add in the middle of the view (View > Quick Add)."""
        self.open_quick_add(self.viewport().rect().center())

    def _on_quick_add_chosen(self, type_id: str) -> None:
        port, self._quick_add_port = self._quick_add_port, None
        at = self.mapToScene(self.quick_add.opened_at)  # where it was opened, on screen
        self.editor.add_node(type_id, at, connect_to=port)
        QTimer.singleShot(0, self.setFocus)

    # -- drag and drop from the palette or the file manager ------------------------------------
    def dragEnterEvent(self, event: Any) -> None:
        """Accept node types from the palette and files."""
        if event.mimeData().hasFormat(NODE_MIME) or event.mimeData().hasUrls():
            event.setDropAction(Qt.DropAction.CopyAction)  # a move would remove palette rows
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:
        """Keep accepting while over the canvas."""
        self.dragEnterEvent(event)

    def dropEvent(self, event: Any) -> None:
        """Add the dropped node type (inserting it when dropped onto a wire), or open files."""
        data = event.mimeData()
        if data.hasFormat(NODE_MIME):
            type_id = bytes(data.data(NODE_MIME)).decode()
            point = self.mapToScene(event.position().toPoint())
            edge = next(
                (
                    i.edge
                    for i in self.scene().items(point)
                    if isinstance(i, EdgeItem) and i.edge is not None
                ),
                None,
            )
            corner = point - QPointF(NODE_WIDTH / 2, HEADER_HEIGHT / 2)  # title under the cursor
            self.editor.add_node(type_id, corner, on_wire=edge)
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        elif data.hasUrls() and self.files_dropped is not None:
            self.files_dropped([u.toLocalFile() for u in data.urls() if u.isLocalFile()])
            event.acceptProposedAction()
