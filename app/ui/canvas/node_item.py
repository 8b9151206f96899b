"""A node on the canvas: title, category colour, ports, parameter summary and badges."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.graph.errors import GraphError
from app.graph.specs import NodeSpec
from app.graph.specs.blocks import BLOCK, BLOCK_INPUT, BLOCK_OUTPUT
from app.graph.validate import Severity
from app.ui import style
from app.ui.canvas.far_title import FarTitle, header_height
from app.ui.canvas.port_item import PORT_RADIUS, PortItem

if TYPE_CHECKING:
    from app.ui.canvas.scene import GraphScene

NODE_WIDTH = 160.0
HEADER_HEIGHT = 26.0
SUMMARY_HEIGHT = 20.0
PORT_ROW = 20.0
PORTS_TOP = HEADER_HEIGHT + SUMMARY_HEIGHT + 2.0
CORNER = 6.0
DETAIL_ZOOM = 0.6  # zoomed out further, only the far title (far_title.py) is drawn: the
# title font would be smaller on screen than the far title's, the rest unreadable
TEXT_MIN_ZOOM = 0.4  # revealing a node zoomed out further zooms in (view.py)
STACK = 5.0  # how far the card behind a block node shows (a block looks like a stack)
PORT_TITLES = {BLOCK_INPUT: "In", BLOCK_OUTPUT: "Out"}
# looked up once: itemChange runs some 27 times per node while a graph opens
_MOVING = QGraphicsItem.GraphicsItemChange.ItemPositionChange
_MOVED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged


def format_count(n: int) -> str:
    """A short parameter count: ``830``, ``8.3k``, ``1.2M``."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 1_000_000:.1f}M".replace(".0M", "M")


class NodeItem(QGraphicsItem):
    """The picture of one document node.

    The item only displays; edits go through the undo stack and come back as document events,
    which the scene turns into calls of :meth:`update_from`.

    Parameters
    ----------
    node_id : str
        The document id of the node.
    spec : NodeSpec
        The node type's declaration (title, category, ports, summary).
    params : dict
        The node's current parameter values.
    label : str
        A user label shown instead of the type title when not empty.
    """

    def __init__(
        self, node_id: str, spec: NodeSpec, params: Mapping[str, Any], label: str = ""
    ) -> None:
        super().__init__()
        self.node_id = node_id
        self.spec = spec
        self.colour = style.category_colour(spec.category)
        self.title = spec.title
        self.summary = ""
        self.is_block = spec.type_id == BLOCK
        self.uses = 1  # how many block nodes share this one's block (blocks only)
        self.inside = 0  # how many nodes the block holds (blocks only)
        self.param_count: int | None = None
        self.badge_severity: Severity | None = None
        self.badge_message = ""
        self.highlighted = False
        self.gradient_level: float | None = None
        self.syncing = False
        self.host: GraphScene | None = None  # the scene that mirrors the document, once added
        self.far_title = FarTitle()
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(1)
        self.inputs = [
            PortItem(self, p.name, p.kind, False, p.optional, p.help, p.title) for p in spec.inputs
        ]
        self.outputs = [
            PortItem(self, p.name, p.kind, True, False, p.help, p.title) for p in spec.outputs
        ]
        self._params: Mapping[str, Any] = params
        self._label = label
        rows = max(len(self.inputs), len(self.outputs), 1)
        self.height = PORTS_TOP + rows * PORT_ROW + 4.0
        for i, port in enumerate(self.inputs):
            port.setPos(0.0, PORTS_TOP + (i + 0.5) * PORT_ROW)
        for i, port in enumerate(self.outputs):
            port.setPos(NODE_WIDTH, PORTS_TOP + (i + 0.5) * PORT_ROW)
        self.update_from(params, label)

    # -- content -------------------------------------------------------------------------------
    def update_from(self, params: Mapping[str, Any], label: str = "") -> None:
        """Refresh the title and the summary line after a parameter or label change."""
        self._params, self._label = params, label
        port = PORT_TITLES.get(self.spec.type_id)
        # a block's port node shows its caption (the port's name on the block node)
        self.title = f"{port}: {label or self.node_id}" if port else label or self.spec.title
        if self.is_block:
            self.summary = self._block_summary(params)
        else:
            try:
                self.summary = self.spec.summary(params)
            except (GraphError, LookupError, TypeError, ValueError) as exc:  # keep painting
                self.summary = f"? ({exc})"
        self._refresh_tooltip()
        self.update()

    def set_uses(self, count: int, inside: int | None = None) -> None:
        """How many block nodes use this block node's definition (shown when more than one:
        an edit inside changes them all) and, when given, how many nodes it holds."""
        if count != self.uses or (inside is not None and inside != self.inside):
            self.uses = count
            self.inside = self.inside if inside is None else inside
            self.update_from(self._params, self._label)

    def _block_summary(self, params: Mapping[str, Any]) -> str:
        parts = []
        if self._label:
            parts.append(self.spec.title)  # a labelled block still says which block it is
        repeat = int(params.get("repeat", 1))
        if repeat > 1:
            parts.append(f"×{repeat}")
        if self.uses > 1:
            parts.append(f"used {self.uses}×")
        if not parts or (len(parts) == 1 and self._label):
            parts.append(f"{self.inside} nodes" if self.inside != 1 else "1 node")
        return " · ".join(parts)

    def port(self, name: str, output: bool) -> PortItem | None:
        """The input (or output) port called ``name``."""
        for port in self.outputs if output else self.inputs:
            if port.name == name:
                return port
        return None

    def set_param_count(self, count: int | None) -> None:
        """Show the number of trainable parameters (None hides it)."""
        if count != self.param_count:
            self.param_count = count
            self.update()

    def set_badge(self, severity: Severity | None, message: str = "") -> None:
        """Show an error or warning badge (None removes it); the message becomes the tooltip."""
        if severity is self.badge_severity and message == self.badge_message:
            return
        self.badge_severity = severity
        self.badge_message = message if severity is not None else ""
        self._refresh_tooltip()
        self.update()

    def set_highlighted(self, on: bool) -> None:
        """Mark the node as the current one (step-through, problem clicked)."""
        if on != self.highlighted:
            self.highlighted = on
            self.update()

    def set_gradient_level(self, norm: float | None) -> None:
        """Colour a band under the title by a gradient norm (log scale); None hides it."""
        self.gradient_level = None if norm is None or not math.isfinite(norm) else norm
        self.update()

    def _refresh_tooltip(self) -> None:
        tip = f"{self.spec.title}: {self.spec.help}" if self.spec.help else self.spec.title
        self.setToolTip(f"{self.badge_message}\n\n{tip}" if self.badge_message else tip)

    # -- geometry ------------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        """The body plus room for the outline, the badge and a block's stacked card."""
        margin = PORT_RADIUS + 2
        extra = STACK if self.is_block else 0.0
        return QRectF(-margin, -10, NODE_WIDTH + 2 * margin + 4 + extra, self.height + 14 + extra)

    def body_rect(self) -> QRectF:
        """The node's body in scene coordinates (without ports, outline or badge)."""
        return self.mapRectToScene(QRectF(0, 0, NODE_WIDTH, self.height))

    def shape(self) -> QPainterPath:
        """The rounded body (ports are separate items)."""
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, NODE_WIDTH, self.height), CORNER, CORNER)
        return path

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        """Snap user moves to the grid and keep attached wires following."""
        host = self.host
        if change == _MOVING and not self.syncing and host is not None and host.snap_to_grid:
            g = style.GRID_SIZE
            return QPointF(round(value.x() / g) * g, round(value.y() / g) * g)
        if change == _MOVED and host is not None:
            host.node_item_moved(self)
        return super().itemChange(change, value)

    # -- painting ------------------------------------------------------------------------------
    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """Draw body, header, summary, ports, outline and badge (less when zoomed far out)."""
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        colours = style.theme()
        body = QRectF(0, 0, NODE_WIDTH, self.height)
        painter.setPen(Qt.PenStyle.NoPen)
        if lod < 0.3:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setBrush(colours["body"])
            painter.drawRect(body)
            painter.setBrush(self.colour)
            painter.drawRect(QRectF(0, 0, NODE_WIDTH, self._far_header(lod)))
            self._paint_outline(painter, body, self.colour)
            self._paint_far_title(painter, lod)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.is_block:
            self._paint_stack(painter, body, colours)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours["body"])
        painter.drawRoundedRect(body, CORNER, CORNER)
        painter.setBrush(self.colour)
        painter.drawPath(_header_path())
        far = lod < DETAIL_ZOOM
        if far:
            painter.drawRect(
                QRectF(
                    0,
                    HEADER_HEIGHT - CORNER,
                    NODE_WIDTH,
                    self._far_header(lod) - HEADER_HEIGHT + CORNER,
                )
            )
        if self.gradient_level is not None:
            top = self._far_header(lod) if far else HEADER_HEIGHT
            painter.setBrush(gradient_colour(self.gradient_level))
            painter.drawRect(QRectF(0, top, NODE_WIDTH, 4))
        if far:
            self._paint_far_title(painter, lod)
        else:
            self._paint_text(painter, colours)
        self._paint_outline(painter, body, self.colour)
        self._paint_ports(painter)
        if self.badge_severity is not None:
            self._paint_badge(painter)

    def _paint_stack(self, painter: QPainter, body: QRectF, colours: dict[str, QColor]) -> None:
        """A block node: a second card behind the body, and a double border."""
        painter.setBrush(colours["body"])
        painter.setPen(QPen(self.colour.darker(130), 1.0))
        painter.drawRoundedRect(body.translated(STACK, STACK), CORNER, CORNER)

    def _paint_ports(self, painter: QPainter) -> None:
        for port in self.inputs + self.outputs:
            painter.setPen(QPen(port.colour.darker(140), 1.5))
            painter.setBrush(style.theme()["body"] if port.optional else port.colour)
            painter.drawEllipse(port.pos(), PORT_RADIUS, PORT_RADIUS)

    def _paint_text(self, painter: QPainter, colours: dict[str, QColor]) -> None:
        fonts = _fonts()
        painter.setFont(fonts["title"])
        painter.setPen(QColor("white"))
        painter.drawText(
            QRectF(10, 0, NODE_WIDTH - 20, HEADER_HEIGHT),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            self._elided(self.title, "title", NODE_WIDTH - 20),
        )
        painter.setFont(fonts["small"])
        count = f"{format_count(self.param_count)} params" if self.param_count else ""
        line = QRectF(10, HEADER_HEIGHT + 2, NODE_WIDTH - 20, SUMMARY_HEIGHT)
        if count:
            painter.setPen(colours["muted"])
            painter.drawText(
                line, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, count
            )
        room = NODE_WIDTH - 24 - (self._metrics("small").horizontalAdvance(count) if count else 0)
        painter.setPen(colours["text"])
        painter.drawText(
            QRectF(10, HEADER_HEIGHT + 2, room, SUMMARY_HEIGHT),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            self._elided(self.summary, "small", room),
        )
        painter.setPen(colours["muted"])
        half = NODE_WIDTH / 2 - 14
        left = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft
        right = Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight
        for port in self.inputs:
            rect = QRectF(12, port.pos().y() - PORT_ROW / 2, half, PORT_ROW)
            painter.drawText(rect, left, self._elided(port.caption, "small", half))
        for port in self.outputs:
            rect = QRectF(NODE_WIDTH - 12 - half, port.pos().y() - PORT_ROW / 2, half, PORT_ROW)
            painter.drawText(rect, right, self._elided(port.caption, "small", half))

    def _far_header(self, lod: float) -> float:
        return header_height(lod, HEADER_HEIGHT, self.height)

    def _paint_far_title(self, painter: QPainter, lod: float) -> None:
        """Zoomed far out: the title at a fixed on-screen size in the grown title bar."""
        short = self.title == self.spec.title  # a type's title (not a label) may be shortened
        box = (NODE_WIDTH, self._far_header(lod))
        self.far_title.paint(painter, self.title, short, lod, box)

    @staticmethod
    def _metrics(font: str) -> QFontMetricsF:
        _fonts()  # makes the metrics on first use
        return _METRICS[font]

    def _elided(self, text: str, font: str, width: float) -> str:
        return self._metrics(font).elidedText(text, Qt.TextElideMode.ElideRight, width)

    def _paint_outline(self, painter: QPainter, body: QRectF, colour: QColor) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if self.highlighted:
            painter.setPen(QPen(QColor("#f5c211"), 3.5))
        elif self.isSelected():
            painter.setPen(QPen(style.theme()["selection"], 2.5))
        elif self.badge_severity is Severity.ERROR:
            painter.setPen(QPen(style.severity_colour(self.badge_severity), 2.0))
        else:
            painter.setPen(QPen(colour.darker(130), 1.0))
        painter.drawRoundedRect(body, CORNER, CORNER)
        if self.is_block:  # the double border of a block
            painter.setPen(QPen(colour.darker(130), 1.0))
            painter.drawRoundedRect(body.adjusted(3, 3, -3, -3), CORNER - 2, CORNER - 2)

    def _paint_badge(self, painter: QPainter) -> None:
        centre = QPointF(NODE_WIDTH - 2, -2)
        painter.setPen(QPen(QColor("white"), 1.5))
        painter.setBrush(style.severity_colour(self.badge_severity or Severity.WARNING))
        painter.drawEllipse(centre, 8, 8)
        painter.setFont(_fonts()["badge"])
        painter.drawText(
            QRectF(centre.x() - 8, centre.y() - 8, 16, 16), Qt.AlignmentFlag.AlignCenter, "!"
        )


def gradient_colour(norm: float) -> QColor:
    """Blue for vanishing, green for healthy, red for exploding gradient norms (log scale)."""
    level = max(-6.0, min(2.0, math.log10(max(norm, 1e-12))))
    hue = int(240 - (level + 6.0) / 8.0 * 240)
    return QColor.fromHsv(max(0, min(240, hue)), 200, 220)


_HEADER: list[QPainterPath] = []


def _header_path() -> QPainterPath:
    """The title bar: rounded at the top, square at the bottom (made once)."""
    if not _HEADER:
        header = QPainterPath()
        header.setFillRule(Qt.FillRule.WindingFill)
        header.addRoundedRect(QRectF(0, 0, NODE_WIDTH, HEADER_HEIGHT), CORNER, CORNER)
        header.addRect(QRectF(0, HEADER_HEIGHT - CORNER, NODE_WIDTH, CORNER))
        _HEADER.append(header.simplified())
    return _HEADER[0]


_FONTS: dict[str, QFont] = {}
_METRICS: dict[str, QFontMetricsF] = {}


def _fonts() -> dict[str, QFont]:
    """Fonts made once (creating a QFont per paint is measurable with 500 nodes); their
    metrics go to ``_METRICS`` at the same time."""
    if not _FONTS:
        _FONTS["title"] = style.small_font(0.0, bold=True)
        _FONTS["small"] = style.small_font(-1.0)
        _FONTS["badge"] = style.small_font(-1.0, bold=True)
        _METRICS["title"] = QFontMetricsF(_FONTS["title"])
        _METRICS["small"] = QFontMetricsF(_FONTS["small"])
    return _FONTS
