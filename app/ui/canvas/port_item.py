"""A port: the small coloured circle on a node's side that wires attach to.

The node paints its ports' circles itself (one paint call per node, not per port); the port item
only draws while it is hovered or offered as a snap target, so 500 nodes stay cheap to paint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from app.graph.specs import PortKind
from app.ui import style

if TYPE_CHECKING:
    from app.ui.canvas.node_item import NodeItem

PORT_RADIUS = 5.5
_NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents
_CROSS = Qt.CursorShape.CrossCursor


class PortItem(QGraphicsItem):
    """One input or output port of a node, coloured by its kind.

    Parameters
    ----------
    node : NodeItem
        The node the port belongs to (also its parent item).
    name : str
        The port name of the node spec.
    kind : PortKind
        The ``PortKind`` of the port; it picks the colour.
    is_output : bool
        Outputs sit on the right side, inputs on the left.
    optional : bool
        Optional inputs are drawn hollow.
    help_text : str
        The port's help, shown in its tooltip.
    caption : str
        The name people read (a block port's caption); ``name`` when empty.
    """

    def __init__(
        self,
        node: NodeItem,
        name: str,
        kind: PortKind,
        is_output: bool,
        optional: bool = False,
        help_text: str = "",
        caption: str = "",
    ) -> None:
        super().__init__(node)
        self.node = node
        self.name = name
        self.caption = caption or name
        self.kind = kind
        self.is_output = is_output
        self.optional = optional
        self.colour = style.port_colour(kind)
        self._hovered = False
        self._snap_target = False
        self.setFlag(_NO_CONTENTS, True)
        self.setAcceptHoverEvents(True)
        self.setCursor(_CROSS)
        self.setZValue(2)
        kind_name = str(getattr(kind, "name", kind)).lower()
        side = "output" if is_output else "input"
        tip = f"{self.caption} ({kind_name} {side})"
        said = help_text[:1].upper() + help_text[1:]  # the spec's phrase, read as a sentence
        self.setToolTip(f"{tip}\n{said}" if help_text else tip)

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
            self._refresh()

    def _refresh(self) -> None:
        self.setFlag(_NO_CONTENTS, not (self._hovered or self._snap_target))
        self.update()

    def boundingRect(self) -> QRectF:
        """A square a little larger than the circle, so it is easy to grab."""
        return _BOUNDS

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        """Draw the enlarged circle of a hovered port or a snap target."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self._snap_target:
            painter.setPen(QPen(style.selection_colour(), 2.5))
        else:
            painter.setPen(QPen(self.colour.darker(140), 1.5))
        painter.setBrush(QBrush(self.colour))
        painter.drawEllipse(QPointF(0, 0), PORT_RADIUS + 2.0, PORT_RADIUS + 2.0)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        """Grow the circle under the mouse."""
        self._hovered = True
        self._refresh()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        """Shrink back."""
        self._hovered = False
        self._refresh()


_BOUNDS = QRectF(-PORT_RADIUS - 4, -PORT_RADIUS - 4, 2 * PORT_RADIUS + 8, 2 * PORT_RADIUS + 8)
