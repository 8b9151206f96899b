"""The results, try-it and runs docks and Run > Evaluate, driven through the real widgets."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDockWidget, QPushButton, QTableWidget

from app.graph import io
from app.graph.evaluation import evaluate, predict
from app.graph.runs import load_runs, runs_path
from app.graph.sampling import next_char_probabilities, sample_text
from tests.graph.results_graphs import char_graph

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def copy(name: str, folder: Path) -> Path:
    target = folder / f"{name}.nodegrad"
    shutil.copy(EXAMPLES / f"{name}.nodegrad", target)
    return target


def train(qtbot, window, epochs: int) -> None:
    """Set the epochs in the settings and press Run; wait for the run to end and for its
    evaluation (on a worker thread) to reach the results dock."""
    window.editor.set_setting("epochs", epochs)
    ended, scored = window.training.run_ended, window.results_room.evaluated
    with qtbot.waitSignals([ended, scored], timeout=120_000):
        window.findChild(QAction, "actionRun").trigger()


def click(qtbot, widget, point) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=QPoint(int(point.x()), int(point.y())))


def test_a_run_fills_the_results_dock_and_a_cell_lists_its_samples(
    qtbot, make_window, tmp_path: Path
) -> None:
    window = make_window(copy("digits_mlp", tmp_path))
    train(qtbot, window, 2)
    room = window.results_room
    panel = room.results
    assert window.findChild(QDockWidget, "results").isVisible()
    assert "Accuracy:" in panel.metrics.text() and "Macro F1" in panel.metrics.text()
    result = panel.result
    reference = evaluate(window.training.session.program)
    assert result.metrics == pytest.approx(reference.metrics)
    view = panel.confusion
    assert view.matrix.sum() == len(window.training.session.val_set)
    assert [panel.tabs.tabText(i) for i in range(panel.tabs.count())] == [
        "Confusion matrix", "Per class",
    ]  # fmt: skip
    assert panel.gallery.shown == [m.index for m in result.mistakes][:200]
    off = np.argwhere((view.matrix > 0) & ~np.eye(10, dtype=bool))[0]
    true, guess = int(off[0]), int(off[1])
    click(qtbot, view, view.cell_rect(true, guess).center())
    assert view.selected == (true, guess)
    listed = panel.gallery.shown
    assert len(listed) == view.matrix[true, guess] and panel.gallery.list.count() == len(listed)
    assert all(result.actual[i] == true and result.predicted[i] == guess for i in listed)
    assert f"True {true}, predicted {guess}" in panel.gallery.title.text()
    assert panel.per_class.rowCount() == 10
    assert panel.per_class.item(3, 0).text() == "3"


def test_evaluate_on_the_training_split(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(copy("spiral", tmp_path))
    train(qtbot, window, 2)
    panel = window.results_room.results
    panel.split.setCurrentIndex(panel.split.findData("train"))
    with qtbot.waitSignal(window.results_room.evaluated, timeout=60_000):
        window.findChild(QAction, "actionEvaluate").trigger()
        assert panel.title.text() == "Evaluating on the training split…"
    assert panel.result.split == "train"
    assert panel.result.samples == len(window.training.session.train_set)
    assert "training split" in panel.title.text()


def test_evaluate_without_weights_says_so(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(copy("spiral", tmp_path))
    window.activateWindow()  # a window shortcut needs its window active
    qtbot.waitUntil(window.isActiveWindow)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_F7)  # Run > Evaluate, as a user presses it
    assert window.results_room.results.result is None
    assert "no trained weights" in window.results_room.results.title.text()


def test_regression_shows_the_scatter_and_the_series(qtbot, make_window, tmp_path) -> None:
    window = make_window(copy("sine_lstm", tmp_path))
    train(qtbot, window, 1)
    panel = window.results_room.results
    tabs = [panel.tabs.tabText(i) for i in range(panel.tabs.count())]
    assert tabs == ["Predicted vs actual", "Series"]
    assert "R²" in panel.metrics.text()
    x, y = panel.scatter.points.getData()
    assert np.allclose(x, panel.result.actual.ravel())
    assert np.allclose(y, panel.result.predicted.ravel())
    panel.series.sample.setValue(3)
    _, true = panel.series.true_curve.getData()
    assert np.allclose(true, panel.result.actual[3, :, 0])


def test_the_sampler_generates_text_in_the_dock(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(char_graph(tmp_path))
    train(qtbot, window, 1)
    panel = window.results_room.results
    assert panel.result.task == "language" and "Perplexity" in panel.metrics.text()
    sampler = panel.sampler
    sampler.prompt.clear()
    qtbot.keyClicks(sampler.prompt, "the ")
    sampler.length.setValue(25)
    sampler.temperature.setValue(0.5)
    sampler.seed.setValue(2)
    qtbot.mouseClick(sampler.generate, Qt.MouseButton.LeftButton)
    expected = sample_text(window.training.session.program, "the ", 25, 0.5, 2)
    assert sampler.output.toPlainText() == expected and len(expected) == 29
    sampler.prompt.setText("the Q")
    qtbot.mouseClick(sampler.generate, Qt.MouseButton.LeftButton)
    assert "'Q' is not in the vocabulary" in sampler.status.text()


def test_try_it_draws_a_digit_and_loads_a_sample(qtbot, make_window, tmp_path) -> None:
    window = make_window(copy("digits_mlp", tmp_path))
    train(qtbot, window, 2)
    tryit = window.results_room.tryit
    window.findChild(QDockWidget, "tryIt").raise_()
    program = window.training.session.program
    grid = tryit.grid
    assert grid is not None and grid.values.shape == (8, 8)
    before = tryit.bars.values.copy()
    start = grid.cell_center(1, 4)
    qtbot.mousePress(grid, Qt.MouseButton.LeftButton, pos=start.toPoint())
    for row in range(2, 7):
        qtbot.mouseMove(grid, grid.cell_center(row, 4).toPoint())
    qtbot.mouseRelease(grid, Qt.MouseButton.LeftButton, pos=grid.cell_center(6, 4).toPoint())
    assert grid.values[:, 4].min() < grid.values[1:7, 4].max()
    assert not np.allclose(tryit.bars.values, before)
    expected = predict(program, tryit.current_input())[0]
    assert int(np.argmax(tryit.bars.values)) == int(np.argmax(expected))
    tryit.sample.setValue(5)
    qtbot.mouseClick(tryit.findChild(QPushButton, "tryItLoadSample"), Qt.MouseButton.LeftButton)
    sample = tryit.dataset.x[5]
    assert np.allclose(tryit.current_input().ravel(), sample.ravel())
    probs = tryit.bars.values
    assert f"<b>{int(np.argmax(predict(program, sample[None])[0]))}</b>" in tryit.value.text()
    assert probs.sum() == pytest.approx(1.0)


def test_try_it_with_features_and_with_a_prompt(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(copy("spiral", tmp_path))
    train(qtbot, window, 2)
    tryit = window.results_room.tryit
    assert len(tryit.fields) == 2
    tryit.fields[0].setValue(0.8)
    tryit.fields[1].setValue(-0.3)
    program = window.training.session.program
    expected = predict(program, np.array([[0.8, -0.3]], dtype=np.float32))[0]
    assert int(np.argmax(tryit.bars.values)) == int(np.argmax(expected))
    chars = make_window(char_graph(tmp_path))
    train(qtbot, chars, 1)
    tryit = chars.results_room.tryit
    tryit.prompt.clear()
    qtbot.keyClicks(tryit.prompt, "the ca")
    probs = next_char_probabilities(chars.training.session.program, "the ca")
    assert tryit.bars.values[0] == pytest.approx(probs.max())


def test_runs_are_listed_compared_renamed_restored_and_deleted(
    qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy("spiral", tmp_path)
    window = make_window(path)
    original = window.document.training.learning_rate
    train(qtbot, window, 2)
    window.editor.set_setting("learning_rate", 0.05)
    train(qtbot, window, 3)
    panel = window.results_room.runs
    table: QTableWidget = window.findChild(QTableWidget, "runsTable")
    assert table.rowCount() == 2
    assert [table.item(r, 0).text() for r in range(2)] == ["run 2", "run 1"]  # newest first
    assert table.item(0, 2).text() == "3" and table.item(0, 8).text() == "same"
    # tick both: two coloured curves each (train, validation) named in the legend
    for row in range(2):
        table.item(row, 0).setCheckState(Qt.CheckState.Checked)
    overlay = window.results_room.overlay
    assert len(overlay.curves) == 2
    colours = {overlay.colour_of(r.id) for r in load_runs(path).runs}
    assert len(colours) == 2
    names = [entry[0] for entry in window.training.loss_plot.legend.entries]
    assert "▸ run 1 (train)" in names and "▸ run 2 (validation)" in names
    assert "train (smoothed)" in names  # the live curves keep their entries
    table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)
    assert len(overlay.curves) == 1
    # rename by editing the name cell
    table.item(1, 0).setText("baseline")
    assert [r.name for r in load_runs(path).runs] == ["baseline", "run 2"]
    # restore run 1's settings (its learning rate, back from 0.05), undoable
    table.setCurrentCell(panel.row_of(load_runs(path).runs[0].id), 0)
    qtbot.mouseClick(panel.restore, Qt.MouseButton.LeftButton)
    assert window.document.training.learning_rate == pytest.approx(original)
    assert window.document.training.epochs == 2
    window.undo_stack.undo()
    assert window.document.training.learning_rate == pytest.approx(0.05)
    # an edit of the model marks the runs
    window.editor.set_param("dense1", "units", 32)
    qtbot.waitUntil(lambda: table.item(0, 8).text() == "edited since", timeout=2000)
    # delete one
    monkeypatch.setattr(type(panel), "ask_delete", lambda self, run: True)
    table.setCurrentCell(panel.row_of(load_runs(path).runs[1].id), 0)
    qtbot.mouseClick(panel.delete, Qt.MouseButton.LeftButton)
    assert [r.name for r in load_runs(path).runs] == ["baseline"]


def test_the_history_survives_reopening_and_skips_a_bad_line(
    qtbot, make_window, tmp_path: Path
) -> None:
    path = copy("spiral", tmp_path)
    window = make_window(path)
    train(qtbot, window, 1)
    with runs_path(path).open("a", encoding="utf-8") as handle:
        handle.write("{broken\n")
    again = make_window(path)
    table = again.findChild(QTableWidget, "runsTable")
    assert table.rowCount() == 1 and table.item(0, 0).text() == "run 1"
    assert "line 2: skipped an unreadable run" in again.results_room.runs.note.text()


def test_a_run_of_an_unsaved_graph_is_recorded_when_it_is_saved(
    qtbot, make_window, tmp_path: Path
) -> None:
    window = make_window()
    window.document.assign(io.load(EXAMPLES / "spiral.nodegrad"))
    window.validate_now()
    train(qtbot, window, 1)
    assert window.results_room.pending and "Save the graph" in window.results_room.runs.note.text()
    target = tmp_path / "saved.nodegrad"
    assert window.files.save_as(target)
    assert [r.name for r in load_runs(target).runs] == ["run 1"]
    assert window.results_room.runs.table.rowCount() == 1
