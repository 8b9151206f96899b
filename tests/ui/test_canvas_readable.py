"""The canvas a new user can work with: Esc cancels a wire drag; Fit View keeps wires readable;
wires go around nodes rather than through them."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ui_driver import digits_document, show_document, view_point

from app.ui.canvas.edge_item import EdgeItem

LEFT = Qt.MouseButton.LeftButton
NONE = Qt.KeyboardModifier.NoModifier


def press_and_escape(window, port, over) -> None:
    """Press on ``port``, drag over ``over`` (a port), press Esc, then release there."""
    viewport = window.view.viewport()
    start = view_point(window, port.centre())
    end = view_point(window, over.centre() + QPointF(2, 1))
    QTest.mousePress(viewport, LEFT, NONE, start)
    for i in range(1, 6):
        QTest.mouseMove(viewport, start + (end - start) * (i / 5))
    assert window.view._wire is not None and window.view._wire.target is over  # it would snap
    QTest.keyClick(window.view, Qt.Key.Key_Escape)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, LEFT, NONE, end)
    QApplication.processEvents()


def loose_wires(window) -> list[EdgeItem]:
    return [i for i in window.scene.items() if isinstance(i, EdgeItem) and i.dst is None]


def test_escape_cancels_a_new_wire(window) -> None:
    show_document(window, digits_document())
    doc = window.document
    doc.disconnect("linear_2", "y", "output_1", "x")
    before = doc.to_dict()
    steps = window.undo_stack.count()
    scene = window.scene
    src = scene.node_item("linear_2").port("y", True)
    dst = scene.node_item("output_1").port("x", False)
    window.view.setFocus()
    press_and_escape(window, src, dst)
    assert doc.to_dict() == before and window.undo_stack.count() == steps
    assert not loose_wires(window)
    assert not window.view.quick_add.isVisible()
    assert window.statusBar().currentMessage() == "Wire cancelled"


def test_escape_puts_a_picked_up_wire_back(window) -> None:
    show_document(window, digits_document())
    doc = window.document
    before = doc.to_dict()
    scene = window.scene
    picked = scene.node_item("relu_1").port("x", False)
    other = scene.node_item("output_1").port("x", False)
    window.view.setFocus()
    press_and_escape(window, picked, other)
    assert doc.to_dict() == before
    assert all(item.isVisible() for item in scene.edge_items())
    assert not loose_wires(window)
