"""Evaluation runs on a worker thread, on a private copy of the model, and never blocks the
window; a result that an edit made stale is not shown, while the run's record keeps it."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest

from app.graph.runs import load_runs
from app.ui.results import evaluator
from tests.ui.test_results_docks import copy, train


class Gate:
    """Stands in for ``evaluate``: records where and on what it ran, holds until opened."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened = threading.Event()
        self.entered = threading.Event()
        self.threads: list[str] = []
        self.programs: list[object] = []
        real = evaluator.evaluate

        def held(program, split):  # type: ignore[no-untyped-def]
            self.threads.append(threading.current_thread().name)
            self.programs.append(program)
            self.entered.set()
            assert self.opened.wait(60)
            return real(program, split)

        monkeypatch.setattr(evaluator, "evaluate", held)


def run_held(qtbot, window, monkeypatch: pytest.MonkeyPatch) -> Gate:
    """Train ``window``'s graph for an epoch; its evaluation is then held at the gate."""
    gate = Gate(monkeypatch)
    window.editor.set_setting("epochs", 1)
    with qtbot.waitSignal(window.training.run_ended, timeout=120_000):
        window.findChild(QAction, "actionRun").trigger()
    assert gate.entered.wait(30)
    return gate


def test_evaluate_runs_on_a_worker_while_the_window_stays_live(
    qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = make_window(copy("spiral", tmp_path))
    train(qtbot, window, 1)
    room, panel = window.results_room, window.results_room.results
    gate = Gate(monkeypatch)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_F7)
    assert gate.entered.wait(30)
    assert panel.title.text() == "Evaluating on the validation split…" and panel.result is None
    ticks: list[int] = []
    QTimer.singleShot(0, lambda: ticks.append(1))
    qtbot.waitUntil(lambda: ticks == [1], timeout=5_000)  # the event loop runs meanwhile
    assert room.evaluating()
    with qtbot.waitSignal(room.evaluated, timeout=60_000) as shown:
        gate.opened.set()
    assert gate.threads == ["nodegrad-evaluate"]
    assert shown.args[0] is panel.result and "Accuracy:" in panel.metrics.text()
    session = window.training.session.program
    private = gate.programs[0]
    assert private is not session  # a continued run or try-it cannot change it meanwhile
    mine, theirs = dict(private.named_parameters()), dict(session.named_parameters())
    assert mine.keys() == theirs.keys()
    for name, tensor in mine.items():
        assert np.array_equal(tensor.data, theirs[name].data), name
        assert not np.shares_memory(tensor.data, theirs[name].data), name


def test_an_edit_while_scoring_drops_the_result_but_the_run_keeps_its_metrics(
    qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy("spiral", tmp_path)
    window = make_window(path)
    room, panel = window.results_room, window.results_room.results
    gate = run_held(qtbot, window, monkeypatch)
    window.editor.set_param("dense1", "units", 12)  # the model changes under the evaluation
    gate.opened.set()
    assert room.wait_until_evaluated()
    assert panel.result is None and "edited since" in panel.title.text()
    (run,) = load_runs(path).runs
    assert 0.0 <= run.final["val_macro_f1"] <= 1.0  # the evaluation's own figure


def test_quitting_while_scoring_still_records_the_run(
    qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = copy("spiral", tmp_path)
    window = make_window(path)
    gate = run_held(qtbot, window, monkeypatch)
    gate.opened.set()
    window.results_room._flush()  # what the application's aboutToQuit runs
    (run,) = load_runs(path).runs
    assert run.name == "run 1" and "val_macro_f1" in run.final


def test_opening_another_graph_while_scoring_records_the_run_beside_its_own_graph(
    qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.ui.main_window import MainWindow

    path, other = copy("spiral", tmp_path), copy("xor", tmp_path)
    window = make_window(path)
    gate = run_held(qtbot, window, monkeypatch)
    monkeypatch.setattr(MainWindow, "ask_save_changes", lambda self: "discard")
    assert window.files.open(other)
    gate.opened.set()
    assert window.results_room.wait_until_evaluated()
    assert [r.name for r in load_runs(path).runs] == ["run 1"]  # spiral's run, beside spiral
    assert load_runs(other).runs == []
    assert window.results_room.results.result is None  # spiral's scores are not shown on xor


def test_an_edit_before_a_finished_result_is_delivered_drops_it(
    qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker has finished and its result waits in the event queue when the user's edit is
    handled first: the old model's scores are not shown against the edited graph."""
    window = make_window(copy("spiral", tmp_path))
    room, panel = window.results_room, window.results_room.results
    gate = run_held(qtbot, window, monkeypatch)
    gate.opened.set()
    room.evaluator.join(60)  # finished; its result is queued, not yet delivered
    assert not room.evaluating() and room.evaluator.pending()
    window.editor.set_param("dense1", "units", 12)
    QCoreApplication.sendPostedEvents(room.evaluator)
    assert panel.result is None and "edited since" in panel.title.text()
    assert not room.evaluator.pending()


def test_evaluate_after_a_settings_change_scores_the_split_the_run_held_out(
    qtbot, make_window, tmp_path: Path
) -> None:
    """A validation split changed after the run must not move samples the model trained on
    into the scores: the copy keeps the run's settings (spiral: 60 of 300 held out)."""
    window = make_window(copy("spiral", tmp_path))
    train(qtbot, window, 1)
    room = window.results_room
    assert room.results.result is not None and room.results.result.samples == 60
    window.editor.set_setting("val_split", 0.5)
    assert room.program() is not None  # a settings edit keeps the trained weights usable
    with qtbot.waitSignal(room.evaluated, timeout=60_000) as shown:
        assert room.evaluate_now("val")
    assert shown.args[0] is not None and shown.args[0].samples == 60


def test_the_private_copy_leaves_numpys_global_generator_alone() -> None:
    """Dropout draws from NumPy's global generator; compiling the copy seeds it, so a run
    continued after an evaluation would draw other masks unless the copy puts it back."""
    from app.graph import io
    from app.graph.compile import compile_document
    from tests.ui.test_results_docks import EXAMPLES

    doc = io.load(EXAMPLES / "spiral.nodegrad")
    program = compile_document(doc)
    np.random.seed(123)
    expected = np.random.random(4)
    np.random.seed(123)
    copy = evaluator.private_copy(doc, program)
    np.testing.assert_array_equal(np.random.random(4), expected)
    assert copy is not program
