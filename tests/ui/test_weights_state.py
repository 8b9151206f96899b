"""Trained weights are document state: marked modified, asked about, saved, and reopened
through every opening path (command line, Open, recent files, drop, crash recovery)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDropEvent

from app.graph import io
from app.graph.compile import compile_document
from app.graph.evaluation import evaluate
from app.ui.main_window import MainWindow
from app.ui.recovery import Recovered, Recovery

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def copy(name: str, folder: Path) -> Path:
    target = folder / f"{name}.nodegrad"
    shutil.copy(EXAMPLES / f"{name}.nodegrad", target)
    return target


def train(qtbot, window, epochs: int) -> None:
    window.editor.set_setting("epochs", epochs)
    ended, scored = window.training.run_ended, window.results_room.evaluated
    with qtbot.waitSignals([ended, scored], timeout=120_000):
        window.findChild(QAction, "actionRun").trigger()


def same(a: dict[str, np.ndarray] | None, b: dict[str, np.ndarray] | None) -> bool:
    return (
        a is not None
        and b is not None
        and a.keys() == b.keys()
        and all(np.array_equal(a[k], b[k]) for k in a)
    )


@pytest.fixture
def trained(qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """spiral trained 2 epochs and saved (graph + weights); returns (path, trained weights)."""
    path = copy("spiral", tmp_path)
    window = make_window(path)
    train(qtbot, window, 2)
    weights = window.training.weights()
    assert window.files.save()
    assert "with its trained weights" in window.statusBar().currentMessage()
    assert same(io.load_weights(io.weights_path(path)), weights)
    return path, weights


def test_a_run_marks_the_window_modified_and_closing_asks(
    qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy("spiral", tmp_path)
    window = make_window(path)
    assert not window.holder.is_modified()
    train(qtbot, window, 1)
    window.undo_stack.undo()  # the epochs edit; the trained weights stay unsaved
    assert window.holder.is_modified() and window.isWindowModified()
    asked: list[str] = []
    answers = iter(["cancel", "save"])

    def answer(self) -> str:
        asked.append("asked")
        return next(answers)

    monkeypatch.setattr(MainWindow, "ask_save_changes", answer)
    window.close()
    assert asked == ["asked"] and window.isVisible()  # Cancel keeps the window
    assert not io.weights_path(path).exists()
    trained = window.training.weights()
    window.close()
    assert len(asked) == 2 and not window.isVisible()
    assert same(io.load_weights(io.weights_path(path)), trained)


def test_new_after_a_run_asks_to_save_the_weights(
    qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window(copy("spiral", tmp_path))
    train(qtbot, window, 1)
    window.undo_stack.undo()  # only the trained weights are unsaved now
    asked: list[str] = []
    monkeypatch.setattr(MainWindow, "ask_save_changes", lambda self: asked.append("?") or "cancel")
    nodes = set(window.document.nodes)
    window.findChild(QAction, "actionNew").trigger()
    assert asked == ["?"] and set(window.document.nodes) == nodes  # Cancel keeps the graph


def test_pausing_a_run_marks_the_window_modified(qtbot, make_window, tmp_path: Path) -> None:
    window = make_window(copy("digits_mlp", tmp_path))
    window.editor.set_setting("epochs", 200)
    window.undo_stack.setClean()
    window.findChild(QAction, "actionRun").trigger()
    qtbot.waitUntil(lambda: window.results_room.recorder.steps_seen() > 0, timeout=60_000)
    window.findChild(QAction, "actionPause").trigger()
    assert window.holder.is_modified()
    with qtbot.waitSignal(window.training.run_ended, timeout=60_000):
        window.findChild(QAction, "actionStop").trigger()


def test_every_opening_path_loads_the_trained_weights(
    qtbot, make_window, trained, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, weights = trained

    def check(window, how: str) -> None:
        assert same(window.training.weights(), weights), how
        assert "with its trained weights" in window.statusBar().currentMessage(), how
        assert window.findChild(QAction, "actionContinue").isEnabled(), how
        assert window.results_room.tryit.program is not None, how  # try-it uses them at once

    window = make_window(path)  # MainWindow(path=...), as the command line does
    check(window, "command line")
    with qtbot.waitSignal(window.results_room.evaluated, timeout=60_000):
        window.findChild(QAction, "actionEvaluate").trigger()  # the loaded weights, on demand
    result = window.results_room.results.result
    assert result is not None and result.split == "val"
    program = compile_document(io.load(path))
    program.load_state_dict(weights)
    assert result.metrics == pytest.approx(evaluate(program).metrics)
    window = make_window()
    monkeypatch.setattr(MainWindow, "ask_open_path", lambda self: str(path))
    window.findChild(QAction, "actionOpen").trigger()
    check(window, "File > Open")
    window = make_window()
    recent = next(a for a in window.menu_recent.actions() if a.text() == str(path))
    recent.trigger()
    check(window, "Open Recent")
    window = make_window()
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(path))])
    left, plain = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    window.dropEvent(QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, data, left, plain))
    check(window, "drag and drop")
    window = make_window()
    recovery = Recovery(tmp_path / "recovery")
    recovery.write(io.load(path), str(path))
    window.files.restore(Recovered(recovery.path, str(path), 1))
    check(window, "crash recovery")
    assert window.holder.is_modified()


def test_save_during_a_run_writes_a_snapshot_between_two_steps(
    qtbot, make_window, tmp_path: Path
) -> None:
    path = copy("digits_mlp", tmp_path)
    window = make_window(path)
    window.editor.set_setting("epochs", 200)
    window.findChild(QAction, "actionRun").trigger()
    qtbot.waitUntil(lambda: window.results_room.recorder.steps_seen() > 0, timeout=60_000)
    assert window.files.save()
    message = window.statusBar().currentMessage()
    assert "snapshot of the weights taken between two steps of epoch" in message
    assert "training goes on" in message and window.training.is_training()
    saved = io.load_weights(io.weights_path(path))
    assert sorted(saved) == ["dense1.bias", "dense1.weight", "logits.bias", "logits.weight"]
    assert all(np.isfinite(v).all() for v in saved.values())
    with qtbot.waitSignal(window.training.run_ended, timeout=60_000):
        window.findChild(QAction, "actionStop").trigger()


def test_weights_that_no_longer_fit_load_the_rest_and_name_each_node(
    qtbot, make_window, trained
) -> None:
    path, weights = trained
    doc = io.load(path)
    doc.set_param("dense2", "units", 32)
    io.save(doc, path)
    window = make_window(path)
    message = window.statusBar().currentMessage()
    assert "except for 2 node(s) that no longer fit: 'dense2', 'logits'" in message
    loaded = window.training.weights()
    assert np.array_equal(loaded["dense1.weight"], weights["dense1.weight"])
    assert loaded["dense2.weight"].shape == (64, 32)
    rows = window.problems.messages()
    assert any(r.startswith("Saved weights: node 'dense2'") for r in rows)
    assert any(r.startswith("Saved weights: node 'logits'") for r in rows)
    window.holder.validate_now()  # the rows stay until the next run
    assert sum(r.startswith("Saved weights") for r in window.problems.messages()) == 2
    train(qtbot, window, 1)
    assert not any(r.startswith("Saved weights") for r in window.problems.messages())
