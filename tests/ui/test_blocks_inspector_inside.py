"""The inspector inside an opened block: "On block" shows an inner parameter on the block (and
takes it off again), undoably; an exposed row says its value comes from each block node; the
inner node's edits change the definition; a port node's caption is the port's name. Driven with
real clicks and key events; the document and its flat graph are checked."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFormLayout, QLabel, QPushButton, QToolButton
from ui_driver import LEFT, select_only, type_into, view_point

from app.graph import mutations as mu
from app.graph.blocks import grouping
from app.graph.blocks.flatten import flatten


def _push_top(window, mutation) -> None:
    assert window.editor.push(mutation, scoped=False) is None
    QApplication.processEvents()


def _open(window, node_id: str) -> None:
    """Double-click the block node's title: the canvas shows its inside."""
    point = view_point(window, window.scene.node_item(node_id).pos() + QPointF(60, 12))
    QTest.mouseDClick(window.view.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, point)
    QApplication.processEvents()
    assert window.editor.scope.path[-1:] == (node_id,)


@pytest.fixture
def inside(digits):
    """The digits example with dense1 and relu1 grouped into block 'mlp' used by two nodes
    ('mlp_1', 'mlp_2'), opened at 'mlp_1' with dense1 selected."""
    doc = digits.document
    _push_top(digits, grouping.group(doc, ["dense1", "relu1"], name="mlp"))
    block = doc.blocks["mlp"]
    node = mu.Node("mlp_2", "block", block.instance_params({}), (300.0, 300.0), block=block)
    _push_top(digits, mu.AddNode(node))
    _open(digits, "mlp_1")
    select_only(digits, "dense1")
    assert digits.inspector.node_id == "dense1"
    return digits


def _toggle(window, param: str) -> QToolButton:
    toggle = window.inspector.findChild(QToolButton, f"expose_{param}")
    assert toggle is not None and toggle.isVisibleTo(window.inspector)
    return toggle


def test_every_inner_parameter_has_an_on_block_toggle(inside) -> None:
    inspector = inside.inspector
    assert set(inspector.expose_toggles) == {"units", "bias"}
    for param in ("units", "bias"):
        toggle = _toggle(inside, param)
        assert toggle.text() == "On block" and not toggle.isChecked()
        assert inspector.fields[param].input.isEnabled()
        assert not inspector.fields[param].note.isVisibleTo(inspector)


def test_show_on_block_then_hide_with_undo_and_redo(inside) -> None:
    inspector, doc = inside.inspector, inside.document
    QTest.mouseClick(_toggle(inside, "units"), LEFT)
    QApplication.processEvents()
    assert [e.name for e in doc.blocks["mlp"].exposed] == ["units"]
    assert doc.nodes["mlp_1"].params["units"] == doc.nodes["mlp_2"].params["units"] == 128
    assert inside.undo_stack.undoText() == "Set the parameters of block 'mlp'"
    field = inspector.fields["units"]
    assert _toggle(inside, "units").isChecked() and not field.input.isEnabled()
    assert field.note.isVisibleTo(inspector)
    assert field.note.text() == "On the block as 'units': each block node sets its value"
    inside.undo_stack.undo()
    QApplication.processEvents()
    assert doc.blocks["mlp"].exposed == ()
    assert not _toggle(inside, "units").isChecked() and inspector.fields["units"].input.isEnabled()
    inside.undo_stack.redo()
    QApplication.processEvents()
    assert _toggle(inside, "units").isChecked()
    QTest.mouseClick(_toggle(inside, "units"), LEFT)  # again: off the block
    QApplication.processEvents()
    assert doc.blocks["mlp"].exposed == ()
    assert "units" not in doc.nodes["mlp_1"].params
    assert not inspector.fields["units"].note.isVisibleTo(inspector)


def test_an_exposed_value_set_on_the_block_node_reaches_the_flat_graph(inside) -> None:
    QTest.mouseClick(_toggle(inside, "units"), LEFT)
    inside.editor.scope.up()
    QApplication.processEvents()
    select_only(inside, "mlp_2")
    type_into(inside.inspector.fields["units"].input, "48")
    flat = flatten(inside.document).document.nodes
    assert flat["mlp_2__dense1"].params["units"] == 48
    assert flat["mlp_1__dense1"].params["units"] == 128


def test_an_edit_inside_changes_the_definition_for_every_node(inside) -> None:
    type_into(inside.inspector.fields["units"].input, "64")
    doc = inside.document
    assert doc.blocks["mlp"].body.nodes["dense1"].params["units"] == 64
    flat = flatten(doc).document.nodes
    assert flat["mlp_1__dense1"].params["units"] == flat["mlp_2__dense1"].params["units"] == 64
    assert inside.undo_stack.undoText() == "Set Units of 'dense1' to 64 in 'mlp'"
    inside.undo_stack.undo()
    QApplication.processEvents()
    assert inside.inspector.fields["units"].value() == 128


def test_make_unique_then_an_edit_inside_leaves_the_other_node_alone(inside) -> None:
    inside.editor.scope.up()
    QApplication.processEvents()
    select_only(inside, "mlp_1")
    button = inside.inspector.findChild(QPushButton, "makeUnique")
    assert button is not None and button.isVisibleTo(inside.inspector)
    QTest.mouseClick(button, LEFT)
    QApplication.processEvents()
    doc = inside.document
    assert doc.nodes["mlp_1"].block is doc.blocks["mlp_2"]
    _open(inside, "mlp_1")
    select_only(inside, "dense1")
    type_into(inside.inspector.fields["units"].input, "16")
    flat = flatten(doc).document.nodes
    assert flat["mlp_1__dense1"].params["units"] == 16
    assert flat["mlp_2__dense1"].params["units"] == 128
    assert doc.blocks["mlp"].body.nodes["dense1"].params["units"] == 128


def test_a_port_nodes_caption_is_the_ports_name(inside) -> None:
    doc = inside.document
    outputs = [n.id for n in doc.blocks["mlp"].output_nodes()]
    select_only(inside, outputs[0])
    wires = list(doc.edges)
    inspector = inside.inspector
    form = inspector.label_edit.parentWidget().findChild(QFormLayout)
    caption = form.labelForField(inspector.label_edit) if form is not None else None
    assert isinstance(caption, QLabel) and caption.text() == "Port name"
    assert inspector.label_edit.placeholderText() == outputs[0]
    type_into(inspector.label_edit, "hidden")
    block = doc.blocks["mlp"]
    assert block.body.nodes[outputs[0]].label == "hidden"
    (port,) = doc.nodes["mlp_2"].spec.outputs
    assert port.name == outputs[0] and port.title == "hidden"  # the id stays, wires keep
    assert doc.edges == wires
    inside.undo_stack.undo()
    QApplication.processEvents()
    assert doc.blocks["mlp"].body.nodes[outputs[0]].label == ""
    assert inspector.label_edit.text() == ""


def test_opening_another_graph_leaves_the_inner_node_page(inside) -> None:
    inside.editor.scope.up()
    QApplication.processEvents()
    assert inside.inspector.node_id is None
