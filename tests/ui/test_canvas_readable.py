"""The canvas a new user can work with: Esc cancels a wire drag; Fit View keeps wires readable;
wires go around nodes rather than through them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ui_driver import digits_document, show_document, view_point

from app.ui.canvas.edge_item import LABEL_MIN_ZOOM, EdgeItem
from app.ui.canvas.view import FIT_MARGIN

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

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


def passes_through(path, rect) -> bool:
    n = 400
    return any(rect.contains(path.pointAtPercent(i / n)) for i in range(1, n))


def crossings(window) -> list[tuple[str, str]]:
    """(wire, node) pairs where a drawn wire runs through a node that is not one of its ends."""
    found = []
    for edge in window.scene.edge_items():
        ends = {edge.src.node_id, edge.dst.node_id}
        for node in window.scene.node_items():
            if node.node_id not in ends and passes_through(edge.path(), node.body_rect()):
                found.append((f"{edge.src.node_id}->{edge.dst.node_id}", node.node_id))
    return found


def test_a_wire_goes_around_a_node_in_its_way(window) -> None:
    doc = digits_document()
    loss = doc.nodes["cross_entropy_loss_1"].position
    source = doc.nodes["linear_2"].position
    doc.move_nodes(
        {"cross_entropy_loss_1": (loss[0], source[1]), "output_1": (loss[0] + 400, source[1])}
    )
    show_document(window, doc)
    edge = next(
        e
        for e in window.scene.edge_items()
        if (e.src.node_id, e.dst.node_id) == ("linear_2", "output_1")
    )
    loss_item = window.scene.node_item("cross_entropy_loss_1")
    assert not passes_through(edge.path(), loss_item.body_rect())
    assert not crossings(window)
    loss_item.setPos(loss_item.pos() + QPointF(0, 600))  # out of the way: the wire goes straight
    QApplication.processEvents()
    assert not edge.avoids("cross_entropy_loss_1")
    loss_item.setPos(loss_item.pos() - QPointF(0, 600))  # back in the way: around it again
    assert edge.avoids("cross_entropy_loss_1") and not crossings(window)


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.nodegrad")))
def test_examples_fit_readably_and_auto_layout_runs_no_wire_behind_a_node(
    make_window, name
) -> None:
    window = make_window(EXAMPLES / name, (1400, 860))  # the default window size
    window.view.fit_all()
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert all(shown.contains(n.sceneBoundingRect()) for n in window.scene.node_items())
    graph = QRectF()
    for item in window.scene.node_items():
        graph = graph.united(item.sceneBoundingRect())
    if graph.width() * LABEL_MIN_ZOOM < window.view.viewport().width() - 2 * FIT_MARGIN:
        assert window.view.zoom() >= LABEL_MIN_ZOOM  # it fits readably: wire shapes are drawn
    window.actions_by_name["actionAutoLayout"].trigger()
    QApplication.processEvents()
    assert not crossings(window)


def test_delete_during_a_run_says_why(window) -> None:
    show_document(window, digits_document())
    before = window.document.to_dict()
    window.set_editing_locked(True, "training is running")
    window.scene.node_item("relu_1").setSelected(True)
    window.view.setFocus()
    window.statusBar().clearMessage()
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert window.document.to_dict() == before
    assert window.statusBar().currentMessage() == "Edit refused: training is running"
    window.set_editing_locked(False)
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    assert "relu_1" not in window.document.nodes
