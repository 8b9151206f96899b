"""The inspector on block nodes: the definition's name (renamed in place, bad names refused in
red), repeat and the exposed parameters edited like any parameter, how many nodes use the
definition and "Make unique". Typed with real key events, buttons clicked; the document and its
flat graph are checked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QPushButton
from ui_driver import select_only, type_into

from app.graph import mutations as mu
from app.graph.blocks import grouping
from app.graph.blocks.flatten import flatten


def _push(window, mutation) -> None:
    assert window.editor.push(mutation) is None
    QApplication.processEvents()


@pytest.fixture
def grouped(digits):
    """The digits example with dense1 and relu1 grouped into block 'mlp' (node 'mlp_1'), its
    ``units`` shown on the block."""
    doc = digits.document
    _push(digits, grouping.group(doc, ["dense1", "relu1"], name="mlp"))
    _push(digits, grouping.expose(doc, "mlp", "dense1", "units"))
    digits.validate_now()
    select_only(digits, "mlp_1")
    assert digits.inspector.node_id == "mlp_1"
    return digits


def _box(window):
    box = window.inspector.block_box
    assert box is not None
    return box


def _second_instance(window) -> None:
    doc = window.document
    block = doc.blocks["mlp"]
    node = mu.Node("mlp_2", "block", block.instance_params({}), (300.0, 300.0), block=block)
    _push(window, mu.AddNode(node))


def test_a_block_node_shows_its_definition(grouped) -> None:
    inspector = grouped.inspector
    title = inspector.findChild(QLabel, "inspectorTitle")
    assert "Block mlp" in title.text() and "mlp_1" in title.text()
    box = _box(grouped)
    assert box.name_edit.text() == "mlp"
    assert box.uses.text().startswith("1 node:")
    assert not box.unique_button.isVisibleTo(inspector)  # one user: nothing to split
    assert box.count.text() == f"{64 * 128 + 128:,} parameters, this node's own"
    assert set(inspector.fields) == {"repeat", "units"}
    assert box.settings.text().startswith("2: Repeat, Units (open the block")
    assert (
        inspector.fields["repeat"]
        .help.text()
        .endswith("(needs one input and one output of the same shape)")
    )
    assert not inspector.fields["repeat"].note.isVisibleTo(inspector)  # one in, one out


def test_rename_a_block_and_undo(grouped) -> None:
    box = _box(grouped)
    type_into(box.name_edit, "hidden")
    doc = grouped.document
    assert "hidden" in doc.blocks and "mlp" not in doc.blocks
    assert doc.nodes["mlp_1"].block is doc.blocks["hidden"]
    assert grouped.undo_stack.undoText() == "Rename block 'mlp' to 'hidden'"
    assert not box.name_error.isVisibleTo(grouped.inspector)
    grouped.undo_stack.undo()
    QApplication.processEvents()
    assert "mlp" in doc.blocks
    box = _box(grouped)
    assert box.name_edit.text() == "mlp"  # the box follows the undo, focused or not
    grouped.view.setFocus()  # and leaving it renames nothing again
    QApplication.processEvents()
    assert "mlp" in doc.blocks and grouped.undo_stack.canRedo()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2layers", "A block name is letters, digits and _, not starting with a digit"),
        ("my block", "A block name is letters, digits and _, not starting with a digit"),
        ("", "A block name is letters, digits and _, not starting with a digit"),
        ("other", "There is already a block 'other'"),
    ],
)
def test_a_bad_block_name_is_refused_in_red(grouped, text, reason) -> None:
    doc = grouped.document
    _push(grouped, grouping.group(doc, ["logits"], name="other"))
    select_only(grouped, "mlp_1")
    steps = grouped.undo_stack.count()
    box = _box(grouped)
    box.name_edit.setFocus()
    box.name_edit.selectAll()
    QTest.keyClick(box.name_edit, Qt.Key.Key_Backspace)
    if text:
        QTest.keyClicks(box.name_edit, text)
    assert box.name_error.isVisibleTo(grouped.inspector)  # at once, while typing
    QTest.keyClick(box.name_edit, Qt.Key.Key_Return)
    QApplication.processEvents()
    assert box.name_error.text() == reason
    assert box.name_edit.text() == text  # what was typed stays, with the reason under it
    assert grouped.undo_stack.count() == steps
    assert set(doc.blocks) == {"mlp", "other"}


def test_set_repeat(grouped) -> None:
    type_into(grouped.inspector.fields["repeat"].input, "3")
    assert grouped.document.nodes["mlp_1"].params["repeat"] == 3
    assert grouped.undo_stack.undoText() == "Set Repeat of 'mlp_1' to 3"
    type_into(grouped.inspector.fields["repeat"].input, "0")  # below the minimum
    assert grouped.inspector.fields["repeat"].has_error()
    assert grouped.document.nodes["mlp_1"].params["repeat"] == 3


def test_a_block_with_two_outputs_says_why_it_cannot_repeat(digits) -> None:
    doc = digits.document
    _push(digits, grouping.group(doc, ["data"], name="source"))  # x and the target leave it
    select_only(digits, "source_1")
    note = digits.inspector.fields["repeat"].note
    assert note.isVisibleTo(digits.inspector)
    assert note.text() == (
        "This block has 0 inputs and 2 outputs: repeating needs one input and one output "
        "of the same shape"
    )


def test_an_exposed_parameter_sets_the_inner_node_of_the_flat_graph(grouped) -> None:
    field = grouped.inspector.fields["units"]
    assert field.value() == 128
    type_into(field.input, "32")
    doc = grouped.document
    assert doc.nodes["mlp_1"].params["units"] == 32
    assert flatten(doc).document.nodes["mlp_1__dense1"].params["units"] == 32
    assert doc.blocks["mlp"].body.nodes["dense1"].params["units"] == 128  # the inside keeps
    grouped.undo_stack.undo()
    QApplication.processEvents()
    assert flatten(doc).document.nodes["mlp_1__dense1"].params["units"] == 128
    assert field.value() == 128


def test_make_unique_splits_one_node_off(grouped) -> None:
    _second_instance(grouped)
    select_only(grouped, "mlp_1")
    box = _box(grouped)
    assert box.uses.text() == "2 nodes: editing its inside changes every one"
    button = grouped.inspector.findChild(QPushButton, "makeUnique")
    assert button is not None and button.isVisibleTo(grouped.inspector)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    doc = grouped.document
    assert doc.nodes["mlp_1"].block is doc.blocks["mlp_2"]
    assert doc.nodes["mlp_2"].block is doc.blocks["mlp"]
    box = _box(grouped)
    assert box.name_edit.text() == "mlp_2"
    assert box.uses.text() == "1 node: only this one"
    assert not box.unique_button.isVisibleTo(grouped.inspector)
    _push(grouped, grouping.in_scope("mlp_2", mu.SetParam("dense1", "bias", False)))
    flat = flatten(doc).document.nodes
    assert flat["mlp_1__dense1"].params["bias"] is False
    assert flat["mlp_2__dense1"].params["bias"] is True  # the other is unchanged
    grouped.undo_stack.undo()
    grouped.undo_stack.undo()
    QApplication.processEvents()
    assert doc.nodes["mlp_1"].block is doc.blocks["mlp"] and "mlp_2" not in doc.blocks


def test_the_block_page_is_rebuilt_when_its_parameters_change(grouped) -> None:
    _push(grouped, grouping.hide(grouped.document, "mlp", "units"))
    grouped.inspector.refresh()
    assert set(grouped.inspector.fields) == {"repeat"}
    assert grouped.inspector.findChild(QLineEdit, "edit_units") is None
