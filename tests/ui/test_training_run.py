"""Training in the editor: run, plots, gradient colours, stop, NaN, step-through; screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from app.ui.main_window import MainWindow

SHOTS = Path(os.environ.get("NODEGRAD_SHOTS", "/tmp/shots"))


def shoot(widget, name: str) -> None:
    """Save a screenshot outside the repository (looked at by hand, never compared)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


def wait_idle(qtbot, window, timeout: int = 30_000) -> None:
    qtbot.waitUntil(lambda: not window.training.is_training(), timeout=timeout)
    assert window.results_room.wait_until_evaluated()  # the run's scores reach the dock


def test_run_plots_colours_and_stop(qtbot, digits) -> None:
    ctrl = digits.training
    digits.document.set_setting("epochs", 50)
    digits.findChild(type(ctrl.actions.run), "actionRun").trigger()
    assert ctrl.is_training()
    assert digits.editor.set_param("dense1", "units", 64) is not None  # refused while training
    assert digits.document.nodes["dense1"].params["units"] == 128
    assert "Edit refused" in digits.statusBar().currentMessage()
    qtbot.waitUntil(lambda: ctrl.loss_plot.point_count() >= 3, timeout=30_000)
    first = digits.scene.node_item("dense1").gradient_level
    assert first is not None
    qtbot.waitUntil(
        lambda: digits.scene.node_item("dense1").gradient_level != first, timeout=30_000
    )
    ctrl.grad_plot.refresh()
    assert sorted(ctrl.grad_plot.node_ids()) == ["dense1", "logits"]
    assert ctrl.grad_plot.curve("dense1") is not None
    assert "samples/s" in ctrl.actions.progress.text()
    shoot(digits, "training")
    thread = ctrl._thread
    ctrl.actions.stop.trigger()
    wait_idle(qtbot, digits)
    assert thread.isFinished()
    assert ctrl._thread is None and not digits.editor.is_locked()
    assert "Training stopped" in digits.statusBar().currentMessage()
    digits.docks["gradPlotDock"].raise_()
    ctrl.grad_plot.refresh()
    shoot(digits, "gradients")
    weights = ctrl.weights()
    assert weights is not None and "dense1.weight" in weights
    assert all(np.isfinite(v).all() for v in weights.values())


def test_training_reaches_accuracy_and_continue_resumes(qtbot, digits) -> None:
    ctrl = digits.training
    digits.document.set_setting("epochs", 2)
    ctrl.run()
    wait_idle(qtbot, digits, timeout=60_000)
    assert ctrl.session.epochs_done == 2
    assert ctrl.live.last_epoch.val_accuracy > 0.85
    assert "validation accuracy" in ctrl.loss_plot.summary.text()
    points = ctrl.loss_plot.point_count()
    assert len(ctrl.loss_plot.val_loss) == 2
    ctrl.actions.continue_.trigger()
    wait_idle(qtbot, digits, timeout=60_000)
    assert ctrl.session.epochs_done == 4
    assert ctrl.loss_plot.point_count() == 2 * points
    assert len(ctrl.loss_plot.val_loss) == 4


def test_learning_rate_change_reaches_the_running_session(qtbot, digits) -> None:
    ctrl = digits.training
    digits.document.set_setting("epochs", 50)
    ctrl.run()
    qtbot.waitUntil(lambda: ctrl.loss_plot.point_count() >= 1, timeout=30_000)
    assert digits.editor.set_setting("learning_rate", 0.0005) is None  # live while training
    qtbot.waitUntil(lambda: ctrl.session.optimizer.alpha == pytest.approx(0.0005), timeout=30_000)
    assert ctrl.is_training()
    assert digits.editor.set_setting("epochs", 1) is None
    message = digits.statusBar().currentMessage()
    assert message.startswith("Epochs set to 1: the run ends when epoch ") and "ends" in message
    assert "epoch" in ctrl.actions.progress.toolTip()
    assert digits.editor.set_setting("batch_size", 8) is not None  # the rest stays locked
    wait_idle(qtbot, digits, timeout=60_000)
    assert ctrl._finish.reason == "finished"
    assert ctrl.session.epochs_done < 50  # ends with the epoch under way, not after 50


def test_nan_stops_with_the_node_selected(qtbot, digits) -> None:
    doc = digits.document
    doc.add_node("constant", {"value": 3e38, "shape": "1"}, (180, 160), node_id="huge")
    doc.add_node("multiply", {}, (360, 120), node_id="blowup")
    doc.connect("dense1", "y", "blowup", "a")
    doc.connect("huge", "y", "blowup", "b")
    doc.connect("blowup", "y", "relu1", "x")
    ctrl = digits.training
    ctrl.run()
    wait_idle(qtbot, digits)
    assert ctrl._finish.reason == "nan"
    assert digits.scene.selected_node_ids() == ["blowup"]
    message = digits.statusBar().currentMessage()
    assert "NaN/Inf began at" in message and "blowup" in message
    assert digits.scene.node_item("blowup").badge_severity is not None
    shoot(digits, "nan")


def test_step_forward_then_backward_through_every_node(qtbot, digits) -> None:
    ctrl = digits.training
    view = ctrl.tensor_view
    ctrl.actions.step_forward.trigger()
    stepper = ctrl.steps.stepper
    order = list(stepper.order)
    assert digits.editor.is_locked()
    for i, node_id in enumerate(order):
        if i:
            ctrl.actions.step_forward.trigger()
        assert ctrl.overlay.highlighted == node_id
        assert digits.scene.node_item(node_id).highlighted
        leaving = digits.scene.edge_items_from(node_id)
        assert all(edge.active for edge in leaving)  # the wires the output travels are marked
        others = [e for n in order if n != node_id for e in digits.scene.edge_items_from(n)]
        assert not any(edge.active for edge in others)
        values = stepper.value(node_id)
        if node_id == "output":  # no outputs of its own: the prediction against the target
            values = stepper.value("logits")
            assert view.entry_names() == ["prediction vs target"]
            assert "accuracy on this batch" in view.text_view.toPlainText()
        assert view.shown_shape() == (next(iter(values.values())).shape if values else None)
        assert digits.statusBar().currentMessage().startswith(f"forward {i + 1}/{len(order)}")
        if node_id == "data":
            assert "8×8 image" in view.caption.text()  # digits' 64 pixels drawn as a picture
            shoot(digits, "forward_step_data")
    assert not ctrl.actions.step_forward.isEnabled()
    assert ctrl.actions.step_backward.isEnabled()
    for i, node_id in enumerate(reversed(order)):
        ctrl.actions.step_backward.trigger()
        assert ctrl.overlay.highlighted == node_id
        assert view.mode == "gradient"
        grads = stepper.grad(node_id)
        expected = next(iter(grads.values())).shape if grads else None
        assert view.shown_shape() == expected
        assert f"backward {i + 1}/{len(order)}" in digits.statusBar().currentMessage()
        if node_id == "dense1":
            view.select("weight")
            assert view.shown_shape() == stepper.param_grads("dense1")["weight"].shape
            shoot(digits, "backward_step")
    assert not ctrl.actions.step_backward.isEnabled()
    digits.scene.clearSelection()
    digits.scene.node_item("relu1").setSelected(True)
    assert "relu1" in view.title.text()
    assert view.shown_shape() == stepper.grad("relu1")["y"].shape
    ctrl.actions.reset_step.trigger()
    assert ctrl.overlay.highlighted is None and not digits.editor.is_locked()
    assert view.shown_shape() is None


def test_closing_the_window_during_training_stops_it(qtbot, qtlog, digits) -> None:
    digits.document.set_setting("epochs", 100)
    digits.training.run()
    qtbot.waitUntil(lambda: digits.training.loss_plot.point_count() >= 1, timeout=30_000)
    thread = digits.training._thread
    assert digits.close()
    assert thread.isFinished()
    assert not digits.training.is_training()
    qtbot.wait(50)
    warnings = [r.message for r in qtlog.records if "propagateSizeHints" not in r.message]
    assert warnings == []


def test_cancelling_the_close_question_keeps_the_run_going(
    qtbot, digits, monkeypatch, tmp_path
) -> None:
    ctrl = digits.training
    assert digits.editor.set_setting("epochs", 100) is None  # an edit: closing asks to save
    asked = []

    def answer(reply):
        def ask(window):
            asked.append((ctrl.is_training(), ctrl.worker.held, ctrl.weights() is not None))
            return reply

        return ask

    ctrl.run()
    qtbot.waitUntil(lambda: ctrl.loss_plot.point_count() >= 1, timeout=30_000)
    monkeypatch.setattr(MainWindow, "ask_save_changes", answer("cancel"))
    assert not digits.close() and digits.isVisible()
    assert asked == [(True, True, True)]  # asked while the run was held between steps
    held = ctrl.loss_plot.point_count()
    qtbot.waitUntil(lambda: ctrl.loss_plot.point_count() > held, timeout=30_000)
    assert ctrl.is_training() and not ctrl.worker.paused
    monkeypatch.setattr(MainWindow, "ask_open_path", lambda window: "")
    monkeypatch.setattr(MainWindow, "ask_save_path", lambda window, *a: str(tmp_path / "g"))
    monkeypatch.setattr(MainWindow, "ask_save_changes", answer("save"))
    thread = ctrl._thread
    assert digits.close()
    assert len(asked) == 2 and thread.isFinished() and not ctrl.is_training()
    assert (tmp_path / "g.safetensors").exists()  # the weights of the held run were saved


def test_device_selector_greys_out_an_unusable_gpu(digits) -> None:
    from engine.backend import gpu_unavailable_reason

    box = digits.training.actions.device
    assert box.objectName() == "deviceSelector"
    assert box.currentData() == digits.document.training.device == "cpu"
    gpu = box.model().item(1)
    reason = gpu_unavailable_reason()
    if reason is None:
        assert gpu.isEnabled()
    else:
        assert not gpu.isEnabled() and reason in gpu.toolTip()
    digits.document.set_setting("device", "gpu")
    assert box.currentData() == "gpu"  # follows the document
    digits.document.set_setting("device", "cpu")
    assert box.currentData() == "cpu"


def test_pause_holds_the_run_and_resume_goes_on(qtbot, digits) -> None:
    ctrl = digits.training
    digits.document.set_setting("epochs", 100)
    ctrl.run()
    qtbot.waitUntil(lambda: ctrl.loss_plot.point_count() >= 1, timeout=30_000)
    ctrl.actions.pause.setChecked(True)
    assert "paused" in ctrl.actions.progress.text()
    qtbot.wait(300)  # a batch emitted before the pause may still arrive
    held = ctrl.loss_plot.point_count()
    qtbot.wait(300)
    assert ctrl.loss_plot.point_count() == held and ctrl.is_training()
    ctrl.actions.pause.setChecked(False)
    qtbot.waitUntil(lambda: ctrl.loss_plot.point_count() > held, timeout=30_000)
    ctrl.actions.stop.trigger()
    wait_idle(qtbot, digits)
    assert not ctrl.actions.pause.isChecked() and not ctrl.actions.pause.isEnabled()


def test_vanishing_and_exploding_gradients_get_badges(digits) -> None:
    from app.ui.training.canvas_overlay import gradient_warning

    assert gradient_warning(0.5) is None
    assert "Vanishing" in gradient_warning(1e-9) and "Exploding" in gradient_warning(1e4)
    overlay = digits.training.overlay
    overlay.show_gradients({"dense1": 1e-9, "logits": 1e4, "relu1": 0.5})
    item = digits.scene.node_item
    assert "Vanishing" in item("dense1").badge_message
    assert "Exploding" in item("logits").badge_message
    assert item("relu1").badge_severity is None and item("relu1").gradient_level == 0.5
    assert overlay.legend.isVisible()
    overlay.show_gradients({"dense1": 0.1})
    assert item("dense1").badge_severity is None  # recovered: the warning goes
    overlay.clear_gradients()
    assert item("logits").badge_severity is None and item("relu1").gradient_level is None
    assert not overlay.legend.isVisible()


def test_weights_saved_with_the_graph_come_back_for_continue(qtbot, digits, tmp_path) -> None:
    ctrl = digits.training
    digits.document.set_setting("epochs", 1)
    ctrl.run()
    wait_idle(qtbot, digits, timeout=60_000)
    trained = ctrl.weights()
    path = tmp_path / "digits.nodegrad"
    assert digits.files.save_as(path)
    assert path.with_suffix(".safetensors").exists()
    assert digits.files.open(path, ask=False)
    assert ctrl.session is None and ctrl.actions.continue_.isEnabled()
    loaded = ctrl.weights()
    assert sorted(loaded) == sorted(trained)
    assert all(np.array_equal(loaded[k], trained[k]) for k in trained)
    ctrl.actions.step_forward.trigger()  # the step-through starts from the saved weights
    assert np.array_equal(ctrl.steps.stepper.params("dense1")["weight"], trained["dense1.weight"])
    ctrl.reset_step()


def test_a_graph_without_a_loss_says_why_it_cannot_train(qtbot, window) -> None:
    window.document.add_node("dataset", {"name": "xor"}, (0, 0), node_id="data")
    ctrl = window.training
    ctrl.run()
    assert not ctrl.is_training() and not window.editor.is_locked()
    assert window.statusBar().currentMessage().startswith("Cannot train: fix the 1 error")
    assert window.docks["problemsDock"].isVisible()


def test_a_session_that_fails_to_build_ends_the_run_with_the_reason() -> None:
    import threading

    from app.graph.errors import GraphError
    from app.ui.training.sessions import EpochBudget, SessionFailed, run_events

    def build():
        raise GraphError("the graph has no loss node; add one to train it")

    events = list(run_events(build, EpochBudget(3))(threading.Event()))
    assert events == [SessionFailed("the graph has no loss node; add one to train it")]


def test_the_plot_behind_the_tab_waits_and_catches_up_when_raised(qtbot, digits) -> None:
    """The Gradients plot shares a tab with the Loss plot: while hidden it pushes nothing to
    its curves (that would cost the training thread the GIL), and shows everything at once
    when its tab is raised."""
    ctrl = digits.training
    digits.document.set_setting("epochs", 3)
    ctrl.actions.run.trigger()
    wait_idle(qtbot, digits)
    qtbot.wait(500)  # several plot timer ticks after the run
    assert ctrl.loss_plot.raw_curve.getData()[0] is not None  # the visible plot kept up
    assert ctrl.grad_plot.node_ids() and ctrl.grad_plot.curve("dense1") is None
    digits.docks["gradPlotDock"].raise_()
    qtbot.waitUntil(lambda: ctrl.grad_plot.curve("dense1") is not None, timeout=5_000)
    xs, _ = ctrl.grad_plot.curve("dense1").getData()
    assert xs is not None and xs[-1] == ctrl.loss_plot.point_count()


def test_wait_until_idle_returns_when_the_run_has_ended(qtbot, digits) -> None:
    ctrl = digits.training
    assert ctrl.wait_until_idle()  # nothing running: at once
    digits.document.set_setting("epochs", 2)
    with qtbot.waitSignal(ctrl.run_ended, timeout=60_000):
        ctrl.run()
        assert ctrl.is_training()
    assert not ctrl.is_training()
    ctrl.run()
    assert ctrl.wait_until_idle(60_000)
    assert not ctrl.is_training() and "Training finished" in ctrl.loss_plot.summary.text()
