"""Stepping and revealing a node scroll just enough that the node and its ports are in view,
a margin from the edges; a node already in view stays where it is (no blind centring)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.ui.canvas.view import REVEAL_MARGIN


def node_on_screen(window, node_id: str) -> QRectF:
    """The viewport rectangle of a node with its ports and badge."""
    item = window.scene.node_item(node_id)
    rect = item.sceneBoundingRect().united(item.mapRectToScene(item.childrenBoundingRect()))
    return window.view.mapFromScene(rect).boundingRect().toRectF()


def inside_with_margin(window, node_id: str) -> bool:
    room = QRectF(window.view.viewport().rect()).adjusted(
        REVEAL_MARGIN - 2, REVEAL_MARGIN - 2, 2 - REVEAL_MARGIN, 2 - REVEAL_MARGIN
    )
    return room.contains(node_on_screen(window, node_id))


def put_at_right_edge(window, node_id: str) -> None:
    """Zoom in and scroll so the node's output ports hang past the right edge of the canvas."""
    view = window.view
    view.zoom_by(1.0 / view.zoom())
    item = window.scene.node_item(node_id)
    body = item.body_rect()
    half = view.viewport().width() / 2
    view.centerOn(QPointF(body.right() - half + 2, body.center().y()))
    QApplication.processEvents()
    assert not inside_with_margin(window, node_id)


def scroll(window) -> tuple[int, int]:
    return window.view.horizontalScrollBar().value(), window.view.verticalScrollBar().value()


def test_step_forward_brings_a_clipped_node_into_view(digits) -> None:
    ctrl = digits.training
    ctrl.actions.step_forward.trigger()  # the data node
    assert ctrl.overlay.highlighted == "data"
    following = "dense1"
    put_at_right_edge(digits, following)
    digits.view.setFocus()
    QTest.keyClick(digits.view, Qt.Key.Key_F10)  # Step Forward, as the user presses it
    QApplication.processEvents()
    assert ctrl.overlay.highlighted == following
    assert inside_with_margin(digits, following)
    digits.grab().save("/tmp/ui_step_reveal.png")


def test_a_node_already_in_view_is_not_moved(digits) -> None:
    digits.view.zoom_by(0.7)  # the whole graph well inside the canvas
    digits.view.centerOn(digits.scene.node_item("relu1"))
    QApplication.processEvents()
    before = scroll(digits)
    node = "data"
    assert inside_with_margin(digits, node)
    digits.reveal_node(node)
    assert scroll(digits) == before and digits.scene.node_item(node).isSelected()
    ctrl = digits.training
    ctrl.actions.step_forward.trigger()
    assert scroll(digits) == before


def test_reveal_shows_a_clipped_node_with_its_ports(digits) -> None:
    node = "relu1"
    put_at_right_edge(digits, node)
    digits.reveal_node(node)
    assert inside_with_margin(digits, node)


def test_the_gradient_legend_stays_in_its_corner_when_the_view_scrolls(digits) -> None:
    legend = digits.training.overlay.legend
    legend.show()
    corner = legend.pos()
    bar = digits.view.horizontalScrollBar()
    bar.setValue(bar.value() + 150)  # a pan, or a step scrolling the stepped node into view
    digits.view.verticalScrollBar().setValue(digits.view.verticalScrollBar().value() - 80)
    QApplication.processEvents()
    assert legend.pos() == corner
