"""What training and stepping draw on the canvas: gradient bands, warning badges, highlights,
and the gradient-colour legend in the corner of the view."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPoint, QRectF, Qt
from PySide6.QtGui import QColor, QLinearGradient, QMoveEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from app.graph.blocks.flatten import SEPARATOR
from app.graph.validate import Severity
from app.ui.canvas.edge_item import EdgeItem
from app.ui.canvas.node_item import NodeItem, gradient_colour
from app.ui.canvas.scene import GraphScene
from app.ui.canvas.view import GraphView
from app.ui.document_holder import DocumentHolder
from app.ui.training.block_view import BlockView

VANISHING = 1e-7
EXPLODING = 1e3
LEGEND_DECADES = (-6, -4, -2, 0, 2)


def gradient_warning(norm: float) -> str | None:
    """The warning for a vanishing (< 1e-7) or exploding (> 1e3) gradient norm, else None."""
    if not math.isfinite(norm):
        return f"Gradient is not finite ({norm})"
    if norm < VANISHING:
        return f"Vanishing gradient: norm {norm:.2g} < {VANISHING:g}"
    if norm > EXPLODING:
        return f"Exploding gradient: norm {norm:.3g} > {EXPLODING:g}"
    return None


def _same_colour(shown: float | None, norm: float) -> bool:
    """Whether a band showing ``shown`` already has the colour of ``norm``."""
    if shown is None or not math.isfinite(norm):
        return False
    return gradient_colour(shown).rgb() == gradient_colour(norm).rgb()


class GradientLegend(QWidget):
    """A small colour ramp in the view's corner: the meaning of the nodes' gradient bands."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("gradientLegend")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFixedSize(250, 46)
        self.hide()
        parent.installEventFilter(self)

    def place(self) -> None:
        """Keep to the bottom-left corner of the parent."""
        parent = self.parentWidget()
        if parent is not None:
            self.move(self._corner(parent))

    def _corner(self, parent: QWidget) -> QPoint:
        return QPoint(10, parent.height() - self.height() - 10)

    def moveEvent(self, event: QMoveEvent) -> None:
        """Stay in the corner when the view scrolls (scrolling moves the viewport's children)."""
        super().moveEvent(event)
        parent = self.parentWidget()
        if parent is not None and self.pos() != self._corner(parent):
            self.place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the parent's resizes."""
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.place()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        """Title, ramp from 1e-6 to 1e2 (log scale) and decade ticks."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(255, 255, 255, 215))
        painter.setPen(QColor(150, 150, 150))
        painter.drawRoundedRect(QRectF(0.5, 0.5, self.width() - 1, self.height() - 1), 4, 4)
        ramp = QRectF(16, 18, self.width() - 32, 9)
        gradient = QLinearGradient(ramp.topLeft(), ramp.topRight())
        for i in range(9):
            gradient.setColorAt(i / 8, gradient_colour(10.0 ** (-6 + i)))
        painter.fillRect(ramp, gradient)
        painter.setPen(QColor(40, 40, 40))
        font = painter.font()
        font.setPointSizeF(7.5)
        painter.setFont(font)
        painter.drawText(
            QRectF(8, 3, self.width() - 16, 14),
            Qt.AlignmentFlag.AlignLeft,
            "gradient norm (vanishing → exploding)",
        )
        for decade in LEGEND_DECADES:
            x = ramp.left() + (decade + 6) / 8 * ramp.width()
            painter.drawText(
                QRectF(x - 16, 28, 32, 14), Qt.AlignmentFlag.AlignCenter, f"1e{decade}"
            )
        painter.end()


class CanvasOverlay:
    """Colours nodes by gradient norm, badges bad gradients, highlights the stepped node.

    Everything it is told is keyed by flat ids (what runs); it shows each on the node the
    canvas shows (:class:`BlockView`): a block node takes the largest norm inside it, the
    inner node once the block is opened, and :meth:`refresh` redraws all of it when the
    canvas opens another block. Badges it sets are its own: clearing gives each node back its
    validation badge.
    """

    def __init__(
        self,
        holder: DocumentHolder,
        scene: GraphScene,
        view: GraphView,
        blocks: BlockView | None = None,
    ) -> None:
        self.holder, self.scene, self.view = holder, scene, view
        self.blocks = blocks if blocks is not None else BlockView(holder)
        self.legend = GradientLegend(view.viewport())
        self._norms: dict[str, float] = {}
        self._flags: dict[str, str] = {}
        self._badged: set[str] = set()
        self._highlighted: str | None = None
        self._active_edges: list[EdgeItem] = []

    def _item(self, node_id: str | None) -> NodeItem | None:
        if node_id is None:
            return None
        try:
            return self.scene.node_item(node_id)
        except KeyError:
            return None

    def show_gradients(self, norms: Mapping[str, float]) -> None:
        """Colour each node's band by its norm (flat ids; a block: the largest inside); badge
        vanishing or exploding gradients. A band whose colour stays is left alone."""
        self._norms = dict(norms)
        for node_id, norm in self.blocks.norms(norms).items():
            item = self._item(node_id)
            if item is None:
                continue
            if not _same_colour(item.gradient_level, norm):
                item.set_gradient_level(norm)
            warning = gradient_warning(norm)
            if warning is not None:
                item.set_badge(Severity.WARNING, warning)
                self._badged.add(node_id)
            elif node_id in self._badged and node_id not in self._flagged():
                self._restore_badge(node_id)
        if not self.legend.isVisible():
            self.legend.place()
            self.legend.show()
            self.legend.raise_()

    def flag_error(self, node_id: str, message: str) -> None:
        """Badge a node with an error (where NaN began; a flat id: the block holding it, and
        the node itself once the block is opened)."""
        self._flags[node_id] = message
        shown = self.blocks.shown(node_id)
        item = self._item(shown)
        if item is not None and shown is not None:
            itself = SEPARATOR.join((*self.blocks.path, shown)) == node_id
            text = message if itself else f"In {self.blocks.place(node_id)}: {message}"
            item.set_badge(Severity.ERROR, text)
            self._badged.add(shown)

    def _flagged(self) -> set[str]:
        return {s for s in map(self.blocks.shown, self._flags) if s is not None}

    def clear_gradients(self) -> None:
        """Hide every band and the legend; give badged nodes their validation badges back."""
        self._norms, self._flags = {}, {}
        for item in self.scene.node_items():
            item.set_gradient_level(None)
        for node_id in list(self._badged):
            self._restore_badge(node_id)
        self.legend.hide()

    def refresh(self) -> None:
        """Draw it all again on the graph the canvas shows now (another block was opened)."""
        self._badged.clear()
        self._active_edges = []
        if self._norms:
            self.show_gradients(self._norms)
        for node_id, message in list(self._flags.items()):
            self.flag_error(node_id, message)
        self.highlight(self._highlighted)

    def _restore_badge(self, node_id: str) -> None:
        self._badged.discard(node_id)
        item = self._item(node_id)
        if item is None:
            return
        validation = self.holder.validation
        if self.blocks.path:  # inside a block: the problems of this inner node or within it
            diagnostics = [
                d
                for d in validation.diagnostics
                if d.inner and self.blocks.shown(d.inner) == node_id
            ]
        else:
            diagnostics = validation.for_node(node_id)
        if diagnostics:
            worst = min(diagnostics, key=lambda d: d.severity is not Severity.ERROR)
            item.set_badge(worst.severity, "\n".join(d.message for d in diagnostics))
        else:
            item.set_badge(None)

    def highlight(self, node_id: str | None, edges: Iterable[EdgeItem] | None = None) -> None:
        """Mark the node of flat id ``node_id`` (the block holding it, or itself once opened)
        and the wires it travels (``edges``; default: the wires leaving it). None clears."""
        shown = self.blocks.shown(self._highlighted) if self._highlighted is not None else None
        item = self._item(shown)
        if item is not None:
            item.set_highlighted(False)
        for edge in self._active_edges:
            if shiboken6.isValid(edge):
                edge.set_active(False)
        self._highlighted = node_id
        shown = self.blocks.shown(node_id) if node_id is not None else None
        if edges is None:
            edges = self.scene.edge_items_from(shown) if shown is not None else []
        self._active_edges = list(edges)
        item = self._item(shown)
        if item is not None:
            item.set_highlighted(True)
        for edge in self._active_edges:
            edge.set_active(True)

    def bring_into_view(self, node_id: str) -> None:
        """Scroll until the node showing flat id ``node_id`` and its ports are in view."""
        item = self._item(self.blocks.shown(node_id))
        if item is not None:
            self.view.reveal_item(item)

    @property
    def highlighted(self) -> str | None:
        """The node (flat id) the step-through marks now."""
        return self._highlighted
