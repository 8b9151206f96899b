"""Block edits through the window: Ctrl+G, double-click, editing inside, the breadcrumb, undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from ui_driver import LEFT, digits_document, show_document, view_point

from app.graph.mutations import SetLabel, SetParam

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def click_node(window, node_id: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    """Click a node's title (with ``modifier`` held: Ctrl adds it to the selection)."""
    item = window.scene.node_item(node_id)
    point = view_point(window, item.pos() + QPointF(60, 12))
    QTest.mouseClick(window.view.viewport(), LEFT, modifier, point)
    QApplication.processEvents()


def double_click_node(window, node_id: str) -> None:
    item = window.scene.node_item(node_id)
    point = view_point(window, item.pos() + QPointF(60, 12))
    QTest.mouseDClick(window.view.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, point)
    QApplication.processEvents()


def key(window, k: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    window.view.setFocus()
    QTest.keyClick(window.view, k, modifiers)
    QApplication.processEvents()


def shown(window) -> set[str]:
    return {item.node_id for item in window.scene.node_items()}


@pytest.fixture
def digits(window):
    show_document(window, digits_document())
    window.activateWindow()
    return window


def group_by_keys(window, ids: list[str]) -> str:
    """Select ``ids`` by clicking (Ctrl for the rest) and press Ctrl+G; the block node's id."""
    click_node(window, ids[0])
    for node_id in ids[1:]:
        click_node(window, node_id, CTRL)
    assert set(window.scene.selected_node_ids()) == set(ids)
    key(window, Qt.Key.Key_G, CTRL)
    (block_id,) = window.scene.selected_node_ids()
    assert window.editor.graph.nodes[block_id].block is not None
    return block_id


def test_ctrl_g_groups_the_selection_and_undo_redo_are_one_step(digits) -> None:
    original = digits.document.to_dict()
    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    assert "Grouped 2 nodes into block 'block'" in digits.statusBar().currentMessage()
    assert shown(digits) == set(digits.document.nodes) and "linear_1" not in shown(digits)
    assert digits.scene.node_item(block_id).summary == "2 nodes"  # used once, not repeated
    assert digits.scene.node_item(block_id).is_block  # drawn as a stack, not as a layer
    grouped = digits.document.to_dict()
    key(digits, Qt.Key.Key_Z, CTRL)
    assert digits.document.to_dict() == original and shown(digits) == set(original_ids(original))
    key(digits, Qt.Key.Key_Z, CTRL | SHIFT)
    assert digits.document.to_dict() == grouped and block_id in shown(digits)


def original_ids(data: dict) -> list[str]:
    return [n["id"] for n in data["nodes"]]


def test_group_is_enabled_only_with_a_selection_and_ungroup_only_on_a_block(digits) -> None:
    actions = digits.actions_by_name
    digits.scene.clearSelection()
    assert not actions["actionGroup"].isEnabled()
    click_node(digits, "linear_1")
    assert actions["actionGroup"].isEnabled()
    assert not actions["actionUngroup"].isEnabled()
    assert not actions["actionOpenBlock"].isEnabled()
    assert not actions["actionLeaveBlock"].isEnabled()
    digits.edit_ops.blocks.ungroup()  # refused with a reason, not silently
    assert "select one block node" in digits.statusBar().currentMessage()


def test_a_block_with_two_uses_changes_both_when_edited_inside(digits) -> None:
    first = group_by_keys(digits, ["linear_1", "relu_1"])
    key(digits, Qt.Key.Key_C, CTRL)
    key(digits, Qt.Key.Key_V, CTRL)
    (second,) = digits.scene.selected_node_ids()
    assert second != first
    assert digits.document.nodes[second].block is digits.document.nodes[first].block
    digits.validate_now()
    assert digits.scene.node_item(first).uses == 2
    assert "used 2×" in digits.scene.node_item(second).summary
    before = digits.document.to_dict()
    double_click_node(digits, first)
    assert digits.editor.scope.path == (first,)
    assert digits.breadcrumb.texts() == ["Graph", "block"]
    digits.editor.set_param("linear_1", "units", 32)  # as the inspector does
    assert digits.undo_stack.undoText() == "Set Units of 'linear_1' to 32 in 'block'"
    digits.validate_now()
    assert digits.validation.param_counts[first] == 64 * 32 + 32
    inside_second = digits.document.nodes[second].block.body  # type: ignore[union-attr]
    assert inside_second.nodes["linear_1"].params["units"] == 32
    QTest.mouseClick(digits.breadcrumb.crumbs[0], LEFT)
    assert digits.editor.scope.path == () and first in shown(digits)
    key(digits, Qt.Key.Key_Z, CTRL)
    assert digits.document.to_dict() == before


def test_make_unique_splits_one_use_off(digits) -> None:
    first = group_by_keys(digits, ["linear_1", "relu_1"])
    key(digits, Qt.Key.Key_C, CTRL)
    key(digits, Qt.Key.Key_V, CTRL)
    (second,) = digits.scene.selected_node_ids()
    assert digits.actions_by_name["actionMakeUnique"].isEnabled()
    digits.actions_by_name["actionMakeUnique"].trigger()
    assert digits.document.nodes[second].block.name == "block_2"  # type: ignore[union-attr]
    assert digits.undo_stack.undoText().startswith("Make block")
    digits.editor.scope.enter(first)
    digits.editor.set_param("linear_1", "units", 8)
    digits.editor.scope.up()
    digits.validate_now()
    assert digits.validation.param_counts[first] != digits.validation.param_counts[second]
    assert digits.scene.node_item(first).uses == 1
    digits.scene.clearSelection()
    click_node(digits, first)
    assert not digits.actions_by_name["actionMakeUnique"].isEnabled()  # used once already
    digits.undo_stack.undo()
    digits.undo_stack.undo()
    assert digits.document.nodes[second].block is digits.document.nodes[first].block


def test_ctrl_shift_g_ungroups_and_undo_brings_the_block_back(digits) -> None:
    original = digits.document.to_dict()
    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    grouped = digits.document.to_dict()
    key(digits, Qt.Key.Key_G, CTRL | SHIFT)
    assert set(digits.scene.selected_node_ids()) == {"linear_1", "relu_1"}
    assert block_id not in digits.document.nodes and not digits.document.blocks
    assert {e.dst for e in digits.document.edges} >= {"linear_1", "relu_1"}
    assert digits.document.to_dict()["edges"] == original["edges"]
    key(digits, Qt.Key.Key_Z, CTRL)
    assert digits.document.to_dict() == grouped


def test_enter_opens_the_selected_block_and_alt_up_or_backspace_leave(digits) -> None:
    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    key(digits, Qt.Key.Key_Return)
    assert digits.editor.scope.path == (block_id,)
    assert shown(digits) == {"linear_1", "relu_1", "x", "y"}
    key(digits, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert digits.editor.scope.path == ()
    key(digits, Qt.Key.Key_Return)
    digits.scene.clearSelection()
    key(digits, Qt.Key.Key_Backspace)
    assert digits.editor.scope.path == () and block_id in digits.document.nodes


def test_a_nested_block_shows_every_level_in_the_breadcrumb(digits) -> None:
    inner = group_by_keys(digits, ["linear_1", "relu_1"])
    outer = group_by_keys(digits, [inner, "linear_2"])
    double_click_node(digits, outer)
    double_click_node(digits, inner)
    assert digits.editor.scope.path == (outer, inner)
    assert digits.breadcrumb.texts() == ["Graph", "block_2", "block"]
    digits.editor.add_node("tanh", QPointF(0, 300))
    assert digits.undo_stack.undoText() == "Add Tanh in 'block'"
    QTest.mouseClick(digits.breadcrumb.crumbs[1], LEFT)
    assert digits.editor.scope.path == (outer,)
    key(digits, Qt.Key.Key_Escape)
    assert digits.editor.scope.path == ()


def test_deleting_the_open_block_from_undo_shows_the_graph(digits) -> None:
    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    digits.edit_ops.delete_selection()
    key(digits, Qt.Key.Key_Z, CTRL)
    double_click_node(digits, block_id)
    key(digits, Qt.Key.Key_Z, CTRL | SHIFT)  # redo the delete while inside it
    assert digits.editor.scope.path == () and digits.breadcrumb.isHidden()
    assert shown(digits) == set(digits.document.nodes)


def test_a_port_caption_shows_on_the_block_node_and_its_port_node(digits) -> None:
    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    digits.editor.scope.enter(block_id)
    digits.editor.push(SetLabel("x", "features"))
    assert digits.scene.node_item("x").title == "In: features"
    digits.editor.scope.up()
    port = digits.scene.node_item(block_id).port("x", False)
    assert port is not None and port.caption == "features"
    digits.editor.push(SetParam(block_id, "repeat", 3))
    assert "×3" in digits.scene.node_item(block_id).summary


def test_a_problem_inside_a_block_marks_it_and_a_click_opens_it(digits) -> None:
    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    digits.editor.scope.enter(block_id)
    digits.editor.delete([], [digits.editor.graph.input_edge("linear_1", "x")])
    digits.editor.scope.up()
    digits.validate_now()
    assert digits.scene.node_item(block_id).badge_severity is not None
    panel = digits.problems
    row = next(r for r in panel.rows() if "linear_1" in r.text(2))
    rect = panel.visualItemRect(row)
    QTest.mouseClick(panel.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, rect.center())
    QApplication.processEvents()
    assert digits.editor.scope.path == (block_id,)
    assert digits.scene.selected_node_ids() == ["linear_1"]
    assert digits.scene.node_item("linear_1").badge_severity is not None
    assert digits.scene.node_item("relu_1").badge_severity is not None  # not reachable


def test_pasting_a_block_into_another_document_copies_its_definition(digits) -> None:
    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    key(digits, Qt.Key.Key_C, CTRL)
    digits.actions_by_name["actionNew"].trigger()
    assert not digits.document.blocks
    key(digits, Qt.Key.Key_V, CTRL)
    (pasted,) = digits.scene.selected_node_ids()
    assert set(digits.document.blocks) == {"block"} and pasted.startswith("block")
    assert digits.undo_stack.count() == 1
    assert "and block block" in digits.undo_stack.undoText()
    key(digits, Qt.Key.Key_Z, CTRL)
    assert not digits.document.blocks and not digits.document.nodes
    assert block_id  # the copied node's id is not reused: the pasted one is fresh


def test_the_right_click_menu_of_a_block_node_opens_and_ungroups_it(digits) -> None:
    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    point = view_point(digits, digits.scene.node_item(block_id).pos() + QPointF(60, 12))
    names = [a.objectName() for a in digits.view.context_menu(point).actions()]
    assert {"actionOpenBlock", "actionUngroup"} <= set(names)
    assert "actionMakeUnique" not in names  # used once: nothing to split off
    digits.editor.scope.enter(block_id)
    empty = view_point(digits, QPointF(-600, 600))
    names = [a.objectName() for a in digits.view.context_menu(empty).actions()]
    assert "actionLeaveBlock" in names


def test_escape_during_a_wire_drag_inside_a_block_cancels_the_wire_only(digits) -> None:
    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    key(digits, Qt.Key.Key_Return)
    before = digits.document.to_dict()
    src = digits.scene.node_item("x").port("y", True)
    viewport = digits.view.viewport()
    start = view_point(digits, src.centre())
    QTest.mousePress(viewport, LEFT, Qt.KeyboardModifier.NoModifier, start)
    for i in range(1, 4):
        QTest.mouseMove(viewport, start + QPoint(0, 30 * i))
    assert digits.view._wire is not None
    QTest.keyClick(digits.view, Qt.Key.Key_Escape)
    QTest.mouseRelease(viewport, LEFT, Qt.KeyboardModifier.NoModifier, start + QPoint(0, 90))
    QApplication.processEvents()
    assert digits.editor.scope.path == (block_id,)  # still inside: Esc ended the wire
    assert digits.document.to_dict() == before
    key(digits, Qt.Key.Key_Escape)  # a second Esc leaves the block
    assert digits.editor.scope.path == ()


def test_a_wire_from_a_block_input_takes_the_colour_of_what_it_feeds(digits) -> None:
    from app.graph.specs import PortKind
    from app.ui import style

    block_id = group_by_keys(digits, ["linear_1", "relu_1"])
    digits.editor.scope.enter(block_id)
    wire = next(e for e in digits.scene.edge_items() if e.edge is not None and e.edge.src == "x")
    assert wire.src.kind is PortKind.ANY
    assert wire.colour == style.port_colour(PortKind.TENSOR)
    assert style.port_colour(PortKind.ANY) != style.port_colour(PortKind.TENSOR)
