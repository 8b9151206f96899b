"""A port: the small coloured circle on a node's side that wires attach to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from app.ui import style

if TYPE_CHECKING:
    from app.ui.canvas.node_item import NodeItem

PORT_RADIUS = 5.5


class PortItem(QGraphicsItem):
    """One input or output port of a node, coloured by its kind.

    Parameters
    ----------
    node : NodeItem
        The node the port belongs to (also its parent item).
    name : str
        The port name of the node spec.
    kind : object
        The ``PortKind`` of the port; it picks the colour.
    is_output : bool
        Outputs sit on the right side, inputs on the left.
    optional : bool
        Optional inputs are drawn hollow.
    """

    def __init__(
        self,
        node: NodeItem,
        name: str,
        kind: object,
        is_output: bool,
        optional: bool = False,
        help_text: str = "",
    ) -> None:
        super().__init__(node)
        self.node = node
        self.name = name
        self.kind = kind
        self.is_output = is_output
        self.optional = optional
        self._hovered = False
        self._snap_target = False
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(2)
        kind_name = str(getattr(kind, "name", kind)).lower()
        side = "output" if is_output else "input"
        tip = f"{name} ({kind_name} {side})"
        self.setToolTip(f"{tip}\n{help_text}" if help_text else tip)

    @property
    def node_id(self) -> str:
        """The id of the node that owns this port."""
        return self.node.node_id

    def centre(self) -> QPointF:
        """The scene position wires attach to."""
        return self.scenePos()

    def set_snap_target(self, on: bool) -> None:
        """Show (or stop showing) that a wire being dragged would snap here."""
        if on != self._snap_target:
            self._snap_target = on
            self.update()

    def boundingRect(self) -> QRectF:
        """A square a little larger than the circle, so it is easy to grab."""
        r = PORT_RADIUS + 4
        return QRectF(-r, -r, 2 * r, 2 * r)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """Draw the port circle; larger while hovered or offered as a snap target."""
        colour = style.port_colour(self.kind)
        r = PORT_RADIUS + (2.0 if self._hovered or self._snap_target else 0.0)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(colour.darker(140), 1.5)
        if self._snap_target:
            pen = QPen(style.selection_colour(), 2.5)
        painter.setPen(pen)
        painter.setBrush(QBrush(style.node_body_colour() if self.optional else colour))
        painter.drawEllipse(QPointF(0, 0), r, r)

    def hoverEnterEvent(self, event: object) -> None:
        """Grow the circle under the mouse."""
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event: object) -> None:
        """Shrink back."""
        self._hovered = False
        self.update()
