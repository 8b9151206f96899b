"""A wire between two ports: a smooth cubic curve in the port colour with a shape label, routed
around the nodes between its ends."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.graph.document import Edge
from app.graph.specs import PortKind
from app.ui import style
from app.ui.canvas.node_item import NodeItem
from app.ui.canvas.port_item import PortItem

LABEL_CLEARANCE = 16.0  # room beside a shape label for the port circles at both ends
LABEL_MIN_ZOOM = 0.4  # zoomed out further, shape labels are not drawn (too small to read)
ROUTE_MARGIN = 14.0  # how far a wire keeps from the nodes it goes around
ROUTE_REACH = 600.0  # how far above or below its ends a wire looks for nodes in its way
MAX_DETOURS = 4


Cubic = tuple[QPointF, QPointF, QPointF, QPointF]
"""A cubic Bézier segment: start, two control points, end."""


def _wire_cubic(start: QPointF, end: QPointF) -> Cubic:
    dx = max(40.0, abs(end.x() - start.x()) * 0.5)
    return (start, QPointF(start.x() + dx, start.y()), QPointF(end.x() - dx, end.y()), end)


def _to_path(cubics: Sequence[Cubic]) -> QPainterPath:
    path = QPainterPath(cubics[0][0])
    for _start, c1, c2, end in cubics:
        path.cubicTo(c1, c2, end)
    return path


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A cubic curve leaving ``start`` to the right and entering ``end`` from the left."""
    return _to_path([_wire_cubic(start, end)])


_BASES: dict[int, np.ndarray] = {}


def _basis(n: int) -> np.ndarray:
    """The (n, 4) Bernstein weights of ``n`` evenly spaced parameters (made once per n)."""
    basis = _BASES.get(n)
    if basis is None:
        t = np.linspace(0.0, 1.0, n)[:, None]
        basis = np.hstack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3])
        _BASES[n] = basis
    return basis


def _samples(cubics: Sequence[Cubic]) -> tuple[np.ndarray, np.ndarray]:
    """Points along the segments every few pixels (x and y arrays)."""
    xs, ys = [], []
    for seg in cubics:
        px = np.array([p.x() for p in seg])
        py = np.array([p.y() for p in seg])
        reach = float(np.hypot(np.diff(px), np.diff(py)).sum())  # >= the curve's length
        basis = _basis(max(4, min(80, int(reach / 6))))
        xs.append(basis @ px)
        ys.append(basis @ py)
    return np.concatenate(xs), np.concatenate(ys)


def _blocking(cubics: Sequence[Cubic], rects: np.ndarray) -> list[int]:
    """The indices of the rectangles (rows ``left, top, right, bottom``) the segments pass
    through."""
    if len(rects) == 0:
        return []
    corners = np.array([(p.x(), p.y()) for seg in cubics for p in seg])
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    near = np.flatnonzero(
        (rects[:, 0] <= x1) & (rects[:, 2] >= x0) & (rects[:, 1] <= y1) & (rects[:, 3] >= y0)
    )
    if len(near) == 0:
        return []
    xs, ys = _samples(cubics)
    r = rects[near][:, :, None]
    inside = (xs > r[:, 0]) & (xs < r[:, 2]) & (ys > r[:, 1]) & (ys < r[:, 3])
    return [int(k) for k in near[inside.any(axis=1)]]


def _detour(start: QPointF, end: QPointF, lane: float, left: float, right: float) -> list[Cubic]:
    """Leave ``start``, run along ``lane`` from ``left`` to ``right``, enter ``end``."""
    a, b = QPointF(left, lane), QPointF(right, lane)
    dx = max(20.0, (left - start.x()) * 0.5)
    into = (start, QPointF(start.x() + dx, start.y()), QPointF(left - dx, lane), a)
    along = (
        a,
        QPointF(left + (right - left) / 3, lane),
        QPointF(right - (right - left) / 3, lane),
        b,
    )
    dx = max(20.0, (end.x() - right) * 0.5)
    out = (b, QPointF(right + dx, lane), QPointF(end.x() - dx, end.y()), end)
    return [into, along, out]


def routed_path(
    start: QPointF, end: QPointF, obstacles: np.ndarray
) -> tuple[QPainterPath, list[int]]:
    """The wire from ``start`` to ``end`` around ``obstacles`` (node bodies, rows ``left, top,
    right, bottom``), and the indices of the ones it goes around.

    The plain curve when nothing is in its way; otherwise it runs along a lane just above or
    below the nodes in its way (whichever strays less from its ends), adding nodes the detour
    itself meets, a few times at most. Wires running backwards keep the plain curve.
    """
    cubics = [_wire_cubic(start, end)]
    if end.x() - start.x() < 4 * ROUTE_MARGIN or len(obstacles) == 0:
        return _to_path(cubics), []
    m = ROUTE_MARGIN
    rects = np.asarray(obstacles, dtype=float).reshape(-1, 4) + np.array([-m, -m, m, m])
    used = _blocking(cubics, rects)
    for _ in range(MAX_DETOURS):
        if not used:
            break
        box = rects[used]
        top, bottom = float(box[:, 1].min()) - 1.0, float(box[:, 3].max()) + 1.0
        stray = [abs(lane - start.y()) + abs(lane - end.y()) for lane in (top, bottom)]
        lane = top if stray[0] <= stray[1] else bottom
        left = max(start.x() + m, float(box[:, 0].min()))
        right = min(end.x() - m, float(box[:, 2].max()))
        cubics = _detour(start, end, lane, left, max(left, right))
        more = [k for k in _blocking(cubics, rects) if k not in used]
        if not more:
            break
        used += more
    return _to_path(cubics), used


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

    def __init__(self, src: PortItem, dst: PortItem | None, edge: Edge | None = None) -> None:
        super().__init__()
        self.src = src
        self.dst = dst
        self.edge = edge
        self.label = ""
        self.show_label = True
        self.active = False
        self._free_end = src.centre()
        self._path = QPainterPath()
        self._around: set[str] = set()
        self._label_rect = QRectF()
        self._bounds = QRectF()
        # a block port (kind ANY) passes on what it is wired to: take the other end's colour
        kind = dst.kind if src.kind is PortKind.ANY and dst is not None else src.kind
        self.colour = style.port_colour(kind)
        self.setZValue(0 if dst is not None else 5)
        if dst is not None:
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
            self._route = f"{src.node_id}.{src.name} → {dst.node_id}.{dst.name}"
            self.setToolTip(self._route)
        else:
            self.adjust()  # a dragged wire; the canvas routes a real one once it is added

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
            if self.scene() is not None:  # else it is placed when the wire is routed
                self.adjust(reroute=False)

    def set_label_visible(self, visible: bool) -> None:
        """Show or hide the shape label (the View menu toggle)."""
        if visible != self.show_label:
            self.show_label = visible
            if self.scene() is not None:
                self.adjust(reroute=False)

    def set_active(self, on: bool) -> None:
        """Emphasise the wire a step-through is travelling."""
        if on != self.active:
            self.active = on
            self.update()

    def label_room(self) -> float:
        """How far apart the two ports must be for the shape label to show (0 without one)."""
        if not self.label:
            return 0.0
        return _label_metrics().horizontalAdvance(self.label) + 10 + LABEL_CLEARANCE

    def label_shown(self) -> bool:
        """Whether the shape label is drawn (it is left out where the ports are too close)."""
        return not self._label_rect.isNull()

    def _obstacles(self) -> tuple[list[NodeItem], np.ndarray]:
        """The nodes near the wire's way, except its own two, and their bodies (rows ``left,
        top, right, bottom``)."""
        scene = self.scene()
        boxes = getattr(scene, "node_boxes", None)
        if boxes is None or self.dst is None:
            return [], np.zeros((0, 4))
        # The canvas's own node list, not scene.items(): that index may be mid-update while a
        # wire is being added.
        nodes, rects = boxes()
        start, end = self.src.centre(), self.end_point()
        x0, x1 = sorted((start.x(), end.x()))
        y0, y1 = min(start.y(), end.y()) - ROUTE_REACH, max(start.y(), end.y()) + ROUTE_REACH
        near = (rects[:, 0] <= x1) & (rects[:, 2] >= x0) & (rects[:, 1] <= y1) & (rects[:, 3] >= y0)
        ends = (self.src.node, self.dst.node)
        keep = [int(k) for k in np.flatnonzero(near) if nodes[k] not in ends]
        return [nodes[k] for k in keep], rects[keep]

    def crosses(self, rect: QRectF) -> bool:
        """Whether the drawn wire passes through ``rect`` (or within the routing margin)."""
        m = ROUTE_MARGIN
        wide = rect.adjusted(-m, -m, m, m)
        if not self._bounds.intersects(wide):
            return False
        n = 48
        return any(wide.contains(self._path.pointAtPercent(i / n)) for i in range(1, n))

    def avoids(self, node_id: str) -> bool:
        """Whether the wire was routed around node ``node_id`` (it may be in the way no more)."""
        return node_id in self._around

    def adjust(self, reroute: bool = True) -> None:
        """Recompute the curve after a port moved (around the nodes in its way); with
        ``reroute`` False only the label is placed again (the label changed)."""
        self.prepareGeometryChange()
        if reroute or self._path.isEmpty():
            nodes, rects = self._obstacles()
            self._path, used = routed_path(self.src.centre(), self.end_point(), rects)
            self._around = {nodes[k].node_id for k in used}
        self._label_rect = QRectF()
        if self.label and self.show_label:
            w = self.label_room() - LABEL_CLEARANCE
            h = _label_metrics().height() + 4
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


_FONT: list[QFont] = []
_METRICS: list[QFontMetricsF] = []


def _label_font() -> QFont:
    """The shape label font, made once."""
    if not _FONT:
        _FONT.append(style.small_font(-1.5))
    return _FONT[0]


def _label_metrics() -> QFontMetricsF:
    """The shape label font's metrics, made once."""
    if not _METRICS:
        _METRICS.append(QFontMetricsF(_label_font()))
    return _METRICS[0]
