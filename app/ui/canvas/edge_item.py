"""A wire between two ports: a smooth cubic curve in the port colour with a shape label."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.ui import style
from app.ui.canvas.port_item import PortItem

LABEL_CLEARANCE = 16.0  # room beside a shape label for the port circles at both ends
LABEL_MIN_ZOOM = 0.45  # zoomed out further, shape labels are not drawn (too small to read)


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A cubic curve leaving ``start`` to the right and entering ``end`` from the left."""
    dx = max(40.0, abs(end.x() - start.x()) * 0.5)
    path = QPainterPath(start)
    path.cubicTo(QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)
    return path


class EdgeItem(QGraphicsItem):
    """A wire from an output port to an input port (``dst`` None while it is being dragged).

    Parameters
    ----------
    src : PortItem
        The output port the wire leaves.
    dst : PortItem or None
        The input port it enters; None for the wire that follows the mouse during a drag.
    edge : object
        The document ``Edge`` it shows (None for the dragged wire).
    """

    def __init__(self, src: PortItem, dst: PortItem | None, edge: object = None) -> None:
        super().__init__()
        self.src = src
        self.dst = dst
        self.edge = edge
        self.label = ""
        self.show_label = True
        self.active = False
        self._free_end = src.centre()
        self._path = QPainterPath()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.colour = style.port_colour(src.kind)
        self.setZValue(0 if dst is not None else 5)
        if dst is not None:
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
            self._route = f"{src.node_id}.{src.name} → {dst.node_id}.{dst.name}"
            self.setToolTip(self._route)
        self.adjust()

    def end_point(self) -> QPointF:
        """Where the wire ends: the input port, or the mouse while dragging."""
        return self.dst.centre() if self.dst is not None else self._free_end

    def set_free_end(self, point: QPointF) -> None:
        """Move the loose end of a dragged wire."""
        self._free_end = point
        self.adjust()

    def set_label(self, text: str) -> None:
        """Set the shape label (e.g. ``N×64``); empty hides it."""
        if text != self.label:
            self.label = text
            if self.dst is not None:
                self.setToolTip(f"{self._route}\n{text}" if text else self._route)
            self.adjust()

    def set_label_visible(self, visible: bool) -> None:
        """Show or hide the shape label (the View menu toggle)."""
        if visible != self.show_label:
            self.show_label = visible
            self.adjust()

    def set_active(self, on: bool) -> None:
        """Emphasise the wire a step-through is travelling."""
        if on != self.active:
            self.active = on
            self.update()

    def label_room(self) -> float:
        """How far apart the two ports must be for the shape label to show (0 without one)."""
        if not self.label:
            return 0.0
        return QFontMetricsF(_label_font()).horizontalAdvance(self.label) + 10 + LABEL_CLEARANCE

    def label_shown(self) -> bool:
        """Whether the shape label is drawn (it is left out where the ports are too close)."""
        return not self._label_rect.isNull()

    def adjust(self) -> None:
        """Recompute the curve after a port moved."""
        self.prepareGeometryChange()
        self._path = wire_path(self.src.centre(), self.end_point())
        self._label_rect = QRectF()
        if self.label and self.show_label:
            w = self.label_room() - LABEL_CLEARANCE
            h = QFontMetricsF(_label_font()).height() + 4
            start, end = self.src.centre(), self.end_point()
            if max(abs(end.x() - start.x()), abs(end.y() - start.y())) >= w + LABEL_CLEARANCE:
                mid = self._path.pointAtPercent(0.5)
                self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h / 2, w, h)
        self._bounds = self._path.controlPointRect().adjusted(-6, -6, 6, 6).united(self._label_rect)

    def path(self) -> QPainterPath:
        """The curve in scene coordinates."""
        return self._path

    def boundingRect(self) -> QRectF:
        """The curve's box widened for the pen, joined with the label (cached by adjust)."""
        return self._bounds

    def shape(self) -> QPainterPath:
        """A 10 px wide band around the curve, so wires are easy to click."""
        stroker = QPainterPathStroker()
        stroker.setWidth(10)
        shape = stroker.createStroke(self._path)
        if not self._label_rect.isNull():
            shape.addRect(self._label_rect)
        return shape

    def _pen(self) -> QPen:
        colour, width = self.colour, 2.0
        if self.isSelected():
            colour, width = style.theme()["selection"], 3.0
        if self.active:
            colour, width = QColor("#f5c211"), 4.0
        pen = QPen(colour, width)
        if self.dst is None:
            pen.setStyle(Qt.PenStyle.DashLine)
        return pen

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """Draw the curve and, when zoomed in enough, its shape label."""
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, lod >= 0.3)
        pen = self._pen()
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if lod >= LABEL_MIN_ZOOM and not self._label_rect.isNull():
            colours = style.theme()
            painter.setPen(QPen(pen.color(), 1.0))
            painter.setBrush(colours["body"])
            painter.drawRoundedRect(self._label_rect, 4, 4)
            painter.setFont(_label_font())
            painter.setPen(colours["text"])
            painter.drawText(self._label_rect, Qt.AlignmentFlag.AlignCenter, self.label)


_FONT: list = []


def _label_font():
    """The shape label font, made once."""
    if not _FONT:
        _FONT.append(style.small_font(-1.5))
    return _FONT[0]
