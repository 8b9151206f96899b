"""Training a graph with blocks in the window: gradient colours on the block node, stepping
into it, NaN inside it, and trained weights that follow a group and its undo."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QTreeWidgetItemIterator

from app.graph.blocks import grouping
from app.graph.evaluation import predict
from app.graph.run_view import worst_norm
from app.ui.canvas.node_item import gradient_colour

SHOTS = Path(os.environ.get("NODEGRAD_SHOTS", "/tmp/shots"))


def shoot(widget, name: str) -> None:
    """Save a screenshot outside the repository (looked at by hand, never compared)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


def group(window, node_ids: list[str], name: str = "hidden") -> str:
    """Group ``node_ids`` through the editor (one undoable edit); returns the block node id."""
    before = set(window.document.nodes)
    assert window.editor.push(grouping.group(window.document, node_ids, name=name)) is None
    (block,) = set(window.document.nodes) - before
    return block


def wait_idle(qtbot, window, timeout: int = 60_000) -> None:
    qtbot.waitUntil(lambda: not window.training.is_training(), timeout=timeout)
    assert window.results_room.wait_until_evaluated()  # the run's scores reach the dock


def test_a_block_node_shows_the_largest_gradient_inside(qtbot, digits) -> None:
    block = group(digits, ["dense1", "relu1"])
    ctrl = digits.training
    digits.document.set_setting("epochs", 50)
    ctrl.run()
    qtbot.waitUntil(lambda: ctrl.loss_plot.point_count() >= 3, timeout=30_000)
    item = digits.scene.node_item(block)
    qtbot.waitUntil(lambda: item.gradient_level is not None, timeout=30_000)
    ctrl.actions.stop.trigger()
    wait_idle(qtbot, digits)
    norms = ctrl.overlay._norms
    inside = [v for k, v in norms.items() if k.startswith(f"{block}__")]
    assert f"{block}__dense1" in norms and len(inside) >= 2
    ctrl.overlay.show_gradients(norms)
    # The band shows the largest norm inside; a band whose colour would not change keeps the
    # level it had (the last two deliveries can differ by less than a colour step).
    assert item.gradient_level is not None
    shown, largest = gradient_colour(item.gradient_level), gradient_colour(worst_norm(inside))
    assert shown.rgb() == largest.rgb()
    ctrl.grad_plot.refresh()
    assert sorted(ctrl.grad_plot.node_ids()) == sorted([block, "logits"])
    assert ctrl.grad_plot._names[block] == f"hidden '{block}'"
    weights = ctrl.weights()
    assert weights is not None and f"{block}__dense1.weight" in weights
    room = digits.results_room  # the results, try-it and runs docks work on the flat ids
    assert room.results.result is not None and "accuracy" in room.results.result.metrics
    assert room.tryit.program is not None and room.tryit.value.text()
    assert room.pending or room.runs.run_at(0) is not None  # the run was recorded
    digits.scene.clearSelection()
    digits.scene.node_item(block).setSelected(True)  # the weights of every node inside
    assert ctrl.tensor_view.entry_names() == [f"{block} › dense1.weight", f"{block} › dense1.bias"]
    digits.docks["gradPlotDock"].raise_()
    ctrl.grad_plot.refresh()
    shoot(digits, "blocks_training")


def test_stepping_enters_the_block_node_by_node(qtbot, digits) -> None:
    block = group(digits, ["dense1", "relu1"])
    ctrl = digits.training
    ctrl.actions.step_forward.trigger()
    stepper = ctrl.steps.stepper
    order = list(stepper.order)
    assert order[1:3] == [f"{block}__dense1", f"{block}__relu1"]
    for i, flat_id in enumerate(order):
        if i:
            ctrl.actions.step_forward.trigger()
        assert ctrl.overlay.highlighted == flat_id
        inside = flat_id.startswith(f"{block}__")
        assert digits.editor.scope.path == ((block,) if inside else ())
        assert digits.scene.node_item(flat_id.removeprefix(f"{block}__")).highlighted
        values = stepper.value(flat_id)
        if values:
            assert ctrl.tensor_view.shown_shape() == next(iter(values.values())).shape
        if flat_id == f"{block}__dense1":
            message = digits.statusBar().currentMessage()
            assert message == f"forward 2/{len(order)}: Linear '{block} › dense1'"
            assert f"{block} › dense1" in ctrl.tensor_view.title.text()
            shoot(digits, "blocks_step_forward")
    while ctrl.actions.step_backward.isEnabled():
        ctrl.actions.step_backward.trigger()
        if ctrl.overlay.highlighted == f"{block}__dense1":
            assert digits.scene.node_item("dense1").highlighted
            ctrl.tensor_view.select("weight")
            expected = stepper.param_grads(f"{block}__dense1")["weight"].shape
            assert ctrl.tensor_view.shown_shape() == expected
    digits.scene.clearSelection()
    digits.scene.node_item(block).setSelected(True)  # the block's output: relu1's
    assert f"{block} › relu1" in ctrl.tensor_view.title.text()
    assert ctrl.tensor_view.shown_shape() == stepper.value(f"{block}__relu1")["y"].shape
    ctrl.actions.reset_step.trigger()
    assert ctrl.overlay.highlighted is None
    assert not any(item.highlighted for item in digits.scene.node_items())


def test_nan_inside_a_block_flags_the_block(qtbot, digits) -> None:
    doc = digits.document
    doc.add_node("constant", {"value": 3e38, "shape": "1"}, (180, 160), node_id="huge")
    doc.add_node("multiply", {}, (360, 120), node_id="blowup")
    doc.connect("dense1", "y", "blowup", "a")
    doc.connect("huge", "y", "blowup", "b")
    doc.connect("blowup", "y", "relu1", "x")
    block = group(digits, ["dense1", "huge", "blowup"], name="bad")
    ctrl = digits.training
    ctrl.run()
    wait_idle(qtbot, digits)
    assert ctrl._finish.reason == "nan" and ctrl._finish.node_id == f"{block}__blowup"
    assert digits.scene.selected_node_ids() == [block]
    message = digits.statusBar().currentMessage()
    assert f"NaN/Inf began at Multiply '{block} › blowup'" in message
    assert f"of node '{block} › blowup' went non-finite" in message
    item = digits.scene.node_item(block)
    assert item.badge_severity is not None
    assert item.badge_message.startswith(f"In {block} › blowup: the output 'y' of node")
    shoot(digits, "blocks_nan")


def test_trained_weights_follow_a_group_and_its_undo(qtbot, digits) -> None:
    ctrl, room = digits.training, digits.results_room
    digits.document.set_setting("epochs", 1)
    ctrl.run()
    wait_idle(qtbot, digits)
    trained = ctrl.weights()
    assert trained is not None
    x = np.random.default_rng(0).random((5, 64)).astype(np.float32)
    expected = predict(room.program(), x)
    block = group(digits, ["dense1", "relu1"])
    moved = ctrl.weights()
    assert moved is not None, "the weights were lost by grouping"
    assert set(moved) == {k.replace("dense1", f"{block}__dense1") for k in trained}
    np.testing.assert_array_equal(predict(room.program(), x), expected)
    assert ctrl.actions.continue_.isEnabled()
    digits.undo_stack.undo()
    back = ctrl.weights()
    assert back is not None and set(back) == set(trained)
    np.testing.assert_array_equal(predict(room.program(), x), expected)
    assert not ctrl.sessions.model_changed
    digits.editor.set_param("dense1", "units", 32)  # a real model change
    assert ctrl.sessions.model_changed and room.program() is None


def test_saved_weights_that_misfit_a_block_are_named_by_place(qtbot, digits) -> None:
    block = group(digits, ["dense1", "relu1"])
    room = digits.results_room
    weights = {
        f"{block}__dense1.weight": np.zeros((3, 3), np.float32),
        f"{block}__dense1.bias": np.zeros(3, np.float32),
    }
    note = room.weights.set_weights(weights)
    assert f"'{block} › dense1'" in note
    rows = []
    iterator = QTreeWidgetItemIterator(digits.problems)
    while iterator.value():
        item = iterator.value()
        rows.append((item.text(1), item.text(2)))
        iterator += 1
    assert any(where == f"'{block} › dense1'" for where, _ in rows), rows
    assert any(f"{block} › dense1" in text for _, text in rows)
    (row,) = [r for r in digits.problems.rows() if r.text(1) == f"'{block} › dense1'"]
    panel = digits.problems
    QTest.mouseClick(
        panel.viewport(), Qt.MouseButton.LeftButton, pos=panel.visualItemRect(row).center()
    )
    assert digits.editor.scope.path == (block,)  # clicking the row opens the block
    assert digits.scene.selected_node_ids() == ["dense1"]


def test_weights_grouped_after_training_are_saved_and_continue(qtbot, digits, tmp_path) -> None:
    ctrl, room = digits.training, digits.results_room
    digits.document.set_setting("epochs", 1)
    ctrl.run()
    wait_idle(qtbot, digits)
    x = np.random.default_rng(1).random((4, 64)).astype(np.float32)
    expected = predict(room.program(), x)
    block = group(digits, ["dense1", "relu1"])
    path = tmp_path / "grouped.nodegrad"
    assert digits.files.save_as(path)
    assert "with its trained weights" in digits.statusBar().currentMessage()
    assert digits.files.open(path, ask=False)
    assert room.weights.misfits == []
    assert f"{block}__dense1.weight" in ctrl.weights()
    np.testing.assert_array_equal(predict(room.program(), x), expected)
    ctrl.actions.step_forward.trigger()  # the step-through starts from the followed weights
    weight = ctrl.steps.stepper.params(f"{block}__dense1")["weight"]
    np.testing.assert_array_equal(weight, ctrl.weights()[f"{block}__dense1.weight"])
    ctrl.reset_step()
    ctrl.actions.continue_.trigger()
    wait_idle(qtbot, digits)
    assert ctrl._finish.reason == "finished" and ctrl.session.epochs_done == 1
