"""An opened block while training and stepping: inner nodes coloured, stepping opens the block
and marks the inner node, a NaN inside badges the inner node once the block is opened."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.ui.test_blocks_training import group, shoot, wait_idle
from tests.ui.ui_driver import view_point


def double_click(window, node_id: str) -> None:
    """Double-click a node's title bar on the canvas (opens a block)."""
    window.view.fit_all()
    QApplication.processEvents()
    item = window.scene.node_item(node_id)
    point = view_point(window, item.pos() + QPointF(60, 12))
    QTest.mouseDClick(
        window.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point
    )
    QApplication.processEvents()


def train_briefly(qtbot, window) -> None:
    ctrl = window.training
    window.document.set_setting("epochs", 50)
    ctrl.run()
    qtbot.waitUntil(lambda: ctrl.loss_plot.point_count() >= 3, timeout=30_000)
    qtbot.waitUntil(lambda: bool(ctrl.overlay._norms), timeout=30_000)
    ctrl.actions.stop.trigger()
    wait_idle(qtbot, window)


def test_an_opened_block_colours_its_inner_nodes(qtbot, digits) -> None:
    block = group(digits, ["dense1", "relu1"])
    train_briefly(qtbot, digits)
    ctrl = digits.training
    norms = ctrl.overlay._norms
    double_click(digits, block)
    assert digits.editor.scope.path == (block,)
    inner = digits.scene.node_item("dense1")
    assert inner.gradient_level == norms[f"{block}__dense1"]
    ctrl.grad_plot.refresh()
    assert ctrl.grad_plot.node_ids() == ["dense1"]  # parameter gradients: the block's inside
    ctrl.grad_plot.set_mode("outputs")
    assert set(ctrl.grad_plot.node_ids()) == {"dense1", "relu1"}
    digits.editor.scope.up(0)
    assert digits.scene.node_item(block).gradient_level is not None
    ctrl.grad_plot.set_mode("parameters")
    assert sorted(ctrl.grad_plot.node_ids()) == sorted([block, "logits"])


def test_stepping_opens_the_block_and_marks_the_inner_node(qtbot, digits) -> None:
    block = group(digits, ["dense1", "relu1"])
    train_briefly(qtbot, digits)
    ctrl, scope = digits.training, digits.editor.scope
    ctrl.actions.step_forward.trigger()  # the data node, on the graph
    assert scope.path == ()
    ctrl.actions.step_forward.trigger()
    assert scope.path == (block,), "stepping into a block opens it"
    assert ctrl.overlay.highlighted == f"{block}__dense1"
    assert digits.scene.node_item("dense1").highlighted
    assert all(edge.active for edge in digits.scene.edge_items_from("dense1"))
    assert digits.scene.node_item("dense1").gradient_level is not None
    assert f"{block} › dense1" in ctrl.tensor_view.title.text()
    assert ctrl.tensor_view.shown_shape() == (32, 128)
    shoot(digits, "blocks_step_opened")
    ctrl.actions.step_forward.trigger()
    assert scope.path == (block,) and digits.scene.node_item("relu1").highlighted
    assert not digits.scene.node_item("dense1").highlighted
    digits.scene.clearSelection()
    digits.scene.node_item("dense1").setSelected(True)  # any inner node's tensors, on demand
    assert f"{block} › dense1" in ctrl.tensor_view.title.text()
    ctrl.actions.step_forward.trigger()
    assert scope.path == (), "stepping out of the block goes back to the graph"
    assert ctrl.overlay.highlighted == "logits" and digits.scene.node_item("logits").highlighted
    while ctrl.actions.step_backward.isEnabled():
        ctrl.actions.step_backward.trigger()
        if ctrl.overlay.highlighted == f"{block}__relu1":
            assert scope.path == (block,) and ctrl.tensor_view.mode == "gradient"
    assert scope.path == ()
    ctrl.actions.reset_step.trigger()
    assert ctrl.overlay.highlighted is None


def test_nan_inside_marks_the_inner_node_once_opened(qtbot, digits) -> None:
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
    assert ctrl._finish.reason == "nan"
    digits.editor.scope.enter(block)
    item = digits.scene.node_item("blowup")
    assert item.badge_severity is not None
    assert item.badge_message.startswith(f"the output 'y' of node '{block} › blowup'")
    assert digits.scene.node_item("dense1").badge_severity is None
    shoot(digits, "blocks_nan_opened")


def test_stepping_opens_nested_blocks_level_by_level(qtbot, digits) -> None:
    inner = group(digits, ["dense1", "relu1"], name="layer")
    outer = group(digits, [inner, "logits"], name="net")
    ctrl, scope = digits.training, digits.editor.scope
    ctrl.actions.step_forward.trigger()
    ctrl.actions.step_forward.trigger()
    assert ctrl.overlay.highlighted == f"{outer}__{inner}__dense1"
    assert scope.path == (outer, inner)
    assert digits.scene.node_item("dense1").highlighted
    assert digits.breadcrumb.texts() == ["Graph", "net", "layer"]
    ctrl.actions.step_forward.trigger()
    ctrl.actions.step_forward.trigger()
    assert scope.path == (outer,) and digits.scene.node_item("logits").highlighted
    scope.up(0)  # looking at the graph: the outer block node stands for its inside
    assert digits.scene.node_item(outer).highlighted
    ctrl.reset_step()


def test_a_block_curve_is_the_stepwise_largest_inside() -> None:
    from app.ui.training.grad_plot import merged
    from app.ui.training.series import Series

    a, b = Series(), Series()
    a.extend(np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 1.0]))
    b.extend(np.array([2.0, 3.0, 4.0]), np.array([2.0, np.nan, 7.0]))
    xs, ys = merged([a, b])
    assert xs.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert ys[0] == 1.0 and ys[1] == 5.0 and np.isnan(ys[2]) and ys[3] == 7.0
    c = Series()
    c.extend(np.array([1.0, 2.0, 3.0]), np.array([3.0, 0.5, 2.0]))
    assert merged([a, c])[1].tolist() == [3.0, 5.0, 2.0]


def test_ctrl_g_then_ctrl_shift_g_keep_the_trained_weights(qtbot, digits) -> None:
    from app.graph.evaluation import predict

    ctrl, room = digits.training, digits.results_room
    digits.document.set_setting("epochs", 1)
    ctrl.run()
    wait_idle(qtbot, digits)
    trained = ctrl.weights()
    x = np.random.default_rng(2).random((3, 64)).astype(np.float32)
    expected = predict(room.program(), x)
    digits.scene.clearSelection()
    for node_id in ("dense1", "relu1"):
        digits.scene.node_item(node_id).setSelected(True)
    digits.view.setFocus()
    QTest.keyClick(digits.view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    (block,) = [n for n, node in digits.document.nodes.items() if node.block is not None]
    assert f"{block}__dense1.weight" in ctrl.weights()
    np.testing.assert_array_equal(predict(room.program(), x), expected)
    digits.scene.clearSelection()
    digits.scene.node_item(block).setSelected(True)
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    QTest.keyClick(digits.view, Qt.Key.Key_G, mods)
    assert all(node.block is None for node in digits.document.nodes.values())
    assert set(ctrl.weights()) == set(trained)
    np.testing.assert_array_equal(predict(room.program(), x), expected)
