"""Palette, inspector, problems and quick-add, driven through their widgets."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ui_driver import (
    add_by_palette,
    digits_document,
    drag_wire,
    select_only,
    show_document,
    type_into,
    view_point,
)

from app.ui.canvas.view import NODE_MIME


def drop_type(window, type_id: str, scene_point: QPointF) -> None:
    """Deliver a palette drag's drop at a scene point of the canvas."""
    data = QMimeData()
    data.setData(NODE_MIME, type_id.encode())
    pos = QPointF(view_point(window, scene_point))
    event = QDropEvent(
        pos,
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.view.dropEvent(event)


def test_palette_search_filters_and_enter_adds(window) -> None:
    search = window.node_palette.search
    QTest.keyClicks(search, "relu")
    assert set(window.node_palette.visible_type_ids()) == {"relu", "leaky_relu"}
    QTest.keyClick(search, Qt.Key.Key_Return)
    assert [n.type_id for n in window.document.nodes.values()] == ["relu"]
    QTest.keyClick(search, Qt.Key.Key_Return)
    first, second = (item.body_rect() for item in window.scene.node_items())
    assert not first.intersects(second)  # repeated adds do not stack
    window.undo_stack.undo()
    search.clear()
    assert len(window.node_palette.visible_type_ids()) == len(window.node_palette.entries())
    mime = window.node_palette.tree.mimeData([window.node_palette.tree.currentItem()])
    assert bytes(mime.data(NODE_MIME)).decode() in window.node_palette.visible_type_ids()


def test_drop_from_palette_adds_and_on_a_wire_inserts(window) -> None:
    show_document(window, digits_document())
    drop_type(window, "sigmoid", QPointF(-300, 400))
    assert window.scene.node_item("sigmoid_1").body_rect().contains(QPointF(-300, 400))
    edge = next(e for e in window.document.edges if e.src == "relu_1")
    drop_type(window, "tanh", window.scene.edge_item(edge).path().pointAtPercent(0.5))
    wires = {(e.src, e.dst) for e in window.document.edges}
    assert ("relu_1", "tanh_1") in wires and ("tanh_1", "linear_2") in wires
    assert window.undo_stack.undoText() == "Insert Tanh"


def test_inspector_refuses_bad_values_in_red_and_merges_typing(window) -> None:
    show_document(window, digits_document())
    dropout = add_by_palette(window, "dropout")
    field = window.inspector.fields["p"]
    type_into(field.input, "abc")
    assert field.has_error() and "not a number" in field.error.text()
    assert window.document.nodes[dropout].params["p"] == 0.5
    type_into(field.input, "1.5")
    assert field.has_error() and field.error.text() == "Enter a number from 0 to 0.95"
    type_into(field.input, "0.25")
    assert not field.has_error()
    assert window.document.nodes[dropout].params["p"] == 0.25
    assert window.undo_stack.undoText() == f"Set P of '{dropout}' to 0.25"
    count = window.undo_stack.count()
    window.undo_stack.undo()
    assert window.document.nodes[dropout].params["p"] == 0.5
    QApplication.processEvents()
    assert field.value() == 0.5 and not field.has_error()
    select_only(window, "linear_1")
    units = window.inspector.fields["units"].input
    type_into(units, "128")
    assert window.document.nodes["linear_1"].params["units"] == 128
    assert window.undo_stack.count() == count  # "1", "12", "128": one step (redo dropped)
    window.undo_stack.undo()
    assert window.document.nodes["linear_1"].params["units"] == 64
    QApplication.processEvents()
    assert units.value() == 64


def test_nothing_selected_shows_training_settings_and_summary(window) -> None:
    show_document(window, digits_document())
    window.scene.clearSelection()
    assert window.findChild(object, "trainingSettings").isVisibleTo(window.inspector)
    rate = window.inspector.settings_fields["learning_rate"]
    type_into(rate.input, "0.05")
    assert window.document.training.learning_rate == 0.05
    type_into(rate.input, "-1")
    assert rate.has_error() and window.document.training.learning_rate == 0.05
    window.validate_now()
    summary = window.inspector.summary
    rows = [summary.topLevelItem(i) for i in range(summary.topLevelItemCount())]
    total = next(row for row in rows if row.text(0) == "Total")
    assert total.text(0) == "Total" and total.text(1) == f"{64 * 64 + 64 + 64 * 10 + 10:,}"


def test_problem_click_selects_the_node_and_scrolls_it_into_view(window) -> None:
    doc = digits_document()
    doc.disconnect("relu_1", "y", "linear_2", "x")
    doc.move_nodes({"linear_2": (2000, 1500)})
    show_document(window, doc)
    problems = window.problems
    row = next(
        problems.topLevelItem(i)
        for i in range(problems.topLevelItemCount())
        if problems.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole) == "linear_2"
    )
    rect = problems.visualItemRect(row)
    QTest.mouseClick(problems.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.scene.selected_node_ids() == ["linear_2"]
    item = window.scene.node_item("linear_2")
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert shown.contains(item.mapRectToScene(item.childrenBoundingRect()))  # with its ports
    assert window.scene.node_item("linear_2").badge_severity.name == "ERROR"


def test_quick_add_by_double_click_and_from_a_dropped_wire(window) -> None:
    show_document(window, digits_document())
    viewport = window.view.viewport()
    empty = view_point(window, QPointF(-300, 500))
    QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=empty)
    popup = window.view.quick_add
    assert popup.isVisible() and "dataset" in popup.visible_type_ids()
    QTest.keyClicks(popup.search, "sigm")
    assert popup.visible_type_ids()[0] == "sigmoid"
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    assert not popup.isVisible()
    x, y = window.document.nodes["sigmoid_1"].position
    assert abs(x + 300) <= 20 and abs(y - 500) <= 20

    drag_wire(window, ("linear_2", "y"), None, end_scene=QPointF(600, 500))
    assert popup.isVisible()
    offered = popup.visible_type_ids()
    assert "relu" in offered and "dataset" not in offered and "input" not in offered
    QTest.keyClicks(popup.search, "tanh")
    QTest.keyClick(popup.search, Qt.Key.Key_Return)
    assert ("linear_2", "y", "tanh_1", "x") in {
        (e.src, e.src_port, e.dst, e.dst_port) for e in window.document.edges
    }


def test_tab_opens_quick_add_and_escape_closes_it(window) -> None:
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    popup = window.view.quick_add
    assert popup.isVisible()
    QTest.keyClick(popup.search, Qt.Key.Key_Escape)
    assert not popup.isVisible() and window.document.nodes == {}


def test_zoom_pan_fit_and_shape_toggle(window) -> None:
    show_document(window, digits_document())
    view = window.view
    zoom = view.zoom()
    window.actions_by_name["actionZoomIn"].trigger()
    assert view.zoom() > zoom
    zoom = view.zoom()
    centre = QPointF(view.viewport().rect().center())
    wheel = QWheelEvent(
        centre,
        QPointF(view.viewport().mapToGlobal(centre.toPoint())),
        QPoint(),
        QPoint(0, -240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.zoom() < zoom
    before = view.mapToScene(QPoint(10, 10))
    viewport = view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(300, 300))
    QTest.mouseMove(viewport, QPoint(200, 250))
    QTest.mouseRelease(viewport, Qt.MouseButton.MiddleButton, pos=QPoint(200, 250))
    assert view.mapToScene(QPoint(10, 10)) != before
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_F)
    for item in window.scene.node_items():
        assert view.mapToScene(viewport.rect()).boundingRect().contains(item.sceneBoundingRect())
    edge = window.scene.edge_items()[0]
    assert edge.label and edge.show_label
    window.actions_by_name["actionShowShapes"].trigger()
    assert not edge.show_label
    QApplication.processEvents()


def test_far_away_nodes_can_be_reached(window) -> None:
    doc = digits_document()
    doc.move_nodes({"output_1": (12_000, -9_000)})
    show_document(window, doc)
    window.reveal_node("output_1")
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert shown.contains(window.scene.node_item("output_1").sceneBoundingRect())


def test_right_click_menus(window) -> None:
    show_document(window, digits_document())
    node_point = view_point(window, window.scene.node_item("relu_1").pos() + QPointF(60, 12))
    menu = window.view.context_menu(node_point)
    names = [a.objectName() for a in menu.actions() if not a.isSeparator()]
    # block edits are listed only when they apply: a layer node can be grouped, not opened
    assert names == ["actionCut", "actionCopy", "actionDuplicate", "actionDelete", "actionGroup"]
    assert window.scene.selected_node_ids() == ["relu_1"]
    empty = view_point(window, QPointF(-300, 600))
    menu = window.view.context_menu(empty)
    add = next(a for a in menu.actions() if a.objectName() == "contextAddNode")
    assert "actionPaste" in [a.objectName() for a in menu.actions()]
    add.trigger()
    assert window.view.quick_add.isVisible()


def test_double_click_a_node_edits_its_first_parameter(window) -> None:
    show_document(window, digits_document())
    point = view_point(window, window.scene.node_item("linear_2").pos() + QPointF(60, 12))
    QTest.mouseDClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert window.scene.selected_node_ids() == ["linear_2"]
    units = window.inspector.fields["units"].input
    assert units.hasFocus() or QApplication.focusWidget() in (units, units.lineEdit())


def test_momentum_shows_only_while_the_optimizer_is_sgd(window) -> None:
    show_document(window, digits_document())
    window.scene.clearSelection()
    inspector = window.inspector
    optimizer = inspector.settings_fields["optimizer"].input
    momentum = inspector.settings_fields["momentum"]
    assert window.document.training.optimizer == "adam"
    assert not momentum.widget.isVisibleTo(inspector)
    assert inspector.settings_fields["batch_size"].widget.isVisibleTo(inspector)
    optimizer.setCurrentIndex(optimizer.findText("SGD"))
    QApplication.processEvents()
    assert window.document.training.optimizer == "sgd"
    assert momentum.widget.isVisibleTo(inspector)
    type_into(momentum.input, "0.9")
    assert window.document.training.momentum == 0.9
    assert window.undo_stack.undoText() == "Set Momentum to 0.9"
    window.undo_stack.undo()
    window.undo_stack.undo()  # back to Adam: the field goes again
    QApplication.processEvents()
    assert window.document.training.optimizer == "adam"
    assert not momentum.widget.isVisibleTo(inspector)
