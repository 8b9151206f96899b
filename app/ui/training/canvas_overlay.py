"""What training and stepping draw on the canvas: gradient bands, warning badges, highlights,
and the gradient-colour legend in the corner of the view."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QLinearGradient, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

from app.graph.validate import Severity
from app.ui.canvas.edge_item import EdgeItem
from app.ui.canvas.node_item import NodeItem, gradient_colour
from app.ui.canvas.scene import GraphScene
from app.ui.canvas.view import GraphView
from app.ui.document_holder import DocumentHolder

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
            self.move(10, parent.height() - self.height() - 10)

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

    Badges it sets are its own: clearing gives each node back its validation badge.
    """

    def __init__(self, holder: DocumentHolder, scene: GraphScene, view: GraphView) -> None:
        self.holder, self.scene = holder, scene
        self.legend = GradientLegend(view.viewport())
        self._badged: set[str] = set()
        self._highlighted: str | None = None
        self._active_edges: list[EdgeItem] = []

    def _item(self, node_id: str) -> NodeItem | None:
        try:
            return self.scene.node_item(node_id)
        except KeyError:
            return None

    def show_gradients(self, norms: Mapping[str, float]) -> None:
        """Colour each node's band by its norm; badge vanishing or exploding gradients.
        A node whose band colour stays the same is left alone (no repaint)."""
        for node_id, norm in norms.items():
            item = self._item(node_id)
            if item is None:
                continue
            if not _same_colour(item.gradient_level, norm):
                item.set_gradient_level(norm)
            warning = gradient_warning(norm)
            if warning is not None:
                item.set_badge(Severity.WARNING, warning)
                self._badged.add(node_id)
            elif node_id in self._badged:
                self._restore_badge(node_id)
        if not self.legend.isVisible():
            self.legend.place()
            self.legend.show()
            self.legend.raise_()

    def flag_error(self, node_id: str, message: str) -> None:
        """Badge a node with an error (where NaN began)."""
        item = self._item(node_id)
        if item is not None:
            item.set_badge(Severity.ERROR, message)
            self._badged.add(node_id)

    def clear_gradients(self) -> None:
        """Hide every band and the legend; give badged nodes their validation badges back."""
        for item in self.scene.node_items():
            item.set_gradient_level(None)
        for node_id in list(self._badged):
            self._restore_badge(node_id)
        self.legend.hide()

    def _restore_badge(self, node_id: str) -> None:
        self._badged.discard(node_id)
        item = self._item(node_id)
        if item is None:
            return
        diagnostics = self.holder.validation.for_node(node_id)
        if diagnostics:
            worst = min(diagnostics, key=lambda d: d.severity is not Severity.ERROR)
            item.set_badge(worst.severity, "\n".join(d.message for d in diagnostics))
        else:
            item.set_badge(None)

    def highlight(self, node_id: str | None, edges: Iterable[EdgeItem] = ()) -> None:
        """Mark the current node and the wires it travels (None clears)."""
        if self._highlighted is not None:
            item = self._item(self._highlighted)
            if item is not None:
                item.set_highlighted(False)
        for edge in self._active_edges:
            edge.set_active(False)
        self._highlighted = node_id
        self._active_edges = list(edges)
        if node_id is not None:
            item = self._item(node_id)
            if item is not None:
                item.set_highlighted(True)
        for edge in self._active_edges:
            edge.set_active(True)

    @property
    def highlighted(self) -> str | None:
        """The node the step-through marks now."""
        return self._highlighted
