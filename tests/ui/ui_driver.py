"""Drive the editor like a person: palette adds, port-to-port mouse drags, inspector typing."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTreeWidgetItem

LEFT = Qt.MouseButton.LeftButton


def view_point(window, scene_point: QPointF) -> QPoint:
    """A scene point in the canvas viewport's coordinates."""
    return window.view.mapFromScene(scene_point)


def palette_item(window, type_id: str) -> QTreeWidgetItem:
    """The palette entry of ``type_id``."""
    for item in window.node_palette.entries():
        if item.data(0, Qt.ItemDataRole.UserRole) == type_id:
            return item
    raise KeyError(type_id)


def add_by_palette(window, type_id: str) -> str:
    """Double-click the palette entry; returns the id of the node that appeared."""
    before = set(window.document.nodes)
    window.node_palette.search.clear()
    tree = window.node_palette.tree
    item = palette_item(window, type_id)
    tree.scrollToItem(item)
    centre = tree.visualItemRect(item).center()
    QTest.mouseClick(tree.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, centre)
    QTest.mouseDClick(tree.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, centre)
    (new,) = set(window.document.nodes) - before
    return new


def add_by_search(window, text: str) -> str:
    """Type into the palette search and press Enter; returns the new node's id."""
    before = set(window.document.nodes)
    search = window.node_palette.search
    search.setFocus()
    search.clear()
    QTest.keyClicks(search, text)
    QTest.keyClick(search, Qt.Key.Key_Return)
    (new,) = set(window.document.nodes) - before
    return new


def move_node(window, node_id: str, scene_pos: QPointF) -> None:
    """Drag a node by its title bar so that its top-left lands near ``scene_pos``."""
    item = window.scene.node_item(node_id)
    grab = QPointF(40, 12)
    viewport = window.view.viewport()
    start = view_point(window, item.pos() + grab)
    end = view_point(window, scene_pos + grab)
    QTest.mousePress(viewport, LEFT, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 6):
        point = start + (end - start) * (i / 5)
        QTest.mouseMove(viewport, point)
    QTest.mouseRelease(viewport, LEFT, Qt.KeyboardModifier.NoModifier, end)
    QApplication.processEvents()


def drag_wire(
    window, src: tuple[str, str], dst: tuple[str, str] | None, end_scene: QPointF | None = None
) -> None:
    """Press on an output port, move in steps, release on an input port (or ``end_scene``)."""
    scene = window.scene
    src_port = scene.node_item(src[0]).port(src[1], True)
    if src_port is None:
        src_port = scene.node_item(src[0]).port(src[1], False)
    start = view_point(window, src_port.centre())
    if dst is not None:
        dst_item = scene.node_item(dst[0])
        dst_port = dst_item.port(dst[1], False) or dst_item.port(dst[1], True)
        end = view_point(window, dst_port.centre() + QPointF(3, 2))
    else:
        end = view_point(window, end_scene)
    viewport = window.view.viewport()
    QTest.mousePress(viewport, LEFT, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 8):
        QTest.mouseMove(viewport, start + (end - start) * (i / 7))
    QTest.mouseRelease(viewport, LEFT, Qt.KeyboardModifier.NoModifier, end)
    QApplication.processEvents()


def select_only(window, node_id: str) -> None:
    """Select one node by clicking it."""
    item = window.scene.node_item(node_id)
    point = view_point(window, item.pos() + QPointF(60, 12))
    QTest.mouseClick(window.view.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, point)
    QApplication.processEvents()


def type_into(widget, text: str, enter: bool = True) -> None:
    """Select all in a line edit or spin box, type ``text`` key by key and press Enter (the
    inspector applies a value on Enter, focus out or a pause; ``enter=False`` leaves it typed)."""
    widget.setFocus()
    line = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    line.selectAll()
    QTest.keyClicks(line, text)
    if enter:
        QTest.keyClick(line, Qt.Key.Key_Return)
    QApplication.processEvents()


DIGITS_WIRES = [
    (("dataset_1", "x"), ("linear_1", "x")),
    (("linear_1", "y"), ("relu_1", "x")),
    (("relu_1", "y"), ("linear_2", "x")),
    (("linear_2", "y"), ("cross_entropy_loss_1", "logits")),
    (("dataset_1", "y"), ("cross_entropy_loss_1", "target")),
    (("linear_2", "y"), ("output_1", "x")),
]


def digits_document():
    """The digits MLP built with the document API (for tests that start from a valid graph)."""
    from app.graph.document import GraphDocument

    doc = GraphDocument()
    doc.add_node("dataset", {"name": "digits"}, (-400, 0))
    doc.add_node("linear", {"units": 64}, (-140, -100))
    doc.add_node("relu", {}, (100, -100))
    doc.add_node("linear", {"units": 10}, (340, -100))
    doc.add_node("cross_entropy_loss", {}, (600, 60))
    doc.add_node("output", {}, (600, -200))
    for (src, sp), (dst, dp) in DIGITS_WIRES:
        doc.connect(src, sp, dst, dp)
    return doc


def show_document(window, doc) -> None:
    """Put ``doc`` in the window as if it had been opened, and fit the view."""
    window.replace_document(doc, None)
    window.view.fit_all()
    QApplication.processEvents()
