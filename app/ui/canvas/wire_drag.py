"""Dragging a new wire from a port: the loose wire, snapping to compatible ports, the drop."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QLineF, QPointF, QRectF

from app.ui.canvas.edge_item import EdgeItem, wire_path
from app.ui.canvas.port_item import PortItem

if TYPE_CHECKING:
    from app.ui.canvas.scene import GraphScene
    from app.ui.editor import Editor

SNAP_DISTANCE = 24.0


def oriented(a: PortItem, b: PortItem) -> tuple[PortItem, PortItem]:
    """The pair as (output, input), whichever end the drag started from."""
    return (a, b) if a.is_output else (b, a)


class WireDrag:
    """One wire drag in progress, from the press on ``anchor`` to the release.

    Parameters
    ----------
    scene : GraphScene
        The canvas scene (the loose wire is added to it).
    editor : Editor
        Answers whether a connection is allowed and performs it.
    anchor : PortItem
        The port the drag started from (an output or an input).
    detached : Edge or None
        When the drag picked up an existing wire by its input end: that wire. It is hidden
        while dragging; dropping it on another input moves it, on empty canvas removes it.
    """

    def __init__(
        self, scene: GraphScene, editor: Editor, anchor: PortItem, detached: Any = None
    ) -> None:
        self.scene = scene
        self.editor = editor
        self.anchor = anchor
        self.detached = detached
        self.target: PortItem | None = None
        self._verdicts: dict[int, str | None] = {}
        self.wire = EdgeItem(anchor, None) if anchor.is_output else _ReverseWire(anchor)
        scene.addItem(self.wire)
        self._hidden = scene.edge_item(detached) if detached is not None else None
        if self._hidden is not None:
            self._hidden.setVisible(False)

    def _is_origin(self, port: PortItem) -> bool:
        """Whether ``port`` is the input the picked-up wire came from."""
        d = self.detached
        return d is not None and (port.node_id, port.name) == (d.dst, d.dst_port)

    def reason(self, port: PortItem) -> str | None:
        """Why the anchor cannot be wired to ``port`` (None when it can); cached per drag."""
        key = id(port)
        if key not in self._verdicts:
            if port.is_output == self.anchor.is_output:
                side = "outputs" if port.is_output else "inputs"
                self._verdicts[key] = f"Cannot connect two {side}"
            elif self._is_origin(port):
                self._verdicts[key] = None
            elif port.node is self.anchor.node:
                self._verdicts[key] = "Cannot connect a node to itself"
            else:
                src, dst = oriented(self.anchor, port)
                self._verdicts[key] = self.editor.connect_reason(src, dst)
        return self._verdicts[key]

    def move_to(self, point: QPointF) -> None:
        """Follow the mouse; snap to the nearest compatible port within reach."""
        best: PortItem | None = None
        best_distance = SNAP_DISTANCE
        area = QRectF(
            point.x() - SNAP_DISTANCE,
            point.y() - SNAP_DISTANCE,
            2 * SNAP_DISTANCE,
            2 * SNAP_DISTANCE,
        )
        for item in self.scene.items(area):
            if isinstance(item, PortItem) and self.reason(item) is None:
                distance = QLineF(item.centre(), point).length()
                if distance < best_distance:
                    best, best_distance = item, distance
        if best is not self.target:
            if self.target is not None:
                self.target.set_snap_target(False)
            if best is not None:
                best.set_snap_target(True)
            self.target = best
        self.wire.set_free_end(best.centre() if best is not None else point)

    def port_under(self, point: QPointF) -> PortItem | None:
        """Any port (compatible or not) under ``point``."""
        for item in self.scene.items(point):
            if isinstance(item, PortItem):
                return item
        return None

    def finish(self, point: QPointF) -> tuple[str, Any]:
        """End the drag; returns ``("connected", None)``, ``("refused", reason)``,
        ``("unchanged", None)``, ``("removed", None)`` (a picked-up wire dropped on empty
        canvas) or ``("empty", anchor)`` when a new wire was dropped on empty canvas."""
        self.cancel()
        if self.target is not None:
            if self._is_origin(self.target):
                return "unchanged", None
            src, dst = oriented(self.anchor, self.target)
            done = (
                self.editor.move_wire(self.detached, src, dst)
                if self.detached is not None
                else self.editor.connect_ports(src, dst)
            )
            return ("connected", None) if done else ("refused", None)
        port = self.port_under(point)
        if port is not None:
            reason = self.reason(port) or "These ports cannot be connected"
            self.editor.refuse_wire(reason)
            return "refused", reason
        if any(not isinstance(i, EdgeItem) for i in self.scene.items(point)):
            return "unchanged", None
        if self.detached is not None:
            self.editor.remove_wire(self.detached)
            return "removed", None
        return "empty", self.anchor

    def cancel(self) -> None:
        """Remove the loose wire and the snap highlight; show a picked-up wire again."""
        if self.target is not None:
            self.target.set_snap_target(False)
        if self.wire.scene() is not None:
            self.scene.removeItem(self.wire)
        if self._hidden is not None and self._hidden.scene() is not None:
            self._hidden.setVisible(True)


class _ReverseWire(EdgeItem):
    """A loose wire dragged backwards from an input: its fixed end is the input port."""

    def __init__(self, anchor: PortItem) -> None:
        self._anchor_port = anchor
        super().__init__(anchor, None)

    def adjust(self, reroute: bool = True) -> None:
        """Draw from the mouse (an output to be) into the anchored input."""
        self.prepareGeometryChange()
        self._path = wire_path(self._free_end, self._anchor_port.centre())
        self._label_rect = QRectF()
        self._bounds = self._path.controlPointRect().adjusted(-6, -6, 6, 6)
