"""Undo and redo show the graph where the edit was made: an edit inside a block undone from the
graph opens that block again, and an edit of the graph undone inside a block goes back out."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit
from ui_driver import select_only, type_into

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CTRL = Qt.KeyboardModifier.ControlModifier


def press(window, key: Qt.Key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """A key press on the canvas, as the user types it."""
    window.view.setFocus()
    QTest.keyClick(window.view, key, modifiers)
    QApplication.processEvents()


def label_of(window, node_id: str) -> str:
    block = window.document.blocks["residual"]
    return block.body.nodes[node_id].label


def test_undo_and_redo_open_the_block_the_edit_was_made_in(make_window) -> None:
    window = make_window(EXAMPLES / "residual_blocks.nodegrad", (1400, 900))
    scope = window.editor.scope
    scope.enter("residual_1")
    QApplication.processEvents()
    select_only(window, "relu1")
    type_into(window.inspector.findChild(QLineEdit, "edit_label"), "act")
    assert label_of(window, "relu1") == "act"
    press(window, Qt.Key.Key_Escape)  # leave the block
    assert scope.path == ()
    press(window, Qt.Key.Key_Z, CTRL)  # Undo, from the graph
    assert label_of(window, "relu1") == ""
    assert scope.path == ("residual_1",)  # the canvas shows where the edit was undone
    assert "relu1" in {i.node_id for i in window.scene.node_items()}
    window.grab().save("/tmp/ui_undo_scope.png")
    scope.up(0)
    QApplication.processEvents()
    window.actions_by_name["actionRedo"].trigger()
    assert label_of(window, "relu1") == "act" and scope.path == ("residual_1",)


def test_undoing_an_edit_of_the_graph_from_inside_a_block_goes_back_out(make_window) -> None:
    window = make_window(EXAMPLES / "residual_blocks.nodegrad", (1400, 900))
    select_only(window, "logits")
    type_into(window.inspector.findChild(QLineEdit, "edit_label"), "head")
    assert window.document.nodes["logits"].label == "head"
    window.editor.scope.enter("residual_1")
    window.actions_by_name["actionUndo"].trigger()
    assert window.document.nodes["logits"].label == ""
    assert window.editor.scope.path == ()


def test_a_training_setting_undone_inside_a_block_stays_there(make_window) -> None:
    window = make_window(EXAMPLES / "residual_blocks.nodegrad", (1400, 900))
    assert window.editor.set_setting("epochs", 3) is None
    window.editor.scope.enter("residual_1")
    window.actions_by_name["actionUndo"].trigger()
    assert window.document.training.epochs != 3
    assert window.editor.scope.path == ("residual_1",)
