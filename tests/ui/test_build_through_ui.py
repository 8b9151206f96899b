"""Build the digits MLP from an empty document through the UI, then undo, redo, save, reopen."""

from __future__ import annotations

from PySide6.QtCore import QPointF
from ui_driver import (
    DIGITS_WIRES,
    add_by_palette,
    add_by_search,
    drag_wire,
    move_node,
    select_only,
    type_into,
)

from app.graph import io

LAYOUT = {
    "dataset": QPointF(-400, 0),
    "linear": QPointF(-140, -100),
    "relu": QPointF(100, -100),
    "linear2": QPointF(340, -100),
    "loss": QPointF(600, 60),
    "output": QPointF(600, -200),
}

WIRES = DIGITS_WIRES


def build_digits_mlp(window) -> None:
    """Drive palette, canvas and inspector to build dataset → 64 → relu → 10 → loss/output."""
    window.view.resetTransform()
    window.view.centerOn(QPointF(100, 0))
    dataset = add_by_palette(window, "dataset")
    move_node(window, dataset, LAYOUT["dataset"])
    window.inspector.fields["name"].input.setCurrentText("digits")
    linear = add_by_search(window, "linear")
    move_node(window, linear, LAYOUT["linear"])
    type_into(window.inspector.fields["units"].input, "64")
    relu = add_by_palette(window, "relu")
    move_node(window, relu, LAYOUT["relu"])
    linear2 = add_by_palette(window, "linear")
    move_node(window, linear2, LAYOUT["linear2"])
    select_only(window, linear2)
    type_into(window.inspector.fields["units"].input, "10")
    loss = add_by_palette(window, "cross_entropy_loss")
    move_node(window, loss, LAYOUT["loss"])
    output = add_by_palette(window, "output")
    move_node(window, output, LAYOUT["output"])
    assert [dataset, linear, relu, linear2, loss, output] == [
        "dataset_1",
        "linear_1",
        "relu_1",
        "linear_2",
        "cross_entropy_loss_1",
        "output_1",
    ]
    for src, dst in WIRES:
        drag_wire(window, src, dst)


def test_build_digits_mlp_undo_redo_save_reopen(window, qtbot, tmp_path) -> None:
    build_digits_mlp(window)
    doc = window.document
    wires = {(e.src, e.src_port, e.dst, e.dst_port) for e in doc.edges}
    assert wires == {(*s, *d) for s, d in WIRES}
    assert doc.nodes["dataset_1"].params["name"] == "digits"
    assert doc.nodes["linear_1"].params["units"] == 64
    assert doc.nodes["linear_2"].params["units"] == 10
    positions = [doc.nodes[n].position for n in doc.nodes]
    assert len(set(positions)) == len(positions)

    result = window.validate_now()
    assert result.ok, result.diagnostics
    labels = {(e.src, e.dst_port, e.dst): window.scene.edge_item(e).label for e in doc.edges}
    assert labels[("dataset_1", "x", "linear_1")] == "N×64"
    assert labels[("linear_1", "x", "relu_1")] == "N×64"
    assert labels[("linear_2", "logits", "cross_entropy_loss_1")] == "N×10"
    assert window.scene.node_item("linear_1").param_count == 64 * 64 + 64
    assert window.windowTitle().startswith("Untitled") and window.isWindowModified()

    built = doc.to_dict()
    typing_steps = window.undo_stack.count()
    assert typing_steps < 30  # typing "64" and "10" merged into one step per field
    while window.undo_stack.canUndo():
        window.undo_stack.undo()
    assert window.document.to_dict()["nodes"] == []
    assert window.scene.node_items() == [] and window.scene.edge_items() == []
    while window.undo_stack.canRedo():
        window.undo_stack.redo()
    assert window.document.to_dict() == built
    assert len(window.scene.edge_items()) == len(WIRES)

    path = tmp_path / "digits.nodegrad"
    assert window.files.save_as(path)
    assert not window.isWindowModified() and window.windowTitle().startswith("digits.nodegrad")
    assert window.files.new()
    assert window.document.nodes == {}
    assert window.files.open(path)
    assert window.document.to_dict() == built
    assert io.load(path).to_dict() == built
